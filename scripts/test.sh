#!/bin/sh
# Installs everything the tests need, builds, and runs every test. Network
# tests run inside private network namespaces that only have loopback.
# Arguments go to `meson test` (e.g. --suite unit). Without arguments it also
# runs the sanitizer build (scripts/sanitize.sh, build-asan) and the bounded
# fuzzing run (scripts/fuzz.sh, build-fuzz); LIVECAST_SANITIZE=0 skips both.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --tests
# An existing build directory is configured again: a test is registered only
# when what it needs was found at setup time, and that may have been before
# install-deps.sh installed it (the registered-tests test fails on any left out).
if [ -f build/build.ninja ]; then
  meson setup --reconfigure build
else
  meson setup build
fi
ninja -C build
# Here everything was installed: a missing browser is a failure, not a skip.
export LIVECAST_REQUIRE_BROWSER=1
status=0
meson test -C build --print-errorlogs "$@" || status=$?
logs="build/meson-logs/testlog.json"
if [ $# -eq 0 ] && [ "${LIVECAST_SANITIZE:-1}" != 0 ]; then
  # ASan+UBSan over the unit and in-process tests, then each fuzz target.
  # Their tests count in the line below; a run that cannot even build
  # counts as one failure.
  for step in sanitize fuzz; do
    dir=build-asan
    [ "$step" = fuzz ] && dir=build-fuzz
    rm -f "$dir/meson-logs/testlog.json"
    echo "== scripts/$step.sh"
    nice sh "scripts/$step.sh" || status=1
    if [ -f "$dir/meson-logs/testlog.json" ]; then
      logs="$logs $dir/meson-logs/testlog.json"
    else
      echo "scripts/$step.sh did not run its tests" >&2
      logs="$logs missing:$step"
    fi
  done
fi
# One closing line any reader understands.
/usr/bin/python3 - $logs <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for path in sys.argv[1:]:
    if path.startswith("missing:"):
        counts["ERROR"] += 1
        continue
    for line in open(path):
        result = json.loads(line)["result"]
        counts[result] = counts.get(result, 0) + 1
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print(f"{counts['OK'] + counts['EXPECTEDFAIL']} passed, {failed} failed, {counts['SKIP']} skipped")
PY
exit $status
