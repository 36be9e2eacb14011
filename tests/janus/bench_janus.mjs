// What serving through Janus saves the sender: livecast's CPU and upstream bytes with 1, 20 and
// MAX viewers watching through the Janus topology of tests/janus (livecast --whip → origin → two
// edges; libdatachannel viewers split over the edges), against the same viewers served by the
// sink itself over WHEP. Prints each figure and the Janus/direct ratios; the goal is flat: one
// publisher's worth whatever the audience. Never fails on a number (a benchmark), but fails when
// viewers do not get frames, since the figures would then mean nothing.
//
// usage: node bench_janus.mjs --livecast PATH [--counts 1,20,40] [--seconds 10]

import { readFileSync } from 'node:fs';

import { log, requirePrivateNetwork, skip, sleep, stopProcess, tail, TestFailure } from '../browser/testkit.mjs';
import { JanusViewer, loadNodeDataChannel, WhepViewer } from './janus-viewer.mjs';
import {
  arg, checkPrerequisites, EDGES, HUB, SEND, Topology, TOKEN, waitFor, waitWhip, WHIP_URL,
} from './topology.mjs';

const LIVECAST = arg('livecast');
const COUNTS = arg('counts', '1,20,40').split(',').map(Number);
const SECONDS = Number(arg('seconds', '10'));
const TICKS_PER_SECOND = 100; // /proc/PID/stat's clock ticks (USER_HZ)

/** CPU seconds (user + system) used so far by process @pid. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
}

/** Starts @count viewers (in batches, as max-pending wants), waits for frames, measures. */
async function measure(topo, label, count, makeViewer) {
  const viewers = [];
  for (let i = 0; i < count; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 10); j++) {
      const v = makeViewer(j);
      viewers.push(v);
      batch.push(v.start());
    }
    await Promise.all(batch);
    await sleep(500);
  }
  await waitFor(`${label}: ${count} viewers receiving frames`, 30000, async () => {
    const now = performance.now();
    return { ok: viewers.every((v) => v.fps(now - 1000, now) > 10),
      info: viewers.filter((v) => v.fps(now - 1000, now) <= 10).map((v) => v.name).join(' ') };
  });
  await sleep(2000); // the sender's encoder and rates settle
  const pid = topo.sender.pid;
  const cpu0 = cpuSeconds(pid);
  const tx0 = await topo.senderTxBytes();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const t1 = performance.now();
  const cpu = (cpuSeconds(pid) - cpu0) / ((t1 - t0) / 1000);
  const mbps = ((await topo.senderTxBytes()) - tx0) * 8 / ((t1 - t0) / 1000) / 1e6;
  const fps = viewers.map((v) => v.fps(t0, t1));
  for (const v of viewers) await v.stop();
  const result = { label, count, cpu, mbps, minFps: Math.min(...fps),
    meanFps: fps.reduce((a, b) => a + b, 0) / fps.length };
  log(`${label} ${count} viewer(s): sender CPU ${(cpu * 100).toFixed(0)}% of a core, upstream ` +
    `${mbps.toFixed(2)} Mbit/s, viewers ${result.meanFps.toFixed(1)} fps (min ${result.minFps.toFixed(1)})`);
  await sleep(2000); // the sessions end before the next round
  return result;
}

async function main() {
  requirePrivateNetwork();
  const tools = checkPrerequisites(LIVECAST, { chromium: false });
  const ndc = await loadNodeDataChannel();
  if (!ndc) skip('node-datachannel is not installed (npm ci --prefix tests/browser)');
  const topo = new Topology(tools, LIVECAST);
  const keep = [];
  const results = { janus: [], direct: [] };
  try {
    await topo.up();
    topo.startSender(WHIP_URL, TOKEN);
    await waitWhip('publishing', 30000);
    for (const count of COUNTS) {
      results.janus.push(await measure(topo, 'through Janus', count, (i) => {
        const edge = i % 2 ? 'edge2' : 'edge1';
        return new JanusViewer(ndc, { api: `http://${EDGES[edge]}:8088/janus`, mountpoint: 1,
          bindAddress: HUB, name: `${edge}-${i}`, keep });
      }));
    }
    await stopProcess(topo.sender, 'SIGINT', 10000);
    topo.startSender(null, null);
    await waitFor('the sink serving', 15000, async () => {
      try {
        return { ok: (await fetch(`http://${SEND}:8080/config`)).ok };
      } catch (err) {
        return { ok: false, info: String(err) };
      }
    });
    for (const count of COUNTS) {
      results.direct.push(await measure(topo, 'direct', count, (i) => new WhepViewer(ndc, { url: `http://${SEND}:8080/whep`, name: `whep-${i}`, bindAddress: HUB, keep })));
    }
  } catch (err) {
    console.log(`FAIL: ${err instanceof TestFailure ? err.message : err.stack}`);
    for (const [name, p] of Object.entries({ sender: topo.sender, ...topo.roles })) {
      if (p) console.log(`--- ${name}:\n${tail(p, 30)}`);
    }
    await Promise.race([topo.down(), sleep(15000)]);
    process.exit(1);
  }
  await Promise.race([topo.down(), sleep(15000)]);

  console.log('\nviewers | sender CPU (% of a core) Janus / direct = ratio | upstream Mbit/s Janus / direct = ratio');
  for (let i = 0; i < COUNTS.length; i++) {
    const j = results.janus[i];
    const d = results.direct[i];
    console.log(`${String(j.count).padStart(7)} | ${(j.cpu * 100).toFixed(0).padStart(4)} / ` +
      `${(d.cpu * 100).toFixed(0).padStart(4)} = ${(j.cpu / d.cpu).toFixed(2)} | ` +
      `${j.mbps.toFixed(2)} / ${d.mbps.toFixed(2)} = ${(j.mbps / d.mbps).toFixed(2)}`);
  }
  const first = results.janus[0];
  const last = results.janus[results.janus.length - 1];
  console.log(`through Janus, ${last.count} viewers against ${first.count}: CPU ×${(last.cpu / first.cpu).toFixed(2)}, ` +
    `upstream ×${(last.mbps / first.mbps).toFixed(2)} (flat: 1.00)`);
  process.exit(0);
}

main();
