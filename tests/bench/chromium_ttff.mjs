#!/usr/bin/env node
// Time to first frame in Chromium: from the WHEP POST to the first video
// frame presented (requestVideoFrameCallback), median of 10 fresh peer
// connections in one browser (browser start excluded), against a
// webrtcserversink sending 720p30 H.264. Prints figures; never fails on a
// number. Runs only inside a private network namespace (tests/netns-run.sh).
/* global document, RTCPeerConnection, performance */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../browser/package.json'));
const { chromium } = require('playwright-core');

const PORT = 18301;
const BASE = `http://127.0.0.1:${PORT}`;
const RUNS = 10;
const TARGET_MS = 300;

const sender = spawn('gst-launch-1.0', ['-q', 'videotestsrc', 'is-live=true', 'pattern=ball', '!',
  'video/x-raw,width=1280,height=720,framerate=30/1', '!', 'webrtcserversink', `port=${PORT}`],
{ stdio: 'inherit' });

async function waitForServer() {
  for (let i = 0; i < 100; i++) {
    try {
      const stats = await (await fetch(`${BASE}/stats`)).json();
      if (stats.encoder.codec) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('webrtcserversink did not start');
}

// One viewer, entirely in the page: offer, POST, answer, first frame.
async function oneRun() {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  document.body.append(video);
  pc.ontrack = (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  const firstFrame = new Promise((resolve) => video.requestVideoFrameCallback(() => resolve(performance.now())));
  const posted = performance.now();
  const res = await fetch('/whep', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  const answer = await res.text();
  const location = res.headers.get('Location');
  const answered = performance.now();
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  const shown = await Promise.race([firstFrame, new Promise((r) => setTimeout(() => r(null), 5000))]);
  await fetch(location, { method: 'DELETE' });
  pc.close();
  video.remove();
  return { total: shown === null ? null : shown - posted, answer: answered - posted };
}

let browser;
try {
  await waitForServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage();
  await page.goto(`${BASE}/embed.html`);
  const totals = [];
  const answers = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await page.evaluate(oneRun);
    if (r.total !== null) totals.push(r.total);
    answers.push(r.answer);
    await new Promise((res) => setTimeout(res, 300));
  }
  const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const m = median(totals);
  console.log(`time to first frame (Chromium, 720p30 H.264, ${totals.length}/${RUNS} runs, browser start excluded): ` +
    `median ${m.toFixed(0)} ms, min ${Math.min(...totals).toFixed(0)} ms, max ${Math.max(...totals).toFixed(0)} ms; ` +
    `of which POST→answer median ${median(answers).toFixed(0)} ms; ratio to the ${TARGET_MS} ms target: ${(m / TARGET_MS).toFixed(2)}`);
} finally {
  await browser?.close();
  sender.kill('SIGINT');
}
