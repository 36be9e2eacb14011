#!/usr/bin/env node
// A viewer's bandwidth estimate end to end (issue 14): Chromium's own feedback, read by
// ViewerFeedback (gst/webrtcserver/media/viewerfeedback.h), follows a shaped link while the
// encoder keeps sending more than the link carries.
//
//   lc-send  10.78.0.1/24  bwsender: videotestsrc ! x264enc bitrate=2000 ! rtph264pay
//      |  veth, on lc-send's end  tc qdisc … root tbf rate 1mbit burst 32kb latency 100ms
//   lc-view  10.78.0.2/24  headless Chromium, one RTCPeerConnection (recvonly video)
//
// Signalling goes through this test: the page's offer to bwsender's stdin, its answer back.
// Namespaces from tests/browser/netns.mjs (as browser-loss): `unshare --net`
// children of this test, itself inside tests/netns-run.sh's private namespace.
//
// Phase 1, transport-cc (bwsender chooses and adds the extensions as webrtcserversink does,
// gst/webrtcserver/media/rtpextensions.h):
//   - the answer carries a=extmap:<the offer's id> …transport-wide-cc… and the playout-delay
//     extension with the offer's id;
//   - packets leave with transport-wide sequence numbers, Chromium's transport-cc feedback
//     reaches the estimator, none of it malformed;
//   - the encoder sends >= 1.5 Mbit/s (it does not follow the estimate) while the estimate is
//     <= 1.1 Mbit/s from 5 s after the first estimate to the end (15 s), and >= 250 kbit/s on
//     average (it follows the link, it does not collapse).
// Phase 2, --no-transport-cc (what webrtcbin alone answers): what Chromium sends then
// (REMB, receiver reports), printed; REMB must arrive and the estimate follow it.
//
//   tests/netns-run.sh node tests/browser/bandwidth.test.mjs --sender build/tests/browser/bwsender
//       [--seconds 15] [--keep-fci N]   (N: print N transport-cc FCIs from over the run, hex)
// Exit status: 0 pass, 1 fail, 77 skip (LIVECAST_REQUIRE_BROWSER=1 turns a skip into a failure).

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import { cleanUpOnExit, findTools, linkNamespaces, makeNamespace } from './netns.mjs';
import {
  TestFailure, check, log, loadPlaywright, requirePrivateNetwork, skip, sleep, startProcess,
  stopProcess, tail, waitForLine,
} from './testkit.mjs';

const NAME = 'browser-bandwidth';
const SEND_ADDR = '10.78.0.1';
const VIEW_ADDR = '10.78.0.2';
const LINK_KBPS = 1000;
const ENCODER_KBPS = 2000;
const SETTLE_MS = 5000;
const MAX_SETTLED_BPS = 1.1e6;
const MIN_AVERAGE_BPS = 250e3;
const MIN_SENT_BPS = 1.5e6;
const TWCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

const procs = { send: null, view: null, sender: null };
let tempDir = null;
let TOOLS = {};

// ---- the page -----------------------------------------------------------------------------------

async function makeOffer(page) {
  return page.evaluate(async () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    window.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve();
      });
      setTimeout(resolve, 3000);
    });
    return pc.localDescription.sdp;
  });
}

const inbound = (page) => page.evaluate(async () => {
  const report = await window.pc.getStats();
  for (const s of report.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      return { framesDecoded: s.framesDecoded ?? 0, bytesReceived: s.bytesReceived ?? 0,
        packetsLost: s.packetsLost ?? 0, packetsReceived: s.packetsReceived ?? 0 };
    }
  }
  return { framesDecoded: 0, bytesReceived: 0, packetsLost: 0, packetsReceived: 0 };
});

// ---- one phase ----------------------------------------------------------------------------------

async function phase(browser, { sender, twcc, seconds, keepFci }) {
  const args = ['--bitrate', String(ENCODER_KBPS)];
  if (!twcc) args.push('--no-transport-cc');
  const env = { ...process.env };
  if (keepFci > 0) env.GST_DEBUG = `${env.GST_DEBUG ? `${env.GST_DEBUG},` : ''}webrtcserversink:6`;
  const label = twcc ? 'bwsender' : 'bwsender-no-twcc';
  procs.sender = startProcess(label, TOOLS.nsenter, [`--net=${procs.send.netns}`, '--', sender,
    ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  procs.sender.stdin.on('error', () => {});
  const fci = [];
  procs.sender.stderr.on('data', (chunk) => {
    for (const m of chunk.toString().matchAll(/transport-cc FCI ([0-9a-f]+)/g)) {
      if (fci.length < 5000) fci.push(m[1]);
    }
  });
  const page = await browser.newPage();
  try {
    const offer = await makeOffer(page);
    procs.sender.stdin.write(`${offer.trim()}\n.\n`);
    await waitForLine(procs.sender, /^answer$/, 15000);
    await waitForLine(procs.sender, /^\.$/, 15000);
    const lines = procs.sender.lines.map((l) => l.replace(/\r$/, ''));
    const answer = lines.slice(lines.indexOf('answer') + 1, lines.indexOf('.')).join('\r\n') + '\r\n';
    const offerId = offer.match(new RegExp(`a=extmap:(\\d+) ${TWCC_URI.replace(/\./g, '\\.')}`))?.[1];
    const answerId = answer.match(new RegExp(`a=extmap:(\\d+) ${TWCC_URI.replace(/\./g, '\\.')}`))?.[1];
    log(`${label}: offer's transport-cc id ${offerId ?? 'none'}, answer's ${answerId ?? 'none'}; ` +
      `answer feedback: ${[...new Set(answer.match(/a=rtcp-fb:\d+ [^\r\n]+/g) ?? [])].join(', ')}`);
    if (twcc) check(offerId && answerId === offerId, `the answer has no a=extmap:${offerId} ${TWCC_URI}`);
    else check(!answerId, 'the --no-transport-cc answer still has the transport-cc extension');
    // Both phases: playout-delay beside it, with the offer's id (gst/webrtcserver/media/rtpextensions.h).
    const delayId = (sdp) => sdp.match(new RegExp(`a=extmap:(\\d+) ${PLAYOUT_DELAY_URI.replace(/\./g, '\\.')}`))?.[1];
    check(delayId(offer) && delayId(answer) === delayId(offer),
      `the answer has no a=extmap:${delayId(offer)} ${PLAYOUT_DELAY_URI}`);
    await page.evaluate((sdp) => window.pc.setRemoteDescription({ type: 'answer', sdp }), answer);

    // First decoded frame, then the estimate every 250 ms for @seconds.
    const deadline = Date.now() + 15000;
    while ((await inbound(page)).framesDecoded < 1) {
      check(Date.now() < deadline, `${label}: no frame decoded within 15 s:\n${tail(procs.sender)}`);
      await sleep(200);
    }
    const firstEstimate = procs.sender.lines.length;
    await waitForLine(procs.sender, /^estimate /, 5000);
    const t0 = Date.now();
    const before = await inbound(page);
    await sleep(seconds * 1000);
    const after = await inbound(page);
    const samples = procs.sender.lines.slice(firstEstimate).filter((l) => l.startsWith('estimate '))
      .map((l) => JSON.parse(l.slice(9)));
    check(samples.length >= seconds * 3, `${label}: only ${samples.length} estimates in ${seconds} s`);
    const viewerKbps = ((after.bytesReceived - before.bytesReceived) * 8) / seconds / 1000;
    const fps = (after.framesDecoded - before.framesDecoded) / seconds;
    return { samples, viewerKbps, fps, fci, lost: after.packetsLost - before.packetsLost, t0 };
  } finally {
    await page.close().catch(() => {});
    procs.sender.stdin.end();
    await stopProcess(procs.sender, 'SIGTERM', 3000);
  }
}

function series(samples) {
  // One line per second: target (basis), acknowledged, loss, delay state.
  return samples.filter((_, i) => i % 4 === 3).map((s, i) => `${i + 1}s ${(s.target_bps / 1e3).toFixed(0)}` +
    `(${s.basis}) acked ${(s.acked_bps / 1e3).toFixed(0)} loss ${(100 * s.loss).toFixed(0)}% ${s.delay}` +
    `${s.remb_bps ? ` remb ${(s.remb_bps / 1e3).toFixed(0)}` : ''}`).join('; ');
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({ options: {
    sender: { type: 'string' }, seconds: { type: 'string', default: '15' },
    'keep-fci': { type: 'string', default: '0' },
  } });
  check(values.sender && existsSync(values.sender), 'usage: bandwidth.test.mjs --sender PATH');
  const seconds = Number(values.seconds);
  const chromium = await loadPlaywright();
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  TOOLS = findTools([['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['ip', 'iproute2'],
    ['tc', 'iproute2']]);
  requirePrivateNetwork();
  tempDir = mkdtempSync(path.join(tmpdir(), 'livecast-bandwidth-'));
  let browser = null;
  let failure = null;
  const timer = setTimeout(() => {
    console.log(`FAIL ${NAME}: overall timeout`);
    process.exit(1);
  }, 100000);
  try {
    procs.send = await makeNamespace('lc-send', TOOLS);
    procs.view = await makeNamespace('lc-view', TOOLS);
    await linkNamespaces(procs.send, procs.view, TOOLS, { send: ['lcsend0', SEND_ADDR],
      view: ['lcview0', VIEW_ADDR] });
    await procs.send.must('tc', ['qdisc', 'add', 'dev', 'lcsend0', 'root', 'tbf', 'rate',
      `${LINK_KBPS}kbit`, 'burst', '32kb', 'latency', '100ms']);
    log(`lc-send ${SEND_ADDR} -> tbf ${LINK_KBPS} kbit/s -> lc-view ${VIEW_ADDR}`);
    const wrapper = path.join(tempDir, 'chromium-in-lc-view.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${TOOLS.nsenter} --net=${procs.view.netns} -- ${CHROMIUM} "$@"\n`,
      { mode: 0o755 });
    const args = CHROMIUM_ARGS.filter((a) => a !== '--allow-loopback-in-peer-connection');
    browser = await chromium.launch({ executablePath: wrapper, args, timeout: 15000 });

    const keepFci = Number(values['keep-fci']);
    const a = await phase(browser, { sender: values.sender, twcc: true, seconds, keepFci });
    const last = a.samples.at(-1);
    const sentBps = ((last.bytes_sent - a.samples[0].bytes_sent) * 8) / ((a.samples.length - 1) / 4);
    log(`transport-cc: ${series(a.samples)}`);
    log(`transport-cc: sender ${(sentBps / 1e3).toFixed(0)} kbit/s, viewer received ` +
      `${a.viewerKbps.toFixed(0)} kbit/s at ${a.fps.toFixed(1)} fps (${a.lost} packets lost); ` +
      `${last.packets_with_seq} of ${last.packets_sent} packets with a sequence number, ` +
      `${last.twcc_feedback} feedback packets (${last.twcc_malformed} malformed), ${last.remb} REMB, ` +
      `${last.receiver_reports} report blocks, RTT ${last.rtt_ms} ms`);
    // Spread over the run: the first ones, from before the queue filled, are all plain runs.
    for (let i = 0; i < keepFci && a.fci.length; i++) {
      console.log(`fci ${a.fci[Math.floor((i * a.fci.length) / keepFci)]}`);
    }
    check(last.packets_with_seq > 0.9 * last.packets_sent,
      `only ${last.packets_with_seq} of ${last.packets_sent} packets carried a transport-wide sequence number`);
    check(last.twcc_feedback > seconds * 5, `only ${last.twcc_feedback} transport-cc feedback packets`);
    check(last.twcc_malformed === 0, `${last.twcc_malformed} malformed transport-cc feedback packets`);
    check(sentBps >= MIN_SENT_BPS, `the encoder sent only ${(sentBps / 1e3).toFixed(0)} kbit/s`);
    const settled = a.samples.filter((_, i) => i >= SETTLE_MS / 250);
    const worst = Math.max(...settled.map((s) => s.target_bps));
    const average = settled.reduce((sum, s) => sum + s.target_bps, 0) / settled.length;
    log(`transport-cc: estimate after ${SETTLE_MS / 1000} s: at most ${(worst / 1e3).toFixed(0)} kbit/s, ` +
      `${(average / 1e3).toFixed(0)} kbit/s on average`);
    check(worst <= MAX_SETTLED_BPS, `the estimate reached ${(worst / 1e3).toFixed(0)} kbit/s after ` +
      `${SETTLE_MS / 1000} s on a ${LINK_KBPS} kbit/s link`);
    check(average >= MIN_AVERAGE_BPS, `the estimate collapsed to ${(average / 1e3).toFixed(0)} kbit/s`);

    const b = await phase(browser, { sender: values.sender, twcc: false, seconds: 8, keepFci: 0 });
    const lastB = b.samples.at(-1);
    log(`no transport-cc: ${series(b.samples)}`);
    log(`no transport-cc: Chromium sent ${lastB.twcc_feedback} transport-cc feedback packets, ` +
      `${lastB.remb} REMB (last ${(lastB.remb_bps / 1e3).toFixed(0)} kbit/s), ` +
      `${lastB.receiver_reports} report blocks; viewer received ${b.viewerKbps.toFixed(0)} kbit/s`);
    check(lastB.remb > 0, 'Chromium sent no REMB without transport-cc');
    check(lastB.basis === 'remb' || lastB.basis === 'loss', `the estimate rests on ${lastB.basis}, not REMB`);
    console.log(`PASS ${NAME}: estimate <= ${(worst / 1e3).toFixed(0)} kbit/s (average ` +
      `${(average / 1e3).toFixed(0)}) on a ${LINK_KBPS} kbit/s link while sending ` +
      `${(sentBps / 1e3).toFixed(0)} kbit/s; without transport-cc, REMB ${(lastB.remb_bps / 1e3).toFixed(0)} kbit/s`);
  } catch (err) {
    failure = err;
  } finally {
    await Promise.race([browser?.close(), sleep(5000)]).catch(() => {});
    for (const ns of [procs.view, procs.send]) {
      ns?.stdin.end();
      await stopProcess(ns, 'SIGTERM', 2000);
    }
    rmSync(tempDir, { recursive: true, force: true });
    clearTimeout(timer);
  }
  if (failure) {
    if (procs.sender) console.log(`--- ${procs.sender.label} output ---\n${tail(procs.sender, 30)}`);
    console.log(`FAIL ${NAME}: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  process.exit(0);
}

cleanUpOnExit(NAME, () => [procs.sender, procs.view, procs.send], () => tempDir);

main();
