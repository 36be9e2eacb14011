#!/usr/bin/env node
// Glass to glass: how long a change on the screen takes to show in the browser. Prints figures
// and ratios measured in the same run; never fails on a number (exit 1 only when it cannot
// measure at all, 77 when a prerequisite is missing).
//
//   tests/netns-run.sh node tests/bench/bench_glass.mjs --suite glass|diagnose|ttff \
//     --painter clock_painter --glass-sender glass_sender --livecast livecast [--python /usr/bin/python3]
//
// An Xvfb of its own (1280x720) shows the wall clock in ms as a barcode (clockcode.h, painted
// every 2 ms by clock_painter). Headless Chromium plays the stream and reads the barcode from
// every presented frame (requestVideoFrameCallback -> canvas -> getImageData). The latency of a
// frame is the time Chromium handed it to the compositor (performance.timeOrigin +
// metadata.presentationTime) minus the painted time; both ends read this machine's clock.
// Why presentationTime: headless Chromium has no display, so metadata.expectedDisplayTime is
// the deadline of a synthetic 60 Hz frame (seen here both before and ~15 ms after
// presentationTime), and Date.now() in the callback adds the wait for the next rendering step
// and the callback's own scheduling (both printed beside it). A real screen adds the same half
// refresh and scan-out to every sender. Painted values are 0-2 ms old when grabbed (the
// painter's interval): ~1 ms of every figure.
//
// Suites (each well under 4 minutes):
//   glass     `livecast --preset screen` (the launcher, the project's viewer page) at 30 and
//             60 fps, H.264 and VP8; the seeds' sender (aiortc, a screen grab per frame, VP8,
//             30 fps; tests/bench/aiortc_screen_sender.py) with a page of its own; then the
//             breakdown: the same livecast pipeline in glass_sender (probes at every stage)
//             and aiortc's own stage times, joined with the page's by painted time.
//   diagnose  one knob at a time against the same baseline (glass_sender, H.264 30 fps):
//             the end sink's sync and processing deadline, encoder settings, the payloader,
//             the sink's playout-delay (the RTP header extension off, or 50 ms), and the page's jitterBufferTarget and
//             playoutDelayHint; p50 change per item.
//   ttff      time to first frame of a fresh page with a minimal WHEP client (trickle ICE by
//             PATCH): POST -> answer, ICE, DTLS, first packet, first frame, and the sender's
//             view of the same session (glass_sender events).
// Runs only inside a private network namespace (tests/netns-run.sh).

/* global window, document, performance, RTCPeerConnection, MediaStream */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.mjs';
import {
  loadPlaywright, log, requirePrivateNetwork, skip, sleep, startProcess,
  stopProcess, tail, waitForLine,
} from '../browser/testkit.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const PORT = 18321;
const BASE = `http://127.0.0.1:${PORT}`;
const HERE = path.dirname(new URL(import.meta.url).pathname);
const SOURCE_ROOT = process.env.LIVECAST_SOURCE_ROOT || path.resolve(HERE, '../..');

const { values: opts } = parseArgs({
  options: {
    suite: { type: 'string', default: 'glass' },
    painter: { type: 'string' },
    'glass-sender': { type: 'string' },
    livecast: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    frames: { type: 'string', default: '300' },
    only: { type: 'string' },
  },
});
const FRAMES = Number(opts.frames);

// ---- statistics ----------------------------------------------------------------------------

const sorted = (v) => [...v].sort((a, b) => a - b);
const pct = (v, p) => {
  if (!v.length) return NaN;
  const s = sorted(v);
  return s[Math.min(s.length - 1, Math.max(0, Math.round((p / 100) * (s.length - 1))))];
};
const mean = (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

// ---- in the page ---------------------------------------------------------------------------

// Added to every page before its own scripts: keeps the page's peer connections, applies the
// receiver options under test and offers window.__glass.start() to read every presented frame.
function pageInit(options) {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.__glassOptions = options;
  window.RTCPeerConnection = function RTCPeerConnection(...args) {
    const pc = new Original(...args);
    window.__pcs.push(pc);
    pc.addEventListener('track', (e) => {
      if (options.jitterBufferTarget !== undefined) e.receiver.jitterBufferTarget = options.jitterBufferTarget;
      if (options.playoutDelayHint !== undefined) e.receiver.playoutDelayHint = options.playoutDelayHint;
    });
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Original);

  const CELL = 24;
  const COLS = 12;
  const ROWS = 4;
  const crc8 = (value) => {
    let crc = 0;
    for (let byte = 4; byte >= 0; byte--) {
      crc ^= Number((value >> BigInt(8 * byte)) & 0xffn);
      for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
    return crc;
  };
  // clockcode.h's reader: the painted ms modulo 2^40, or 0.
  const read = (d, stride) => {
    let bits = 0n;
    for (let i = 0; i < COLS * ROWS; i++) {
      const cx = (i % COLS) * CELL + CELL / 2;
      const cy = Math.floor(i / COLS) * CELL + CELL / 2;
      let sum = 0;
      for (let dy = -4; dy < 4; dy++) {
        for (let dx = -4; dx < 4; dx++) sum += d[((cy + dy) * stride + cx + dx) * 4 + 1];
      }
      const m = sum / 64;
      if (m > 64 && m < 192) return 0;
      bits = (bits << 1n) | (m >= 192 ? 1n : 0n);
    }
    const value = bits >> 8n;
    return value && crc8(value) === Number(bits & 0xffn) ? Number(value) : 0;
  };
  window.__glass = {
    frames: [],
    unread: 0,
    start() {
      const video = document.querySelector('video');
      const canvas = document.createElement('canvas');
      canvas.width = COLS * CELL;
      canvas.height = ROWS * CELL;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const origin = performance.timeOrigin;
      const onFrame = (nowHr, md) => {
        const now = Date.now();
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
        const v = read(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width);
        if (v) {
          const painted = now - ((((now - v) % 2 ** 40) + 2 ** 40) % 2 ** 40);
          window.__glass.frames.push({
            painted, now, display: origin + md.expectedDisplayTime, presented: origin + md.presentationTime,
            received: md.receiveTime ? origin + md.receiveTime : null, rtp: md.rtpTimestamp ?? null,
            processing: md.processingDuration ?? null, n: md.presentedFrames,
          });
        } else {
          window.__glass.unread++;
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    },
  };
}

async function inboundStats(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs.filter((p) => p.connectionState !== 'closed').pop();
    if (!pc) return null;
    const report = await pc.getStats();
    for (const s of report.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        return { ...s, codec: report.get(s.codecId)?.mimeType };
      }
    }
    return null;
  });
}

// The bench's own viewer (for aiortc's POST /offer and the TTFF client): one recvonly video.
const TINY_PAGE = `<!doctype html><meta charset="utf-8"><title>glass</title>
<style>body{margin:0;background:#000}video{width:1280px;height:720px}</style>
<video muted autoplay playsinline></video>
<script>
window.connect = async (kind) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  const video = document.querySelector('video');
  pc.ontrack = (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => {
    if (pc.iceGatheringState === 'complete') r();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
    setTimeout(r, 1000);
  });
  const res = await fetch('/offer', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp }) });
  await pc.setRemoteDescription(await res.json());
};
</script>`;

// ---- processes -----------------------------------------------------------------------------

const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(name, cmd, args, env = {}) {
  const child = startProcess(name, cmd, args, { env: { ...process.env, ...env } });
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

async function startXvfb() {
  const x = startProcess('Xvfb', 'Xvfb', ['-displayfd', '1', '-screen', '0', `${WIDTH}x${HEIGHT}x24`,
    '-nolisten', 'tcp', '-noreset']);
  children.add(x);
  const m = await waitForLine(x, /^(\d+)$/, 10000);
  x.display = `:${m[1]}`;
  return x;
}

async function waitForHttp(url, child, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.label} exited:\n${tail(child)}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`no answer from ${url}:\n${tail(child)}`);
}

// The sender's "frame {json}" and "event {json}" lines, after it stopped.
function senderLines(child, kind) {
  return child.lines.filter((l) => l.startsWith(`${kind} `)).map((l) => JSON.parse(l.slice(kind.length + 1)));
}

function presetPipeline(fps, codec, extra = '') {
  return `screencapsrc ! videoscale ! video/x-raw,framerate=${fps}/1 ! webrtcserversink name=sink ` +
    `port=${PORT} bind-address=127.0.0.1 video-codec=${codec} bitrate=4000 ${extra}`.trim();
}

/** CPU seconds (user + system) used so far by process @pid. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

// ---- one scenario: a sender, a page, >= FRAMES frames read ------------------------------------

async function runScenario(ctx, sc) {
  const env = { DISPLAY: ctx.display, LIVECAST_PRESETS: path.join(SOURCE_ROOT, 'launcher', 'presets.ini') };
  let sender;
  if (sc.sender === 'livecast') {
    sender = start('livecast', opts.livecast, ['--preset', 'screen', '--fps', String(sc.fps), '--codec', sc.codec,
      '--port', String(PORT)], env);
  } else if (sc.sender === 'glass') {
    const args = [presetPipeline(sc.fps, sc.codec, sc.sinkProps)];
    for (const s of sc.set ?? []) args.push('--set', s);
    sender = start('glass_sender', opts['glass-sender'], args, env);
  } else {
    sender = start('aiortc', opts.python, [path.join(HERE, 'aiortc_screen_sender.py'), '--port', String(PORT),
      '--fps', String(sc.fps)], env);
    await waitForLine(sender, /^port \d+/, 15000);
  }
  const result = { name: sc.name, sc };
  const context = await ctx.browser.newContext({ viewport: { width: WIDTH, height: HEIGHT } });
  try {
    await waitForHttp(sc.sender === 'aiortc' ? `${BASE}/nothing` : `${BASE}/config`, sender);
    await context.addInitScript(pageInit, sc.page ?? {});
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`${sc.name}: page error: ${e.message}`));
    if (sc.sender === 'aiortc') {
      await page.route(`${BASE}/glass.html`, (route) => route.fulfill({ contentType: 'text/html', body: TINY_PAGE }));
      await page.goto(`${BASE}/glass.html`);
      await page.evaluate(() => window.connect());
    } else {
      await page.goto(`${BASE}/?audio=0`);
    }
    await page.waitForFunction(() => document.querySelector('video')?.videoWidth > 0, null,
      { timeout: 15000, polling: 100 });
    await sleep(2000); // past the first key frame and the jitter buffer's first guesses
    await page.evaluate(() => window.__glass.start());
    const s0 = await inboundStats(page);
    const c0 = [cpuSeconds(sender.pid), performance.now()];
    const deadline = Date.now() + (FRAMES / sc.fps) * 1000 * 1.6 + 4000;
    let n = 0;
    while (Date.now() < deadline) {
      await sleep(500);
      n = await page.evaluate(() => window.__glass.frames.length);
      if (n >= FRAMES) break;
    }
    const s1 = await inboundStats(page);
    result.cpu = (cpuSeconds(sender.pid) - c0[0]) / ((performance.now() - c0[1]) / 1000);
    const got = await page.evaluate(() => ({ frames: window.__glass.frames, unread: window.__glass.unread,
      answer: window.__pcs.at(-1)?.remoteDescription?.sdp }));
    result.frames = got.frames;
    result.unread = got.unread;
    result.answer = got.answer;
    result.stats = diffStats(s0, s1);
  } finally {
    await context.close().catch(() => {});
    await stopProcess(sender, 'SIGINT', 8000);
  }
  result.senderFrames = senderLines(sender, 'frame');
  result.latency = sender.lines.find((l) => l.startsWith('latency '))?.split(' ').slice(1).map(Number);
  summarize(result);
  return result;
}

function diffStats(a, b) {
  if (!a || !b) return null;
  const d = (k) => (b[k] ?? NaN) - (a[k] ?? NaN);
  const frames = d('framesDecoded');
  return {
    codec: b.codec, decoder: b.decoderImplementation, framesDecoded: frames,
    framesDropped: d('framesDropped'), freezes: d('freezeCount'), packetsLost: b.packetsLost,
    jitterBuffer: (d('jitterBufferDelay') / d('jitterBufferEmittedCount')) * 1000,
    jitterTarget: (d('jitterBufferTargetDelay') / d('jitterBufferEmittedCount')) * 1000,
    jitterMinimum: (d('jitterBufferMinimumDelay') / d('jitterBufferEmittedCount')) * 1000,
    decode: (d('totalDecodeTime') / frames) * 1000,
    processing: (d('totalProcessingDelay') / frames) * 1000,
    assembly: (d('totalAssemblyTime') / d('framesAssembledFromMultiplePackets')) * 1000,
    fps: frames / ((b.timestamp - a.timestamp) / 1000),
  };
}

function summarize(r) {
  const fr = r.frames ?? [];
  r.display = fr.map((f) => f.display - f.painted);
  r.callback = fr.map((f) => f.now - f.painted);
  r.presented = fr.map((f) => f.presented - f.painted);
  r.p50 = pct(r.presented, 50);
  r.p95 = pct(r.presented, 95);
  r.min = Math.min(...r.presented);
  // Arrival jitter against the RTP clock: how irregularly frames reach the browser.
  const rx = fr.filter((f) => f.received && f.rtp !== null);
  const dev = [];
  for (let i = 1; i < rx.length; i++) {
    const drtp = (((rx[i].rtp - rx[i - 1].rtp) % 2 ** 32) + 2 ** 32) % 2 ** 32 / 90;
    if (drtp > 0 && drtp < 200) dev.push(rx[i].received - rx[i - 1].received - drtp);
  }
  r.arrivalJitter = dev.length ? Math.sqrt(mean(dev.map((x) => x * x))) : NaN;
  log(`${r.name}: ${fr.length} frames read (${r.unread} unread); p50 ${f1(r.p50)} p95 ${f1(r.p95)} min ${f1(r.min)} ms` +
    (r.latency ? `; pipeline latency ${r.latency[0]} ms` : ''));
}

// ---- breakdown ---------------------------------------------------------------------------------

const LIVECAST_STAGES = [
  ['painted → grab start (PTS)', 'painted', 'pts'],
  ['grab (PTS → pushed)', 'pts', 'src'],
  ['end sink holds it (→ encoding branch)', 'src', 'valve'],
  ['encoder queue', 'valve', 'conv'],
  ['videoconvert', 'conv', 'enc_in'],
  ['encoder', 'enc_in', 'enc_out'],
  ['parser → viewers\' tee', 'enc_out', 'tee'],
  ['viewer queue', 'tee', 'pay_in'],
  ['payloader (last packet)', 'pay_in', 'pay1'],
  ['webrtcbin → nicesink (last packet)', 'pay1', 'net1'],
  ['network → Chromium (receiveTime)', 'net1', 'received'],
  ['Chromium: jitter buffer + decode + render', 'received', 'presented'],
];
const AIORTC_STAGES = [
  ['painted → grab start', 'painted', 'grab0'],
  ['grab (ImageGrab)', 'grab0', 'grab1'],
  ['from_image, queue to encoder', 'grab1', 'enc_in'],
  ['encoder (libvpx, incl. I420)', 'enc_in', 'enc_out'],
  ['packetize → DTLS transport (last)', 'enc_out', 'net1'],
  ['network → Chromium (receiveTime)', 'net1', 'received'],
  ['Chromium: jitter buffer + decode + render', 'received', 'presented'],
];

function joined(r) {
  const bySender = new Map();
  for (const s of r.senderFrames) {
    const t = { ...s };
    for (const k of Object.keys(t)) if (k !== 'painted' && k !== 'key') t[k] /= 1000;
    bySender.set(s.painted, t);
  }
  const out = [];
  for (const f of r.frames ?? []) {
    const s = bySender.get(f.painted % 2 ** 40);
    if (s) out.push({ ...s, painted: f.painted, received: f.received, presented: f.presented, display: f.display });
  }
  return out;
}

function breakdown(r, stages) {
  const rows = joined(r);
  const lines = [];
  let sum = 0;
  for (const [label, from, to] of stages) {
    const v = rows.filter((x) => Number.isFinite(x[from]) && Number.isFinite(x[to])).map((x) => x[to] - x[from]);
    sum += mean(v);
    lines.push(`  ${pad(label, 44)} ${lpad(f1(pct(v, 50)), 6)} ${lpad(f1(mean(v)), 6)} ${lpad(f1(pct(v, 95)), 6)}`);
  }
  const total = rows.map((x) => x.presented - x.painted);
  lines.push(`  ${pad('total (painted → presented)', 44)} ${lpad(f1(pct(total, 50)), 6)} ${lpad(f1(mean(total)), 6)} ` +
    `${lpad(f1(pct(total, 95)), 6)}   (sum of means ${f1(sum)})`);
  return { rows: rows.length, text: lines.join('\n') };
}

function printBreakdown(r, stages) {
  const b = breakdown(r, stages);
  console.log(`\n${r.name}: where the time goes, ms (${b.rows} frames seen at both ends)`);
  console.log(`  ${pad('stage', 44)} ${lpad('p50', 6)} ${lpad('mean', 6)} ${lpad('p95', 6)}`);
  console.log(b.text);
  const s = r.stats;
  if (s) {
    console.log(`  Chromium getStats over the window (${s.codec}, ${s.decoder}): jitterBufferDelay/emitted ${f1(s.jitterBuffer)} ` +
      `(target ${f1(s.jitterTarget)}, minimum ${f1(s.jitterMinimum)}), totalDecodeTime/framesDecoded ${f1(s.decode)}, ` +
      `totalProcessingDelay/framesDecoded ${f1(s.processing)}, assembly ${f1(s.assembly)}; ${f1(s.fps)} fps decoded, ` +
      `dropped ${s.framesDropped}, freezes ${s.freezes}, lost ${s.packetsLost}; arrival jitter vs RTP clock ${f1(r.arrivalJitter)} ms rms`);
  }
}

function row(r) {
  const s = r.stats ?? {};
  return `${pad(r.name, 44)} ${lpad(f1(r.p50), 6)} ${lpad(f1(r.p95), 6)} ${lpad(f1(r.min), 6)} ` +
    `${lpad(f1(pct(r.display, 50)), 6)} ${lpad(f1(pct(r.callback, 50)), 6)} ` +
    `${lpad(r.frames?.length ?? 0, 6)} ${lpad(f1(s.fps), 5)} ${lpad(f1(s.jitterBuffer), 6)} ${lpad(f1(s.decode), 5)} ${lpad(r.cpu?.toFixed(2) ?? '–', 5)}`;
}
const HEADER = `${pad('sender', 44)} ${lpad('p50', 6)} ${lpad('p95', 6)} ${lpad('min', 6)} ${lpad('disp', 6)} ${lpad('cb', 6)} ` +
  `${lpad('frames', 6)} ${lpad('fps', 5)} ${lpad('jb', 6)} ${lpad('dec', 5)} ${lpad('cpu', 5)}`;
const LEGEND = '(ms, painted → presented (metadata.presentationTime); "disp"/"cb": p50 to expectedDisplayTime / ' +
  'to Date.now() in the callback; jb: jitterBufferDelay/emitted; dec: totalDecodeTime/framesDecoded; cpu: ' +
  'sender cores)';

// ---- suites ------------------------------------------------------------------------------------

async function suiteGlass(ctx) {
  const scenarios = [
    { name: 'livecast --preset screen --fps 30 (H.264)', sender: 'livecast', fps: 30, codec: 'h264' },
    { name: 'aiortc, ImageGrab per frame, VP8, 30 fps', sender: 'aiortc', fps: 30, codec: 'vp8' },
    { name: 'livecast --fps 30 --codec vp8', sender: 'livecast', fps: 30, codec: 'vp8' },
    { name: 'livecast --fps 60 (H.264)', sender: 'livecast', fps: 60, codec: 'h264' },
    { name: 'livecast --fps 60 --codec vp8', sender: 'livecast', fps: 60, codec: 'vp8' },
    { name: 'glass_sender (probed livecast pipeline), H.264 30', sender: 'glass', fps: 30, codec: 'h264' },
    { name: 'glass_sender (probed livecast pipeline), VP8 30', sender: 'glass', fps: 30, codec: 'vp8' },
    { name: 'livecast --fps 30 (H.264), round 2', sender: 'livecast', fps: 30, codec: 'h264' },
    { name: 'aiortc, VP8, 30 fps, round 2', sender: 'aiortc', fps: 30, codec: 'vp8' },
  ];
  const results = [];
  for (const sc of scenarios) results.push(await runScenario(ctx, sc));
  console.log(`\nGlass to glass, ${WIDTH}x${HEIGHT}, one run ${LEGEND}`);
  console.log(HEADER);
  for (const r of results) console.log(row(r));
  const [h30, ai30, v30, h60, v60, gh, gv, h30b, ai30b] = results;
  const pooled = (a, b) => pct([...a.presented, ...b.presented], 50);
  console.log(`\nratio livecast p50 / aiortc p50 at 30 fps: round 1 ${(h30.p50 / ai30.p50).toFixed(2)}, ` +
    `round 2 ${(h30b.p50 / ai30b.p50).toFixed(2)}, both rounds pooled ${(pooled(h30, h30b) / pooled(ai30, ai30b)).toFixed(2)} ` +
    `(${f1(pooled(h30, h30b))} / ${f1(pooled(ai30, ai30b))} ms); VP8 vs VP8 (round 1): ${(v30.p50 / ai30.p50).toFixed(2)}` +
    `\nlivecast p50 at 60 fps: ${f1(h60.p50)} ms (H.264), ${f1(v60.p50)} ms (VP8); ` +
    `pipeline latency reported by the probed sender: ${gh.latency?.[0]} ms`);
  printBreakdown(gh, LIVECAST_STAGES);
  printBreakdown(gv, LIVECAST_STAGES);
  printBreakdown(ai30, AIORTC_STAGES);
  printBreakdown(ai30b, AIORTC_STAGES);
}

async function suiteDiagnose(ctx) {
  const base = { sender: 'glass', fps: 30, codec: 'h264' };
  const items = [
    { name: 'baseline (H.264 30, as shipped)', ...base },
    { name: 'processing-deadline=0 on the end sink', ...base, set: ['end-sink.processing-deadline=0'] },
    { name: 'webrtcserversink sync=false', ...base, sinkProps: 'sync=false' },
    { name: 'x264enc threads=1', ...base, set: ['encoder.threads=1'] },
    { name: 'x264enc sliced-threads=false', ...base, set: ['encoder.sliced-threads=false'] },
    { name: 'x264enc vbv-buf-capacity=100', ...base, set: ['encoder.vbv-buf-capacity=100'] },
    { name: 'rtph264pay aggregate-mode=none', ...base, set: ['pay.aggregate-mode=none'] },
    { name: 'page: receiver.jitterBufferTarget=0', ...base, page: { jitterBufferTarget: 0 } },
    { name: 'page: receiver.playoutDelayHint=0', ...base, page: { playoutDelayHint: 0 } },
    { name: 'webrtcserversink playout-delay=-1 (no extension)', ...base, sinkProps: 'playout-delay=-1' },
    { name: 'webrtcserversink playout-delay=50', ...base, sinkProps: 'playout-delay=50' },
    { name: 'baseline again (noise)', ...base },
    { name: 'VP8 30 baseline', sender: 'glass', fps: 30, codec: 'vp8' },
    { name: 'VP8 vp8enc threads=1', sender: 'glass', fps: 30, codec: 'vp8', set: ['encoder.threads=1'] },
  ].filter((it) => !opts.only || opts.only.split(',').some((w) => it.name.includes(w)));
  const results = [];
  for (const sc of items) results.push(await runScenario(ctx, sc));
  console.log(`\nDiagnosis, one knob at a time, one run ${LEGEND}`);
  console.log(`${HEADER} ${lpad('Δp50', 6)}  where (mean ms): end-sink hold, queue+convert, encode, pay→net, recv→present`);
  const b0 = results[0].p50;
  for (const r of results) {
    const rows = joined(r);
    const m = (a, b) => mean(rows.filter((x) => Number.isFinite(x[a]) && Number.isFinite(x[b])).map((x) => x[b] - x[a]));
    const ref = r.sc.codec === 'vp8' ? results.find((x) => x.name.startsWith('VP8 30 baseline'))?.p50 : b0;
    console.log(`${row(r)} ${lpad(f1(r.p50 - ref), 6)}  ${f1(m('src', 'valve'))}, ${f1(m('valve', 'enc_in'))}, ` +
      `${f1(m('enc_in', 'enc_out'))}, ${f1(m('enc_out', 'net1'))}, ${f1(m('received', 'presented'))}` +
      (r.latency ? `  [pipeline latency ${r.latency[0]} ms]` : ''));
  }
}

// A fresh page: a minimal WHEP client with trickle ICE (PATCH), every step timed (wall ms).
function whepTimeline() {
  return (async () => {
    const t = { start: Date.now() };
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    const video = document.querySelector('video');
    let location = null;
    const pending = [];
    const patch = (frag) => fetch(location, { method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' }, body: frag });
    pc.onicecandidate = (e) => {
      if (!e.candidate || !e.candidate.candidate) return;
      const frag = `a=mid:${e.candidate.sdpMid}\r\na=${e.candidate.candidate}\r\n`;
      if (location) patch(frag); else pending.push(frag);
    };
    pc.oniceconnectionstatechange = () => { t[`ice_${pc.iceConnectionState}`] ??= Date.now(); };
    pc.onconnectionstatechange = () => { t[`pc_${pc.connectionState}`] ??= Date.now(); };
    pc.ontrack = (e) => {
      t.track = Date.now();
      e.track.onunmute = () => { t.unmute ??= Date.now(); };
      video.srcObject = new MediaStream([e.track]);
    };
    const firstFrame = new Promise((resolve) => video.requestVideoFrameCallback((now, md) => {
      t.frame = Date.now();
      t.frameReceived = md.receiveTime ? performance.timeOrigin + md.receiveTime : null;
      t.frameDisplay = performance.timeOrigin + md.expectedDisplayTime;
      resolve();
    }));
    await pc.setLocalDescription(await pc.createOffer());
    t.offer = Date.now();
    const res = await fetch('/whep', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    const answer = await res.text();
    t.answer = Date.now();
    location = res.headers.get('Location');
    for (const frag of pending.splice(0)) patch(frag);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    t.remoteSet = Date.now();
    await Promise.race([firstFrame, new Promise((r) => setTimeout(r, 5000))]);
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        t.keyFramesDecoded = s.keyFramesDecoded;
        t.framesDecoded = s.framesDecoded;
        t.decodeMs = s.framesDecoded ? (s.totalDecodeTime / s.framesDecoded) * 1000 : null;
      }
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') t.rttMs = s.currentRoundTripTime * 1000;
    }
    if (location) await fetch(location, { method: 'DELETE' });
    pc.close();
    return t;
  })();
}

const TTFF_PAGE = '<!doctype html><meta charset="utf-8"><title>whep</title><video muted autoplay playsinline></video>';

async function ttffRuns(ctx, sender, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const context = await ctx.browser.newContext({ viewport: { width: WIDTH, height: HEIGHT } });
    try {
      const page = await context.newPage();
      await page.route(`${BASE}/whep.html`, (route) => route.fulfill({ contentType: 'text/html', body: TTFF_PAGE }));
      await page.goto(`${BASE}/whep.html`);
      const mark = sender.lines.length;
      const t = await page.evaluate(whepTimeline);
      await sleep(300);
      t.events = sender.lines.slice(mark).filter((l) => l.startsWith('event ')).map((l) => JSON.parse(l.slice(6)));
      out.push(t);
    } finally {
      await context.close().catch(() => {});
    }
    await sleep(400);
  }
  return out;
}

async function suiteTtff(ctx) {
  const env = { DISPLAY: ctx.display, LIVECAST_PRESETS: path.join(SOURCE_ROOT, 'launcher', 'presets.ini') };
  const sessions = async (sender) => {
    try {
      await waitForHttp(`${BASE}/config`, sender);
      await sleep(1000);
      return await ttffRuns(ctx, sender, 10);
    } finally {
      await stopProcess(sender, 'SIGINT', 8000);
    }
  };
  // Headline: the launcher as shipped; breakdown: the same pipeline with the sender's view.
  const plain = await sessions(start('livecast', opts.livecast,
    ['--preset', 'screen', '--fps', '30', '--port', String(PORT)], env));
  const sender = start('glass_sender', opts['glass-sender'], [presetPipeline(30, 'h264')], env);
  const probed = await sessions(sender);
  const frames = senderLines(sender, 'frame').filter((f) => f.key);
  // GLASS_DUMP=FILE keeps the raw page timelines and the sender's key frames for a closer look.
  if (process.env.GLASS_DUMP) writeFileSync(process.env.GLASS_DUMP, JSON.stringify({ probed, frames }));
  const since = (t, k) => (t[k] ? t[k] - t.start : NaN);
  const table = (label, runs, withSender) => {
    const steps = [
      ['createOffer + setLocalDescription', (t) => t.offer - t.start],
      ['POST /whep → 201 answer', (t) => t.answer - t.offer],
      ['setRemoteDescription', (t) => t.remoteSet - t.answer],
      ['answer applied → ICE connected', (t) => t.ice_connected - t.remoteSet],
      ['ICE connected → DTLS done (pc connected)', (t) => t.pc_connected - t.ice_connected],
      ['DTLS done → first packet (track unmute)', (t) => t.unmute - t.pc_connected],
      ['first packet → first frame received whole', (t) => t.frameReceived - t.unmute],
      ['first frame received → presented (cb)', (t) => t.frame - t.frameReceived],
      ['total: start → first frame (cb)', (t) => since(t, 'frame')],
    ];
    if (withSender) {
      const ev = (t, what, value, after = 0) => t.events.find((e) => e.what === what &&
        (!value || e.value === value) && e.t / 1000 >= after)?.t / 1000;
      const connected = (t) => ev(t, 'connection-state', 'connected');
      const request = (t) => ev(t, 'key-unit-request', null, connected(t));
      // The first key frame that leaves once DTLS is up: often the one asked for on joining,
      // encoded before and held back until the keys exist, else the one asked for then.
      const key = (t) => frames.find((f) => f.net1 && f.net1 / 1000 >= connected(t) - 1);
      steps.push(
        ['sender: POST sent → viewer added', (t) => ev(t, 'viewer', 'added') - t.offer],
        // The answer no longer waits for the payloader's caps (the branch picks the SSRCs).
        ['sender: viewer added → answer set, gathering', (t) => ev(t, 'ice-gathering-state', 'gathering') - ev(t, 'viewer', 'added')],
        ['sender: viewer added → payloader has caps (aside)', (t) => ev(t, 'payloader', 'caps') - ev(t, 'viewer', 'added')],
        ['sender: gathering → gathering complete', (t) => ev(t, 'ice-gathering-state', 'complete') - ev(t, 'ice-gathering-state', 'gathering')],
        ['sender: gathering complete → page has answer', (t) => t.answer - ev(t, 'ice-gathering-state', 'complete')],
        ['sender: ICE checking → connected', (t) => ev(t, 'ice-connection-state', 'connected') - ev(t, 'ice-connection-state', 'checking')],
        ['sender: ICE connected → DTLS done', (t) => connected(t) - ev(t, 'ice-connection-state', 'connected')],
        ['sender: DTLS done → key frame requested again', (t) => request(t) - connected(t)],
        ['sender: first key frame out: encoded → DTLS done', (t) => connected(t) - key(t)?.enc_out / 1000],
        ['sender: DTLS done → that key frame on the wire', (t) => key(t)?.net1 / 1000 - connected(t)],
        ['sender: key frame on the wire → page frame (cb)', (t) => t.frame - key(t)?.net1 / 1000],
      );
    }
    console.log(`\n${label} (${runs.filter((t) => t.frame).length}/${runs.length} runs saw a frame), ms`);
    console.log(`  ${pad('step', 46)} ${lpad('p50', 6)} ${lpad('min', 6)} ${lpad('max', 6)}`);
    for (const [name, fn] of steps) {
      const v = runs.map(fn).filter(Number.isFinite);
      console.log(`  ${pad(name, 46)} ${lpad(f0(pct(v, 50)), 6)} ${lpad(f0(Math.min(...v)), 6)} ${lpad(f0(Math.max(...v)), 6)}`);
    }
  };
  table('Time to first frame, fresh page, minimal WHEP client with trickle (livecast --preset screen --fps 30)', plain, false);
  table('Same with the probed sender (glass_sender): the page and the sender side by side', probed, true);
  const m = pct(plain.map((t) => since(t, 'frame')).filter(Number.isFinite), 50);
  console.log(`\ntime to first frame median ${f0(m)} ms; ratio to the 150 ms goal: ${(m / 150).toFixed(2)}`);
}

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const chromium = await loadPlaywright();
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  for (const [what, p] of [['--painter', opts.painter], ['--glass-sender', opts['glass-sender']], ['--livecast', opts.livecast]]) {
    if (!p || !existsSync(p)) skip(`${what} ${p ?? 'PATH'} not found`);
  }
  if (opts.suite === 'glass' && !existsSync(opts.python)) skip(`no ${opts.python} (python3-aiortc, python3-pil)`);
  requirePrivateNetwork();
  const timer = setTimeout(() => {
    console.log('bench_glass: overall timeout (280 s)');
    process.exit(1);
  }, 280000);
  const ctx = {};
  let browser = null;
  const xvfb = await startXvfb();
  const painter = start('clock_painter', opts.painter, ['--display', xvfb.display, '--interval', '2']);
  try {
    await waitForLine(painter, /^ready/, 10000);
    ctx.display = xvfb.display;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    ctx.browser = browser;
    log(`browser ${browser.version()}, display ${xvfb.display}, painter every 2 ms`);
    if (opts.suite === 'glass') await suiteGlass(ctx);
    else if (opts.suite === 'diagnose') await suiteDiagnose(ctx);
    else if (opts.suite === 'ttff') await suiteTtff(ctx);
    else throw new Error(`unknown suite ${opts.suite}`);
  } finally {
    clearTimeout(timer);
    await browser?.close().catch(() => {});
    await stopProcess(painter);
    await stopProcess(xvfb);
  }
}

main().catch((e) => {
  console.log(`bench_glass: ${e.stack || e}`);
  for (const c of children) console.log(`--- ${c.label} ---\n${tail(c)}`);
  process.exit(1);
});
