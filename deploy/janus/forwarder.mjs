#!/usr/bin/env node
// Keeps the origin's publisher forwarded to every edge: the origin role of janus-topology.sh runs
// it beside Janus and simple-whip-server.
//
// Twice a second it asks the origin's VideoRoom (Janus HTTP API) who publishes in ROOM and where
// each publisher is forwarded (listparticipants, listforwarders), and adds what is missing: one
// rtp_forward per edge to the edge's Streaming mountpoint (EDGE_VIDEO_PORT, EDGE_AUDIO_PORT),
// with video RTCP both ways (EDGE_VIDEO_RTCP_PORT): the edge sends its viewers' key frame
// requests (PLI) there, and the VideoRoom passes them on to the publisher. A publisher that
// comes back (livecast reconnecting, this origin restarted) is forwarded again within half a
// second; the SSRCs are fixed per edge, so an edge sees the same stream whatever happened
// upstream. With several publishers in the room (an old session not yet timed out beside its
// successor) only the newest is forwarded: two streams on one mountpoint would be garbage.
//
// Configuration from the environment (janus-topology.sh passes topology.env's values):
// ORIGIN_ADDR, ORIGIN_HTTP_PORT, ROOM, ROOM_SECRET, EDGES ("name=addr ..."), EDGE_VIDEO_PORT,
// EDGE_VIDEO_RTCP_PORT, EDGE_AUDIO_PORT, VIDEO_PT. One line on stdout per change.

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`forwarder: ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const API = `http://${env('ORIGIN_ADDR')}:${env('ORIGIN_HTTP_PORT', '8088')}/janus`;
const ROOM = Number(env('ROOM', '1234'));
const SECRET = env('ROOM_SECRET', '');
const EDGES = env('EDGES').split(/\s+/).filter(Boolean).map((entry) => {
  const [name, host] = entry.split('=');
  return { name, host };
});
const VIDEO_PORT = Number(env('EDGE_VIDEO_PORT', '5004'));
const VIDEO_RTCP_PORT = Number(env('EDGE_VIDEO_RTCP_PORT', '5005'));
const AUDIO_PORT = Number(env('EDGE_AUDIO_PORT', '5002'));
const VIDEO_PT = Number(env('VIDEO_PT', '96'));
const AUDIO_PT = 111;
const POLL_MS = 500;
const KEEPALIVE_MS = 15000;

const say = (text) => console.log(`forwarder: ${text}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Fixed SSRCs per edge (and kind): the edge's mountpoint sees one stream across republishing.
const ssrc = (index, kind) => 0x1c0000 + index * 2 + (kind === 'audio' ? 1 : 0);

let transaction = 0;
async function janus(path, body) {
  const res = await fetch(`${API}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...body, transaction: `fw${++transaction}` }),
    signal: AbortSignal.timeout(3000),
  });
  const reply = await res.json();
  if (reply.janus === 'error') {
    // 458: no such session (Janus restarted, or our session timed out); 459: no such handle.
    throw Object.assign(new Error(`Janus: ${reply.error?.reason ?? JSON.stringify(reply)}`),
      { lost: [458, 459].includes(reply.error?.code) });
  }
  return reply;
}

/** A VideoRoom request on our handle; its synchronous answer's data (or an Error). */
async function videoroom(handle, request) {
  const reply = await janus(handle.path, { janus: 'message', body: { room: ROOM, ...request } });
  const data = reply.plugindata?.data;
  if (!data) throw new Error(`no answer to ${request.request}: ${JSON.stringify(reply)}`);
  if (data.error) throw new Error(`${request.request}: ${data.error}`);
  return data;
}

async function connect() {
  const session = (await janus('', { janus: 'create' })).data.id;
  const handle = (await janus(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).data.id;
  return { session, path: `/${session}/${handle}`, keptAlive: Date.now() };
}

const firstSeen = new Map(); // publisher id → when we first saw it
const forwarded = new Map(); // publisher id → Set of edge names, what we logged

async function step(handle) {
  if (Date.now() - handle.keptAlive > KEEPALIVE_MS) {
    await janus(`/${handle.session}`, { janus: 'keepalive' });
    handle.keptAlive = Date.now();
  }
  const { participants = [] } = await videoroom(handle, { request: 'listparticipants' });
  const publishers = participants.filter((p) => p.publisher);
  const now = Date.now();
  for (const p of publishers) if (!firstSeen.has(p.id)) firstSeen.set(p.id, now);
  for (const id of firstSeen.keys()) {
    if (!publishers.some((p) => p.id === id)) {
      firstSeen.delete(id);
      if (forwarded.delete(id)) say(`publisher ${id} left`);
    }
  }
  if (!publishers.length) return;
  publishers.sort((a, b) => firstSeen.get(b.id) - firstSeen.get(a.id));
  const [newest, ...older] = publishers;

  const { publishers: list = [] } = await videoroom(handle, { request: 'listforwarders', secret: SECRET });
  const forwardsOf = (id) => list.find((f) => f.publisher_id === id)?.forwarders ?? [];
  for (const old of older) {
    for (const f of forwardsOf(old.id)) {
      await videoroom(handle, { request: 'stop_rtp_forward', secret: SECRET, publisher_id: old.id,
        stream_id: f.stream_id });
    }
    if (forwarded.delete(old.id)) say(`publisher ${old.id} replaced by ${newest.id}: its forwards stopped`);
  }
  const existing = forwardsOf(newest.id);
  for (const [index, edge] of EDGES.entries()) {
    // Video is what matters (a publisher may have no audio to forward).
    if (existing.some((f) => f.host === edge.host && f.port === VIDEO_PORT)) continue;
    // An audio forward left without its video: stop it, and forward both again.
    for (const f of existing.filter((x) => x.host === edge.host)) {
      await videoroom(handle, { request: 'stop_rtp_forward', secret: SECRET, publisher_id: newest.id,
        stream_id: f.stream_id });
    }
    // The 1.1 API still takes the 0.x form (one audio and one video stream by kind), which needs
    // no mids: the publisher's are whatever its WHIP client chose.
    await videoroom(handle, {
      request: 'rtp_forward', secret: SECRET, admin_key: SECRET, publisher_id: newest.id, host: edge.host,
      host_family: 'ipv4',
      video_port: VIDEO_PORT, video_ssrc: ssrc(index, 'video'),
      ...(VIDEO_RTCP_PORT ? { video_rtcp_port: VIDEO_RTCP_PORT } : {}),
      video_pt: VIDEO_PT,
      audio_port: AUDIO_PORT, audio_ssrc: ssrc(index, 'audio'), audio_pt: AUDIO_PT,
    });
    if (!forwarded.has(newest.id)) forwarded.set(newest.id, new Set());
    forwarded.get(newest.id).add(edge.name);
    say(`publisher ${newest.id} (${newest.display ?? 'no name'}) → ${edge.name} ` +
      `${edge.host}:${VIDEO_PORT} (RTCP ${VIDEO_RTCP_PORT || 'none'}), audio :${AUDIO_PORT}`);
  }
}

async function main() {
  say(`room ${ROOM} on ${API} → ${EDGES.map((e) => `${e.name}=${e.host}`).join(' ')}`);
  let handle = null;
  let lastError = '';
  for (;;) {
    try {
      handle ??= await connect();
      await step(handle);
      if (lastError) say('the origin answers again');
      lastError = '';
    } catch (err) {
      const text = err.cause?.code ?? err.message;
      if (text !== lastError) say(`${text} (retrying)`);
      lastError = text;
      // Unreachable, or a restarted Janus that forgot our session: start a new one. (A
      // VideoRoom error keeps the session.)
      if (err.lost || err.name === 'TimeoutError' || err.cause) {
        handle = null;
        firstSeen.clear();
        forwarded.clear();
      }
    }
    await sleep(POLL_MS);
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
main();
