#!/bin/sh
# GStreamer's plugin scanner for sanitizer runs (GST_PLUGIN_SCANNER): the
# system's scanner with the ASan runtime preloaded, so it can load the
# instrumented plugins of build-asan. Leaks are not checked here: the
# scanner loads every system plugin once and exits.
exec env LD_PRELOAD="${LIVECAST_ASAN_RUNTIME:?}" ASAN_OPTIONS=detect_leaks=0 \
  "${LIVECAST_GST_PLUGIN_SCANNER:?}" "$@"
