#!/usr/bin/env node
// What the rendition ladder costs the sender (issue 14): its CPU with 8 viewers spread over three
// rungs, against the same 8 viewers on one rung. Three encodes, not eight: the goal printed is a
// ratio of at most 2.0. Printed only; a benchmark never fails on a number.
//
//   lb-send 10.81.N.1/24 ─ veth N (N = 1..8), tc tbf on lb-send's end in phase "three rungs" ─
//           lb-vN 10.81.N.2/24: one whep_watch --twcc --no-decode (tests/bench/whep_watch.cpp, a
//           webrtcbin viewer that sends transport-cc feedback, as browsers do; it depayloads
//           and counts frames, no decoding: eight viewers must not measure themselves on 2 cores)
//   lb-send: gst-launch-1.0 videotestsrc (moving) 1280x720@30 ! webrtcserversink
//            bind-address=0.0.0.0 (ladder=camera: 1280x720 2 Mbit/s, 640x360 667 kbit/s,
//            320x180 200 kbit/s)
// Phase "one rung": no link shaped, every viewer on rung 0. Phase "three rungs": links of
// LINKS kbit/s (0: not shaped), so each viewer's own controller puts it on the rung its link
// carries. Each phase has a sender of its own; its CPU (utime + stime from /proc) is measured over
// --seconds after --settle, and the server's /stats is read every 2 s over the window (over a
// link of its own, 10.81.100.0/24, not shaped): the rung of each viewer (the spread printed is
// what the server says, not what was wished for).
//
//   tests/netns-run.sh node tests/bench/bench_ladder.mjs --viewer build/tests/bench/whep_watch
//       [--seconds 20] [--settle 15]
// Exit status: 0 measured, 1 the setup failed, 77 skip (a tool missing).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cleanUpOnExit, findTools, linkNamespaces, makeNamespace, run } from '../browser/netns.mjs';
import {
  TestFailure, check, log, requirePrivateNetwork, skip, sleep, startProcess, stopProcess, tail,
  waitForLine,
} from '../browser/testkit.mjs';

const NAME = 'bench-ladder';
const PORT = 18098;
const WIDTH = 1280;
const HEIGHT = 720;
// Link of each viewer in phase "three rungs" (kbit/s, 0: not shaped): 3 on rung 0 (2 Mbit/s), 3
// behind 1 Mbit/s (rung 1, 667 kbit/s) and 2 behind 400 kbit/s (rung 2, 200 kbit/s).
const LINKS = [0, 0, 0, 1000, 1000, 1000, 400, 400];
const GOAL = 2.0;
const CLK_TCK = 100; // Linux USER_HZ

const viewers = LINKS.map((_, i) => ({
  send: [`lbs${i + 1}`, `10.81.${i + 1}.1`], view: [`lbv${i + 1}`, `10.81.${i + 1}.2`],
}));
// This process (in tests/netns-run.sh's namespace) reads /stats over this link, not shaped.
const CONTROL = { send: ['lbctl1', '10.81.100.1'], view: ['lbctl0', '10.81.100.2'] };
const procs = { send: null, server: null, ns: [], watchers: [] };
let TOOLS = {};

const tbf = (kbps) => ['root', 'tbf', 'rate', `${kbps}kbit`, 'burst', '32kb', 'latency', '100ms'];

/** CPU seconds (user + system) the process @pid has used so far. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
}

/** The server's /stats, over a link of its own from this process's namespace to the sender's. */
async function serverStats() {
  try {
    return await (await fetch(`http://${CONTROL.send[1]}:${PORT}/stats`,
      { signal: AbortSignal.timeout(2000) })).json();
  } catch {
    return null;
  }
}

/** Viewers on each rung in one /stats: [n0, n1, n2]; -1 (no rung yet) is left out. */
function spread(stats, rungs = 3) {
  const on = new Array(rungs).fill(0);
  for (const s of stats?.sessions ?? []) if (s.rung >= 0 && s.rung < rungs) on[s.rung]++;
  return on;
}

async function phase(label, links, opts) {
  for (let i = 0; i < links.length; i++) {
    if (links[i]) await procs.send.must('tc', ['qdisc', 'add', 'dev', viewers[i].send[0], ...tbf(links[i])]);
  }
  const addresses = viewers.map((v) => `"${v.send[1]}"`).join(',');
  procs.server = startProcess(`gst-launch-1.0 (${label})`, TOOLS.nsenter, [`--net=${procs.send.netns}`, '--',
    TOOLS['gst-launch-1.0'], '-e', 'videotestsrc', 'is-live=true', 'pattern=smpte', 'horizontal-speed=4',
    '!', `video/x-raw,width=${WIDTH},height=${HEIGHT},framerate=30/1`, '!', 'webrtcserversink',
    'bind-address=0.0.0.0', `ice-addresses=<${addresses}>`, `port=${PORT}`]);
  await waitForLine(procs.server, /PLAYING/, 10000);
  const lifetime = String(opts.settle + opts.seconds + 10);
  procs.watchers = viewers.map((v, i) => startProcess(`viewer ${i + 1}`, TOOLS.nsenter,
    [`--net=${procs.ns[i].netns}`, '--', opts.viewer, `http://${v.send[1]}:${PORT}`, lifetime,
      '--twcc', '--no-decode', '--local', v.view[1]]));
  await sleep(opts.settle * 1000);
  for (const w of procs.watchers) check(w.exitCode === null, `${w.label} ended early:\n${tail(w)}`);
  const framesAt = () => procs.watchers.map((w) => Number(w.lines.at(-1)?.match(/^frames (\d+)$/)?.[1] ?? 0));
  const frames0 = framesAt();
  const cpu0 = cpuSeconds(procs.server.pid);
  const t0 = Date.now();
  const samples = [];
  while (Date.now() - t0 < opts.seconds * 1000) {
    const stats = await serverStats();
    if (stats) samples.push(stats);
    await sleep(2000);
  }
  const cpu1 = cpuSeconds(procs.server.pid);
  const seconds = (Date.now() - t0) / 1000;
  const frames1 = framesAt();
  const last = samples.at(-1);
  const rungs = last?.encoder?.rungs ?? [];
  // Share of the samples each viewer spent on each rung, summed: viewer-samples per rung.
  const share = new Array(Math.max(rungs.length, 1)).fill(0);
  for (const s of samples) spread(s, share.length).forEach((n, r) => { share[r] += n; });
  const total = share.reduce((a, b) => a + b, 0) || 1;
  // Each viewer's rung at the end, by its session id (whep_watch prints "session /whep/<id>").
  const rungOf = new Map((last?.sessions ?? []).map((x) => [x.id, x.rung]));
  const perViewer = procs.watchers.map((w, i) => {
    const id = w.lines.find((l) => l.startsWith('session '))?.split('/').pop();
    return `${links[i] ? `${links[i]} kbit/s` : 'unshaped'}: rung ${rungOf.get(id) ?? '?'}`;
  });
  const result = {
    label,
    perViewer,
    cpu: (cpu1 - cpu0) / seconds, // cores
    seconds,
    spreadNow: spread(last, share.length),
    share: share.map((n) => n / total),
    sessionsSeen: last?.sessions?.length ?? 0,
    fps: frames1.map((f, i) => (f - frames0[i]) / seconds),
    rungs: rungs.map((r) => `${r.width}x${r.height} ` +
      `${r.encoding ? `${(r.bitrate / 1e3).toFixed(0)} kbit/s ${r.fps.toFixed(0)} fps` : 'idle'}`),
    estimates: (last?.sessions ?? []).map((s) => `${s.rung}:${s.estimate ? (s.estimate.bitrate / 1e3).toFixed(0) : '-'}`),
  };
  log(`${label}: sender ${(100 * result.cpu).toFixed(0)} % of a core over ${seconds.toFixed(1)} s; ` +
    `viewers per rung now ${result.spreadNow.join('/')} (of ${result.sessionsSeen} sessions), over the window ` +
    `${result.share.map((x) => `${(100 * x).toFixed(0)} %`).join('/')}; rungs ${result.rungs.join(', ')}; ` +
    `viewers' frames/s ${result.fps.map((f) => f.toFixed(0)).join(' ')}; rung:estimate kbit/s ${result.estimates.join(' ')}; ` +
    `each viewer's link and rung at the end: ${perViewer.join(', ')}`);
  for (const w of procs.watchers) await stopProcess(w, 'SIGTERM', 2000);
  procs.watchers = [];
  await stopProcess(procs.server, 'SIGINT', 5000);
  procs.server = null;
  for (let i = 0; i < links.length; i++) {
    if (links[i]) await procs.send.must('tc', ['qdisc', 'del', 'dev', viewers[i].send[0], 'root']);
  }
  return result;
}

async function main() {
  const { values } = parseArgs({
    options: {
      viewer: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      settle: { type: 'string', default: '15' },
    },
  });
  const opts = { viewer: values.viewer, seconds: Number(values.seconds), settle: Number(values.settle) };
  if (!opts.viewer || !existsSync(opts.viewer)) skip(`no viewer program (--viewer PATH/TO/whep_watch): ${opts.viewer}`);
  TOOLS = findTools([['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['ip', 'iproute2'],
    ['tc', 'iproute2'], ['gst-launch-1.0', 'gstreamer1.0-tools']]);
  if (spawnSync('gst-inspect-1.0', ['webrtcserversink'], { stdio: 'ignore' }).status !== 0) {
    skip('GStreamer element webrtcserversink not found (plugin not built? GST_PLUGIN_PATH?)');
  }
  requirePrivateNetwork();
  const timer = setTimeout(() => {
    console.log(`FAIL ${NAME}: overall timeout`);
    process.exit(1);
  }, 280000);
  let failure = null;
  const results = [];
  try {
    procs.send = await makeNamespace('lb-send', TOOLS);
    const here = {
      pid: process.pid,
      must: async (cmd, args) => {
        const r = await run(TOOLS[cmd], args);
        check(r.code === 0, `${cmd} ${args.join(' ')} failed (${r.code}): ${r.out}`);
      },
    };
    await linkNamespaces(procs.send, here, TOOLS, CONTROL);
    for (let i = 0; i < viewers.length; i++) {
      procs.ns.push(await makeNamespace(`lb-v${i + 1}`, TOOLS));
      await linkNamespaces(procs.send, procs.ns[i], TOOLS, viewers[i]);
    }
    results.push(await phase('one rung', LINKS.map(() => 0), opts));
    results.push(await phase('three rungs', LINKS, opts));
  } catch (err) {
    failure = err;
  } finally {
    for (const w of procs.watchers) await stopProcess(w, 'SIGKILL', 1000);
    await stopProcess(procs.server, 'SIGINT', 5000);
    for (const ns of [...procs.ns, procs.send]) {
      ns?.stdin.end();
      await stopProcess(ns, 'SIGTERM', 2000);
    }
    clearTimeout(timer);
  }
  if (failure) {
    if (procs.server) console.log(`--- gst-launch-1.0 output ---\n${tail(procs.server, 30)}`);
    console.log(`FAIL ${NAME}: ${failure instanceof TestFailure ? failure.message : failure.stack}`);
    process.exit(1);
  }
  const [one, three] = results;
  const ratio = three.cpu / one.cpu;
  console.log(`\nsender CPU, 8 viewers (whep_watch --twcc), 1280x720@30, links ${LINKS.map((k) => k || '-').join(' ')} kbit/s:`);
  console.log('| | sender CPU (cores) | viewers per rung at the end | share of time per rung | rungs encoding at the end |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.label} | ${r.cpu.toFixed(2)} | ${r.spreadNow.join('/')} | ` +
      `${r.share.map((x) => `${(100 * x).toFixed(0)} %`).join('/')} | ${r.rungs.join(', ')} |`);
  }
  const spreadOver = three.spreadNow.filter((n) => n > 0).length;
  console.log(`ratio three rungs / one rung: ${ratio.toFixed(2)} (goal <= ${GOAL.toFixed(1)}: three encodes, not eight)` +
    `${spreadOver < 3 ? `; NOTE: the viewers ended on ${spreadOver} rung(s), not 3` : ''}`);
  process.exit(0);
}

cleanUpOnExit(NAME, () => [...procs.watchers, procs.server, ...procs.ns, procs.send], () => null);

main();
