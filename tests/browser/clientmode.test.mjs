#!/usr/bin/env node
// Client mode: the sender sits behind NAT and connects out. `livecast signal` runs the room;
// webrtcserversink (signaling-url, room) joins it; the viewer page in Chromium joins the same
// room (?relay=…&room=…) and plays the stream, all signaling through the relay. Then the relay
// is restarted on the same port: the sink reconnects (back-off), and a new viewer plays again.
//
//   tests/netns-run.sh node tests/browser/clientmode.test.mjs --livecast PATH

/* global window */

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import {
  TestFailure, check, log, loadPlaywright, ms, requirePrivateNetwork, skip, sleep, startProcess,
  stopProcess, tail, waitForLine, watchPage,
} from './testkit.mjs';

const NAME = 'browser-clientmode';
const OVERALL_TIMEOUT_MS = 90000;
const HTTP_PORT = 18085; // the sink's own server: only serves the page here
const ROOM = 'lab';

const { values: cli } = parseArgs({ options: { livecast: { type: 'string' } } });
if (!cli.livecast) {
  console.error('usage: clientmode.test.mjs --livecast PATH');
  process.exit(2);
}

async function startRelay(port) {
  const relay = startProcess('relay', cli.livecast, ['signal', '--port', String(port)]);
  const m = await waitForLine(relay, /^livecast signal: listening on (ws:\/\/127\.0\.0\.1:(\d+)\/ws)$/,
    5000);
  return { relay, url: m[1], port: Number(m[2]) };
}

/**
 * Records how a page signals: the WebSockets it opens and its POST requests (WHEP, /offer), as
 * the browser made them, whatever the page's client says about itself.
 */
function recordSignaling(page) {
  const seen = { sockets: [], posts: [] };
  page.on('websocket', (ws) => seen.sockets.push(ws.url()));
  page.on('request', (req) => {
    if (req.method() === 'POST') seen.posts.push(req.url());
  });
  return seen;
}

/** Fails unless the page signaled through the relay at `relayUrl` and nowhere else. */
function checkThroughRelay(what, seen, relayUrl) {
  const relay = new URL(relayUrl);
  const toRelay = seen.sockets.filter((u) => new URL(u).host === relay.host);
  check(toRelay.length > 0, `${what}: no WebSocket to the relay ${relay.host} (WebSockets: ` +
    `${JSON.stringify(seen.sockets)})`);
  const others = seen.sockets.filter((u) => new URL(u).host !== relay.host);
  check(others.length === 0, `${what}: WebSockets besides the relay: ${JSON.stringify(others)}`);
  check(seen.posts.length === 0, `${what}: signaled over HTTP, not only through the relay: POST ` +
    `${JSON.stringify(seen.posts)}`);
}

async function framesOf(page) {
  return page.evaluate(() => window.livecast?.stats?.framesDecoded ?? 0);
}

async function waitFrames(page, what, min, timeoutMs) {
  const start = Date.now();
  let frames = 0;
  while (Date.now() - start < timeoutMs) {
    frames = await framesOf(page);
    if (frames >= min) return Date.now() - start;
    await sleep(200);
  }
  throw new TestFailure(`${what}: ${frames} frames decoded after ${timeoutMs / 1000} s ` +
    `(status: ${await page.evaluate(() => window.livecast?.status?.message)})`);
}

const chromium = await loadPlaywright();
if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
requirePrivateNetwork();

const messages = [];
const procs = {};
let browser = null;
let failure = null;
let summary = '';
const cleanup = async () => {
  await Promise.race([browser?.close(), sleep(5000)]).catch(() => {});
  await stopProcess(procs.sink, 'SIGINT');
  await stopProcess(procs.relay, 'SIGTERM');
};
const timer = setTimeout(async () => {
  console.log(`FAIL ${NAME}: overall timeout`);
  await Promise.race([cleanup(), sleep(5000)]);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

try {
  let { relay, url, port } = await startRelay(0);
  procs.relay = relay;
  // stderr into stdout: the sink's log lines are waited for.
  procs.sink = startProcess('sink', 'sh', ['-c', 'exec "$0" "$@" 2>&1', 'gst-launch-1.0', '-e', 'videotestsrc', 'is-live=true',
    'pattern=ball', '!', 'video/x-raw,width=320,height=240,framerate=30/1', '!', 'webrtcserversink',
    `port=${HTTP_PORT}`, `signaling-url=${url}`, `room=${ROOM}`], { env: { ...process.env, GST_DEBUG: 'webrtcserversignaling:4,2' } });
  await waitForLine(procs.sink, /joined room "lab"/, 10000);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  watchPage(page, 'viewer', messages);
  const signaling = recordSignaling(page);
  const pageUrl = `http://127.0.0.1:${HTTP_PORT}/?relay=${encodeURIComponent(url)}&room=${ROOM}`;
  const t0 = Date.now();
  await page.goto(pageUrl, { timeout: 10000 });
  const first = await waitFrames(page, 'viewer through the relay', 30, 20000);
  log(`30 frames through the relay ${ms(first)} after page load`);
  // It came through the relay: the page's only WebSocket went to the relay and it made no POST
  // (no WHEP, no /offer); the sink's own /stats counts that one viewer.
  checkThroughRelay('viewer', signaling, url);
  const stats = await (await fetch(`http://127.0.0.1:${HTTP_PORT}/stats`)).json();
  check(stats.viewers === 1, `/stats viewers ${stats.viewers}, expected 1`);

  // The relay restarts on the same port: the sink must notice, back off and come back.
  await stopProcess(procs.relay, 'SIGTERM');
  await waitForLine(procs.sink, /Signaling relay: .*trying again/, 5000);
  const restarted = Date.now();
  ({ relay } = await startRelay(port));
  procs.relay = relay;
  const page2 = await browser.newPage();
  watchPage(page2, 'new viewer', messages);
  const signaling2 = recordSignaling(page2);
  await page2.goto(pageUrl, { timeout: 10000 });
  const second = await waitFrames(page2, 'new viewer after the relay restart', 30, 30000);
  checkThroughRelay('new viewer', signaling2, url);
  const recovered = Date.now() - restarted;
  log(`relay restarted: a new viewer decoded 30 frames ${ms(recovered)} after the restart`);
  // The first page reconnects by itself too.
  await waitFrames(page, 'first viewer after the relay restart', (await framesOf(page)) + 30, 30000);
  checkThroughRelay('first viewer after the relay restart', signaling, url);
  summary = `first frames through the relay ${ms(first)} after page load (${ms(Date.now() - t0)} ` +
    `total); after a relay restart a new viewer played ${ms(recovered)} later (${ms(second)} ` +
    'after its page load), and the first viewer came back too';
} catch (err) {
  failure = err;
} finally {
  await cleanup();
  clearTimeout(timer);
}
if (failure) {
  if (messages.length) console.log(`--- browser messages ---\n${messages.slice(-60).join('\n')}`);
  for (const p of Object.values(procs)) if (p) console.log(`--- ${p.label} ---\n${tail(p, 60)}`);
  console.log(`FAIL ${NAME}: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
  process.exit(1);
}
console.log(`PASS ${NAME}: ${summary}`);
process.exit(0);
