#!/usr/bin/env node
// Churn with a WebRTC stack that is not ours: 200 libdatachannel viewers (npm node-datachannel)
// come in batches of 10 over WHEP, and each leaves at a random point of its life:
//   - right after its POST, without ever applying the answer (the server's ICE never connects);
//   - while ICE or DTLS is still connecting;
//   - at its first RTP packet;
//   - after 0.3–1.5 s of video;
// half of those that got media say DELETE first, the others close without a word (libdatachannel
// sends a DTLS close_notify). The stream must stay up: every viewer that connected got RTP,
// gst-launch-1.0 keeps running, a viewer watching throughout never waits a second for a packet,
// a viewer after the churn gets video, and /stats is back to 0
// viewers within the sink's timeouts (20 s for a session whose ICE never connects).
//
//   tests/netns-run.sh node tests/browser/churn-libdatachannel.test.mjs

import {
  check, getJson, log, running, sleep, startPipeline, stopServer, tail, waitForHttp,
} from './harness.mjs';
import { TestFailure, requirePrivateNetwork, skip } from './testkit.mjs';

const PORT = 18099;
const BASE = `http://127.0.0.1:${PORT}`;
const VIEWERS = 200;
const BATCH = 10;

let nodeDataChannel;
try {
  nodeDataChannel = (await import('node-datachannel')).default;
} catch {
  skip('node-datachannel is not installed; run: npm ci --prefix tests/browser');
}

// A fixed seed: every run tries the same mix (mulberry32).
let seed = Number(process.env.LIVECAST_CHURN_SEED || 1);
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const WHEN = ['after-post', 'connecting', 'first-rtp', 'playing'];
// Kept until the end: node-datachannel 0.33 can crash the process when many closed peer
// connections are garbage-collected at once.
const keep = [];
// What every viewer saw so far: printed when the churn is slow, to say which viewers held it up.
const results = [];

/**
 * A viewer that watches through the whole churn: the longest gap between two of its RTP
 * packets says whether the stream ever stalled for the viewers that behave.
 */
function witness() {
  const pc = new nodeDataChannel.PeerConnection('witness', { iceServers: [], bindAddress: '127.0.0.1' });
  const video = new nodeDataChannel.Video('video', 'RecvOnly');
  video.addH264Codec(96);
  const track = pc.addTrack(video);
  track.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
  keep.push(pc, track, video);
  const w = { rtp: 0, last: 0, maxGapMs: 0, measuring: false };
  track.onMessage(() => {
    const now = performance.now();
    if (w.measuring && w.last) w.maxGapMs = Math.max(w.maxGapMs, now - w.last);
    w.last = now;
    w.rtp++;
  });
  pc.onGatheringStateChange(async (state) => {
    if (state !== 'complete') return;
    const res = await fetch(`${BASE}/whep`, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription().sdp,
    });
    if (res.status === 201) pc.setRemoteDescription(await res.text(), 'answer');
  });
  pc.setLocalDescription();
  w.close = () => pc.close();
  return w;
}

/** One viewer's life; resolves to what it saw. */
function viewer(index, when, sayDelete) {
  return new Promise((resolve) => {
    const pc = new nodeDataChannel.PeerConnection(`v${index}`, { iceServers: [], bindAddress: '127.0.0.1' });
    const video = new nodeDataChannel.Video('video', 'RecvOnly');
    video.addH264Codec(96);
    const track = pc.addTrack(video);
    track.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
    keep.push(pc, track, video);
    const seen = { index, when, rtp: 0, states: [], deleted: null, status: 0, ms: 0 };
    const born = Date.now();
    let location = null;
    let applied = false; // the answer is set: from here 'connecting' is ICE and DTLS
    let finished = false;
    const finish = async (why) => {
      if (finished) return;
      finished = true;
      seen.end = why;
      seen.ms = Date.now() - born;
      if (sayDelete && location) {
        try {
          const res = await fetch(BASE + location, { method: 'DELETE', signal: AbortSignal.timeout(3000) });
          seen.deleted = res.status;
        } catch (err) {
          seen.deleted = String(err);
        }
      }
      try {
        pc.close();
      } catch { /* already closed */ }
      resolve(seen);
    };
    const timer = setTimeout(() => finish('timeout'), 12000);
    track.onMessage(() => {
      seen.rtp++;
      if (when === 'first-rtp' && seen.rtp === 1) finish('first RTP');
    });
    pc.onStateChange((state) => {
      seen.states.push(state);
      if (when === 'connecting' && applied && state === 'connecting') finish('connecting');
      if (state === 'failed') finish('failed');
      if (when === 'playing' && state === 'connected') {
        setTimeout(() => finish('played'), 300 + random() * 1200);
      }
    });
    pc.onGatheringStateChange(async (state) => {
      if (state !== 'complete' || location) return;
      try {
        const res = await fetch(`${BASE}/whep`, {
          method: 'POST', headers: { 'Content-Type': 'application/sdp' },
          body: pc.localDescription().sdp, signal: AbortSignal.timeout(10000),
        });
        seen.status = res.status;
        const answer = await res.text();
        if (res.status !== 201) return finish(`HTTP ${res.status}: ${answer}`);
        location = res.headers.get('Location');
        if (when === 'after-post') return finish('after POST');
        pc.setRemoteDescription(answer, 'answer');
        applied = true;
        if (when === 'connecting' && pc.state() === 'connecting') finish('connecting');
      } catch (err) {
        finish(`POST failed: ${err}`);
      }
    });
    pc.setLocalDescription();
    // clearTimeout once finished, without keeping the event loop alive meanwhile
    timer.unref?.();
  });
}

/** How the viewers so far ended, and the slowest of them. */
function describeSlowest() {
  const ends = {};
  for (const r of results) ends[r.end] = (ends[r.end] ?? 0) + 1;
  const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 5)
    .map((r) => `v${r.index} ${r.when} ${r.ms} ms (${r.end}; HTTP ${r.status}; ${r.rtp} RTP; ` +
      `states ${r.states.join('>')})`);
  return `viewers ended: ${JSON.stringify(ends)}; slowest: ${slowest.join(', ')}`;
}

async function main() {
  requirePrivateNetwork();
  // max-offers-per-second=0: every viewer here comes from 127.0.0.1, faster than a person.
  const server = startPipeline([
    'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=30/1', '!',
    'webrtcserversink', `port=${PORT}`, 'max-offers-per-second=0', 'max-viewers=0',
  ]);
  // Before meson's 200 s: the test says itself what held it up.
  const overall = setTimeout(() => {
    console.log(`FAIL churn-libdatachannel: overall timeout after ${results.length} viewers; ` +
      `${describeSlowest()}\n${tail(server)}`);
    process.exit(1);
  }, 185000);
  let failure = null;
  let summary = '';
  try {
    await waitForHttp(`${BASE}/`, 10000, server);
    const watcher = witness();
    for (let i = 0; i < 100 && watcher.rtp < 30; i++) await sleep(100);
    check(watcher.rtp >= 30, `the witness viewer got ${watcher.rtp} RTP packets in 10 s`);
    watcher.measuring = true;
    const counts = {};
    const started = Date.now();
    for (let first = 0; first < VIEWERS; first += BATCH) {
      const batch = [];
      for (let i = first; i < first + BATCH; i++) {
        const when = WHEN[Math.floor(random() * WHEN.length)];
        batch.push(viewer(i, when, random() < 0.5));
      }
      for (const r of await Promise.all(batch)) {
        results.push(r);
        counts[r.when] = (counts[r.when] ?? 0) + 1;
      }
      check(running(server), `gst-launch-1.0 stopped during batch ${first / BATCH + 1}:\n${tail(server)}`);
    }
    log(`${VIEWERS} viewers in ${((Date.now() - started) / 1000).toFixed(1)} s:`, JSON.stringify(counts));
    log(describeSlowest());
    watcher.measuring = false;
    log(`witness: ${watcher.rtp} RTP packets, longest gap ${watcher.maxGapMs.toFixed(0)} ms`);
    // 33 ms between frames; a viewer that connects late must never hold the stream up.
    check(watcher.maxGapMs < 1000, `the stream stalled for ${watcher.maxGapMs.toFixed(0)} ms during the churn`);
    watcher.close();
    const refused = results.filter((r) => r.status !== 201);
    check(refused.length === 0, `${refused.length} POSTs refused: ${JSON.stringify(refused.slice(0, 3))}`);
    // Those that waited for media must have had it.
    const starved = results.filter((r) => (r.when === 'first-rtp' || r.when === 'playing') && r.rtp === 0);
    check(starved.length === 0, `${starved.length} viewers that waited for video got none: ` +
      JSON.stringify(starved.slice(0, 3)));
    const badDelete = results.filter((r) => r.deleted !== null && r.deleted !== 200 && r.deleted !== 404);
    check(badDelete.length === 0, `DELETE answered ${JSON.stringify(badDelete.slice(0, 3))}`);
    const rtp = results.reduce((n, r) => n + r.rtp, 0);

    // The stream is still up: a new viewer gets video.
    const after = await viewer(VIEWERS, 'playing', true);
    check(after.rtp > 10, `a viewer after the churn got ${after.rtp} RTP packets (${after.end})`);

    // Every session ends within the sink's timeouts: 20 s for ICE that never connects, 8 s of
    // silence for one that vanished.
    const deadline = Date.now() + 30000;
    let stats = await getJson(`${BASE}/stats`);
    while (stats?.viewers !== 0 && Date.now() < deadline) {
      check(running(server), `gst-launch-1.0 stopped:\n${tail(server)}`);
      await sleep(500);
      stats = await getJson(`${BASE}/stats`);
    }
    check(stats, '/stats no longer answers');
    check(stats.viewers === 0, `${stats.viewers} sessions left 30 s after the churn`);
    const reasons = {};
    for (const e of stats.ended) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
    log('last sessions ended because:', JSON.stringify(reasons));
    summary = `${VIEWERS} libdatachannel viewers (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}), ` +
      `longest gap for a viewer watching throughout ${watcher.maxGapMs.toFixed(0)} ms, ` +
      `${rtp} RTP packets, the stream up afterwards (${after.rtp} packets for a new viewer), 0 sessions left`;
  } catch (err) {
    failure = err;
  } finally {
    const exit = await stopServer(server);
    if (!failure && exit?.code !== 0) failure = new TestFailure(`gst-launch-1.0 exited with ${JSON.stringify(exit)}`);
    clearTimeout(overall);
  }
  if (failure) {
    console.log(`--- gst-launch-1.0 output ---\n${tail(server)}`);
    console.log(`FAIL churn-libdatachannel: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  console.log(`PASS churn-libdatachannel: ${summary}`);
  nodeDataChannel.cleanup();
  process.exit(0);
}

main();
