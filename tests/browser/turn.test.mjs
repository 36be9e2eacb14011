#!/usr/bin/env node
// TURN on loopback, relay-only on both ends: coturn on 127.0.0.1, `livecast --turn … --relay-only`
// (webrtcserversink ice-transport-policy=relay), the viewer page in Chromium (which takes the TURN
// server and the relay policy from /config). Checks:
//   - /config hands out the TURN server with its credentials and iceTransportPolicy "relay", and
//     the page's RTCPeerConnection is created with them;
//   - the sink's answer carries relay candidates only (at least one);
//   - Chromium decodes 30+ frames;
//   - getStats: the selected candidate pair (transport.selectedCandidatePairId) has a local
//     candidate of type relay, and its remote candidate is the sink's relay address;
//   - coturn saw allocations from both ends.
//
//   tests/netns-run.sh node tests/browser/turn.test.mjs --livecast PATH
//
// Exit status: 0 pass, 1 fail, 77 skip (Chromium, playwright-core or coturn missing;
// LIVECAST_REQUIRE_BROWSER=1 turns a skip into a failure).

/* global window, document */

import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import {
  HERE, TestFailure, check, log, loadPlaywright, ms, requirePrivateNetwork, selectedPair, skip,
  sleep, startProcess, stopProcess, tail, waitForLine, watchPage,
} from './testkit.mjs';

const NAME = 'browser-turn';
const TURNSERVER = process.env.LIVECAST_TURNSERVER || '/usr/bin/turnserver';
const TURN_PORT = 3478;
const TURN_USER = 'u';
const TURN_PASS = 'p';
const OVERALL_TIMEOUT_MS = 60000;
const FRAMES_TIMEOUT_MS = 20000;
const MIN_FRAMES = 30;
const WIDTH = 320;
const SOURCE_ROOT = process.env.LIVECAST_SOURCE_ROOT || path.resolve(HERE, '../..');

function parseCli() {
  const { values } = parseArgs({ options: { livecast: { type: 'string' } } });
  if (!values.livecast) {
    console.error('usage: turn.test.mjs --livecast PATH');
    process.exit(2);
  }
  return values;
}

function startCoturn(dir) {
  // coturn on loopback only, with long-term credentials and loopback peers allowed
  // (without it every permission fails with 403), a private user database and pid file.
  return startProcess('coturn', TURNSERVER, ['-n', '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1', `--listening-port=${TURN_PORT}`, '--min-port=49160',
    '--max-port=49259', '--lt-cred-mech', `--user=${TURN_USER}:${TURN_PASS}`, '--realm=livecast',
    '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--fingerprint',
    `--userdb=${path.join(dir, 'userdb')}`, `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    '--log-file=stdout', '--simple-log', '--verbose']);
}

/** Sends STUN binding requests to the TURN port until one is answered (coturn is up). */
async function waitForStun(port, timeoutMs, coturn) {
  const socket = createSocket('udp4');
  const answered = new Promise((resolve) => socket.on('message', resolve));
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      check(coturn.exitCode === null, `coturn exited:\n${tail(coturn)}`);
      const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]),
        randomBytes(12)]);
      socket.send(request, port, '127.0.0.1');
      if (await Promise.race([answered, sleep(200).then(() => null)])) return;
    }
    throw new TestFailure(`coturn did not answer STUN on 127.0.0.1:${port} within ${timeoutMs / 1000} s`);
  } finally {
    socket.close();
  }
}

async function main() {
  const { livecast } = parseCli();
  const chromium = await loadPlaywright();
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  if (!existsSync(TURNSERVER)) skip(`no coturn at ${TURNSERVER} (apt-get install coturn)`);
  requirePrivateNetwork();

  const dir = mkdtempSync(path.join(tmpdir(), 'livecast-turn-'));
  const messages = [];
  const procs = { coturn: null, livecast: null };
  let browser = null;
  let failure = null;
  let summary = '';
  const cleanup = async () => {
    await Promise.race([browser?.close(), sleep(5000)]).catch(() => {});
    browser = null;
    const exit = await stopProcess(procs.livecast, 'SIGINT', 5000);
    await stopProcess(procs.coturn, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    return exit;
  };
  const timer = setTimeout(async () => {
    console.log(`FAIL ${NAME}: overall timeout (${OVERALL_TIMEOUT_MS / 1000} s)`);
    printDiagnostics(messages, procs);
    await Promise.race([cleanup(), sleep(8000)]);
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);

  try {
    procs.coturn = startCoturn(dir);
    await waitForStun(TURN_PORT, 10000, procs.coturn);
    log('coturn answers STUN');

    const turnUrl = `turn://${TURN_USER}:${TURN_PASS}@127.0.0.1:${TURN_PORT}`;
    procs.livecast = startProcess('livecast', livecast, ['--preset', 'test', '--port', '0',
      '--size', `${WIDTH}x240`, '--fps', '15', '--turn', turnUrl, '--relay-only'], {
      env: { ...process.env, LIVECAST_PRESETS: path.join(SOURCE_ROOT, 'launcher', 'presets.ini') },
    });
    const base = (await waitForLine(procs.livecast, /(http:\/\/127\.0\.0\.1:\d+)\//, 10000))[1];
    log('livecast serves', base);

    // /config: what the page is told.
    const config = await (await fetch(`${base}/config`)).json();
    check(config.iceTransportPolicy === 'relay', `/config iceTransportPolicy is ${config.iceTransportPolicy}`);
    const turnEntry = config.iceServers?.find((s) => s.urls?.some((u) => u.startsWith('turn:127.0.0.1:3478')));
    check(turnEntry?.username === TURN_USER && turnEntry?.credential === TURN_PASS,
      `/config has no TURN server with credentials: ${JSON.stringify(config.iceServers)}`);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    // Keep every RTCPeerConnection the page makes, and the configuration it was given.
    await context.addInitScript(() => {
      window.testPeerConnections = [];
      const Original = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Original {
        constructor(configuration, ...rest) {
          super(configuration, ...rest);
          window.testPeerConnections.push({ pc: this, configuration });
        }
      };
    });
    const page = await context.newPage();
    watchPage(page, 'viewer', messages);
    const answers = [];
    page.on('response', async (r) => {
      if (r.request().method() === 'POST' && /\/(whep|offer)$/.test(new URL(r.url()).pathname)) {
        answers.push({ status: r.status(), body: await r.text().catch(() => '') });
      }
    });
    const t0 = Date.now();
    await page.goto(`${base}/?fallback=off`, { timeout: 10000 });
    try {
      await page.waitForFunction(({ min, width }) => {
        const v = document.querySelector('video');
        return window.livecast?.stats?.framesDecoded >= min && v?.videoWidth === width;
      }, { min: MIN_FRAMES, width: WIDTH }, { timeout: FRAMES_TIMEOUT_MS, polling: 100 });
    } catch {
      const s = await page.evaluate(() => ({
        state: window.livecast?.state, stats: window.livecast?.stats,
        ice: window.testPeerConnections.map((p) => p.pc.iceConnectionState),
      })).catch(() => ({}));
      throw new TestFailure(`no ${MIN_FRAMES} frames through TURN within ${FRAMES_TIMEOUT_MS / 1000} s: ` +
        `${JSON.stringify(s)}; answers ${JSON.stringify(answers.map((a) => a.status))}`);
    }
    const loadTo30FramesMs = Date.now() - t0;
    const timings = await page.evaluate(() => {
      const c = window.livecast;
      return { firstFrameMs: c.timings.firstFrame - c.timings.start, framesDecoded: c.stats.framesDecoded };
    });

    // The page's peer connection was made relay-only with the TURN server.
    const pcConfig = await page.evaluate(() => {
      const last = window.testPeerConnections.at(-1);
      return last && { iceTransportPolicy: last.configuration?.iceTransportPolicy, iceServers: last.configuration?.iceServers };
    });
    check(pcConfig?.iceTransportPolicy === 'relay', `page RTCPeerConnection policy: ${JSON.stringify(pcConfig)}`);

    // The sink's answer: relay candidates only.
    const answer = answers.find((a) => a.status >= 200 && a.status < 300);
    check(answer, `no successful answer seen: ${JSON.stringify(answers.map((a) => a.status))}`);
    const sdp = answer.body.includes('"sdp"') ? JSON.parse(answer.body).sdp : answer.body;
    const candidates = sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    const types = candidates.map((l) => l.match(/ typ (\w+)/)?.[1]);
    check(candidates.length > 0, `the sink's answer has no candidates:\n${sdp}`);
    check(types.every((t) => t === 'relay'), `the sink's answer has non-relay candidates: ${types.join(', ')}`);
    const relayPorts = candidates.map((l) => Number(l.split(' ')[5]));
    check(relayPorts.every((p) => p >= 49160 && p <= 49259), `sink relay ports ${relayPorts} outside coturn's range`);

    // The selected pair, from the browser's side.
    const pair = await selectedPair(page, 'window.testPeerConnections.at(-1).pc');
    check(pair, 'getStats has no selected candidate pair');
    check(pair.local?.candidateType === 'relay',
      `browser's selected local candidate is ${JSON.stringify(pair.local)}, not relay`);
    check(pair.local.port >= 49160 && pair.local.port <= 49259,
      `browser's relay port ${pair.local.port} is not from coturn's range`);
    check(relayPorts.includes(pair.remote?.port) || pair.remote?.candidateType === 'relay',
      `browser's selected remote candidate ${JSON.stringify(pair.remote)} is not the sink's relay`);

    // coturn allocated for both peers (the browser and the sink).
    await sleep(200);
    const allocations = procs.coturn.lines.filter((l) => /ALLOCATE processed, success/.test(l)).length;
    check(allocations >= 2, `coturn logged ${allocations} successful allocations, expected 2 or more`);

    summary = `framesDecoded=${timings.framesDecoded}, first frame ${ms(timings.firstFrameMs)} ` +
      `after the client started (page load → ${MIN_FRAMES} frames ${ms(loadTo30FramesMs)}); ` +
      `sink answer: ${candidates.length} relay candidate(s), ports ${relayPorts.join(',')}; ` +
      `selected pair local ${pair.local.candidateType} ${pair.local.address}:${pair.local.port} ` +
      `(${pair.local.relayProtocol ?? '?'}) ↔ remote ${pair.remote?.candidateType} ` +
      `${pair.remote?.address}:${pair.remote?.port}; coturn allocations ${allocations}`;
  } catch (err) {
    failure = err;
  } finally {
    const exit = await cleanup();
    clearTimeout(timer);
    if (!failure && exit && (exit.code !== 0 || exit.killed)) {
      failure = new TestFailure(`livecast did not stop cleanly on SIGINT: ${JSON.stringify(exit)}`);
    }
  }

  if (failure) {
    printDiagnostics(messages, procs);
    console.log(`FAIL ${NAME}: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  console.log(`PASS ${NAME}: ${summary}`);
  process.exit(0);
}

function printDiagnostics(messages, procs) {
  if (messages.length) console.log(`--- browser messages ---\n${messages.slice(-60).join('\n')}`);
  for (const child of Object.values(procs)) {
    if (child?.output.length) console.log(`--- ${child.label} output ---\n${tail(child, 60)}`);
  }
}

main();
