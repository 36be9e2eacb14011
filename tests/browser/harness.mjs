// Shared plumbing of the browser tests that came after viewer.test.mjs (audio, WebSocket,
// microphone): prerequisites and skip rules, a gst-launch-1.0 server, bounded waits, page
// diagnostics and the run/exit protocol (0 pass, 1 fail, 77 skip; LIVECAST_REQUIRE_BROWSER=1
// turns a skip into a failure).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import {
  HERE, SKIP, TestFailure, check, loadPlaywright, log, ms, requirePrivateNetwork, running, skip,
  sleep, tail, watchPage,
} from './testkit.mjs';

export {
  HERE, SKIP, TestFailure, check, log, ms, running, skip, sleep, tail, watchPage,
};

export const SOURCE_ROOT = process.env.LIVECAST_SOURCE_ROOT || path.resolve(HERE, '../..');

// ---- the server ------------------------------------------------------------------------------

/** gst-launch-1.0 -e ARGS, its output kept for diagnostics. */
export function startPipeline(args) {
  log('gst-launch-1.0 -e', args.join(' '));
  const child = spawn('gst-launch-1.0', ['-e', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

export async function waitForHttp(url, timeoutMs, server) {
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

export async function stopServer(child) {
  if (!running(child)) return child.exited;
  child.kill('SIGINT'); // with -e: EOS, then a clean exit
  const result = await Promise.race([child.exited, sleep(3000).then(() => null)]);
  if (result) return result;
  log('gst-launch-1.0 ignored SIGINT for 3 s; killing it');
  child.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

/** GET url as JSON, or null (no answer, not JSON, not 2xx). */
export async function getJson(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

// ---- pages -----------------------------------------------------------------------------------


/**
 * Waits until the page's client (window.livecast) decoded `min` frames of `width`; returns its
 * numbers. The failure message says where the client was.
 */
export async function waitForFrames(page, what, { min = 30, width, timeoutMs = 20000 } = {}) {
  try {
    await page.waitForFunction(({ min: m, width: w }) => {
      const v = document.querySelector('video');
      return window.livecast?.stats?.framesDecoded >= m && (!w || v?.videoWidth === w);
    }, { min, width }, { timeout: timeoutMs, polling: 100 });
  } catch {
    const state = await page.evaluate(() => ({
      status: window.livecast?.status, stats: window.livecast?.stats,
      videoWidth: document.querySelector('video')?.videoWidth,
    })).catch(() => ({}));
    throw new TestFailure(`${what}: no ${min} frames${width ? ` of width ${width}` : ''} within ` +
      `${timeoutMs / 1000} s; state ${state.status?.state} "${state.status?.message}"` +
      `${state.status?.error ? ` (${state.status.error.message})` : ''}, ` +
      `framesDecoded ${state.stats?.framesDecoded}, videoWidth ${state.videoWidth}`);
  }
  return page.evaluate(() => {
    const c = window.livecast;
    const t = c.timings;
    return {
      framesDecoded: c.stats.framesDecoded,
      width: c.stats.width,
      height: c.stats.height,
      codec: c.stats.codec,
      firstFrameMs: t.firstFrame - t.start,
      answeredMs: t.answered - t.start,
      connectedMs: t.connected - t.start,
      signaling: c.signaling,
      status: document.getElementById('status-text')?.textContent,
    };
  });
}

export async function saveShot(shots, name, png) {
  if (!shots) return null;
  await mkdir(shots, { recursive: true });
  const file = path.join(shots, name);
  await writeFile(file, png);
  log('screenshot', file);
  return file;
}

// ---- running a test ----------------------------------------------------------------------------

/**
 * Runs body({ chromium, launch, servers, messages }) with an overall timeout, then closes the
 * browser and the servers, prints diagnostics on failure and exits 0/1 (77 from skip()).
 * `launch(extraArgs)` starts Chromium with the shared flags; `servers` collects the
 * gst-launch-1.0 children to stop (and to blame when one dies by a signal).
 */
export async function runTest(name, timeoutMs, body) {
  const chromium = await loadPlaywright();
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  requirePrivateNetwork();

  const messages = [];
  const servers = [];
  const browsers = [];
  let failure = null;
  let summary = '';
  const cleanup = async () => {
    await Promise.race([Promise.all(browsers.map((b) => b.close())), sleep(5000)]).catch(() => {});
    browsers.length = 0;
    for (const server of servers) {
      const exit = await stopServer(server);
      if (exit?.signal && exit.signal !== 'SIGINT' && !exit.killed) {
        failure ??= new TestFailure(`gst-launch-1.0 died with ${exit.signal}:\n${tail(server)}`);
      }
    }
  };
  const printDiagnostics = () => {
    if (messages.length) console.log(`--- browser messages ---\n${messages.slice(-80).join('\n')}`);
    for (const server of servers) {
      if (server.output.length) console.log(`--- gst-launch-1.0 output ---\n${tail(server)}`);
    }
  };
  const timer = setTimeout(async () => {
    console.log(`FAIL ${name}: overall timeout (${timeoutMs / 1000} s)`);
    printDiagnostics();
    await Promise.race([cleanup(), sleep(5000)]);
    process.exit(1);
  }, timeoutMs);

  const launch = async (extraArgs = []) => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 15000,
    });
    browsers.push(browser);
    return browser;
  };

  try {
    summary = await body({ launch, servers, messages });
  } catch (err) {
    failure = err;
  } finally {
    await cleanup();
    clearTimeout(timer);
  }
  if (failure) {
    printDiagnostics();
    console.log(`FAIL ${name}: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  console.log(`PASS ${name}: ${summary}`);
  process.exit(0);
}
