#!/bin/sh
# Installs everything the tests need, builds, and runs every test. Network
# tests run inside private network namespaces that only have loopback.
# Arguments go to `meson test` (e.g. --suite unit).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --tests
[ -f build/build.ninja ] || meson setup build
ninja -C build
# Here everything was installed: a missing browser is a failure, not a skip.
export LIVECAST_REQUIRE_BROWSER=1
status=0
meson test -C build --print-errorlogs "$@" || status=$?
# One closing line any reader understands.
/usr/bin/python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for line in open(sys.argv[1]):
    result = json.loads(line)["result"]
    counts[result] = counts.get(result, 0) + 1
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print(f"{counts['OK'] + counts['EXPECTEDFAIL']} passed, {failed} failed, {counts['SKIP']} skipped")
PY
exit $status
