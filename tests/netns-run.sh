#!/bin/sh
# Runs a command inside a private network namespace that has only loopback,
# so a test can never reach a real interface (and libnice has nowhere to send
# UPnP/SSDP). Used by every test and benchmark that opens sockets.
set -eu
if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi
if [ "${LIVECAST_IN_NETNS:-}" = "1" ]; then
  exec "$@"
fi
if [ "$(id -u)" = "0" ]; then
  exec unshare --net -- env LIVECAST_IN_NETNS=1 sh -c 'ip link set lo up && exec "$@"' netns-run "$@"
fi
exec unshare --net --map-root-user -- env LIVECAST_IN_NETNS=1 sh -c 'ip link set lo up && exec "$@"' netns-run "$@"
