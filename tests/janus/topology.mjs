// The Janus topology of tests/janus, for the test (topology.test.mjs) and the benchmark
// (bench_janus.mjs): each host a network namespace of the caller's own (unshare --net children, as
// tests/browser/netns.mjs makes them), joined by a bridge in the caller's namespace (itself a
// private one: tests/netns-run.sh), where the caller sits at HUB; the origin and the edges run by
// deploy/janus/janus-topology.sh from a topology.env written here, so what ships is what runs;
// the sender is `livecast --whip` in its own namespace.

import {
  existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.mjs';
import { findTools, makeNamespace, run } from '../browser/netns.mjs';
import {
  check, log, skip, sleep, startProcess, stopProcess, tail, TestFailure, waitForLine, watchPage,
} from '../browser/testkit.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
const TOPOLOGY = path.join(REPO, 'deploy/janus/janus-topology.sh');
const JANUS_JS = '/usr/share/javascript/janus-gateway/janus.js';

const NET = '10.0.0';
export const HUB = `${NET}.1`;
export const SEND = `${NET}.5`;
export const ORIGIN = `${NET}.10`;
export const EDGES = { edge1: `${NET}.21`, edge2: `${NET}.22` };
export const VIEW = `${NET}.31`;
export const TOKEN = 'topology-test-token';
export const WHIP_URL = `http://${ORIGIN}:7080/whip/endpoint/livecast`;
const SENDER_STATS = `http://${SEND}:8080/stats`;

/** The value after --@name on the command line, or @fallback. */
export function arg(name, fallback) {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
}

/** The tools, or a skip (77) naming what is missing; @chromium: Chromium is needed too. */
export function checkPrerequisites(livecast, { chromium = true } = {}) {
  if (!livecast || !existsSync(livecast)) throw new TestFailure(`--livecast ${livecast}: no such program`);
  const tools = findTools([['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['ip', 'iproute2'],
    ['janus', 'janus'], ['python3', 'python3'], ['bash', 'bash']]);
  if (!existsSync(JANUS_JS)) skip(`no ${JANUS_JS} (apt-get install libjs-janus-gateway)`);
  const whip = path.join(REPO, 'deploy/janus/whip-server');
  if (!existsSync(path.join(whip, 'simple-whip-server/src/server.js')) ||
      !existsSync(path.join(whip, 'node_modules/express'))) {
    skip(`simple-whip-server is not unpacked in ${whip} (run deploy/janus/janus-topology.sh install)`);
  }
  if (chromium && !existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  return tools;
}

/** The current /stats of the sender (from the hub), or null. */
export async function senderStats() {
  try {
    const res = await fetch(SENDER_STATS, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

/** Calls @probe until it answers {ok: true}, at most @timeoutMs; its answer, or a failure. */
export async function waitFor(what, timeoutMs, probe) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await probe();
    if (last?.ok) return last;
    await sleep(250);
  }
  throw new TestFailure(`${what} within ${timeoutMs / 1000} s (last: ${JSON.stringify(last?.info ?? last)})`);
}

/** Waits until the sender's /stats says @state; returns {whip, stats}. */
export function waitWhip(state, timeoutMs, extra = () => true) {
  return waitFor(`WHIP state "${state}"`, timeoutMs, async () => {
    const s = await senderStats();
    return { ok: s?.whip?.state === state && extra(s.whip), info: s?.whip, whip: s?.whip, stats: s };
  });
}

/** SIGKILLs every process in @ns's network namespace but its holder; how many. */
export function killNamespace(ns) {
  const target = readlinkSync(ns.netns);
  let count = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === ns.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== target) continue;
      process.kill(Number(pid), 'SIGKILL');
      count++;
    } catch {
      // gone already, or not ours to read
    }
  }
  return count;
}

/** The viewer page of edge @edge, with its Janus transport on mountpoint 1, muted. */
export const edgePageUrl = (edge) =>
  `http://${EDGES[edge]}:8000/?janus=ws://${EDGES[edge]}:8188/&mountpoint=1&audio=0`;

/** A new page of @context showing edge @edge's viewer page; its messages go to @messages. */
export async function openEdgePage(context, edge, messages) {
  const page = await context.newPage();
  watchPage(page, edge, messages);
  await page.goto(edgePageUrl(edge), { timeout: 10000 });
  return page;
}

/** What the viewer page in @page has decoded so far, its picture's width and its state. */
export const pageFrames = (page) => page.evaluate(() => ({
  frames: window.livecast?.stats?.framesDecoded ?? 0,
  width: document.querySelector('video')?.videoWidth ?? 0,
  state: window.livecast?.state,
}));

/**
 * Runs a test's @body(), at most @timeoutMs, and exits: 0 when it returned; 1 when it threw or
 * ran out of time, after printing why, @report() (lines worth seeing) and the output's tail of
 * each process @processes() names (name → child). @cleanup() (at most 15 s) runs either way.
 */
export async function runTopologyTest(timeoutMs, { processes, cleanup, report = () => [] }, body) {
  const explain = (why) => {
    console.log(`FAIL: ${why}`);
    for (const line of report()) console.log(line);
    for (const [name, p] of Object.entries(processes())) if (p) console.log(`--- ${name}:\n${tail(p, 40)}`);
  };
  const timer = setTimeout(async () => {
    explain('overall timeout');
    await Promise.race([cleanup(), sleep(10000)]);
    process.exit(1);
  }, timeoutMs);
  let code = 0;
  try {
    await body();
  } catch (err) {
    explain(err instanceof TestFailure ? err.message : err.stack);
    code = 1;
  }
  clearTimeout(timer);
  await Promise.race([cleanup(), sleep(15000)]);
  process.exit(code);
}

export class Topology {
  constructor(tools, livecast) {
    this.tools = tools;
    this.livecast = livecast;
    this.dir = mkdtempSync(path.join(tmpdir(), 'livecast-janus-'));
    this.ns = {}; // host name → namespace holder
    this.roles = {}; // origin, edge1, edge2 → janus-topology.sh process
    this.sender = null;
  }

  /**
   * The bridge, the hosts' namespaces, topology.env; the origin and the edges running.
   * @edges: which of EDGES to run; @hosts: more hosts, name → address (nothing started there);
   * @env: more topology.env lines (after the test's own).
   */
  async up({ edges = Object.keys(EDGES), hosts: more = {}, env = '' } = {}) {
    const { tools } = this;
    const must = async (cmd, args) => {
      const r = await run(tools[cmd] ?? cmd, args);
      check(r.code === 0, `${cmd} ${args.join(' ')}: ${r.out}`);
    };
    const bridge = await run(tools.ip, ['link', 'add', 'lcbr0', 'type', 'bridge']);
    if (bridge.code !== 0) skip(`cannot create a bridge here: ${bridge.out}`);
    await must('ip', ['addr', 'add', `${HUB}/24`, 'dev', 'lcbr0']);
    await must('ip', ['link', 'set', 'lcbr0', 'up']);
    const hosts = { send: SEND, origin: ORIGIN, view: VIEW, ...more };
    for (const name of edges) hosts[name] = EDGES[name];
    for (const [name, addr] of Object.entries(hosts)) {
      const ns = await makeNamespace(`ns-${name}`, tools);
      this.ns[name] = ns;
      await must('ip', ['link', 'add', `lc-${name}`, 'type', 'veth', 'peer', 'name', 'eth0',
        'netns', String(ns.pid)]);
      await must('ip', ['link', 'set', `lc-${name}`, 'master', 'lcbr0', 'up']);
      await ns.must('ip', ['addr', 'add', `${addr}/24`, 'dev', 'eth0']);
      await ns.must('ip', ['link', 'set', 'eth0', 'up']);
    }
    // Fresh veths can take a moment to come up (seen on this machine): wait for each.
    for (const [name, addr] of Object.entries(hosts)) {
      await waitFor(`${name} reachable`, 10000, async () => {
        const r = await this.ns[name].exec('ip', ['-br', 'link', 'show', 'eth0']);
        return { ok: /\sUP\s/.test(r.out), info: `${addr}: ${r.out}` };
      });
    }
    this.env = path.join(this.dir, 'topology.env');
    writeFileSync(this.env, `${readFileSync(path.join(REPO, 'deploy/janus/topology.env'), 'utf8')}
# The test's own:
ORIGIN_ADDR=${ORIGIN}
EDGES="${edges.map((name) => `${name}=${EDGES[name]}`).join(' ')}"
WHIP_TOKEN=${TOKEN}
VIDEO_CODEC=vp8
STATE_DIR=${this.dir}/state
DEBUG_LEVEL=3
${env}
`);
    await this.startRole(['origin'], 'origin');
    for (const name of edges) await this.startRole(['edge', name], name);
    log(`origin and ${edges.join(', ')} ready`);
  }

  /** Runs janus-topology.sh @args in host @name's namespace, until it says it is ready. */
  async startRole(args, name) {
    const ns = this.ns[name];
    this.roles[name] = startProcess(name, this.tools.nsenter, [`--net=${ns.netns}`, '--',
      this.tools.bash, TOPOLOGY, '-c', this.env, ...args]);
    await waitForLine(this.roles[name], /janus-topology\[[a-z0-9]+\]: ready/, 30000);
  }

  /** Headless Chromium (playwright's @chromium) in the viewers' namespace, VIEW. */
  async launchChromium(chromium) {
    const wrapper = path.join(this.dir, 'chromium-in-view.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${this.tools.nsenter} --net=${this.ns.view.netns} -- ${CHROMIUM} "$@"\n`,
      { mode: 0o755 });
    return chromium.launch({ executablePath: wrapper,
      args: CHROMIUM_ARGS.filter((a) => a !== '--allow-loopback-in-peer-connection'), timeout: 15000 });
  }

  /**
   * livecast in the sender's namespace, publishing to @url (no --whip when null); @codec: vp8,
   * h264, or null for the sink's default.
   */
  startSender(url, token, extra = [], codec = 'vp8') {
    this.sender = startProcess('livecast', this.tools.nsenter, [`--net=${this.ns.send.netns}`, '--',
      this.livecast, '--preset', 'test', ...(codec ? ['--codec', codec] : []), '--size', '640x360', '--bind', SEND,
      ...(url ? ['--whip', url] : []), ...(token ? ['--whip-token', token] : []), ...extra],
    { env: { ...process.env, LIVECAST_PRESETS: path.join(REPO, 'launcher/presets.ini') } });
    return this.sender;
  }

  /** Bytes the sender's host has sent so far. */
  async senderTxBytes() {
    // /proc/net/dev is the reader's namespace's (sysfs would be the mounter's).
    const r = await this.ns.send.exec('cat', ['/proc/net/dev']);
    const line = r.out.split('\n').find((l) => l.trim().startsWith('eth0:'));
    check(line, `no eth0 in the sender's /proc/net/dev: ${r.out}`);
    return Number(line.split(':')[1].trim().split(/\s+/)[8]);
  }

  async down() {
    for (const p of [this.sender, ...Object.values(this.roles)]) if (p) await stopProcess(p, 'SIGTERM', 8000);
    for (const ns of Object.values(this.ns)) if (ns?.stdin) ns.stdin.end();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
