#!/bin/sh
# Installs what livecast needs on Debian 12 (or Ubuntu 22.04+), only what is
# missing. With --tests it also installs what the test suite drives: Chromium,
# aiortc, Node.js and the npm packages of tests/browser, mingw-w64 and
# Wine for the Windows capture core (tests/cross), and clang with libFuzzer
# for tests/fuzz (scripts/fuzz.sh).
#
# --print-packages [--tests] installs nothing: it prints the Debian packages
# it would want, one a line ("PACKAGE", or "PACKAGE PROGRAM" for a package
# left out when PROGRAM is already on PATH). tests/packaging/test_packages.py
# checks every element, module and program the presets, the plugins and the
# tests use against these lists.
set -eu
cd "$(dirname "$0")/.."

want_tests=0
print=0
for arg in "$@"; do
  case "$arg" in
    --tests) want_tests=1 ;;
    --print-packages) print=1 ;;
    *) echo "usage: $0 [--tests] [--print-packages]" >&2; exit 2 ;;
  esac
done

# Build and run time: everything ./scripts/start.sh needs. gstreamer1.0-x is
# the test preset's timeoverlay and clockoverlay (pango).
runtime_packages="meson ninja-build pkg-config g++ libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libsoup-3.0-dev libjson-glib-dev
  libx11-dev libxext-dev libxfixes-dev libxdamage-dev libxrandr-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-libav
  gstreamer1.0-x"
# What the tests drive on top (--tests). firefox-esr: a browser whose offer has no H.264
# (browser-firefox).
test_packages="chromium firefox-esr python3 python3-aiortc python3-gi gir1.2-gstreamer-1.0
  python3-websockets python3-numpy python3-pil coturn
  iproute2 util-linux nftables ca-certificates xvfb x11-xserver-utils x11-utils xdotool
  g++-mingw-w64-x86-64 mingw-w64-x86-64-dev wine64
  clang libclang-rt-14-dev llvm
  janus libjs-janus-gateway"
# PACKAGE:PROGRAM for the tests: any PROGRAM on PATH will do, else PACKAGE.
test_programs="nodejs:node npm:npm"

if [ "$print" = 1 ]; then
  for p in $runtime_packages; do echo "$p"; done
  if [ "$want_tests" = 1 ]; then
    for p in $test_packages; do echo "$p"; done
    for pp in $test_programs; do echo "${pp%%:*} ${pp#*:}"; done
  fi
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: run as root or install sudo" >&2; exit 1
  fi
fi

packages=$runtime_packages
if [ "$want_tests" = 1 ]; then
  packages="$packages $test_packages"
  for pp in $test_programs; do
    command -v "${pp#*:}" >/dev/null 2>&1 || packages="$packages ${pp%%:*}"
  done
fi

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing$missing"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

if [ "$want_tests" = 1 ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "install-deps: npm packages for the browser tests"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
# The Janus topology's WHIP server (deploy/janus): unpacked from its Debian
# package, its npm dependencies locked in deploy/janus/whip-server.
if [ "$want_tests" = 1 ]; then
  deploy/janus/janus-topology.sh install
fi
