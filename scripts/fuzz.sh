#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz with clang in their own build
# directory (build-fuzz) and runs each: the committed crash inputs first,
# then $LIVECAST_FUZZ_SECONDS (default 20) of fuzzing from the seed corpus.
# Arguments go to `meson test` (e.g. a target name). See README, "Sanitizers
# and fuzzing".
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${LIVECAST_FUZZ_BUILD:-build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" -Dfuzzing=enabled -Dtests=disabled \
    -Dscreencap=disabled -Drealsense=disabled >/dev/null
fi
# Only the fuzz targets (not the plugin or the launcher).
ninja -C "$build" $(cd "$build" && meson introspect --targets | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz_"):
        print(t["filename"][0])' | sed "s|^$root/$build/||")
exec meson test -C "$build" --no-rebuild --print-errorlogs --suite fuzz --num-processes 2 "$@"
