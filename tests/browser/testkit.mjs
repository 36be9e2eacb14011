// Plumbing shared by every browser test: logging, failures and skips, child processes with
// captured output, the private-network guard and page diagnostics. harness.mjs builds the
// gst-launch-1.0 server and run/exit protocol of the page tests on top of it.
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SKIP = 77;

export const log = (...args) => console.log(`[${(performance.now() / 1000).toFixed(2)}s]`, ...args);

export class TestFailure extends Error {}
export const check = (ok, message) => {
  if (!ok) throw new TestFailure(message);
};

/** Exits 77 (skip) for a missing prerequisite, or 1 when LIVECAST_REQUIRE_BROWSER=1. */
export function skip(reason) {
  const required = process.env.LIVECAST_REQUIRE_BROWSER === '1';
  console.log(`${required ? 'FAIL' : 'SKIP'}: ${reason}`);
  process.exit(required ? 1 : SKIP);
}

export async function loadPlaywright() {
  try {
    return (await import('playwright-core')).chromium;
  } catch {
    return skip(`playwright-core is not installed; run: npm ci --prefix ${HERE}`);
  }
}

/** Chromium, libnice and coturn must never see a real interface. */
export function requirePrivateNetwork() {
  const external = Object.entries(networkInterfaces())
    .filter(([, addrs]) => addrs.some((a) => !a.internal)).map(([name]) => name);
  if (external.length) {
    console.error(`FAIL: network interfaces ${external.join(', ')} are visible; run through ` +
      'tests/netns-run.sh (a private network namespace with only loopback)');
    process.exit(1);
  }
}

export const sleep = (msec) => new Promise((resolve) => setTimeout(resolve, msec));
export const ms = (value) => (Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : '?');

/**
 * Starts a program with its output kept (the last few hundred chunks) and split into lines for
 * waitForLine(). child.exited resolves to {code, signal}.
 */
export function startProcess(name, command, args, options = {}) {
  log(name + ':', command, args.join(' '));
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.label = name;
  child.output = [];
  child.lines = [];
  child.lineWaiters = [];
  let partial = '';
  const keep = (chunk) => {
    child.output.push(chunk.toString());
    if (child.output.length > 400) child.output.splice(0, 100);
  };
  child.stdout.on('data', (chunk) => {
    keep(chunk);
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const line of parts) {
      child.lines.push(line);
      for (const w of [...child.lineWaiters]) w();
    }
  });
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (err) => resolve({ code: -1, signal: null, error: err }));
  });
  return child;
}

export const running = (child) => child.exitCode === null && child.signalCode === null;

/** The first stdout line matching @re (a match object), waiting at most @timeoutMs. */
export async function waitForLine(child, re, timeoutMs) {
  const find = () => {
    for (const line of child.lines) {
      const m = line.match(re);
      if (m) return m;
    }
    return null;
  };
  let found = find();
  if (found) return found;
  let wake;
  const woken = () => wake?.();
  child.lineWaiters.push(woken);
  const deadline = Date.now() + timeoutMs;
  try {
    while (!found && Date.now() < deadline && running(child)) {
      await Promise.race([new Promise((r) => { wake = r; }), sleep(100)]);
      found = find();
    }
  } finally {
    child.lineWaiters.splice(child.lineWaiters.indexOf(woken), 1);
  }
  check(found, `${child.label}: no line matching ${re} within ${timeoutMs / 1000} s:\n${tail(child)}`);
  return found;
}

/** Sends @signal, waits up to @timeoutMs, then SIGKILL. Returns {code, signal, killed?}. */
export async function stopProcess(child, signal = 'SIGTERM', timeoutMs = 3000) {
  if (!child) return null;
  if (!running(child)) return child.exited;
  child.kill(signal);
  const result = await Promise.race([child.exited, sleep(timeoutMs).then(() => null)]);
  if (result) return result;
  log(`${child.label} ignored ${signal} for ${timeoutMs / 1000} s; killing it`);
  child.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

export function tail(child, lines = 40) {
  return child ? child.output.join('').split('\n').slice(-lines).join('\n') : '';
}

export function watchPage(page, name, messages) {
  page.on('console', (m) => messages.push(`${name} console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => messages.push(`${name} page error: ${e.message}`));
  page.on('requestfailed', (r) => messages.push(
    `${name} request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) messages.push(`${name} HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('websocket', (ws) => {
    messages.push(`${name} WebSocket ${ws.url()}`);
    ws.on('close', () => messages.push(`${name} WebSocket closed ${ws.url()}`));
  });
}

/**
 * Opens @url in @page once the server @server (a startProcess child) answers there, trying every
 * 200 ms for @timeoutMs: from another namespace the page is the only way to see it is up.
 */
export async function gotoWhenServing(page, url, server, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    check(running(server), `${server.label} exited:\n${tail(server)}`);
    try {
      const res = await page.goto(url, { timeout: 3000 });
      if (res?.ok()) return;
    } catch (err) {
      if (Date.now() > deadline) throw new TestFailure(`${url} does not answer: ${err.message}`);
    }
    await sleep(200);
  }
}

/**
 * In the page: what the peer connection's selected candidate pair is made of (getStats:
 * transport.selectedCandidatePairId → candidate-pair → local/remote candidate), or null.
 */
export function selectedPair(page, pcExpression) {
  return page.evaluate(async (expr) => {
    // eslint-disable-next-line no-eval
    const pc = eval(expr);
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    if (!pairId) {
      // Older stats: the pair flagged as selected/nominated and succeeded.
      stats.forEach((s) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.selected || s.nominated)) {
          pairId ??= s.id;
        }
      });
    }
    const pair = pairId && stats.get(pairId);
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    const describe = (c) => c && {
      candidateType: c.candidateType, protocol: c.protocol, address: c.address ?? c.ip,
      port: c.port, relayProtocol: c.relayProtocol,
    };
    return { state: pair.state, local: describe(local), remote: describe(remote) };
  }, pcExpression);
}
