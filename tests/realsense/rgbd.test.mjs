#!/usr/bin/env node
// `livecast --preset realsense-rgbd` with the fake librealsense2, watched in headless Chromium:
// the viewer page decodes frames of colour and aligned, colourized depth side by side (1280x480),
// and both the decoded picture and a screenshot of the page show the two halves:
//   left   the fake's colour pattern: red grows with x, green with y (in 256-pixel tiles);
//   right  depth (a ramp that grows with x) through the turbo colour map: blue on the near
//          (left) side, green in the middle, red on the far (right) side.
//
//   tests/netns-run.sh node tests/realsense/rgbd.test.mjs --livecast PATH/TO/livecast \
//       --fake PATH/TO/librealsense2.so.2.50 [--shots DIR]
//
// Needs GST_PLUGIN_PATH to reach the built plugins, Chromium at /usr/lib/chromium/chromium (or
// $LIVECAST_CHROMIUM) and `npm ci --prefix tests/browser`. Runs only inside a private network
// namespace. Exit status: 0 pass, 1 fail, 77 skip (a prerequisite missing; LIVECAST_REQUIRE_BROWSER=1
// turns that into a failure, for CI).

/* global window, document, createImageBitmap, OffscreenCanvas */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE_ROOT = process.env.LIVECAST_SOURCE_ROOT || path.resolve(HERE, '../..');
const WIDTH = 1280;
const HEIGHT = 480;
const MIN_FRAMES = 30;
const OVERALL_TIMEOUT_MS = 90000;
const START_TIMEOUT_MS = 20000;
const FRAMES_TIMEOUT_MS = 20000;
const SKIP = 77;

const log = (...args) => console.log(`[${(performance.now() / 1000).toFixed(2)}s]`, ...args);

class TestFailure extends Error {}
const check = (ok, message) => {
  if (!ok) throw new TestFailure(message);
};

function skip(reason) {
  const required = process.env.LIVECAST_REQUIRE_BROWSER === '1';
  console.log(`${required ? 'FAIL' : 'SKIP'}: ${reason}`);
  process.exit(required ? 1 : SKIP);
}

// playwright-core lives with the browser tests (tests/browser/node_modules).
async function loadPlaywright() {
  try {
    const require = createRequire(path.join(HERE, '..', 'browser', 'package.json'));
    const mod = await import(pathToFileURL(require.resolve('playwright-core')).href);
    return mod.chromium ?? mod.default.chromium;
  } catch {
    return skip(`playwright-core is not installed; run: npm ci --prefix ${path.join(HERE, '..', 'browser')}`);
  }
}

function requirePrivateNetwork() {
  const external = Object.entries(networkInterfaces())
    .filter(([, addrs]) => addrs.some((a) => !a.internal)).map(([name]) => name);
  if (external.length) {
    console.error(`FAIL: network interfaces ${external.join(', ')} are visible; run through ` +
      'tests/netns-run.sh (a private network namespace with only loopback)');
    process.exit(1);
  }
}

function sleep(msec) {
  return new Promise((resolve) => setTimeout(resolve, msec));
}

// ---- livecast ------------------------------------------------------------------------------

function startLivecast(livecast, fake, configHome) {
  const args = ['--preset', 'realsense-rgbd', '--port', '0'];
  log(livecast, args.join(' '));
  const env = {
    ...process.env,
    LIVECAST_PRESETS: path.join(SOURCE_ROOT, 'launcher', 'presets.ini'),
    LIVECAST_REALSENSE_LIBRARY: fake,
    XDG_CONFIG_HOME: configHome,
  };
  delete env.DISPLAY;
  const child = spawn(livecast, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = [];
  child.url = new Promise((resolve) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk.toString();
      const m = text.match(/http:\/\/\S+/);
      if (m) resolve(m[0]);
    });
    child.on('exit', () => resolve(null));
  });
  const keep = (chunk) => {
    child.output.push(chunk.toString());
    if (child.output.length > 400) child.output.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

async function stopLivecast(child) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill('SIGINT');
  const result = await Promise.race([child.exited, sleep(5000).then(() => null)]);
  if (result) return result;
  child.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

function tail(child, lines = 40) {
  return child.output.join('').split('\n').slice(-lines).join('\n');
}

// ---- pictures ------------------------------------------------------------------------------

// Mean RGB of small squares of the current video frame (video coordinates), or of a PNG
// screenshot of the video element, mapped through the letterboxing of object-fit: contain.
function samplePicture(page, points, png = null) {
  return page.evaluate(async ({ pts, pngBase64, vw, vh }) => {
    let source;
    let sw;
    let sh;
    if (pngBase64) {
      source = await createImageBitmap(await (await fetch(`data:image/png;base64,${pngBase64}`)).blob());
      sw = source.width;
      sh = source.height;
    } else {
      source = document.querySelector('video');
      sw = source.videoWidth;
      sh = source.videoHeight;
    }
    const ctx = new OffscreenCanvas(sw, sh).getContext('2d', { willReadFrequently: true });
    ctx.drawImage(source, 0, 0);
    const scale = Math.min(sw / vw, sh / vh);
    const ox = (sw - vw * scale) / 2;
    const oy = (sh - vh * scale) / 2;
    const r = Math.max(1, Math.round(3 * scale));
    return pts.map(([x, y]) => {
      const cx = Math.round(ox + x * scale);
      const cy = Math.round(oy + y * scale);
      const d = ctx.getImageData(cx - r, cy - r, 2 * r + 1, 2 * r + 1).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += d[i + c];
      const n = d.length / 4;
      return { x, y, rgb: sum.map((v) => Math.round(v / n)) };
    });
  }, { pts: points, pngBase64: png?.toString('base64') ?? null, vw: WIDTH, vh: HEIGHT });
}

// Left half: points away from the 256-pixel tile edges; R = x mod 256, G = y mod 256.
const COLOUR_POINTS = [];
for (const x of [30, 100, 180, 300, 380, 440, 540, 600]) {
  for (const y of [30, 100, 180, 300, 380, 440]) COLOUR_POINTS.push([x, y]);
}
// Right half: near (left), middle and far (right) columns of the depth picture.
const DEPTH_COLUMNS = { near: 640 + 48, middle: 640 + 320, far: 640 + 600 };
const DEPTH_POINTS = [];
for (const x of Object.values(DEPTH_COLUMNS)) {
  for (const y of [60, 180, 300, 420]) DEPTH_POINTS.push([x, y]);
}

function checkHalves(colour, depth, what, tolerance) {
  const bad = colour.filter((p) => Math.abs(p.rgb[0] - (p.x % 256)) > tolerance ||
    Math.abs(p.rgb[1] - (p.y % 256)) > tolerance);
  const worst = bad.slice(0, 4).map((p) => `(${p.x},${p.y}) ${p.rgb} want R ${p.x % 256} G ${p.y % 256}`);
  check(bad.length <= colour.length / 10, `${what}: the left half is not the colour pattern: ` +
    `${bad.length} of ${colour.length} points off by more than ${tolerance}: ${worst.join('; ')}`);

  const mean = (x) => {
    const ps = depth.filter((p) => p.x === x);
    return [0, 1, 2].map((c) => ps.reduce((s, p) => s + p.rgb[c], 0) / ps.length);
  };
  const near = mean(DEPTH_COLUMNS.near);
  const middle = mean(DEPTH_COLUMNS.middle);
  const far = mean(DEPTH_COLUMNS.far);
  const text = `near ${near.map(Math.round)}, middle ${middle.map(Math.round)}, far ${far.map(Math.round)}`;
  check(near[2] > near[0] + 40 && near[2] > 80, `${what}: the near side of the depth half is not blue (${text})`);
  check(middle[1] > middle[0] && middle[1] > middle[2] && middle[1] > 150,
    `${what}: the middle of the depth half is not green (${text})`);
  check(far[0] > far[2] + 60 && far[0] > 100, `${what}: the far side of the depth half is not red (${text})`);
  return `${colour.length - bad.length}/${colour.length} colour points within ${tolerance}; depth ${text}`;
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: { livecast: { type: 'string' }, fake: { type: 'string' }, shots: { type: 'string' } },
  });
  if (!values.livecast || !values.fake) {
    console.error('usage: rgbd.test.mjs --livecast PATH --fake PATH [--shots DIR]');
    process.exit(2);
  }
  const chromium = await loadPlaywright();
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  if (!existsSync(values.livecast)) skip(`no livecast at ${values.livecast}`);
  if (!existsSync(values.fake)) skip(`no fake librealsense2 at ${values.fake}`);
  requirePrivateNetwork();

  const configHome = mkdtempSync(path.join(tmpdir(), 'livecast-rgbd-'));
  const messages = [];
  let server = null;
  let browser = null;
  let failure = null;
  let summary = '';
  const cleanup = async () => {
    await Promise.race([browser?.close(), sleep(5000)]).catch(() => {});
    browser = null;
    const exit = server ? await stopLivecast(server) : null;
    if (exit && exit.code !== 0) {
      failure ??= new TestFailure(`livecast did not exit cleanly (${JSON.stringify(exit)}):\n${tail(server)}`);
    }
    rmSync(configHome, { recursive: true, force: true });
  };
  const timer = setTimeout(async () => {
    console.log(`FAIL browser-realsense-rgbd: overall timeout (${OVERALL_TIMEOUT_MS / 1000} s)`);
    if (server) console.log(`--- livecast output ---\n${tail(server)}`);
    await Promise.race([cleanup(), sleep(8000)]);
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);

  try {
    server = startLivecast(values.livecast, values.fake, configHome);
    const url = await Promise.race([server.url, sleep(START_TIMEOUT_MS).then(() => null)]);
    check(url, `livecast printed no URL within ${START_TIMEOUT_MS / 1000} s:\n${tail(server)}`);
    log('livecast serves', url);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on('console', (m) => messages.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => messages.push(`page error: ${e.message}`));
    const t0 = Date.now();
    await page.goto(url, { timeout: 10000 });
    try {
      await page.waitForFunction(({ min, w, h }) => {
        const v = document.querySelector('video');
        return window.livecast?.stats?.framesDecoded >= min && v?.videoWidth === w && v?.videoHeight === h;
      }, { min: MIN_FRAMES, w: WIDTH, h: HEIGHT }, { timeout: FRAMES_TIMEOUT_MS, polling: 100 });
    } catch {
      const s = await page.evaluate(() => ({
        state: window.livecast?.state, frames: window.livecast?.stats?.framesDecoded,
        w: document.querySelector('video')?.videoWidth, h: document.querySelector('video')?.videoHeight,
      })).catch(() => ({}));
      throw new TestFailure(`no ${MIN_FRAMES} frames of ${WIDTH}x${HEIGHT} within ` +
        `${FRAMES_TIMEOUT_MS / 1000} s (state ${s.state}, frames ${s.frames}, video ${s.w}x${s.h})`);
    }
    const firstMs = Date.now() - t0;
    const f0 = await page.evaluate(() => window.livecast.stats.framesDecoded);
    await sleep(2000);
    const f1 = await page.evaluate(() => window.livecast.stats.framesDecoded);
    const fps = (f1 - f0) / 2;
    log(`${MIN_FRAMES} frames ${firstMs} ms after page load; ${fps.toFixed(1)} frames/s decoded`);
    check(fps >= 20, `only ${fps.toFixed(1)} frames/s decoded (want >= 20 of the camera's 30)`);

    // The decoded frame, at full size.
    const decoded = checkHalves(await samplePicture(page, COLOUR_POINTS),
      await samplePicture(page, DEPTH_POINTS), 'decoded frame', 40);
    log('decoded frame:', decoded);

    // What the page shows: a screenshot of the video element.
    const png = await page.locator('video').screenshot();
    if (values.shots) {
      await mkdir(values.shots, { recursive: true });
      const file = path.join(values.shots, 'realsense-rgbd.png');
      await writeFile(file, png);
      log('screenshot', file);
    }
    const shown = checkHalves(await samplePicture(page, COLOUR_POINTS, png),
      await samplePicture(page, DEPTH_POINTS, png), 'screenshot', 50);
    log('screenshot:', shown);
    summary = `${WIDTH}x${HEIGHT} at ${fps.toFixed(1)} frames/s, first ${MIN_FRAMES} frames after ` +
      `${firstMs} ms; decoded: ${decoded}; screenshot: ${shown}`;
  } catch (err) {
    failure = err;
  } finally {
    await cleanup();
    clearTimeout(timer);
  }

  if (failure) {
    if (messages.length) console.log(`--- browser messages ---\n${messages.slice(-40).join('\n')}`);
    if (server) console.log(`--- livecast output ---\n${tail(server)}`);
    console.log(`FAIL browser-realsense-rgbd: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  console.log(`PASS browser-realsense-rgbd: ${summary}`);
  process.exit(0);
}

main();
