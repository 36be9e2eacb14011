# Honest skips for the Python tests (unittest), as tests/common/testutil.h does
# for the C++ ones. unittest exits 0 when tests skip, which meson reads as OK:
#
#   skip_missing(test, why)   a prerequisite scripts/install-deps.sh --tests
#                             installs is missing: a skip, or a failure with
#                             LIVECAST_REQUIRE_BROWSER=1 (everything was installed)
#   sys.exit(exit_status(unittest.main(exit=False).result))
#                             prints how many tests skipped and why; 1 on a
#                             failure, 77 (meson: SKIP) when every test skipped
import os
import sys

INSTALL = 'scripts/install-deps.sh --tests installs it'


def required():
    """LIVECAST_REQUIRE_BROWSER=1: scripts/test.sh installed everything."""
    return os.environ.get('LIVECAST_REQUIRE_BROWSER') == '1'


def skip_missing(test, why):
    if required():
        test.fail(f'{why}, although LIVECAST_REQUIRE_BROWSER=1 says everything is installed '
                  f'({INSTALL})')
    test.skipTest(f'{why} ({INSTALL}; LIVECAST_REQUIRE_BROWSER=1 makes this a failure)')


def exit_status(result):
    if result.skipped:
        print(f'# SKIPPED {len(result.skipped)} of {result.testsRun} tests:')
        for test, why in result.skipped:
            print(f'#   {test.id()}: {why}')
        sys.stdout.flush()
    if not result.wasSuccessful():
        return 1
    # A skipped subtest (it has test_case, the test it is part of) leaves the rest
    # of that test run: only whole tests count here.
    skipped = {test.id() for test, _ in result.skipped if not hasattr(test, 'test_case')}
    if result.testsRun and len(skipped) >= result.testsRun:
        return 77
    return 0
