#!/usr/bin/env node
// End-to-end test of the web viewer (index.html) and of the embed example opened from file://,
// in headless Chromium, against a real webrtcserversink started with gst-launch-1.0:
//   1. the viewer page plays: 30+ frames of 640 px, the codec asked for, a picture that is not
//      black (canvas and screenshot); the answer to its WHEP offer carries the transport-cc and
//      playout-delay extmaps with the offer's ids and its SSRC; its stats overlay shows its rung
//      and bandwidth estimate as GET /stats has them for its session;
//   2. embed.html from file:// connects to the server and plays;
//   3. Disconnect in the embed page ends its session on the server (GET /stats: 2 → 1);
//   4. the server is killed and started again: the open viewer page notices and plays again;
//   5. leaving the viewer page ends its session (keepalive DELETE: 1 → 0).
//
//   tests/netns-run.sh node tests/browser/viewer.test.mjs --codec h264|vp8 [--shots DIR]
//
// Needs GST_PLUGIN_PATH to reach the built plugin, Chromium at /usr/lib/chromium/chromium (or
// $LIVECAST_CHROMIUM) and `npm ci --prefix tests/browser`. Runs only inside a private network
// namespace (tests/netns-run.sh). Exit status: 0 pass, 1 fail, 77 skip (a prerequisite missing;
// LIVECAST_REQUIRE_BROWSER=1 turns that into a failure, for CI).

// Functions given to page.evaluate()/waitForFunction() run in the browser, with its globals:
/* global window, document, createImageBitmap, OffscreenCanvas */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

const PORT = 18080;
const BASE = `http://127.0.0.1:${PORT}`;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE_ROOT = process.env.LIVECAST_SOURCE_ROOT || path.resolve(HERE, '../..');
const OVERALL_TIMEOUT_MS = 60000;
const SERVER_START_TIMEOUT_MS = 10000;
const FRAMES_TIMEOUT_MS = 20000;
const MIN_FRAMES = 30;
const RECONNECT_NOTICE_TIMEOUT_MS = 12000; // Chromium needs ~6 s to call a silent peer disconnected
const WIDTH = 640;
const SKIP = 77;

const log = (...args) => console.log(`[${(performance.now() / 1000).toFixed(2)}s]`, ...args);

class TestFailure extends Error {}
const check = (ok, message) => {
  if (!ok) throw new TestFailure(message);
};

// ---- prerequisites -------------------------------------------------------------------------

function parseCli() {
  const { values } = parseArgs({
    options: { codec: { type: 'string', default: 'h264' }, shots: { type: 'string' } },
  });
  if (!['h264', 'vp8'].includes(values.codec)) {
    console.error('usage: viewer.test.mjs --codec h264|vp8 [--shots DIR]');
    process.exit(2);
  }
  return values;
}

function skip(reason) {
  const required = process.env.LIVECAST_REQUIRE_BROWSER === '1';
  console.log(`${required ? 'FAIL' : 'SKIP'}: ${reason}`);
  process.exit(required ? 1 : SKIP);
}

async function loadPlaywright() {
  try {
    return (await import('playwright-core')).chromium;
  } catch {
    return skip(`playwright-core is not installed; run: npm ci --prefix ${HERE}`);
  }
}

// Chromium and libnice must never see a real interface: refuse to run outside a namespace
// that has only loopback.
function requirePrivateNetwork() {
  const external = Object.entries(networkInterfaces())
    .filter(([, addrs]) => addrs.some((a) => !a.internal)).map(([name]) => name);
  if (external.length) {
    console.error(`FAIL: network interfaces ${external.join(', ')} are visible; run through ` +
      'tests/netns-run.sh (a private network namespace with only loopback)');
    process.exit(1);
  }
}

// ---- the server ------------------------------------------------------------------------------

function startServer(codec) {
  const args = ['-e', 'videotestsrc', 'is-live=true', 'pattern=ball', '!',
    `video/x-raw,width=${WIDTH},height=480,framerate=30/1`, '!',
    'webrtcserversink', `port=${PORT}`, `video-codec=${codec}`];
  log('gst-launch-1.0', args.join(' '));
  const child = spawn('gst-launch-1.0', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = [];
  const keep = (chunk) => {
    child.output.push(chunk.toString());
    if (child.output.length > 400) child.output.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (err) => resolve({ code: -1, signal: null, error: err }));
  });
  return child;
}

function running(child) {
  return child.exitCode === null && child.signalCode === null;
}

async function waitForHttp(url, timeoutMs, server) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    check(running(server), `gst-launch-1.0 exited before the server answered:\n${tail(server)}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new TestFailure(`no answer from ${url} within ${timeoutMs / 1000} s`);
}

async function stopServer(child) {
  if (!running(child)) return child.exited;
  child.kill('SIGINT'); // with -e: EOS, then a clean exit
  const result = await Promise.race([child.exited, sleep(3000).then(() => null)]);
  if (result) return result;
  log('gst-launch-1.0 ignored SIGINT for 3 s; killing it');
  child.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

/** The `viewers` count from GET /stats; a failure when it cannot be read (nothing verified). */
async function viewerCount() {
  let res;
  let json;
  try {
    res = await fetch(`${BASE}/stats`, { signal: AbortSignal.timeout(2000) });
    json = res.ok ? await res.json() : null;
  } catch (err) {
    throw new TestFailure(`GET /stats: ${err.message}: the viewer count cannot be checked`);
  }
  check(res.ok, `GET /stats: HTTP ${res.status}: the viewer count cannot be checked`);
  check(typeof json?.viewers === 'number', `GET /stats has no viewer count: ${JSON.stringify(json)}`);
  return json.viewers;
}

async function waitForViewers(expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let count;
  do {
    count = await viewerCount();
    if (count === expected) return count;
    await sleep(100);
  } while (Date.now() < deadline);
  return count;
}

/** The DELETE requests a browser context sends to the server, with their statuses. */
function recordDeletes(context) {
  const deletes = [];
  context.on('requestfinished', async (req) => {
    if (req.method() !== 'DELETE') return;
    const res = await req.response().catch(() => null);
    deletes.push(`${new URL(req.url()).pathname} ${res?.status() ?? '?'}`);
  });
  context.on('requestfailed', (req) => {
    if (req.method() === 'DELETE') deletes.push(`${new URL(req.url()).pathname} failed`);
  });
  return deletes;
}

// ---- in the page ---------------------------------------------------------------------------

function watchPage(page, name, messages) {
  page.on('console', (m) => messages.push(`${name} console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`${name} page error: ${e.message}`));
  page.on('requestfailed', (r) => messages.push(
    `${name} request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) messages.push(`${name} HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
}

/** Waits until the page's client decoded enough frames of the right width; returns its numbers. */
async function waitForFrames(page, what) {
  try {
    await page.waitForFunction(({ min, width }) => {
      const v = document.querySelector('video');
      return window.livecast?.stats?.framesDecoded >= min && v?.videoWidth === width;
    }, { min: MIN_FRAMES, width: WIDTH }, { timeout: FRAMES_TIMEOUT_MS, polling: 100 });
  } catch {
    const state = await page.evaluate(() => ({
      status: window.livecast?.status, stats: window.livecast?.stats,
      videoWidth: document.querySelector('video')?.videoWidth,
    })).catch(() => ({}));
    throw new TestFailure(`${what}: no ${MIN_FRAMES} frames of width ${WIDTH} within ` +
      `${FRAMES_TIMEOUT_MS / 1000} s; state ${state.status?.state} "${state.status?.message}"` +
      `${state.status?.error ? ` (${state.status.error.message})` : ''}, ` +
      `framesDecoded ${state.stats?.framesDecoded}, videoWidth ${state.videoWidth}`);
  }
  return page.evaluate(() => {
    const c = window.livecast;
    return {
      framesDecoded: c.stats.framesDecoded,
      width: c.stats.width,
      height: c.stats.height,
      codec: c.stats.codec,
      firstFrameMs: c.timings.firstFrame - c.timings.start,
      connectedMs: c.timings.connected - c.timings.start,
      status: document.getElementById('status-text')?.textContent,
    };
  });
}

/**
 * Luma statistics of the current video frame (drawn into a canvas) or, given a PNG, of that
 * image. Runs in the page, where the browser decodes both.
 */
function pixelStats(page, png = null) {
  return page.evaluate(async (pngBase64) => {
    const source = pngBase64
      ? await createImageBitmap(await (await fetch(`data:image/png;base64,${pngBase64}`)).blob())
      : document.querySelector('video');
    const width = pngBase64 ? source.width : source.videoWidth;
    const height = pngBase64 ? source.height : source.videoHeight;
    const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    ctx.drawImage(source, 0, 0);
    const data = ctx.getImageData(0, 0, width, height).data;
    let sum = 0;
    let sum2 = 0;
    let max = 0;
    let bright = 0;
    for (let i = 0; i < data.length; i += 4) {
      const y = 0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2];
      sum += y;
      sum2 += y * y;
      max = Math.max(max, y);
      if (y > 128) bright++;
    }
    const n = data.length / 4;
    const mean = sum / n;
    return { width, height, mean, stddev: Math.sqrt(Math.max(sum2 / n - mean * mean, 0)), max,
      brightPercent: (100 * bright) / n };
  }, png?.toString('base64') ?? null);
}

// pattern=ball: a white ball on black. A black or frozen-grey picture has no bright pixels and
// (almost) no variance.
function checkPicture(stats, what) {
  const text = `mean ${stats.mean.toFixed(1)}, stddev ${stats.stddev.toFixed(1)}, max ` +
    `${stats.max.toFixed(0)}, bright ${stats.brightPercent.toFixed(2)} %`;
  check(stats.max > 128 && stats.stddev > 5 && stats.brightPercent > 0.05,
    `${what} looks black or uniform (${text})`);
  return text;
}

async function saveShot(shots, name, png) {
  if (!shots) return;
  await mkdir(shots, { recursive: true });
  const file = path.join(shots, name);
  await writeFile(file, png);
  log('screenshot', file);
}

// ---- the two pages ---------------------------------------------------------------------------

const EXTENSIONS = ['http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay'];

/** The answer's RTP header extensions (gst/webrtcserver/media/rtpextensions.h) and SSRC. */
function checkAnswer(offer, answer) {
  const ids = (sdp, uri) => [...sdp.matchAll(/^a=extmap:(\d+)(?:\/\w+)? (\S+)/gm)]
    .filter((m) => m[2] === uri).map((m) => m[1]);
  const found = [];
  for (const uri of EXTENSIONS) {
    const offered = ids(offer, uri);
    check(offered.length === 1, `viewer: Chromium's offer has no single a=extmap for ${uri}`);
    const answered = ids(answer, uri);
    check(answered.length === 1 && answered[0] === offered[0],
      `viewer: the answer has a=extmap ${answered.join(',') || 'none'} for ${uri}, not the offer's ${offered[0]}`);
    found.push(`${answered[0]} ${uri.split('/').pop()}`);
  }
  check(/^a=ssrc:\d+ cname:/m.test(answer), 'viewer: the answer lists no SSRC (a=ssrc)');
  return `extmaps ${found.join(', ')}; ssrc listed`;
}

// The overlay's Ladder row: "rung 0/3 · 640x480 · estimate 1.9 Mbit/s" (web/viewer.js).
const LADDER_RE = /^rung (\d+)\/(\d+) · (\d+)x(\d+) · estimate (\d+ kbit\/s|\d+\.\d Mbit\/s)$/;

/**
 * The overlay shows this viewer's rung and the server's estimate for it, and they are the
 * server's figures for this very session: its id (the WHEP Location) is in GET /stats with that
 * rung, the rung's size and a bandwidth estimate.
 */
async function checkLadderRow(page) {
  let text = '';
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    text = (await page.textContent('#s-ladder')) ?? '';
    if (LADDER_RE.test(text)) break;
    await sleep(250);
  }
  const m = LADDER_RE.exec(text);
  check(m, `viewer: the overlay's Ladder row says "${text}", not "rung N/M · WxH · estimate R"`);
  const id = await page.evaluate(() => window.livecast.sessionId);
  const stats = await (await fetch(`${BASE}/stats`, { signal: AbortSignal.timeout(2000) })).json();
  const session = stats.sessions.find((s) => s.id === id);
  check(session, `viewer: its session ${id} is not in GET /stats (${stats.sessions.map((s) => s.id)})`);
  // The rungs of the session's own codec: with VP8 on demand, /stats lists a VP8 ladder too.
  const rungs = stats.encoder.rungs.filter((r) => r.codec === session.codec);
  check(rungs.length >= 1, `viewer: GET /stats lists no ${session.codec} rung`);
  check(Number(m[1]) === session.rung && Number(m[2]) === rungs.length,
    `viewer: the overlay says rung ${m[1]}/${m[2]}, GET /stats rung ${session.rung}/${rungs.length}`);
  check(Number(m[3]) === rungs[session.rung].width && Number(m[4]) === rungs[session.rung].height,
    `viewer: the overlay says ${m[3]}x${m[4]}, the server's rung ${session.rung} is ` +
    `${rungs[session.rung].width}x${rungs[session.rung].height}`);
  check(session.estimate?.bitrate > 0, `viewer: GET /stats has no estimate for ${id}`);
  return text;
}

async function testViewer(context, codec, shots, messages) {
  const page = await context.newPage();
  watchPage(page, 'viewer', messages);
  const t0 = Date.now();
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/whep',
    { timeout: 10000 });
  await page.goto(`${BASE}/`, { timeout: 10000 });
  const whep = await posted;
  check(whep.status() === 201, `viewer: POST /whep answered ${whep.status()}`);
  const answerCheck = checkAnswer(whep.request().postData() ?? '', await whep.text());
  log(`viewer: answer ${answerCheck}`);
  const result = await waitForFrames(page, 'viewer');
  result.answer = answerCheck;
  result.loadTo30FramesMs = Date.now() - t0;
  log('viewer:', JSON.stringify(result));
  check(result.codec?.toLowerCase() === codec, `viewer: codec is ${result.codec}, not ${codec}`);
  result.canvas = checkPicture(await pixelStats(page), 'viewer: the video frame (canvas)');
  // What the compositor shows, overlay hidden: the ball must be on screen too.
  const videoShot = await page.locator('video').screenshot();
  result.screenshot = checkPicture(await pixelStats(page, videoShot), 'viewer: video screenshot');
  await page.click('#stats-toggle');
  await sleep(1100); // one stats refresh, so the overlay shows rates
  result.ladder = await checkLadderRow(page);
  log(`viewer: the overlay's Ladder row says "${result.ladder}"`);
  await saveShot(shots, `viewer-${codec}.png`, await page.screenshot());
  return { page, result };
}

async function testEmbed(context, codec, shots, messages) {
  const file = path.join(SOURCE_ROOT, 'web', 'embed.html');
  check(existsSync(file), `${file} is missing`);
  const page = await context.newPage();
  watchPage(page, 'embed', messages);
  await page.goto(pathToFileURL(file).href, { timeout: 10000 });
  await page.fill('#server', BASE);
  await page.click('#connect');
  const result = await waitForFrames(page, 'embed (file://)');
  log('embed:', JSON.stringify(result));
  result.canvas = checkPicture(await pixelStats(page), 'embed: the video frame (canvas)');
  await sleep(1100);
  await saveShot(shots, `embed-${codec}.png`, await page.screenshot());
  return { page, result };
}

// Ending a viewer (Disconnect, leaving the page) must end its session on the server: DELETE
// /whep/<id> answered 200, and the server's count drops.
async function testDisconnect(embed, deletes) {
  const both = await viewerCount();
  check(both === 2, `GET /stats: ${both} viewers, expected 2`);
  const before = deletes.length;
  await embed.click('#connect'); // now "Disconnect"
  const after = await waitForViewers(1, 3000);
  // The browser may report the finished request a little after the server acted on it.
  const ok = (list) => list.some((d) => /^\/whep\/\S+ 200$/.test(d));
  for (let i = 0; i < 20 && !ok(deletes.slice(before)); i++) await sleep(50);
  const sent = deletes.slice(before);
  check(after === 1, `after Disconnect the server still counts ${after} viewers (DELETEs: ` +
    `${JSON.stringify(sent)})`);
  check(ok(sent), `Disconnect sent no DELETE /whep/<id> ` +
    `answered 200 (DELETEs: ${JSON.stringify(sent)})`);
  return `2 → 1 (Disconnect: DELETE ${sent.join(', ')})`;
}

async function testLeavePage(viewer) {
  await viewer.goto('about:blank'); // pagehide → keepalive DELETE
  const after = await waitForViewers(0, 3000);
  check(after === 0, `after leaving the viewer page the server still counts ${after}`);
  return ' → 0 (page left)';
}

// The server dies and comes back: the open page must notice and play again by itself.
async function testReconnect(viewer, codec, state) {
  state.server.kill('SIGKILL');
  await state.server.exited;
  const killed = Date.now();
  await viewer.waitForFunction(() => window.livecast.state !== 'playing', null,
    { timeout: RECONNECT_NOTICE_TIMEOUT_MS, polling: 100 }).catch(() => {
    throw new TestFailure(`viewer: still "playing" ${RECONNECT_NOTICE_TIMEOUT_MS / 1000} s ` +
      'after the server was killed');
  });
  const noticedMs = Date.now() - killed;
  const status = await viewer.textContent('#status-text');
  log(`viewer noticed the dead server after ${ms(noticedMs)}: ${status}`);
  state.server = startServer(codec);
  await waitForHttp(`${BASE}/`, SERVER_START_TIMEOUT_MS, state.server);
  const restarted = Date.now();
  const again = await waitForFrames(viewer, 'viewer after the server restart');
  const count = await viewerCount();
  check(count === 1, `restarted server counts ${count} viewers, expected 1`);
  return `server killed: noticed after ${ms(noticedMs)}, ${MIN_FRAMES}+ frames again ` +
    `${ms(Date.now() - restarted)} after the restart (framesDecoded=${again.framesDecoded})`;
}

// ---- main ------------------------------------------------------------------------------------

async function main() {
  const { codec, shots } = parseCli();
  const name = `browser-viewer-${codec}`;
  const chromium = await loadPlaywright();
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  requirePrivateNetwork();

  const messages = [];
  const state = { server: null }; // the running gst-launch-1.0 (replaced by testReconnect)
  let browser = null;
  let failure = null;
  let summary = '';
  const cleanup = async () => {
    await Promise.race([browser?.close(), sleep(5000)]).catch(() => {});
    browser = null;
    const exit = state.server ? await stopServer(state.server) : null;
    if (exit?.signal && exit.signal !== 'SIGINT' && !exit.killed) {
      failure ??= new TestFailure(`gst-launch-1.0 died with ${exit.signal}:\n${tail(state.server)}`);
    }
  };
  const timer = setTimeout(async () => {
    console.log(`FAIL ${name}: overall timeout (${OVERALL_TIMEOUT_MS / 1000} s)`);
    printDiagnostics(messages, state.server);
    await Promise.race([cleanup(), sleep(5000)]);
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);

  try {
    state.server = startServer(codec);
    await waitForHttp(`${BASE}/`, SERVER_START_TIMEOUT_MS, state.server);
    log('server answers');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const deletes = recordDeletes(context);
    const viewer = await testViewer(context, codec, shots, messages);
    const embed = await testEmbed(context, codec, shots, messages);
    let viewers = await testDisconnect(embed.page, deletes);
    const reconnect = await testReconnect(viewer.page, codec, state);
    viewers += await testLeavePage(viewer.page);
    const v = viewer.result;
    const e = embed.result;
    summary = `viewer ${v.width}x${v.height} ${v.codec} framesDecoded=${v.framesDecoded} ` +
      `first frame ${ms(v.firstFrameMs)} (page load to ${MIN_FRAMES} frames ${ms(v.loadTo30FramesMs)}), ` +
      `picture ${v.canvas}; answer ${v.answer}; embed(file://) framesDecoded=${e.framesDecoded} first frame ` +
      `${ms(e.firstFrameMs)}; viewers ${viewers}; ${reconnect}`;
  } catch (err) {
    failure = err;
  } finally {
    await cleanup();
    clearTimeout(timer);
  }

  if (failure) {
    printDiagnostics(messages, state.server);
    console.log(`FAIL ${name}: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  console.log(`PASS ${name}: ${summary}`);
  process.exit(0);
}

function printDiagnostics(messages, server) {
  if (messages.length) console.log(`--- browser messages ---\n${messages.slice(-60).join('\n')}`);
  if (server?.output.length) console.log(`--- gst-launch-1.0 output ---\n${tail(server)}`);
}

function tail(child, lines = 40) {
  return child.output.join('').split('\n').slice(-lines).join('\n');
}

function ms(value) {
  return Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : '?';
}

function sleep(msec) {
  return new Promise((resolve) => setTimeout(resolve, msec));
}

main();
