#!/usr/bin/env node
// One viewer can never stop the stream: a good viewer (the viewer page in Chromium) watches
// while, one after the other, viewers that misbehave connect to the same sink:
//   - Chromium with our answer's fingerprint changed: it rejects our certificate during the
//     DTLS handshake with a fatal alert (once, that took the whole pipeline down);
//   - Chromium whose offer carries a fingerprint that is not its certificate's;
//   - aiortc (hostile_peer.py) refusing our certificate, offering a wrong fingerprint,
//     stopping in the middle of the DTLS handshake, sending garbage UDP to our ICE port after
//     connecting, and sending SRTCP with bad tags and well-encrypted RTCP that lies.
// After each: gst-launch-1.0 still runs, /stats answers, the bad viewer is gone (with the
// reason /stats gives) or, for the garbage, still served; a viewer whose certificate does not
// match its fingerprint never receives media. At the end the good viewer has lost no frame:
// no packets lost, its packets never stopped for STALL_MS (sampled in the page every 100 ms), no
// frame dropped, and frames decoded at the stream's rate. A freeze the browser reports while the
// packets kept coming is the browser's own (its renderer starved of CPU on this 2-core machine
// while the hostile Chromium started): printed, and tolerated up to MAX_BROWSER_FREEZE_S.
//
//   tests/netns-run.sh node tests/browser/isolation.test.mjs --python /usr/bin/python3

/* global RTCPeerConnection */

import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  HERE, check, getJson, log, running, runTest, sleep, startPipeline, tail, waitForFrames,
  waitForHttp, watchPage,
} from './harness.mjs';
import { installSampler } from './pagestats.mjs';
import { startProcess } from './testkit.mjs';

const { values: args } = parseArgs({
  options: { python: { type: 'string', default: '/usr/bin/python3' } },
});

const PORT = 18097;
const BASE = `http://127.0.0.1:${PORT}`;
const FPS = 30;
const SAMPLE_MS = 100;
// A 30 fps stream sends a few packets per frame: no packet for this long is the stream stalling.
const STALL_MS = 400;
const MAX_BROWSER_FREEZE_S = 1.5;

/** The longest time (ms) within [t0, t1] in which the page saw its packetsReceived stay the same
 *  (from the first to the last sample with one value: when the page itself did not run, the
 *  count across its pause says nothing of a stall), and when it began. */
function longestStall(samples, t0, t1) {
  const inside = samples.filter((x) => x.t >= t0 && x.t <= t1);
  let longest = { ms: 0, at: t0 };
  let first = 0;
  for (let i = 1; i <= inside.length; i++) {
    if (i === inside.length || inside[i].packetsReceived !== inside[first].packetsReceived) {
      const ms = inside[i - 1].t - inside[first].t;
      if (ms > longest.ms) longest = { ms, at: inside[first].t };
      first = i;
    }
  }
  return longest;
}

/** The good viewer's video numbers (the page's client reads them from getStats). */
async function goodStats(page) {
  const stats = await page.evaluate(() => window.livecast?.stats);
  check(stats, 'the good viewer has no statistics');
  return stats;
}

/** A Chromium peer connection that talks WHEP with one SDP changed on the way. */
async function chromiumPeer(browser, messages, tamper) {
  const page = await browser.newPage();
  watchPage(page, `bad-${tamper}`, messages);
  await page.goto(`${BASE}/config`, { timeout: 10000 });
  return page.evaluate(async (what) => {
    const changeFingerprint = (sdp) => sdp.replace(/a=fingerprint:(\S+) (..)/g,
      (m, algo, first) => `a=fingerprint:${algo} ${first === '00' ? '11' : '00'}`);
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const offer = what === 'own-fingerprint'
      ? changeFingerprint(pc.localDescription.sdp) : pc.localDescription.sdp;
    const res = await fetch('/whep', {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer,
    });
    let answer = await res.text();
    if (res.status !== 201) return { status: res.status, answer };
    const id = res.headers.get('Location').split('/').pop();
    if (what === 'our-fingerprint') answer = changeFingerprint(answer);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const states = [];
    pc.onconnectionstatechange = () => states.push(pc.connectionState);
    const end = Date.now() + 8000;
    while (Date.now() < end && !['failed', 'closed'].includes(pc.connectionState)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    let framesDecoded = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded = s.framesDecoded;
    });
    pc.close();
    return { status: 201, id, states, framesDecoded };
  }, tamper);
}

async function hostilePeer(mode) {
  const child = startProcess(`aiortc ${mode}`, args.python,
    [path.join(HERE, 'hostile_peer.py'), BASE, mode]);
  const exit = await Promise.race([child.exited, sleep(60000).then(() => null)]);
  check(exit && exit.code === 0, `hostile peer ${mode} failed (${JSON.stringify(exit)}):\n${tail(child)}`);
  const line = child.lines.filter((l) => l.startsWith('{')).pop();
  check(line, `hostile peer ${mode} printed no result:\n${tail(child)}`);
  return JSON.parse(line);
}

/** Waits until /stats lists only @keep (the good viewer); returns how @gone ended. */
async function waitUntilGone(server, keep, gone, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let stats = null;
  while (Date.now() < deadline) {
    check(running(server), `the pipeline stopped:\n${tail(server)}`);
    stats = await getJson(`${BASE}/stats`);
    check(stats, '/stats did not answer');
    const ids = stats.sessions.map((s) => s.id);
    if (ids.length === 1 && ids[0] === keep) {
      return stats.ended.find((e) => e.id === gone)?.reason ?? '(not listed)';
    }
    await sleep(200);
  }
  throw new Error(`sessions still there after ${timeoutMs / 1000} s: ${JSON.stringify(stats?.sessions)}`);
}

runTest('browser-isolation', 240000, async ({ launch, servers, messages }) => {
  const server = startPipeline([
    'videotestsrc', 'is-live=true', 'pattern=ball', '!',
    `video/x-raw,width=640,height=360,framerate=${FPS}/1`, '!',
    'webrtcserversink', `port=${PORT}`,
  ]);
  servers.push(server);
  await waitForHttp(`${BASE}/`, 10000, server);
  const browser = await launch();
  const good = await browser.newPage();
  watchPage(good, 'good', messages);
  await good.addInitScript(installSampler);
  await good.goto(`${BASE}/?fallback=off`, { timeout: 10000 });
  await waitForFrames(good, 'good viewer', { min: 30, width: 640 });
  await good.evaluate((ms) => window.__startSampling(ms), SAMPLE_MS);
  await sleep(3000); // past the start, where the jitter buffer is still settling
  const goodId = (await getJson(`${BASE}/stats`)).sessions[0].id;
  const badBrowser = await launch();
  await sleep(2000); // its start-up settled
  const before = await goodStats(good);
  const started = Date.now();
  log('good viewer', goodId, JSON.stringify(before));

  const results = [];
  // Chromium peers, in a browser of their own (launched before the good viewer's baseline:
  // starting a browser is seconds of CPU on this machine, which is the harness, not a peer):
  // the real browser's DTLS stack sends the alert.
  for (const tamper of ['our-fingerprint', 'own-fingerprint']) {
    const r = await chromiumPeer(badBrowser, messages, tamper);
    log(`chromium ${tamper}:`, JSON.stringify(r));
    check(r.status === 201, `chromium ${tamper}: HTTP ${r.status} ${r.answer}`);
    check(r.framesDecoded === 0, `chromium ${tamper}: decoded ${r.framesDecoded} frames`);
    const reason = await waitUntilGone(server, goodId, r.id, 15000);
    log(`chromium ${tamper}: ended: ${reason}`);
    if (tamper === 'own-fingerprint') {
      check(/does not match the fingerprint/.test(reason),
        `chromium with a wrong fingerprint ended for another reason: ${reason}`);
    }
    results.push(`chromium ${tamper}: ${reason}`);
    log('good viewer now:', JSON.stringify(await goodStats(good), ['framesDecoded', 'framesDropped', 'freezeCount', 'packetsLost']));
  }
  await badBrowser.close();
  // aiortc peers, each broken in one place.
  for (const mode of ['reject-cert', 'wrong-fingerprint', 'dtls-stall', 'garbage-udp', 'bad-srtcp']) {
    const r = await hostilePeer(mode);
    log(`aiortc ${mode}:`, JSON.stringify(r));
    check(running(server), `the pipeline stopped after ${mode}:\n${tail(server)}`);
    if (mode === 'garbage-udp' || mode === 'bad-srtcp') {
      check(r.dtls === 'connected' && !r.error, `${mode}: the peer never connected (${JSON.stringify(r)})`);
      check(r.sent > 0, `${mode}: nothing was sent`);
    }
    if (mode === 'wrong-fingerprint') {
      // Before the check existed this peer got ~800 packets in 3 s; now only handshake flights.
      check(r.packets_after <= 10, `${mode}: the peer received ${r.packets_after} packets`);
    }
    // The silence timeout reaps a stalled or closed peer within ~9 s.
    const reason = await waitUntilGone(server, goodId, r.id, 20000);
    if (mode === 'wrong-fingerprint') {
      check(/does not match the fingerprint/.test(reason), `${mode} ended for another reason: ${reason}`);
    }
    log(`aiortc ${mode}: ended: ${reason}`);
    results.push(`aiortc ${mode}: ${reason}`);
    log('good viewer now:', JSON.stringify(await goodStats(good), ['framesDecoded', 'framesDropped', 'freezeCount', 'packetsLost']));
  }

  await sleep(1000);
  const after = await goodStats(good);
  const seconds = (Date.now() - started) / 1000;
  const decoded = after.framesDecoded - before.framesDecoded;
  log('good viewer after', seconds.toFixed(1), 's:', JSON.stringify(after));
  check(after.packetsLost === before.packetsLost,
    `the good viewer lost ${after.packetsLost - before.packetsLost} packets`);
  // The stream itself never stalled for the good viewer: its packets kept coming.
  const stall = longestStall(await good.evaluate(() => window.__samples), started, Date.now());
  log(`good viewer: the longest time without a packet ${stall.ms} ms, ` +
    `${((stall.at - started) / 1000).toFixed(1)} s into the run`);
  check(stall.ms < STALL_MS, `the good viewer got no packet for ${stall.ms} ms ` +
    `(${((stall.at - started) / 1000).toFixed(1)} s into the run)`);
  // Freezes while the packets kept coming are the browser's (one of 0.76 s was seen in a CI run
  // while the hostile Chromium opened its page on the same two cores): printed, bounded.
  const freezes = after.freezeCount - before.freezeCount;
  const frozen = after.totalFreezesDuration - before.totalFreezesDuration;
  if (freezes > 0) log(`good viewer: ${freezes} freezes (${frozen.toFixed(2)} s) while its packets kept coming`);
  check(frozen < MAX_BROWSER_FREEZE_S,
    `the good viewer froze ${freezes} times (${frozen.toFixed(2)} s) while its packets kept coming`);
  check(after.framesDropped === before.framesDropped,
    `the good viewer dropped ${after.framesDropped - before.framesDropped} frames`);
  // Frames decoded at the stream's rate over the whole run (a stalled stream would be far off).
  check(decoded >= seconds * FPS * 0.95,
    `the good viewer decoded ${decoded} frames in ${seconds.toFixed(1)} s (${(decoded / seconds).toFixed(1)}/s)`);
  check((await getJson(`${BASE}/stats`))?.viewers === 1, '/stats does not list the good viewer alone');
  return `good viewer: ${decoded} frames in ${seconds.toFixed(1)} s, 0 lost, ` +
    `${freezes} freezes (${frozen.toFixed(2)} s); ` +
    results.join('; ');
});
