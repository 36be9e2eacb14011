#!/bin/bash
# livecast past one machine: the one encoding published into Janus, served by Janus edges.
#
#   livecast --whip URL ──WHIP──> origin: simple-whip-server → Janus VideoRoom
#                                   └─ forwarder.mjs: rtp_forward to every edge (RTP + RTCP)
#                                 edge (×N): Janus Streaming mountpoint → viewers (Janus client),
#                                            and a web server for the viewer page and that client
#
# usage: janus-topology.sh [-c topology.env] ROLE
#   install        Debian packages (janus, libjs-janus-gateway, nodejs, npm, python3) and
#                  simple-whip-server, unpacked beside this script with its npm dependencies
#   origin         runs the origin here: Janus (VideoRoom), simple-whip-server, the forwarder
#   edge NAME      runs edge NAME (of EDGES) here: Janus (Streaming) and the page's web server
#   config ROLE [NAME]   only writes ROLE's Janus configuration and prints its folder
#   urls           prints the WHIP URL to publish to and each edge's viewer URL
#
# origin and edge stay in the foreground, log to standard output (and to STATE_DIR/ROLE/*.log),
# and stop everything they started on SIGINT/SIGTERM; when one of their processes dies they
# stop the others and exit 1, so a supervisor (systemd Restart=always) restarts the role whole.
# Every address and port comes from topology.env (-c FILE or LIVECAST_JANUS_ENV=FILE).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WHIP_HOME=${LIVECAST_WHIP_SERVER_HOME:-$HERE/whip-server}
JANUS_JS=${LIVECAST_JANUS_JS:-/usr/share/javascript/janus-gateway/janus.js}

die() { echo "janus-topology: $*" >&2; exit 1; }
say() { echo "janus-topology[$ROLE_NAME]: $*"; }
ROLE_NAME=main

env_file=${LIVECAST_JANUS_ENV:-$HERE/topology.env}
if [ "${1:-}" = "-c" ]; then
  [ "$#" -ge 2 ] || die "-c needs a file"
  env_file=$2
  shift 2
fi
[ "$#" -ge 1 ] || { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
[ -r "$env_file" ] || die "cannot read $env_file"
# shellcheck source=topology.env
. "$env_file"

# ---- install --------------------------------------------------------------------------------

# The npm packages simple-whip-server needs: its Debian package depends on node-* packages
# whose libnode108 conflicts with Node.js from other sources (nodejs-legacy), so the package
# is unpacked (dpkg -x, not installed) and its dependencies come from npm
# (whip-server/package.json, locked).
install_whip_server() {
  if [ -f "$WHIP_HOME/simple-whip-server/src/server.js" ] && [ -d "$WHIP_HOME/node_modules/express" ]; then
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  # apt-get download writes to the current folder; _apt cannot write to a private mktemp one.
  chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q simple-whip-server >/dev/null) ||
    die "apt-get download simple-whip-server failed (apt-get update first?)"
  dpkg -x "$tmp"/simple-whip-server_*.deb "$tmp/root"
  rm -rf "$WHIP_HOME/simple-whip-server"
  mkdir -p "$WHIP_HOME/simple-whip-server/src"
  cp "$tmp/root/usr/share/simple-whip-server/src/server.js" \
     "$tmp/root/usr/share/simple-whip-server/src/whip-janus.js" "$WHIP_HOME/simple-whip-server/src/"
  cp "$tmp/root/usr/share/doc/simple-whip-server/copyright" "$WHIP_HOME/simple-whip-server/" 2>/dev/null || true
  rm -rf "$tmp"
  (cd "$WHIP_HOME" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $WHIP_HOME failed"
  echo "janus-topology: simple-whip-server unpacked in $WHIP_HOME/simple-whip-server"
}

install_all() {
  local SUDO="" missing="" p
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "run as root or install sudo"
    SUDO=sudo
  fi
  for p in janus libjs-janus-gateway python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  command -v node >/dev/null 2>&1 || missing="$missing nodejs"
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
  if [ -n "$missing" ]; then
    echo "janus-topology: installing$missing"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  fi
  # Debian starts a stock Janus (all plugins, every address) as a service: the roles here run
  # their own, configured from topology.env.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled janus >/dev/null 2>&1; then
    echo "janus-topology: note: Debian's janus.service is enabled; its ports may clash (systemctl disable --now janus)"
  fi
  install_whip_server
}

# ---- configuration --------------------------------------------------------------------------

janus_lib() {
  local d
  for d in "${JANUS_LIB:-}" /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus /opt/janus/lib/janus; do
    [ -n "$d" ] && [ -d "$d/plugins" ] && { echo "$d"; return 0; }
  done
  die "Janus is not installed (no plugins folder found; janus-topology.sh install)"
}

edge_addr() {
  local entry
  for entry in $EDGES; do
    [ "${entry%%=*}" = "$1" ] && { echo "${entry#*=}"; return 0; }
  done
  return 1
}

video_pt() { [ "$VIDEO_CODEC" = h264 ] && echo 102 || echo 96; }

# Writes ROLE's configuration into $1 from config/*.in; ROLE is origin or edge.
write_config() {
  local dir=$1 role=$2 addr=$3 lib disabled keep f h264_profile fmtp rtcp_line http ws admin
  lib=$(janus_lib)
  case "$role" in
    origin) keep=libjanus_videoroom.so ;;
    edge) keep=libjanus_streaming.so ;;
  esac
  disabled=$(cd "$lib/plugins" && ls libjanus_*.so | grep -vx "$keep" | paste -sd, -)
  case "$VIDEO_CODEC" in
    vp8) h264_profile='' fmtp='' ;;
    h264)
      # livecast's x264 sends constrained baseline (42c01f at 720p): browsers take 42e01f.
      h264_profile='h264_profile = "42e01f"'
      fmtp='fmtp = "profile-level-id=42e01f;packetization-mode=1"' ;;
    *) die "VIDEO_CODEC must be vp8 or h264, not $VIDEO_CODEC" ;;
  esac
  rtcp_line=''
  [ "${EDGE_VIDEO_RTCP_PORT:-0}" != 0 ] && rtcp_line="rtcpport = $EDGE_VIDEO_RTCP_PORT"
  mkdir -p "$dir"
  local files="janus.jcfg janus.transport.http.jcfg janus.transport.websockets.jcfg"
  if [ "$role" = origin ]; then
    files="$files janus.plugin.videoroom.jcfg"
    http=$ORIGIN_HTTP_PORT ws=$ORIGIN_WS_PORT admin=$ORIGIN_ADMIN_PORT
  else
    files="$files janus.plugin.streaming.jcfg"
    http=$EDGE_HTTP_PORT ws=$EDGE_WS_PORT admin=$EDGE_ADMIN_PORT
  fi
  rm -f "$dir"/*.jcfg
  for f in $files; do
    sed -e "s|@CONFIG_DIR@|$dir|g" -e "s|@JANUS_LIB@|$lib|g" -e "s|@ROLE@|$ROLE_NAME|g" \
        -e "s|@ADDR@|$addr|g" -e "s|@DEBUG_LEVEL@|$DEBUG_LEVEL|g" \
        -e "s|@ADMIN_SECRET@|$ADMIN_SECRET|g" -e "s|@ROOM_SECRET@|$ROOM_SECRET|g" \
        -e "s|@RTP_PORT_RANGE@|$RTP_PORT_RANGE|g" -e "s|@DISABLED_PLUGINS@|$disabled|g" \
        -e "s|@HTTP_PORT@|$http|g" -e "s|@WS_PORT@|$ws|g" -e "s|@ADMIN_PORT@|$admin|g" \
        -e "s|@ROOM@|$ROOM|g" -e "s|@ROOM_BITRATE@|$ROOM_BITRATE|g" \
        -e "s|@VIDEO_CODEC@|$VIDEO_CODEC|g" -e "s|@H264_PROFILE_LINE@|$h264_profile|g" \
        -e "s|@MOUNTPOINT@|$MOUNTPOINT|g" -e "s|@VIDEO_PORT@|$EDGE_VIDEO_PORT|g" \
        -e "s|@VIDEO_RTCP_LINE@|$rtcp_line|g" -e "s|@AUDIO_PORT@|$EDGE_AUDIO_PORT|g" \
        -e "s|@VIDEO_PT@|$(video_pt)|g" -e "s|@VIDEO_FMTP_LINE@|$fmtp|g" \
        -e "s|@BUFFER_KEYFRAME@|$EDGE_BUFFER_KEYFRAME|g" \
        "$HERE/config/$f.in" > "$dir/$f"
    if grep -q '@[A-Z_0-9]*@' "$dir/$f"; then
      die "$dir/$f: unreplaced $(grep -o '@[A-Z_0-9]*@' "$dir/$f" | head -1)"
    fi
  done
}

# ---- running --------------------------------------------------------------------------------

PIDS=()
stopping=0
stop_all() {
  stopping=1
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# start NAME LOG COMMAND...: runs COMMAND in the background, its output to standard output
# (prefixed with NAME) and to LOG.
start() {
  local name=$1 log=$2
  shift 2
  "$@" > >(exec sed -u "s/^/[$name] /" | tee -a "$log") 2>&1 &
  PIDS+=($!)
  say "$name: pid $! — $*"
}

# Waits until URL answers (curl-free: node's fetch), at most $2 seconds.
wait_http() {
  local url=$1 seconds=$2
  node -e '
    const [url, seconds] = process.argv.slice(1);
    const until = Date.now() + seconds * 1000;
    (async () => {
      while (Date.now() < until) {
        try { await fetch(url, { signal: AbortSignal.timeout(1000) }); process.exit(0); } catch {}
        await new Promise((r) => setTimeout(r, 100));
      }
      process.exit(1);
    })();' "$url" "$seconds"
}

supervise() {
  trap 'say "stopping"; stop_all; exit 0' INT TERM
  local code=0
  wait -n "${PIDS[@]}" || code=$?
  [ "$stopping" = 1 ] && exit 0
  say "a process of this role ended (status $code): stopping the others"
  stop_all
  exit 1
}

run_janus() {
  local dir=$1
  command -v janus >/dev/null 2>&1 || die "janus is not installed (janus-topology.sh install)"
  start janus "$dir/janus.log" janus -F "$dir" -C "$dir/janus.jcfg" --log-stdout
}

run_origin() {
  ROLE_NAME=origin
  local dir=$STATE_DIR/origin
  [ -f "$WHIP_HOME/simple-whip-server/src/server.js" ] ||
    die "simple-whip-server is not unpacked in $WHIP_HOME (janus-topology.sh install)"
  write_config "$dir" origin "$ORIGIN_ADDR"
  : > "$dir/janus.log"; : > "$dir/whip.log"; : > "$dir/forwarder.log"
  run_janus "$dir"
  wait_http "http://$ORIGIN_ADDR:$ORIGIN_HTTP_PORT/janus/info" 15 || { stop_all; die "Janus did not start (see $dir/janus.log)"; }

  # simple-whip-server reads its configuration beside its server script: a copy of both
  # per origin.
  mkdir -p "$dir/whip"
  cp "$WHIP_HOME/simple-whip-server/src/server.js" "$WHIP_HOME/simple-whip-server/src/whip-janus.js" "$dir/whip/"
  cat > "$dir/whip/config.js" <<EOF
// Written by janus-topology.sh from $env_file.
module.exports = {
	janus: { address: 'ws://$ORIGIN_ADDR:$ORIGIN_WS_PORT' },
	port: $WHIP_PORT,
	rest: '/whip',
	allowTrickle: true,
	strictETags: false,
	iceServers: []
};
EOF
  start whip "$dir/whip.log" env -C "$dir/whip" NODE_PATH="$WHIP_HOME/node_modules" \
    DEBUG='whip:*,janus:error,janus:warn,janus:info' node server.js
  wait_http "http://$ORIGIN_ADDR:$WHIP_PORT/whip/healthcheck" 15 || { stop_all; die "simple-whip-server did not start (see $dir/whip.log)"; }
  # The endpoint the publisher POSTs to (simple-whip-server keeps endpoints in memory only).
  # WHIP_ICE_SERVERS in simple-whip-server's form: {uri: "turn:host:port?…", username, credential}.
  node -e '
    const [url, id, room, token, ice] = process.argv.slice(1);
    const iceServers = ice.split(/\s+/).filter(Boolean).map((text) => {
      const u = new URL(text);
      const scheme = u.protocol.replace(":", "");
      if (!["stun", "turn", "turns"].includes(scheme)) throw new Error(`WHIP_ICE_SERVERS: ${text}`);
      const server = { uri: `${scheme}:${u.host}${u.search}` };
      if (scheme !== "stun") {
        server.username = decodeURIComponent(u.username);
        server.credential = decodeURIComponent(u.password);
      }
      return server;
    });
    fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id, room: Number(room), token, iceServers }) })
      .then(async (r) => { if (!r.ok) { console.error(r.status, await r.text()); process.exit(1); } })
      .catch((e) => { console.error(String(e)); process.exit(1); });' \
    "http://$ORIGIN_ADDR:$WHIP_PORT/whip/create" "$WHIP_ENDPOINT" "$ROOM" "$WHIP_TOKEN" "${WHIP_ICE_SERVERS:-}" ||
    { stop_all; die "could not create the WHIP endpoint"; }
  say "publish to http://$ORIGIN_ADDR:$WHIP_PORT/whip/endpoint/$WHIP_ENDPOINT (bearer token from topology.env)"

  ORIGIN_ADDR=$ORIGIN_ADDR ORIGIN_HTTP_PORT=$ORIGIN_HTTP_PORT ROOM=$ROOM ROOM_SECRET=$ROOM_SECRET \
    EDGES=$EDGES EDGE_VIDEO_PORT=$EDGE_VIDEO_PORT EDGE_VIDEO_RTCP_PORT=$EDGE_VIDEO_RTCP_PORT \
    EDGE_AUDIO_PORT=$EDGE_AUDIO_PORT VIDEO_PT=$(video_pt) \
    start forwarder "$dir/forwarder.log" node "$HERE/forwarder.mjs"
  say "ready"
  supervise
}

run_edge() {
  local name=$1 addr dir
  ROLE_NAME=$name
  addr=$(edge_addr "$name") || die "no edge named $name in EDGES ($EDGES)"
  dir=$STATE_DIR/$name
  write_config "$dir" edge "$addr"
  : > "$dir/janus.log"; : > "$dir/web.log"
  run_janus "$dir"
  if [ "${EDGE_WEB_PORT:-0}" != 0 ]; then
    # The viewer page as webrtcserversink serves it, plus Debian's Janus client script beside it.
    rm -rf "$dir/www"
    mkdir -p "$dir/www"
    ln -s "$REPO"/web/*.html "$REPO"/web/*.js "$REPO"/web/*.css "$dir/www/"
    if [ -r "$JANUS_JS" ]; then ln -s "$JANUS_JS" "$dir/www/janus.js"; else
      say "warning: no $JANUS_JS (apt-get install libjs-janus-gateway): the page cannot load janus.js"
    fi
    start web "$dir/web.log" python3 -m http.server "$EDGE_WEB_PORT" --bind "$addr" --directory "$dir/www"
  fi
  wait_http "http://$addr:$EDGE_HTTP_PORT/janus/info" 15 || { stop_all; die "Janus did not start (see $dir/janus.log)"; }
  say "viewers: http://$addr:$EDGE_WEB_PORT/?janus=ws://$addr:$EDGE_WS_PORT/&mountpoint=$MOUNTPOINT"
  say "ready"
  supervise
}

print_urls() {
  local entry
  echo "publish: livecast --codec $VIDEO_CODEC --whip http://$ORIGIN_ADDR:$WHIP_PORT/whip/endpoint/$WHIP_ENDPOINT --whip-token $WHIP_TOKEN"
  for entry in $EDGES; do
    echo "${entry%%=*}: http://${entry#*=}:$EDGE_WEB_PORT/?janus=ws://${entry#*=}:$EDGE_WS_PORT/&mountpoint=$MOUNTPOINT"
  done
}

case "$1" in
  install) install_all ;;
  origin) run_origin ;;
  edge) [ "$#" -ge 2 ] || die "usage: janus-topology.sh edge NAME"; run_edge "$2" ;;
  config)
    [ "$#" -ge 2 ] || die "usage: janus-topology.sh config origin|edge [NAME]"
    if [ "$2" = origin ]; then ROLE_NAME=origin; write_config "$STATE_DIR/origin" origin "$ORIGIN_ADDR"; echo "$STATE_DIR/origin"
    else ROLE_NAME=$3; write_config "$STATE_DIR/$3" edge "$(edge_addr "$3" || die "no edge named $3")"; echo "$STATE_DIR/$3"; fi ;;
  urls) print_urls ;;
  *) die "unknown role $1 (install, origin, edge NAME, config, urls)" ;;
esac
