#!/bin/sh
# Runs the network-free unit tests and the in-process end-to-end tests under
# AddressSanitizer + UndefinedBehaviorSanitizer with leak checking, in their
# own build directory (build-asan). Any report fails the test that made it.
# Arguments go to `meson test` (e.g. a test name). See README, "Sanitizers
# and fuzzing".
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${LIVECAST_ASAN_BUILD:-build-asan}

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
    -Ddxgi=disabled -Dsck=disabled >/dev/null
fi

# What runs here: the tests below and what they load (not the benchmarks,
# the browser tests, the launcher or the cross build).
tests="json iceserver signalmessage tokenbucket mediaframe sdpoffer httpapi wspeer relayrouter httpmessage backoff rtpextensions rungcontroller dtlsfingerprint h264aud rungswitch faultdomain rtxbudget rtcpfeedback bandwidthestimator signalrelay cursorblend pointershape capturegeometry frameassembler
  dxgicapture webrtcserversink screencapsrc realsensesrc depthcolorize"
[ $# -gt 0 ] && tests="$*"
targets=""
for t in $(cd "$build" && meson introspect --tests | /usr/bin/python3 -c '
import json, sys
wanted = set(sys.argv[1:])
for t in json.load(sys.stdin):
    if t["name"] in wanted:
        print(" ".join(t["depends"]))' $tests); do
  targets="$targets $t"
done
ninja -C "$build" $(cd "$build" && meson introspect --targets | /usr/bin/python3 -c '
import json, sys
ids = set(sys.argv[1:])
for t in json.load(sys.stdin):
    # The fake librealsense2 is loaded by file, not a declared dependency.
    if t["id"] in ids or t["name"] == "realsense2":
        for f in t["filename"]:
            print(f)' $targets | sed "s|^$root/$build/||")

# Reports halt the program with a non-zero status; leaks are checked at exit.
# Suppressions: third-party one-time allocations only (see the file).
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
# GLib: plain malloc for every slice (so ASan sees each), memory cleared on free.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
# A fresh registry per run, scanned by the system's scanner with the ASan
# runtime preloaded (it loads the instrumented plugins); the same for
# gst-launch-1.0 started by tests.
export LIVECAST_ASAN_RUNTIME="$(${CC:-cc} -print-file-name=libasan.so)"
export GST_PLUGIN_SCANNER="$root/tests/sanitizers/gst-plugin-scanner.sh"
export LIVECAST_GST_PLUGIN_SCANNER="$(pkg-config --variable=pluginscannerdir gstreamer-1.0)/gst-plugin-scanner"
export PATH="$root/tests/sanitizers/bin:$PATH"
rm -f "$build/tests/registry.bin"

exec meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 $tests
