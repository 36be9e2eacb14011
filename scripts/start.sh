#!/bin/sh
# Quick start: installs what is missing, builds, and streams the default
# source (the screen where there is a display, else a test pattern) at
# http://127.0.0.1:8080/. Arguments go to livecast, e.g. --preset test.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
exec meson devenv -C build livecast "$@"
