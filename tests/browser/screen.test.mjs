#!/usr/bin/env node
// End to end, the whole product on a screen: an Xvfb of the test's own (1920x1080) with a moving
// picture on it (tests/common/screen_painter), `screencapsrc ! webrtcserversink` in gst-launch-1.0,
// and the viewer page in headless Chromium, which must decode >= 29 frames/s on average over 10 s
// (framesDecoded delta from getStats) at 1920x1080, of a picture that moves.
//
//   tests/netns-run.sh node tests/browser/screen.test.mjs --painter PATH/TO/screen_painter
//
// Needs GST_PLUGIN_PATH to reach the built plugins, Xvfb, Chromium at /usr/lib/chromium/chromium
// (or $LIVECAST_CHROMIUM) and `npm ci --prefix tests/browser`. Runs only inside a private network
// namespace (tests/netns-run.sh). Exit status: 0 pass, 1 fail, 77 skip (a prerequisite missing;
// LIVECAST_REQUIRE_BROWSER=1 turns that into a failure, for CI).

// Functions given to page.evaluate()/waitForFunction() run in the browser, with its globals:
/* global window, document, OffscreenCanvas, RTCPeerConnection */

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

const PORT = 18090;
const BASE = `http://127.0.0.1:${PORT}`;
const WIDTH = 1920;
const HEIGHT = 1080;
const FPS = 30;
const MIN_FPS = 29;
const MEASURE_MS = 10000;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const OVERALL_TIMEOUT_MS = 90000;
const START_TIMEOUT_MS = 10000;
const FIRST_FRAMES_TIMEOUT_MS = 20000;
const SKIP = 77;
const CLK_TCK = 100; // Linux USER_HZ, the unit of /proc/PID/stat times

const log = (...args) => console.log(`[${(performance.now() / 1000).toFixed(2)}s]`, ...args);

class TestFailure extends Error {}
const check = (ok, message) => {
  if (!ok) throw new TestFailure(message);
};

// ---- prerequisites -------------------------------------------------------------------------

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

function onPath(tool) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function checkPrerequisites(painter) {
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  if (!onPath('Xvfb')) skip('Xvfb is not installed (apt-get install xvfb)');
  if (!onPath('gst-launch-1.0')) skip('gst-launch-1.0 is not installed');
  if (!painter || !existsSync(painter)) skip(`no screen painter (--painter ${painter ?? 'PATH'})`);
  for (const element of ['screencapsrc', 'webrtcserversink']) {
    const r = spawnSync('gst-inspect-1.0', [element], { stdio: 'ignore' });
    if (r.status !== 0) skip(`GStreamer element ${element} not found (plugin not built? GST_PLUGIN_PATH?)`);
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

// ---- processes -----------------------------------------------------------------------------

const children = new Set();

function start(cmd, args, stdio = ['ignore', 'pipe', 'pipe']) {
  log(cmd, args.join(' '));
  const child = spawn(cmd, args, { stdio });
  child.name = path.basename(cmd);
  child.output = [];
  const keep = (chunk) => {
    child.output.push(chunk.toString());
    if (child.output.length > 400) child.output.splice(0, 100);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (err) => resolve({ code: -1, signal: null, error: err }));
  });
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

function running(child) {
  return child && child.exitCode === null && child.signalCode === null;
}

async function stop(child, signal = 'SIGTERM') {
  if (!running(child)) return child?.exited;
  child.kill(signal);
  const result = await Promise.race([child.exited, sleep(3000).then(() => null)]);
  if (result) return result;
  log(`${child.name} ignored ${signal} for 3 s; killing it`);
  child.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

// Last resort (overall timeout, uncaught error): nothing of ours outlives the test.
process.on('exit', () => {
  for (const child of children) {
    if (running(child)) child.kill('SIGKILL');
  }
});

/** Xvfb picks a free display number itself and writes it to fd 3 (-displayfd). */
async function startXvfb() {
  const x = start('Xvfb', ['-displayfd', '3', '-screen', '0', `${WIDTH}x${HEIGHT}x24`,
    '-nolisten', 'tcp', '-noreset'], ['ignore', 'ignore', 'pipe', 'pipe']);
  let text = '';
  const number = await Promise.race([
    new Promise((resolve) => {
      x.stdio[3].on('data', (chunk) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(text.trim());
      });
    }),
    x.exited.then(() => null),
    sleep(START_TIMEOUT_MS).then(() => null),
  ]);
  check(number && /^\d+$/.test(number), `Xvfb did not start:\n${tail(x)}`);
  x.display = `:${number}`;
  return x;
}

async function startPainter(painter, display) {
  const p = start(painter, ['--display', display, '--rate', '60', '--mode', 'box']);
  const ready = await Promise.race([
    new Promise((resolve) => p.stdout.on('data', () => {
      if (p.output.join('').includes('ready')) resolve(true);
    })),
    p.exited.then(() => false),
    sleep(START_TIMEOUT_MS).then(() => false),
  ]);
  check(ready, `screen_painter did not start:\n${tail(p)}`);
  return p;
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

async function serverStats() {
  try {
    const res = await fetch(`${BASE}/stats`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

// ---- in the page ---------------------------------------------------------------------------

// Keeps every RTCPeerConnection the page makes, so the test reads getStats() itself (exact
// framesDecoded and timestamps, not the page's once-a-second summary).
function recordPeerConnections() {
  const Original = window.RTCPeerConnection;
  window.__peerConnections = [];
  window.RTCPeerConnection = function RTCPeerConnection(...args) {
    const pc = new Original(...args);
    window.__peerConnections.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);
}

function inboundVideo(page) {
  return page.evaluate(async () => {
    const pcs = window.__peerConnections.filter((pc) => pc.connectionState !== 'closed');
    const pc = pcs[pcs.length - 1];
    if (!pc) return null;
    const report = await pc.getStats();
    for (const s of report.values()) {
      if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.mediaType === 'video')) {
        return {
          timestamp: s.timestamp, framesDecoded: s.framesDecoded ?? 0,
          framesDropped: s.framesDropped ?? 0, framesReceived: s.framesReceived ?? 0,
          width: s.frameWidth, height: s.frameHeight, packetsLost: s.packetsLost ?? 0,
          freezeCount: s.freezeCount ?? 0, keyFramesDecoded: s.keyFramesDecoded ?? 0,
          decoder: s.decoderImplementation, codec: report.get(s.codecId)?.mimeType,
        };
      }
    }
    return null;
  });
}

/** A small digest of the current video frame, to tell that the picture moves. */
function frameDigest(page) {
  return page.evaluate(() => {
    const v = document.querySelector('video');
    const ctx = new OffscreenCanvas(96, 54).getContext('2d', { willReadFrequently: true });
    ctx.drawImage(v, 0, 0, 96, 54);
    const d = ctx.getImageData(0, 0, 96, 54).data;
    let sum = 0;
    let max = 0;
    const cells = [];
    for (let i = 0; i < d.length; i += 4) {
      const y = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
      sum += y;
      max = Math.max(max, y);
      cells.push([d[i], d[i + 1], d[i + 2]]);
    }
    return { mean: sum / (d.length / 4), max, cells };
  });
}

// Cells compared by colour, not luma: the box and the background behind it
// can have almost the same luma (0x4363d8 on 0x7f700c), never the same colour
// (every pair differs by at least 35 in some channel).
function differs(a, b) {
  let changed = 0;
  for (let i = 0; i < a.cells.length; i++) {
    if (a.cells[i].some((v, c) => Math.abs(v - b.cells[i][c]) > 20)) changed++;
  }
  return changed;
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({ options: { painter: { type: 'string' } } });
  const chromium = await loadPlaywright();
  checkPrerequisites(values.painter);
  requirePrivateNetwork();

  const messages = [];
  const state = {};
  let browser = null;
  let failure = null;
  let summary = '';
  const cleanup = async () => {
    await Promise.race([browser?.close(), sleep(5000)]).catch(() => {});
    browser = null;
    // With -e, SIGINT makes gst-launch-1.0 send EOS and exit cleanly.
    const exit = state.server ? await stop(state.server, 'SIGINT') : null;
    if (exit?.signal && exit.signal !== 'SIGINT' && !exit.killed) {
      failure ??= new TestFailure(`gst-launch-1.0 died with ${exit.signal}:\n${tail(state.server)}`);
    }
    await stop(state.painter);
    await stop(state.xvfb);
  };
  const timer = setTimeout(async () => {
    console.log(`FAIL browser-screen: overall timeout (${OVERALL_TIMEOUT_MS / 1000} s)`);
    printDiagnostics(messages, state);
    await Promise.race([cleanup(), sleep(8000)]);
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);

  try {
    state.xvfb = await startXvfb();
    const display = state.xvfb.display;
    state.painter = await startPainter(values.painter, display);
    state.server = start('gst-launch-1.0', ['-e', 'screencapsrc', `display=${display}`, '!',
      `video/x-raw,framerate=${FPS}/1`, '!', 'webrtcserversink', `port=${PORT}`]);
    await waitForHttp(`${BASE}/`, START_TIMEOUT_MS, state.server);
    log('server answers');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await context.addInitScript(recordPeerConnections);
    const page = await context.newPage();
    page.on('console', (m) => messages.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => messages.push(`page error: ${e.message}`));
    const t0 = Date.now();
    await page.goto(`${BASE}/?fallback=off`, { timeout: 10000 });
    try {
      await page.waitForFunction(({ width }) => {
        const v = document.querySelector('video');
        return window.livecast?.stats?.framesDecoded >= 30 && v?.videoWidth === width;
      }, { width: WIDTH }, { timeout: FIRST_FRAMES_TIMEOUT_MS, polling: 100 });
    } catch {
      const s = await inboundVideo(page).catch(() => null);
      const v = await page.evaluate(() => [window.livecast?.state, window.livecast?.status?.message,
        document.querySelector('video')?.videoWidth]).catch(() => []);
      throw new TestFailure(`no 30 frames of width ${WIDTH} within ${FIRST_FRAMES_TIMEOUT_MS / 1000} s ` +
        `(page state ${v[0]} "${v[1]}", videoWidth ${v[2]}; inbound ${JSON.stringify(s)})`);
    }
    const startupMs = Date.now() - t0;
    log(`30 frames after ${ms(startupMs)}; measuring ${MEASURE_MS / 1000} s`);

    const before = await inboundVideo(page);
    const serverPid = state.server.pid;
    const cpu0 = [cpuSeconds(serverPid), cpuSeconds(state.xvfb.pid)];
    const enc0 = await serverStats();
    const digests = [await frameDigest(page)];
    await sleep(MEASURE_MS / 2);
    digests.push(await frameDigest(page));
    await sleep(200);
    digests.push(await frameDigest(page));
    await sleep(MEASURE_MS / 2 - 200);
    const after = await inboundVideo(page);
    const cpu1 = [cpuSeconds(serverPid), cpuSeconds(state.xvfb.pid)];
    const enc1 = await serverStats();

    const seconds = (after.timestamp - before.timestamp) / 1000;
    const fps = (after.framesDecoded - before.framesDecoded) / seconds;
    const encFps = enc0 && enc1 ? (enc1.encoder.frames - enc0.encoder.frames) / seconds : NaN;
    const senderCores = (cpu1[0] - cpu0[0]) / seconds;
    const xCores = (cpu1[1] - cpu0[1]) / seconds;
    summary = `${after.width}x${after.height} ${after.codec}${after.decoder ? ` (${after.decoder})` : ''}: ` +
      `${fps.toFixed(2)} frames/s decoded over ${seconds.toFixed(2)} s ` +
      `(framesDecoded ${before.framesDecoded} → ${after.framesDecoded}, dropped ` +
      `${after.framesDropped - before.framesDropped}, freezes ${after.freezeCount - before.freezeCount}, ` +
      `packets lost ${after.packetsLost}); server encoded ${encFps.toFixed(1)} frames/s; ` +
      `CPU gst-launch-1.0 ${senderCores.toFixed(2)} + Xvfb ${xCores.toFixed(2)} cores; ` +
      `first 30 frames ${ms(startupMs)} after page load`;
    log(summary);

    check(after.width === WIDTH && after.height === HEIGHT,
      `decoded frames are ${after.width}x${after.height}, not ${WIDTH}x${HEIGHT}`);
    check(fps >= MIN_FPS, `only ${fps.toFixed(2)} frames/s decoded on average (want >= ${MIN_FPS}); ` +
      summary);
    // The painter's square moves 7 px every 1/60 s: frames 200 ms apart differ, and the picture
    // is the painter's (never black).
    check(digests.every((d) => d.max > 40), `the picture looks black (max luma ${digests.map((d) => d.max.toFixed(0))})`);
    const moved = [differs(digests[0], digests[1]), differs(digests[1], digests[2])];
    log(`digests: mean ${digests.map((d) => d.mean.toFixed(1))}, max ${digests.map((d) => d.max.toFixed(0))}`);
    check(moved.every((n) => n > 0), `the picture does not move (changed cells ${moved})`);
    summary += `; picture moves (${moved.join(', ')} of ${digests[0].cells.length} cells changed)`;
  } catch (err) {
    failure = err;
  } finally {
    await cleanup();
    clearTimeout(timer);
  }

  if (failure) {
    printDiagnostics(messages, state);
    console.log(`FAIL browser-screen: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  console.log(`PASS browser-screen: ${summary}`);
  process.exit(0);
}

function printDiagnostics(messages, state) {
  if (messages.length) console.log(`--- browser messages ---\n${messages.slice(-60).join('\n')}`);
  for (const child of [state.server, state.painter, state.xvfb]) {
    if (child?.output.length) console.log(`--- ${child.name} output ---\n${tail(child)}`);
  }
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
