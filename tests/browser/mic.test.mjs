#!/usr/bin/env node
// Talkback: the viewer's microphone reaches the sender. webrtcserversink talkback=true (video +
// audio in), Chromium with a fake microphone (beeps) whose permission prompt is accepted:
//   1. over WHEP and over WebSocket (join mode: the server offers sendrecv audio), the page
//      shows the microphone button; before a click the server receives (almost) nothing from the
//      viewer; after the click (getUserMedia + replaceTrack, no renegotiation) GET /stats
//      sessions[0].bytesReceived grows by > 5 kB in 3 s; a second click stops it again;
//   2. the page on a host that is not a secure context (http://livecast.test): the click says
//      the microphone needs https or localhost;
//   3. a browser that refuses the permission: the click says the microphone was refused.
//
//   tests/netns-run.sh node tests/browser/mic.test.mjs [--shots DIR]

/* global window, document */

import { parseArgs } from 'node:util';
import {
  TestFailure, check, getJson, log, runTest, saveShot, sleep, startPipeline, waitForFrames,
  waitForHttp, watchPage,
} from './harness.mjs';

const PORT = 18080;
const BASE = `http://127.0.0.1:${PORT}`;
const WIDTH = 640;
const WINDOW_MS = 3000;
const MIN_BYTES = 5000; // in WINDOW_MS with the microphone on (Opus ~32 kbit/s: ~12 kB)
const FAKE_MIC = ['--use-fake-device-for-media-stream'];

const { values: cli } = parseArgs({ options: { shots: { type: 'string' } } });

async function stats() {
  return getJson(`${BASE}/stats`);
}

/** bytesReceived of the only session; fails when there is not exactly one. */
async function sessionBytes(what) {
  const s = await stats();
  check(s?.sessions?.length === 1,
    `${what}: GET /stats lists ${s?.sessions?.length} sessions, expected 1`);
  const bytes = s.sessions[0].bytesReceived;
  check(Number.isFinite(bytes),
    `${what}: GET /stats sessions[0] has no bytesReceived (${JSON.stringify(s.sessions[0])})`);
  return bytes;
}

/**
 * Bytes from the viewer per WINDOW_MS. The server refreshes bytesReceived about once a second,
 * so a plain 3 s difference may hold 2 or 4 s of data: measure between two refreshes (changes
 * seen by polling) at least WINDOW_MS apart and scale to WINDOW_MS. A counter that does not move
 * is measured over the window as it is.
 */
async function bytesOver(what) {
  const nextChange = async (from, notBefore, graceMs) => {
    const deadline = Math.max(Date.now(), notBefore) + graceMs;
    let bytes = from;
    while (Date.now() < deadline) {
      bytes = await sessionBytes(what);
      if (bytes !== from && Date.now() >= notBefore) break;
      await sleep(100);
    }
    return { bytes, at: Date.now() };
  };
  const first = await sessionBytes(what);
  const start = await nextChange(first, 0, 1500);
  const end = await nextChange(start.bytes, start.at + WINDOW_MS, 1500);
  return Math.round(((end.bytes - start.bytes) * WINDOW_MS) / (end.at - start.at));
}

async function waitForViewers(expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let count;
  do {
    count = (await stats())?.viewers ?? null;
    if (count === expected) return count;
    await sleep(100);
  } while (Date.now() < deadline);
  return count;
}

function micState(page) {
  return page.evaluate(() => ({
    ...window.livecast.microphone,
    button: !document.getElementById('mic').hidden,
    label: document.getElementById('mic-label').textContent,
    notice: document.getElementById('notice').hidden ? '' :
      document.getElementById('notice-text').textContent,
    config: window.livecast.config,
    sent: window.livecast.stats?.microphone?.bytesSent ?? 0,
  }));
}

async function waitForMicButton(page, what) {
  await page.waitForFunction(() => !document.getElementById('mic').hidden, null,
    { timeout: 5000, polling: 100 }).catch(async () => {
    const state = await micState(page);
    throw new TestFailure(`${what}: no microphone button (config ${JSON.stringify(state.config)})`);
  });
}

async function waitForMic(page, state, what) {
  await page.waitForFunction((s) => window.livecast.microphone.state === s, state,
    { timeout: 5000, polling: 50 }).catch(async () => {
    throw new TestFailure(`${what}: the microphone did not get to "${state}": ` +
      JSON.stringify(await micState(page)));
  });
}

/** One viewer: bytes from it before, with and after the microphone. */
async function talk(context, query, what, messages) {
  const page = await context.newPage();
  watchPage(page, what, messages);
  await page.goto(`${BASE}/${query}`, { timeout: 10000 });
  await waitForFrames(page, what, { width: WIDTH });
  await waitForMicButton(page, what);
  const before = await bytesOver(`${what}, microphone off`);
  await page.click('#mic');
  await waitForMic(page, 'on', what);
  const on = await bytesOver(`${what}, microphone on`);
  const shown = await micState(page);
  if (query === '') {
    if (await page.isHidden('#stats')) await page.click('#stats-toggle');
    await sleep(1100);
    await saveShot(cli.shots, 'mic-on.png', await page.screenshot());
  }
  await page.click('#mic');
  await waitForMic(page, 'off', `${what} (second click)`);
  const trackStopped = await page.evaluate(() => window.livecast.microphone.state === 'off');
  await sleep(500); // packets on their way
  const after = await bytesOver(`${what}, microphone off again`);
  log(`${what}: bytes from the viewer in ${WINDOW_MS / 1000} s: before ${before}, microphone on ` +
    `${on}, off again ${after}; page sent ${shown.sent} bytes, button "${shown.label}"`);
  check(on > MIN_BYTES, `${what}: the server received ${on} bytes in ${WINDOW_MS / 1000} s with ` +
    `the microphone on, expected > ${MIN_BYTES}`);
  check(before < on / 4, `${what}: ${before} bytes before the click against ${on} with the ` +
    'microphone: the microphone is not what made the difference');
  check(after < on / 4 && trackStopped, `${what}: still ${after} bytes after switching the ` +
    `microphone off (against ${on} with it on)`);
  await page.close();
  const count = await waitForViewers(0, 3000);
  check(count === 0, `${what}: the server still counts ${count} viewers after the page closed`);
  return `${what}: ${before} → ${on} → ${after} B/${WINDOW_MS / 1000}s`;
}

/** Clicks the microphone button and returns the notice the page shows. */
async function refusal(page, url, what, shot) {
  await page.goto(url, { timeout: 10000 });
  await waitForFrames(page, what, { width: WIDTH, min: 5 });
  await waitForMicButton(page, what);
  await page.click('#mic');
  await waitForMic(page, 'error', what);
  const state = await micState(page);
  await saveShot(cli.shots, shot, await page.screenshot());
  return state;
}

runTest('browser-mic', 90000, async ({ launch, servers, messages }) => {
  const server = startPipeline([
    'videotestsrc', 'is-live=true', 'pattern=ball', '!',
    `video/x-raw,width=${WIDTH},height=480,framerate=30/1`, '!',
    'webrtcserversink', 'name=s', `port=${PORT}`, 'talkback=true',
    'audiotestsrc', 'is-live=true', 'wave=sine', 'volume=0.3', '!', 's.audio_0',
  ]);
  servers.push(server);
  await waitForHttp(`${BASE}/`, 10000, server);
  const config = await getJson(`${BASE}/config`);
  log('/config', JSON.stringify(config));
  check(config?.talkback === true, `GET /config says talkback ${config?.talkback}, expected true`);

  // A fake microphone, the permission prompt accepted; livecast.test is 127.0.0.1 but, not being
  // localhost, no secure context.
  const browser = await launch([...FAKE_MIC, '--use-fake-ui-for-media-stream',
    `--host-resolver-rules=MAP livecast.test 127.0.0.1`]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });

  // 1. WHEP and WebSocket.
  const whep = await talk(context, '', 'WHEP', messages);
  const ws = await talk(context, '?transport=ws&ws-mode=join', 'ws join', messages);

  // 2. Not a secure context.
  const insecure = await context.newPage();
  watchPage(insecure, 'insecure', messages);
  const notSecure = await refusal(insecure, `http://livecast.test:${PORT}/`,
    'http://livecast.test', 'mic-insecure.png');
  log('not a secure context:', notSecure.message);
  check(/https/.test(notSecure.notice) && /localhost/.test(notSecure.notice),
    `http://livecast.test: the page should say the microphone needs https or localhost, says ` +
    `"${notSecure.notice}"`);
  await insecure.close();

  // 3. Permission refused.
  const denying = await launch([...FAKE_MIC, '--deny-permission-prompts']);
  const denied = await (await denying.newContext({ viewport: { width: 1280, height: 720 } }))
    .newPage();
  watchPage(denied, 'denied', messages);
  const refused = await refusal(denied, `${BASE}/`, 'permission refused', 'mic-refused.png');
  log('permission refused:', refused.message);
  check(/refused/.test(refused.notice),
    `permission refused: the page should say the microphone was refused, says "${refused.notice}"`);

  return `bytes the server received from the viewer (before → microphone on → off): ${whep}; ` +
    `${ws}; not a secure context: "${notSecure.notice}"; refused: "${refused.notice}"`;
});
