#!/usr/bin/env node
// Two third-party WebRTC peers meet through `livecast signal`: headless Chromium joins a room,
// an aiortc peer joins the same room and offers it a generated video track; offer, answer and
// trickled candidates travel only through the relay (with "from" and "to"). Chromium must
// decode 30+ frames at the sent size; both sides must see the other's id as "from"; "bye"
// ends the aiortc peer; the relay stops cleanly.
//
//   tests/netns-run.sh node tests/browser/relay.test.mjs --livecast PATH --python /usr/bin/python3
//
// Exit status: 0 pass, 1 fail, 77 skip (Chromium, playwright-core, aiortc or websockets missing;
// LIVECAST_REQUIRE_BROWSER=1 turns a skip into a failure).

/* global window, document, WebSocket, RTCPeerConnection */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import {
  HERE, TestFailure, check, log, loadPlaywright, ms, requirePrivateNetwork, skip, sleep,
  startProcess, stopProcess, tail, waitForLine, watchPage,
} from './testkit.mjs';

const NAME = 'browser-relay';
const OVERALL_TIMEOUT_MS = 60000;
const FRAMES_TIMEOUT_MS = 20000;
const MIN_FRAMES = 30;
const WIDTH = 320; // what relay_peer_aiortc.py sends
const HEIGHT = 240;
const ROOM = 'meeting room ☕';
const PEER_SCRIPT = path.resolve(HERE, '../integration/relay_peer_aiortc.py');

function parseCli() {
  const { values } = parseArgs({
    options: { livecast: { type: 'string' }, python: { type: 'string', default: '/usr/bin/python3' } },
  });
  if (!values.livecast) {
    console.error('usage: relay.test.mjs --livecast PATH [--python PATH]');
    process.exit(2);
  }
  return values;
}

// In the page: a minimal answering peer speaking the relay protocol. Records every message and
// the time the offer arrived and the first frame was decoded.
function pageAnswerer({ url, room }) {
  const t = { start: performance.now() };
  const state = { messages: [], sent: [], t, welcome: null, peer: null, error: null };
  window.relayTest = state;
  const ws = new WebSocket(url);
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.pc = pc;
  const send = (m) => {
    state.sent.push(m);
    ws.send(JSON.stringify(m));
  };
  pc.onicecandidate = (e) => {
    if (state.peer) send({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null, to: state.peer });
  };
  pc.ontrack = (e) => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = e.streams[0] ?? new window.MediaStream([e.track]);
    document.body.appendChild(video);
  };
  ws.onmessage = async (event) => {
    const m = JSON.parse(event.data);
    state.messages.push(m);
    try {
      if (m.type === 'welcome') {
        state.welcome = m;
      } else if (m.type === 'offer') {
        t.offer = performance.now();
        state.peer = m.from;
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: 'answer', sdp: pc.localDescription.sdp, to: state.peer });
        t.answer = performance.now();
      } else if (m.type === 'candidate' && m.from === state.peer) {
        if (m.candidate) {
          await pc.addIceCandidate(m.candidate);
          state.candidatesAdded = (state.candidatesAdded ?? 0) + 1;
        } else {
          state.endOfCandidates = true;
        }
      }
    } catch (err) {
      state.error = `${m.type}: ${err}`;
    }
  };
  const poll = setInterval(async () => {
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        state.framesDecoded = s.framesDecoded;
        if (s.framesDecoded > 0 && !t.firstFrame) t.firstFrame = performance.now();
      }
    });
    if (state.closed) clearInterval(poll);
  }, 50);
  state.bye = () => send({ type: 'bye', to: state.peer });
  return new Promise((resolve, reject) => {
    ws.onopen = () => {
      send({ type: 'join', room });
      resolve();
    };
    ws.onerror = () => reject(new Error(`WebSocket ${url} failed`));
  });
}

async function main() {
  const { livecast, python } = parseCli();
  const chromium = await loadPlaywright();
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  try {
    execFileSync(python, ['-c', 'import aiortc, websockets, av, numpy'], { stdio: 'ignore' });
  } catch {
    skip(`${python} cannot import aiortc and websockets (apt-get install python3-aiortc python3-websockets)`);
  }
  requirePrivateNetwork();

  const messages = [];
  const procs = { relay: null, peer: null };
  let browser = null;
  let failure = null;
  let summary = '';
  const cleanup = async () => {
    await Promise.race([browser?.close(), sleep(5000)]).catch(() => {});
    browser = null;
    await stopProcess(procs.peer, 'SIGTERM');
    return stopProcess(procs.relay, 'SIGTERM');
  };
  const timer = setTimeout(async () => {
    console.log(`FAIL ${NAME}: overall timeout (${OVERALL_TIMEOUT_MS / 1000} s)`);
    printDiagnostics(messages, procs);
    await Promise.race([cleanup(), sleep(5000)]);
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);

  try {
    procs.relay = startProcess('relay', livecast, ['signal', '--port', '0']);
    const listening = await waitForLine(procs.relay,
      /^livecast signal: listening on (ws:\/\/127\.0\.0\.1:\d+\/ws)$/, 5000);
    const url = listening[1];

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    watchPage(page, 'page', messages);
    await page.setContent('<!doctype html><title>relay test</title><body></body>');
    await page.evaluate(pageAnswerer, { url, room: ROOM });
    await page.waitForFunction(() => window.relayTest.welcome, null, { timeout: 5000 });
    const pageWelcome = await page.evaluate(() => window.relayTest.welcome);
    check(pageWelcome.room === ROOM && pageWelcome.peers.length === 0,
      `page welcome ${JSON.stringify(pageWelcome)}: expected room "${ROOM}" and no peers`);

    const peerStarted = Date.now();
    procs.peer = startProcess('aiortc', python, [PEER_SCRIPT, '--url', url, '--room', ROOM,
      '--seconds', '40']);
    const peerWelcome = JSON.parse((await waitForLine(procs.peer, /^\{"event": "welcome".*$/, 10000))[0]);
    check(peerWelcome.peers.length === 1 && peerWelcome.peers[0] === pageWelcome.id,
      `aiortc welcome ${JSON.stringify(peerWelcome)}: expected peers [${pageWelcome.id}]`);

    try {
      await page.waitForFunction(({ min, width }) => {
        const v = document.querySelector('video');
        return window.relayTest.framesDecoded >= min && v?.videoWidth === width;
      }, { min: MIN_FRAMES, width: WIDTH }, { timeout: FRAMES_TIMEOUT_MS, polling: 100 });
    } catch {
      const s = await page.evaluate(() => ({
        frames: window.relayTest.framesDecoded, error: window.relayTest.error,
        ice: window.pc.iceConnectionState, width: document.querySelector('video')?.videoWidth,
      }));
      throw new TestFailure(`no ${MIN_FRAMES} frames of width ${WIDTH} within ` +
        `${FRAMES_TIMEOUT_MS / 1000} s: ${JSON.stringify(s)}`);
    }
    const firstFrameAfterSpawnMs = Date.now() - peerStarted;
    const result = await page.evaluate(() => {
      const s = window.relayTest;
      const v = document.querySelector('video');
      return {
        framesDecoded: s.framesDecoded, width: v.videoWidth, height: v.videoHeight,
        messages: s.messages, error: s.error, sentCandidates: s.sent.filter((m) => m.type === 'candidate').length,
        offerToFirstFrameMs: s.t.firstFrame - s.t.offer, peer: s.peer,
        candidatesAdded: s.candidatesAdded ?? 0, endOfCandidates: !!s.endOfCandidates,
      };
    });
    check(!result.error, `page: ${result.error}`);
    check(result.height === HEIGHT, `video is ${result.width}x${result.height}, not ${WIDTH}x${HEIGHT}`);

    // Everything the page got from the relay: the join announcement, then the offer, each with
    // aiortc's id as "from"; the offer addressed to the page with "to".
    const types = result.messages.map((m) => m.type);
    check(types[0] === 'welcome' && types[1] === 'join' && types[2] === 'offer',
      `page received ${types.join(', ')}; expected welcome, join, offer`);
    const sentByPeer = JSON.parse((await waitForLine(procs.peer, /^\{"event": "candidates-sent".*$/, 1000))[0]);
    check(sentByPeer.count >= 1 && result.candidatesAdded === sentByPeer.count && result.endOfCandidates,
      `page added ${result.candidatesAdded} of aiortc's ${sentByPeer.count} trickled candidates ` +
      `(end of candidates ${result.endOfCandidates ? 'seen' : 'missing'})`);
    check(result.messages.slice(1).every((m) => m.from === peerWelcome.id),
      `page: a relayed message without from=${peerWelcome.id}: ${JSON.stringify(result.messages.slice(1))}`);
    check(result.messages[2].to === pageWelcome.id, `the offer's "to" is ${result.messages[2].to}`);
    check(result.peer === peerWelcome.id, 'page answered someone else');

    // aiortc got the answer and the page's trickled candidates from the page's id.
    const peerEvents = procs.peer.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const answer = peerEvents.find((e) => e.event === 'answer');
    check(answer?.from === pageWelcome.id, `aiortc: answer ${JSON.stringify(answer)} not from ${pageWelcome.id}`);
    const trickled = peerEvents.filter((e) => e.event === 'candidate');
    check(trickled.every((e) => e.from === pageWelcome.id), 'aiortc: a candidate from someone else');
    check(!peerEvents.some((e) => e.event === 'relay-error'),
      `aiortc got relay errors: ${JSON.stringify(peerEvents.filter((e) => e.event === 'relay-error'))}`);

    // bye through the relay ends the aiortc peer (exit 0: answer applied, ICE connected).
    await page.evaluate(() => window.relayTest.bye());
    const done = await Promise.race([procs.peer.exited, sleep(10000).then(() => null)]);
    check(done, 'aiortc did not end within 10 s of bye');
    const doneEvent = procs.peer.lines.map((l) => (l.startsWith('{') ? JSON.parse(l) : {}))
      .find((e) => e.event === 'done');
    check(done.code === 0, `aiortc exited ${JSON.stringify(done)}: ${JSON.stringify(doneEvent)}\n${tail(procs.peer)}`);
    check(doneEvent?.reason === 'bye from the peer', `aiortc ended because: ${doneEvent?.reason}`);
    // ... and the page hears aiortc leave the room.
    await page.waitForFunction((id) => window.relayTest.messages.some((m) => m.type === 'leave' && m.from === id),
      peerWelcome.id, { timeout: 5000 }).catch(() => {
      throw new TestFailure('page: no {"type":"leave"} from the aiortc peer');
    });

    summary = `${result.width}x${result.height} framesDecoded=${result.framesDecoded}; ` +
      `offer received → first frame ${ms(result.offerToFirstFrameMs)}, aiortc start → ` +
      `${MIN_FRAMES} frames ${ms(firstFrameAfterSpawnMs)}; candidates relayed: aiortc → page ` +
      `${result.candidatesAdded} + end, page → aiortc ${result.sentCandidates} messages ` +
      `(${trickled.length} with a candidate)`;
  } catch (err) {
    failure = err;
  } finally {
    const relayExit = await cleanup();
    clearTimeout(timer);
    if (!failure && relayExit && (relayExit.code !== 0 || relayExit.killed)) {
      failure = new TestFailure(`livecast signal did not stop cleanly: ${JSON.stringify(relayExit)}`);
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
    if (child?.output.length) console.log(`--- ${child.label} output ---\n${tail(child)}`);
  }
}

main();
