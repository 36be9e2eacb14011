#!/bin/sh
# cross-dxgi: builds tests/cross/dxgi for 64-bit Windows with mingw-w64 -
# the portable capture code and its unit tests, the GStreamer-free DXGI
# Desktop Duplication core, test_dxgierror and dxgi_probe - with
# cross/mingw-w64-x86_64.ini. Where Wine is installed it then runs the unit
# tests under Wine, and smoke-tests the core against Wine's DXGI on a
# private Xvfb: outputs enumerated, monitor and region errors, and a clean
# error where Wine has no Desktop Duplication. Real capture needs real
# Windows (dxgi_probe.exe is there for that).
#
#   run-cross-dxgi.sh SOURCE_ROOT BUILD_DIR
#
# Exit 0 only when everything above ran and passed. The mingw-w64 compiler,
# Wine and Xvfb are prerequisites the project installs (scripts/install-deps.sh
# --tests): without one of them the script says what it did and what it left
# out, and exits 77 (skipped), or 1 with LIVECAST_REQUIRE_BROWSER=1.
set -eu
src=$1
build=$2
cross="$src/cross/mingw-w64-x86_64.ini"
cxx=x86_64-w64-mingw32-g++-posix

missing() {
  if [ "${LIVECAST_REQUIRE_BROWSER:-}" = "1" ]; then
    echo "cross-dxgi: FAIL: $1 (LIVECAST_REQUIRE_BROWSER=1)"
    exit 1
  fi
  echo "cross-dxgi: SKIP: $1"
  exit 77
}

if ! command -v "$cxx" >/dev/null 2>&1; then
  missing "$cxx not found, nothing built; install it with: apt-get install g++-mingw-w64-x86-64 mingw-w64-x86-64-dev"
fi

# Debian's wine64 package puts the loader outside $PATH.
wine=""
for candidate in wine64 /usr/lib/wine/wine64 /usr/lib/x86_64-linux-gnu/wine/wine64 wine; do
  if command -v "$candidate" >/dev/null 2>&1; then
    wine=$(command -v "$candidate")
    break
  fi
done

mkdir -p "$build"
export WINEPREFIX="$build/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
setup_args="--cross-file $cross"
if [ -n "$wine" ]; then
  printf "[binaries]\nexe_wrapper = '%s'\n" "$wine" >"$build/wine.ini"
  setup_args="$setup_args --cross-file $build/wine.ini"
fi
# Configured anew when Wine came or went since (the wrapper is set at setup).
if [ ! -f "$build/dxgi/build.ninja" ] || [ "$(cat "$build/wine-used" 2>/dev/null)" != "$wine" ]; then
  rm -rf "$build/dxgi"
  echo "$wine" >"$build/wine-used"
  # shellcheck disable=SC2086
  meson setup $setup_args "$build/dxgi" "$src/tests/cross/dxgi" >"$build/setup.log" 2>&1 || {
    cat "$build/setup.log"
    exit 1
  }
fi
nice ninja -C "$build/dxgi"
echo "cross-dxgi: built for Windows: $(cd "$build/dxgi" && ls ./*.exe | tr '\n' ' ')"

if [ -z "$wine" ]; then
  missing "Wine is not installed: compiled only, no test run (apt-get install wine64)"
fi

# Under Wine: a private Xvfb first (Wine's DXGI lists its outputs from the
# display), then one persistent wineserver for the whole run with the
# prefix booted beforehand, its stdio detached. Otherwise the first test
# starts Wine's background services, they inherit the test's output pipe
# and meson waits for them; and a client that meets an idle server shutting
# down fails at once.
wineserver="$(dirname "$wine")/wineserver"
[ -x "$wineserver" ] || wineserver=$(command -v wineserver)
tmp=$(mktemp -d)
xvfb_pid=""
cleanup() {
  "$wineserver" -k 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
if command -v Xvfb >/dev/null 2>&1; then
  Xvfb -displayfd 3 -screen 0 1280x720x24 -nolisten tcp 3>"$tmp/display" >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 100); do
    [ -s "$tmp/display" ] && break
    sleep 0.1
  done
  [ -s "$tmp/display" ] || { echo "cross-dxgi: Xvfb did not start"; exit 1; }
  export DISPLAY=":$(cat "$tmp/display")"
else
  unset DISPLAY
fi
"$wineserver" -p
timeout 120 "$wine" wineboot >/dev/null 2>&1 </dev/null || true

meson test -C "$build/dxgi" --print-errorlogs --num-processes 1

if [ -z "${DISPLAY:-}" ]; then
  missing "Xvfb is not installed: the unit tests passed under Wine, the DXGI smoke checks were left out (apt-get install xvfb)"
fi

probe() {
  # Output to $tmp/out, exit status to $tmp/rc; never fails the script.
  set +e
  timeout 120 "$wine" "$build/dxgi/dxgi_probe.exe" "$@" >"$tmp/out" 2>&1
  echo $? >"$tmp/rc"
  set -e
}
expect() {
  # expect RC TEXT: the last probe exited RC and said TEXT.
  if [ "$(cat "$tmp/rc")" != "$1" ] || ! grep -qF -- "$2" "$tmp/out"; then
    echo "cross-dxgi: FAIL: expected exit $1 and \"$2\"; got exit $(cat "$tmp/rc"):"
    sed 's/^/  | /' "$tmp/out"
    exit 1
  fi
}
probe --frames 3
expect 1 'monitors: 0: \\.\DISPLAY1 1280x720+0+0 (primary)'
# Wine has no IDXGIOutput1::DuplicateOutput (E_NOTIMPL): a clear error, no crash.
expect 1 'Desktop Duplication is not available'
probe --monitor 1
expect 1 'There is 1 monitor (0: \\.\DISPLAY1 1280x720+0+0 (primary)); monitor 1 does not exist'
probe --region 1280,0,10,10
expect 1 'The capture region starts at 1280,0, outside the 1280x720 area it is taken from'
probe --fps 0
expect 2 'usage: dxgi_probe'
echo "cross-dxgi: DXGI smoke checks under Wine passed"
