#!/usr/bin/env node
// A codec per viewer when it must (issue 14): webrtcserversink encodes H.264 by default and sends
// VP8, encoded on demand from the same raw input, to a viewer whose offer has no H.264
// (gst/webrtcserver/media/mediafanout.h, sdpoffer.h). Two headless Chromium viewers of one
// 640x360 stream side by side:
//   - "vp8": an RTCPeerConnection whose transceiver offers VP8 only (setCodecPreferences);
//   - "h264": Chromium's own offer, which lists VP8 first but has H.264: it must get H.264
//     (one encoding for everyone is the point).
// Both decode >= 25 fps of 640x360 in the codec expected (getStats inbound-rtp framesDecoded and
// codec); /stats shows the VP8 top rung encoding with one viewer and the session's codec. When
// the VP8 viewer leaves (DELETE), the VP8 rung stops encoding (/stats) and the H.264 viewer plays on.
//
//   tests/netns-run.sh node tests/browser/codecs.test.mjs
// Exit status: 0 pass, 1 fail, 77 skip (LIVECAST_REQUIRE_BROWSER=1 turns a skip into a failure).

/* global window, RTCPeerConnection, RTCRtpReceiver */

import { check, getJson, log, runTest, sleep, startPipeline, waitForHttp } from './harness.mjs';

const PORT = 18102;
const BASE = `http://127.0.0.1:${PORT}`;
const WIDTH = 640;
const HEIGHT = 360;
const MIN_FPS = 25;
const MEASURE_MS = 6000;

/** Opens a WHEP viewer in @page; @only: the one codec its offer lists (null: Chromium's own offer). */
function watch(page, only) {
  return page.evaluate(async (codec) => {
    const pc = new RTCPeerConnection();
    const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
    if (codec) {
      const wanted = RTCRtpReceiver.getCapabilities('video').codecs
        .filter((c) => c.mimeType === `video/${codec}` || /rtx/i.test(c.mimeType));
      transceiver.setCodecPreferences(wanted);
    }
    await pc.setLocalDescription(await pc.createOffer());
    const offered = [...pc.localDescription.sdp.matchAll(/a=rtpmap:\d+ ([\w-]+)\/90000/g)]
      .map((m) => m[1]).filter((name) => !/rtx|red|ulpfec/i.test(name));
    const res = await fetch('/whep', {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp,
    });
    const answer = await res.text();
    if (res.status !== 201) return { status: res.status, answer, offered };
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    window.pc = pc;
    window.session = res.headers.get('Location');
    return { status: 201, offered };
  }, only);
}

/** The page's video receiver now: framesDecoded, size and codec from getStats. */
function receiver(page) {
  return page.evaluate(async () => {
    const report = await window.pc.getStats();
    for (const s of report.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        const codec = s.codecId ? report.get(s.codecId)?.mimeType : null;
        return {
          frames: s.framesDecoded ?? 0, width: s.frameWidth ?? 0, height: s.frameHeight ?? 0,
          codec: codec?.split('/')[1] ?? null, t: Date.now(),
        };
      }
    }
    return { frames: 0, width: 0, height: 0, codec: null, t: Date.now() };
  });
}

async function waitFrames(page, label, min, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let r = await receiver(page);
  while (r.frames < min && Date.now() < deadline) {
    await sleep(200);
    r = await receiver(page);
  }
  check(r.frames >= min, `${label}: ${r.frames} frames decoded within ${timeoutMs / 1000} s`);
  return r;
}

const rungOf = (stats, codec, rung = 0) => stats?.encoder?.rungs?.find((r) => r.codec === codec && r.rung === rung);
const describeRung = (r) => (r ? `${r.codec} rung ${r.rung} ${r.width}x${r.height} ` +
  `${r.encoding ? `encoding ${r.fps.toFixed(0)} fps ${(r.bitrate / 1000).toFixed(0)} kbit/s` : 'idle'}, ` +
  `${r.viewers} viewer(s)` : 'absent');

runTest('browser-codecs', 90000, async ({ launch, servers }) => {
  const server = startPipeline([
    'videotestsrc', 'is-live=true', 'pattern=smpte', 'horizontal-speed=4', '!',
    `video/x-raw,width=${WIDTH},height=${HEIGHT},framerate=30/1`, '!',
    'webrtcserversink', `port=${PORT}`,
  ]);
  servers.push(server);
  await waitForHttp(`${BASE}/`, 10000, server);
  const browser = await launch();
  const pages = {};
  for (const which of ['h264', 'vp8']) {
    pages[which] = await browser.newPage();
    await pages[which].goto(`${BASE}/config`, { timeout: 10000 });
  }
  const before = await getJson(`${BASE}/stats`);
  check(before?.encoder?.vp8OnDemand === true, `/stats: no VP8 on demand: ${JSON.stringify(before?.encoder)}`);
  check(rungOf(before, 'VP8')?.encoding === false, 'the VP8 rung encodes before any viewer wants it');

  const joined = { h264: await watch(pages.h264, null), vp8: await watch(pages.vp8, 'VP8') };
  for (const [which, j] of Object.entries(joined)) {
    log(`${which}: offered ${j.offered.join(' ')} -> HTTP ${j.status}`);
    check(j.status === 201, `${which}: HTTP ${j.status} ${j.answer}`);
  }
  check(joined.vp8.offered.every((c) => c === 'VP8'), `the VP8 viewer offered ${joined.vp8.offered.join(' ')}`);
  check(joined.h264.offered[0] === 'VP8' && joined.h264.offered.includes('H264'),
    `Chromium's own offer lists ${joined.h264.offered.join(' ')} (VP8 first and H.264 expected)`);

  const start = {};
  for (const which of ['h264', 'vp8']) start[which] = await waitFrames(pages[which], which, 30, 20000);
  await sleep(MEASURE_MS);
  const end = {};
  const fps = {};
  for (const which of ['h264', 'vp8']) {
    end[which] = await receiver(pages[which]);
    fps[which] = ((end[which].frames - start[which].frames) * 1000) / (end[which].t - start[which].t);
    log(`${which}: ${end[which].codec} ${end[which].width}x${end[which].height}, ${fps[which].toFixed(1)} fps ` +
      `(${end[which].frames} frames decoded)`);
  }
  const watched = await getJson(`${BASE}/stats`);
  log(`server: ${describeRung(rungOf(watched, 'H264'))}; ${describeRung(rungOf(watched, 'VP8'))}; sessions ` +
    `${watched?.sessions?.map((s) => `${s.codec} rung ${s.rung}`).join(', ')}`);
  for (const which of ['h264', 'vp8']) {
    const codec = which.toUpperCase();
    check(end[which].codec === codec, `the ${which} viewer decodes ${end[which].codec}, not ${codec}`);
    check(end[which].width === WIDTH && end[which].height === HEIGHT,
      `the ${which} viewer shows ${end[which].width}x${end[which].height}, not ${WIDTH}x${HEIGHT}`);
    check(fps[which] >= MIN_FPS, `the ${which} viewer decoded ${fps[which].toFixed(1)} fps (< ${MIN_FPS})`);
    check(rungOf(watched, codec)?.viewers === 1, `/stats: ${describeRung(rungOf(watched, codec))}, not 1 viewer`);
  }
  check(rungOf(watched, 'VP8').encoding, 'the VP8 rung does not encode while its viewer watches');
  check(watched.sessions.filter((s) => s.codec === 'VP8').length === 1, '/stats: not one VP8 session');

  // The VP8 viewer leaves: its rung stops; the H.264 viewer plays on.
  const h264Before = await receiver(pages.h264);
  const status = await pages.vp8.evaluate(async () => {
    window.pc.close();
    return (await fetch(window.session, { method: 'DELETE' })).status;
  });
  check(status === 200, `DELETE of the VP8 session: HTTP ${status}`);
  let after = null;
  const deadline = Date.now() + 5000;
  do {
    await sleep(200);
    after = await getJson(`${BASE}/stats`);
  } while (rungOf(after, 'VP8')?.encoding !== false && Date.now() < deadline);
  log(`after the VP8 viewer left: ${describeRung(rungOf(after, 'VP8'))}`);
  check(rungOf(after, 'VP8')?.encoding === false, 'the VP8 rung still encodes 5 s after its viewer left');
  const h264After = await waitFrames(pages.h264, 'h264 after the VP8 viewer left', h264Before.frames + 30, 5000);
  return `H.264 viewer ${fps.h264.toFixed(1)} fps, VP8-only viewer ${fps.vp8.toFixed(1)} fps at ${WIDTH}x${HEIGHT}; ` +
    `VP8 rung stopped when it left, H.264 viewer at ${h264After.frames} frames`;
});
