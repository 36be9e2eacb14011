#!/usr/bin/env node
// Several viewers whose offers differ, on one video-only sink (with talkback on, and off):
// each of three RTCPeerConnections in Chromium offers video plus an audio section
// (recvonly, sendrecv, none), one after the other while the stream runs. Every one must
// decode video. A regression test: a later viewer whose offer had an audio section once
// got an answer without the video SSRC and decoded nothing (the browser cannot route an
// unsignalled SSRC between two bundled sections).
//
//   tests/netns-run.sh node tests/browser/viewers.test.mjs

/* global RTCPeerConnection */

import { check, log, runTest, startPipeline, waitForHttp } from './harness.mjs';

const PORT = 18083;
const BASE = `http://127.0.0.1:${PORT}`;
const OFFERS = ['none', 'recvonly', 'sendrecv', 'recvonly'];

async function watch(browser, talkback) {
  const page = await browser.newPage();
  await page.goto(`${BASE}/config`, { timeout: 10000 });
  return page.evaluate(async (offers) => {
    const pcs = [];
    const report = [];
    for (const audio of offers) {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      if (audio !== 'none') pc.addTransceiver('audio', { direction: audio });
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch('/whep', {
        method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp,
      });
      const answer = await res.text();
      if (res.status !== 201) {
        report.push({ audio, status: res.status, answer });
        continue;
      }
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      pcs.push({ pc, audio, ssrc: /a=ssrc:/.test(answer.split('m=audio')[0]) });
      await new Promise((r) => setTimeout(r, 1500));
    }
    await new Promise((r) => setTimeout(r, 2000));
    for (const { pc, audio, ssrc } of pcs) {
      let frames = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded;
      });
      report.push({ audio, status: 201, frames, videoSsrcInAnswer: ssrc });
      pc.close();
    }
    return report;
  }, OFFERS);
}

runTest('browser-viewers', 90000, async ({ launch, servers }) => {
  const summary = [];
  for (const talkback of [false, true]) {
    const server = startPipeline([
      'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=30/1', '!',
      'webrtcserversink', `port=${PORT}`, `talkback=${talkback}`,
    ]);
    servers.push(server);
    await waitForHttp(`${BASE}/`, 10000, server);
    const browser = await launch();
    const report = await watch(browser, talkback);
    log(`talkback=${talkback}:`, JSON.stringify(report));
    for (const r of report) {
      check(r.status === 201, `talkback=${talkback}, audio ${r.audio}: HTTP ${r.status} ${r.answer}`);
      check(r.videoSsrcInAnswer, `talkback=${talkback}, audio ${r.audio}: no video SSRC in the answer`);
      check(r.frames >= 30, `talkback=${talkback}, viewer with audio ${r.audio} decoded ${r.frames} frames`);
    }
    summary.push(`talkback=${talkback}: frames ${report.map((r) => r.frames).join(', ')}`);
    await browser.close();
    servers.pop().kill('SIGINT');
    await server.exited;
  }
  return `${OFFERS.length} viewers each (audio ${OFFERS.join(', ')}): ${summary.join('; ')}`;
});
