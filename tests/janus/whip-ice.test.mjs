// The WHIP endpoint's ICE servers, applied: a sender that cannot reach the origin Janus over UDP
// publishes through the TURN server the endpoint names in its Link headers, with the real parts:
// `livecast --whip` (webrtcserversink whip-url) → simple-whip-server (handing out coturn by
// WHIP_ICE_SERVERS in topology.env, answering OPTIONS and POST with Link rel="ice-server") → the
// origin Janus's VideoRoom → rtp_forward → one edge Janus → a libdatachannel viewer. Every host is
// a network namespace of the test's own (topology.mjs); coturn runs on a host of its own, and
// nftables in the sender's namespace drops every UDP packet between the sender and the origin,
// so media reaches Janus only relayed by coturn.
//
// Asserts:
//   1. the published session took its ICE servers from the endpoint's OPTIONS answer, before
//      its offer (/stats "whip".iceServers, iceServersFrom "OPTIONS");
//   2. the viewer on the edge decodes ≥ 25 frames/s: media crossed coturn;
//   3. direct UDP was tried and dropped (the nftables counters), and coturn relayed (its log);
//   4. the publication is not a viewer: with --max-viewers 1 the sink counts 0 viewers while it
//      publishes (/stats "viewers", the launcher's status line), a libdatachannel viewer still
//      gets in over WHEP and decodes, a second is refused (503, max-viewers), and the launcher
//      never reports the published session as a viewer joining or leaving (viewer-added/-ended);
//   5. a 5xx from the real endpoint: the origin's VideoRoom room destroyed (Janus API), Janus
//      drops the publisher and simple-whip-server answers the next POSTs 500 "No such room";
//      the sink's warning names the status and that text, it tries again with back-off (the
//      gaps between attempts grow), and once the room is created again it publishes again and
//      the viewer on the edge has frames again.
// A missing component (Janus, simple-whip-server not installed by janus-topology.sh install,
// coturn, nftables, node-datachannel) skips (77) unless LIVECAST_REQUIRE_BROWSER=1.
//
// usage: node whip-ice.test.mjs --livecast PATH

import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { findTools } from '../browser/netns.mjs';
import {
  check, log, requirePrivateNetwork, skip, sleep, startProcess, stopProcess, waitForLine,
} from '../browser/testkit.mjs';
import { JanusViewer, loadNodeDataChannel, WhepViewer } from './janus-viewer.mjs';
import {
  arg, checkPrerequisites, EDGES, HUB, ORIGIN, runTopologyTest, SEND, senderStats, Topology, TOKEN,
  waitFor, waitWhip, WHIP_URL,
} from './topology.mjs';

const LIVECAST = arg('livecast');
const MIN_FPS = 25;
const OVERALL_TIMEOUT_MS = 150000;
const TURN = '10.0.0.40';
const TURN_USER = 'whip';
const TURN_PASS = 'relay-secret';
const TURN_URI = `turn:${TURN}:3478?transport=udp`;
const ROOM = 1234;
const ROOM_SECRET = 'whip-ice-room-secret';
const JANUS_API = `http://${ORIGIN}:8088/janus`;

/** One request to the origin's VideoRoom through the Janus HTTP API; the plugin's answer. */
async function videoroom(request) {
  const send = async (where, body) => {
    const res = await fetch(`${JANUS_API}${where}`, { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...body, transaction: `t${Math.random()}` }), signal: AbortSignal.timeout(3000) });
    return res.json();
  };
  const session = (await send('', { janus: 'create' })).data.id;
  const handle = (await send(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).data.id;
  const reply = await send(`/${session}/${handle}`, { janus: 'message', body: request });
  await send(`/${session}`, { janus: 'destroy' });
  return reply.plugindata?.data ?? reply;
}

/** The packets each nftables counter of table inet whiptest saw, by chain. */
async function dropped(ns) {
  const out = await ns.must('nft', ['list', 'table', 'inet', 'whiptest']);
  const counts = {};
  let chain = '';
  for (const line of out.split('\n')) {
    const c = /chain (\w+)/.exec(line);
    if (c) chain = c[1];
    const p = /counter packets (\d+)/.exec(line);
    if (p) counts[chain] = Number(p[1]);
  }
  return counts;
}

async function main() {
  requirePrivateNetwork();
  const tools = { ...checkPrerequisites(LIVECAST, { chromium: false }),
    ...findTools([['turnserver', 'coturn'], ['nft', 'nftables']]) };
  const ndc = await loadNodeDataChannel();
  if (!ndc) skip('node-datachannel is not installed (npm ci --prefix tests/browser)');

  const topo = new Topology(tools, LIVECAST);
  const viewers = [];
  let coturn = null;
  const cleanup = async () => {
    for (const v of viewers) await Promise.race([v.stop(), sleep(3000)]);
    if (coturn) await stopProcess(coturn, 'SIGTERM', 3000);
    await topo.down();
  };
  const processes = () => ({ sender: topo.sender, coturn, ...topo.roles });
  await runTopologyTest(OVERALL_TIMEOUT_MS, { processes, cleanup }, async () => {
    await topo.up({ edges: ['edge1'], hosts: { turn: TURN },
      env: `WHIP_ICE_SERVERS="turn://${TURN_USER}:${TURN_PASS}@${TURN}:3478?transport=udp"
ROOM=${ROOM}
ROOM_SECRET=${ROOM_SECRET}` });
    const { roles, ns } = topo;
    coturn = startProcess('coturn', tools.nsenter, [`--net=${ns.turn.netns}`, '--', tools.turnserver,
      '-n', `--listening-ip=${TURN}`, `--relay-ip=${TURN}`, '--listening-port=3478',
      '--min-port=49160', '--max-port=49259', '--lt-cred-mech', `--user=${TURN_USER}:${TURN_PASS}`,
      '--realm=livecast', '--no-cli', '--no-tls', '--no-dtls', '--fingerprint',
      `--userdb=${path.join(topo.dir, 'turn.db')}`, `--pidfile=${path.join(topo.dir, 'turn.pid')}`,
      '--log-file=stdout', '--simple-log', '--verbose']);
    await waitForLine(coturn, /Total UDP servers|IPv4\. UDP listener opened/, 10000);

    // No UDP between the sender and the origin, either way (HTTP, TCP, still reaches the
    // endpoint); the sender and coturn, coturn and the origin reach each other.
    const rules = path.join(topo.dir, 'whiptest.nft');
    writeFileSync(rules, `table inet whiptest {
  chain out { type filter hook output priority 0; policy accept; ip daddr ${ORIGIN} meta l4proto udp counter drop; }
  chain in { type filter hook input priority 0; policy accept; ip saddr ${ORIGIN} meta l4proto udp counter drop; }
}
`);
    await ns.send.must('nft', ['-f', rules]);

    // ---- 1. the endpoint's ICE servers, learned before the offer ------------------------------
    const sender = topo.startSender(WHIP_URL, TOKEN, ['--max-viewers', '1']);
    const published = await waitWhip('publishing', 30000);
    log(`publishing: ${JSON.stringify(published.whip)}`);
    check(published.whip.iceServers.includes(TURN_URI) && published.whip.iceServersFrom === 'OPTIONS',
      `the published session did not take coturn from the endpoint's OPTIONS answer: ${JSON.stringify(published.whip)}`);

    // ---- 2. media through coturn, to a viewer on the edge --------------------------------------
    const keep = [];
    const viewer = new JanusViewer(ndc, { api: `http://${EDGES.edge1}:8088/janus`, mountpoint: 1,
      bindAddress: HUB, name: 'edge1-ldc', keep });
    viewers.push(viewer);
    viewer.start();
    await waitFor('the viewer on edge1 receiving frames', 30000, async () => {
      const now = performance.now();
      return { ok: viewer.fps(now - 1000, now) > 10,
        info: `${viewer.frames.length} frames, ${viewer.rtp} RTP, ${viewer.errors.slice(-1)}` };
    });
    const t0 = performance.now();
    await sleep(5000);
    const fps = viewer.fps(t0, performance.now());
    log(`the viewer on edge1: ${fps.toFixed(1)} fps`);
    check(fps >= MIN_FPS, `the viewer on edge1: ${fps.toFixed(1)} fps < ${MIN_FPS}`);

    // ---- 3. it was coturn: direct UDP dropped, relayed packets -----------------------------------
    const counts = await dropped(ns.send);
    log(`UDP dropped between the sender and the origin: ${JSON.stringify(counts)}`);
    check(counts.out > 0, 'the sender never tried the origin directly: the block proves nothing');
    // The relay towards the origin: an allocation for the sender and a permission for the origin.
    await waitForLine(coturn, /ALLOCATE processed, success/, 1000);
    const towardsOrigin = coturn.lines.filter((l) => l.includes(` ${ORIGIN}`) || l.includes(`<${ORIGIN}`));
    log(`coturn, towards the origin:\n  ${towardsOrigin.slice(0, 4).join('\n  ')}`);
    check(towardsOrigin.length > 0, 'coturn never relayed towards the origin');

    // ---- 4. the publication is not a viewer -------------------------------------------------------
    const whipSession = published.whip.session;
    let stats = await senderStats();
    check(stats.viewers === 0, `/stats counts ${stats.viewers} viewer(s) while only publishing`);
    const listed = stats.sessions.find((s) => s.id === whipSession);
    check(listed?.publisher === true, `/stats does not list the publication as one: ${JSON.stringify(listed)}`);
    await waitForLine(sender, /^viewers 0 · .*WHIP publishing/, 3000);
    const local = new WhepViewer(ndc, { url: `http://${SEND}:8080/whep`, name: 'whep-1', bindAddress: HUB,
      keep, attempts: 1 });
    viewers.push(local);
    await local.start();
    await waitFor('the local viewer receiving frames', 15000, async () => {
      const now = performance.now();
      return { ok: local.fps(now - 1000, now) > 10, info: `${local.frames.length} frames` };
    });
    stats = await senderStats();
    check(stats.viewers === 1, `/stats counts ${stats.viewers} viewer(s) with one viewer and the publication`);
    const second = new WhepViewer(ndc, { url: `http://${SEND}:8080/whep`, name: 'whep-2', bindAddress: HUB,
      keep, attempts: 1 });
    viewers.push(second);
    await second.start().then(() => check(false, 'a second viewer got past max-viewers 1'), () => {});
    check(second.refused?.status === 503 && /max-viewers/.test(second.refused.text),
      `the second viewer was not refused by max-viewers: ${JSON.stringify(second.refused)}`);
    log(`max-viewers 1 while publishing: one viewer in, the next refused (${second.refused.text.trim()})`);
    await waitForLine(sender, /^viewers 1 · .*WHIP publishing/, 3000);

    // ---- 5. 5xx from the endpoint: warned, retried with back-off, published again ----------------
    const destroyed = await videoroom({ request: 'destroy', room: ROOM, secret: ROOM_SECRET });
    check(destroyed.videoroom === 'destroyed', `the room was not destroyed: ${JSON.stringify(destroyed)}`);
    const tDestroyed = performance.now();
    const refused = await waitWhip('retrying', 15000, (w) => / 500 .*No such room/.test(w.error));
    log(`room ${ROOM} destroyed; ${((performance.now() - tDestroyed) / 1000).toFixed(1)} s later: ${refused.whip.error}`);
    const warning = await waitFor('the sink\'s warning about the 500', 3000, async () => {
      const m = /livecast: warning: (WHIP: POST \S+ answered 500[^\n]*No such room[^\n]*)/.exec(sender.output.join(''));
      return { ok: !!m, warning: m?.[1] };
    });
    log(`warning: ${warning.warning}`);
    // Three more attempts while the room is away: their gaps grow (0.5 s doubling with up to a
    // quarter of jitter, network/backoff.h: about 1, 2 and 4 s after the first refusal seen).
    const attempts = [[performance.now(), refused.whip.attempts]];
    while (attempts.length < 4 && performance.now() - attempts[0][0] < 12000) {
      await sleep(100);
      const n = (await senderStats())?.whip?.attempts;
      if (n > attempts[attempts.length - 1][1]) attempts.push([performance.now(), n]);
    }
    // The first gap starts when the refusal was seen, not at an attempt: left out.
    const gaps = attempts.slice(2).map(([t], i) => t - attempts[i + 1][0]);
    const shown = gaps.map((g) => g.toFixed(0)).join(', ');
    log(`attempts while the room was away: ${attempts.map(([, n]) => n).join(', ')}; gaps ${shown} ms`);
    check(attempts.length >= 4, `only ${attempts.length - 1} new attempt(s) in 12 s of refusals`);
    check(gaps[1] > 1.5 * gaps[0], `the gaps between attempts did not grow (no back-off): ${shown} ms`);
    const warnings = sender.output.join('').match(/livecast: warning: WHIP: POST \S+ answered 500/g) ?? [];
    check(warnings.length === 1, `the same refusal was warned ${warnings.length} times`);
    const created = await videoroom({ request: 'create', room: ROOM, admin_key: ROOM_SECRET,
      secret: ROOM_SECRET, is_private: true, publishers: 4, bitrate: 6000000, bitrate_cap: false,
      fir_freq: 0, audiocodec: 'opus', videocodec: 'vp8', notify_joining: false });
    check(created.videoroom === 'created', `the room was not created again: ${JSON.stringify(created)}`);
    const tCreated = performance.now();
    const back = await waitWhip('publishing', 20000, (w) => w.session !== whipSession);
    log(`published again ${((performance.now() - tCreated) / 1000).toFixed(1)} s after the room was back (attempt ${back.whip.attempts})`);
    await waitFor('the viewer on edge1 receiving frames again', 20000, async () => {
      const now = performance.now();
      return { ok: viewer.fps(now - 1000, now) > 10, info: `${viewer.frames.length} frames` };
    });
    log(`the viewer on edge1 has frames again ${((performance.now() - tCreated) / 1000).toFixed(1)} s after the room was back`);

    await stopProcess(sender, 'SIGINT', 10000);
    await waitForLine(roles.origin, /whip:debug \/resource\/: livecast/, 5000);
    const named = sender.lines.filter((l) => l.includes(whipSession) && /viewer/.test(l));
    check(!named.length, `the launcher reported the publication as a viewer: ${named.join('; ')}`);
    console.log('PASS: livecast published through the TURN server of the WHIP endpoint\'s Link headers');
  });
}

main();
