// livecast past one machine, with the real parts: `livecast --whip` (webrtcserversink whip-url)
// → simple-whip-server → the origin Janus's VideoRoom → rtp_forward → the Streaming plugin of
// two edge Janus → viewers: headless Chromium running the viewer page's Janus transport (the
// Janus client's "watch") and libdatachannel viewers (janus-viewer.mjs). The origin and the edges are run by
// deploy/janus/janus-topology.sh from a topology.env of the test's, so what ships is what runs.
//
// Each host is a network namespace of the test's own (unshare --net children, as
// tests/browser/netns.mjs makes them), joined by a bridge in the test's namespace (itself a
// private one: tests/netns-run.sh): Janus leaves loopback out of ICE.
//
// Asserts:
//   1. a WHIP endpoint that refuses (wrong token: 403; unknown endpoint: 404) is reported with
//      its status and body in /stats "whip".error, and tried again (attempts grow);
//   2. the sink publishes ("whip".state "publishing") and the local /stats counts its session;
//   3. a Chromium viewer on each edge (in its own namespace) and VIEWERS libdatachannel viewers
//      (in the test's, on the bridge) split over the edges
//      all decode ≥ 25 frames/s (Chromium: framesDecoded; libdatachannel: whole VP8 frames),
//      and the libdatachannel viewers get the sender's audio (--audio=test) too;
//   4. a late Chromium viewer shows its first frame within 2.5 s, and its key frame request
//      reaches livecast (the published session's pliCount grows);
//   5. edge2 killed and restarted: its viewers come back, edge1's never stop (no gap > 1 s);
//   6. the origin killed and restarted: the sink publishes again and every viewer has frames;
//   7. livecast stopped (SIGINT): the endpoint gets the DELETE of the resource;
//   and no viewer page throws an error.
// Also: the sink's candidates reach the endpoint by trickle (PATCH).
// A missing component (Janus, the Janus client, simple-whip-server not installed by janus-topology.sh
// install, Chromium, playwright-core, node-datachannel) skips (77) unless
// LIVECAST_REQUIRE_BROWSER=1.
//
// usage: node topology.test.mjs --livecast PATH [--viewers N]

import {
  check, loadPlaywright, log, requirePrivateNetwork, skip, sleep, stopProcess, tail, waitForLine,
  watchPage,
} from '../browser/testkit.mjs';
import { JanusViewer, loadNodeDataChannel } from './janus-viewer.mjs';
import {
  arg, checkPrerequisites, edgePageUrl, EDGES, HUB, killNamespace, openEdgePage, ORIGIN, pageFrames,
  runTopologyTest, SEND, senderStats, Topology, TOKEN, waitFor, waitWhip, WHIP_URL,
} from './topology.mjs';

const LIVECAST = arg('livecast');
const VIEWERS = Number(arg('viewers', '10'));
const MIN_FPS = 25;
const OVERALL_TIMEOUT_MS = 240000;

async function main() {
  requirePrivateNetwork();
  const tools = checkPrerequisites(LIVECAST);
  const chromium = await loadPlaywright();
  const ndc = await loadNodeDataChannel();
  if (!ndc) skip('node-datachannel is not installed (npm ci --prefix tests/browser)');

  const topo = new Topology(tools, LIVECAST);
  const viewers = [];
  let browser = null;
  const messages = [];
  const cleanup = async () => {
    for (const v of viewers) await Promise.race([v.stop(), sleep(3000)]);
    if (browser) await Promise.race([browser.close(), sleep(5000)]);
    await topo.down();
  };
  const processes = () => ({ sender: topo.sender, ...topo.roles });
  await runTopologyTest(OVERALL_TIMEOUT_MS, { processes, cleanup, report: () => messages.slice(-20) }, async () => {
    await topo.up();
    const { roles } = topo;

    // ---- 1. refusals are reported and retried --------------------------------------------------
    const startSender = (url, token) => topo.startSender(url, token);
    for (const [url, token, status] of [[WHIP_URL, 'wrong-token', 403],
      [`http://${ORIGIN}:7080/whip/endpoint/nosuch`, TOKEN, 404]]) {
      const sender = startSender(url, token);
      const first = await waitWhip('retrying', 20000, (w) => w.error.includes(` ${status}`));
      log(`refused as expected: ${first.whip.error}`);
      const again = await waitWhip('retrying', 10000, (w) => w.attempts > first.whip.attempts);
      check(again.whip.attempts > first.whip.attempts, 'no new attempt after a refusal');
      await stopProcess(sender, 'SIGINT', 8000);
    }

    // ---- 2. publishing ---------------------------------------------------------------------------
    // With sound: the offer's audio section (bundle-only in webrtcbin's offer) must reach Janus.
    const sender = topo.startSender(WHIP_URL, TOKEN, ['--audio=test']);
    const published = await waitWhip('publishing', 20000);
    const sessionId = published.whip.session;
    check(published.stats.sessions.some((s) => s.id === sessionId),
      `the published session ${sessionId} is not among the sink's sessions`);
    log(`publishing: ${JSON.stringify(published.whip)}`);
    await waitForLine(roles.origin, /forwarder: publisher .* → edge2/, 10000);
    // Our candidates were trickled (PATCH application/trickle-ice-sdpfrag, simple-whip-server
    // logs the fragment).
    await waitForLine(roles.origin, /whip:debug \/resource\[trickle\]\/: livecast/, 5000);
    await waitForLine(roles.origin, new RegExp(`a=candidate:.* ${SEND.replace(/\./g, '\\.')} `), 5000);

    // ---- 3. viewers on both edges ----------------------------------------------------------------
    browser = await topo.launchChromium(chromium);
    const context = await browser.newContext({ viewport: { width: 800, height: 500 } });
    const openPage = (edge) => openEdgePage(context, edge, messages);
    const pages = { edge1: await openPage('edge1'), edge2: await openPage('edge2') };
    const keep = [];
    for (let i = 0; i < VIEWERS; i++) {
      const edge = i % 2 ? 'edge2' : 'edge1';
      const v = new JanusViewer(ndc, { api: `http://${EDGES[edge]}:8088/janus`, mountpoint: 1,
        bindAddress: HUB, name: `${edge}-ldc${i}`, keep });
      v.edge = edge;
      viewers.push(v);
      v.start();
    }
    for (const [edge, page] of Object.entries(pages)) {
      await waitFor(`Chromium on ${edge} decoding`, 20000, async () => {
        const f = await pageFrames(page);
        return { ok: f.frames >= 30 && f.width === 640, info: f };
      });
    }
    await waitFor('every libdatachannel viewer receiving frames', 20000, async () => {
      const now = performance.now();
      return { ok: viewers.every((v) => v.fps(now - 1000, now) > 10),
        info: viewers.map((v) => `${v.name}: ${v.frames.length} frames, ${v.rtp} RTP, ` +
          `${v.connectedSessions}/${v.sessions} sessions ${v.errors.slice(-1)}`).join('; ') };
    });
    const measure = async (seconds) => {
      const before = {};
      for (const [edge, page] of Object.entries(pages)) before[edge] = await pageFrames(page);
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const t1 = performance.now();
      const out = {};
      for (const [edge, page] of Object.entries(pages)) {
        out[`chromium-${edge}`] = ((await pageFrames(page)).frames - before[edge].frames) * 1000 / (t1 - t0);
      }
      for (const v of viewers) out[v.name] = v.fps(t0, t1);
      return out;
    };
    const fps = await measure(10);
    log(`fps over 10 s: ${Object.entries(fps).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    for (const [name, value] of Object.entries(fps)) check(value >= MIN_FPS, `${name}: ${value.toFixed(1)} fps < ${MIN_FPS}`);
    const noAudio = viewers.filter((v) => v.audioRtp === 0).map((v) => v.name);
    check(!noAudio.length, `no audio RTP reached ${noAudio.join(', ')}`);
    log(`audio RTP packets per libdatachannel viewer: ${viewers.map((v) => v.audioRtp).join(' ')}`);

    // ---- 4. a late viewer, and PLI back to livecast --------------------------------------------------
    const pliOf = async () => (await senderStats())?.sessions?.find((s) => s.id === sessionId)?.pliCount ?? 0;
    const pliBefore = await pliOf();
    const late = await context.newPage();
    watchPage(late, 'late', messages);
    const lateStart = performance.now();
    await late.goto(edgePageUrl('edge2'));
    await waitFor('the late viewer\'s first frame', 10000, async () => {
      const f = await pageFrames(late);
      return { ok: f.frames > 0 && f.width === 640, info: f };
    });
    const firstFrameMs = performance.now() - lateStart;
    log(`late viewer: first frame ${firstFrameMs.toFixed(0)} ms after opening the page`);
    check(firstFrameMs < 2500, `the late viewer waited ${firstFrameMs.toFixed(0)} ms for its first frame`);
    await late.close();
    const pageErrors = () => messages.filter((m) => / page error: /.test(m));
    check(!pageErrors().length, `errors in the viewer pages: ${pageErrors().join('; ')}`);
    // Its key frame request goes edge → origin (RTCP of the forward) → livecast; read /stats
    // after a second (webrtcbin's statistics are read once a second).
    await sleep(1500);
    const pliAfter = await pliOf();
    log(`key frame requests that reached livecast: ${pliBefore} before the late viewer, ${pliAfter} after`);
    check(pliAfter > pliBefore, 'the late viewer\'s key frame request did not reach livecast');

    // ---- 5. an edge killed and restarted ---------------------------------------------------------------
    const edge1Viewers = viewers.filter((v) => v.edge === 'edge1');
    const edge2Viewers = viewers.filter((v) => v.edge === 'edge2');
    const tKill = performance.now();
    // The host crashes: every process in edge2's namespace dies at once (not its holder).
    const killed = killNamespace(topo.ns.edge2);
    log(`edge2 killed (${killed} processes)`);
    await sleep(1000);
    await sleep(3000);
    await topo.startRole(['edge', 'edge2'], 'edge2');
    const tBack = performance.now();
    await waitFor('edge2\'s viewers back', 30000, async () => {
      const now = performance.now();
      return { ok: edge2Viewers.every((v) => v.fps(now - 1000, now) > 10),
        info: edge2Viewers.map((v) => `${v.name}:${v.fps(now - 1000, now).toFixed(0)}`).join(' ') };
    });
    const edge2Again = performance.now();
    log(`edge2 restarted: its viewers had frames again ${((edge2Again - tBack) / 1000).toFixed(1)} s after it was ready`);
    const worstGap = Math.max(...edge1Viewers.map((v) => v.longestGap(tKill, edge2Again)));
    log(`edge1's viewers meanwhile: longest gap ${worstGap.toFixed(0)} ms`);
    check(worstGap < 1000, `edge1's viewers stopped for ${worstGap.toFixed(0)} ms while edge2 restarted`);

    // ---- 6. the origin killed and restarted -------------------------------------------------------------
    // Restarted at once, as a service manager would: the sink must notice and publish again
    // within 5 s of the origin being back (the issue's goal), not only after it noticed.
    await stopProcess(roles.origin, 'SIGTERM', 8000);
    const tOriginDown = performance.now();
    await topo.startRole(['origin'], 'origin');
    const tOriginUp = performance.now();
    log(`the origin was down for ${((tOriginUp - tOriginDown) / 1000).toFixed(1)} s`);
    const again = await waitWhip('publishing', 20000, (w) => w.session !== sessionId);
    const republishS = (performance.now() - tOriginUp) / 1000;
    log(`republished ${republishS.toFixed(1)} s after the origin was ready: ${again.whip.session}`);
    check(republishS <= 5, `republishing took ${republishS.toFixed(1)} s after the origin was back`);
    await waitFor('every viewer has frames again', 30000, async () => {
      const now = performance.now();
      const page = await pageFrames(pages.edge1);
      return { ok: viewers.every((v) => v.fps(now - 1000, now) > 10) && page.frames > 0,
        info: viewers.map((v) => `${v.name}:${v.fps(now - 1000, now).toFixed(0)}`).join(' ') };
    });
    log(`every viewer has frames again ${((performance.now() - tOriginUp) / 1000).toFixed(1)} s after the origin was ready`);
    check(sender.exitCode === null, `livecast exited:\n${tail(sender)}`);

    // ---- 7. the end: the resource is DELETEd -------------------------------------------------------
    const stopped = await stopProcess(sender, 'SIGINT', 10000);
    check(!stopped?.killed, 'livecast did not stop on SIGINT');
    await waitForLine(roles.origin, /whip:debug \/resource\/: livecast/, 5000);
    log('livecast stopped: the endpoint saw the DELETE of its resource');
    check(!pageErrors().length, `errors in the viewer pages: ${pageErrors().join('; ')}`);
    console.log('PASS: livecast → WHIP → Janus origin → 2 edges → Chromium and libdatachannel viewers');
  });
}

main();
