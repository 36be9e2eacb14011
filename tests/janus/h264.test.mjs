// H.264 through Janus: the topology of topology.test.mjs with the room and the edge's mountpoint
// set for H.264 by topology.env alone (VIDEO_CODEC=h264: the VideoRoom's videocodec and
// h264_profile, the Streaming mountpoint's codec, payload type and fmtp, written by
// deploy/janus/janus-topology.sh), `livecast --whip` with the sink's default codec (H.264, no
// --codec), one edge, and two headless Chromium viewers on it running the viewer page's Janus
// transport.
//
// Asserts: the sink publishes; the forwarder forwards the publisher to the edge; both Chromium
// viewers decode H.264 (getStats' codec) at 640 pixels wide and ≥ 25 frames/s over 10 s; no
// viewer page throws.
// A missing component skips (77) unless LIVECAST_REQUIRE_BROWSER=1.
//
// usage: node h264.test.mjs --livecast PATH

import {
  check, loadPlaywright, log, requirePrivateNetwork, sleep, stopProcess, waitForLine,
} from '../browser/testkit.mjs';
import {
  arg, checkPrerequisites, openEdgePage, pageFrames, runTopologyTest, Topology, TOKEN, waitFor,
  waitWhip, WHIP_URL,
} from './topology.mjs';

const LIVECAST = arg('livecast');
const MIN_FPS = 25;
const OVERALL_TIMEOUT_MS = 120000;

async function main() {
  requirePrivateNetwork();
  const tools = checkPrerequisites(LIVECAST);
  const chromium = await loadPlaywright();
  const topo = new Topology(tools, LIVECAST);
  const messages = [];
  let browser = null;
  const cleanup = async () => {
    if (browser) await Promise.race([browser.close(), sleep(5000)]);
    await topo.down();
  };
  const processes = () => ({ sender: topo.sender, ...topo.roles });
  await runTopologyTest(OVERALL_TIMEOUT_MS, { processes, cleanup, report: () => messages.slice(-20) }, async () => {
    await topo.up({ edges: ['edge1'], env: 'VIDEO_CODEC=h264' });
    const sender = topo.startSender(WHIP_URL, TOKEN, [], null);
    const published = await waitWhip('publishing', 30000);
    log(`publishing: ${JSON.stringify(published.whip)}`);
    await waitForLine(topo.roles.origin, /forwarder: publisher .* → edge1/, 10000);

    browser = await topo.launchChromium(chromium);
    const context = await browser.newContext({ viewport: { width: 800, height: 500 } });
    const pages = [await openEdgePage(context, 'edge1', messages), await openEdgePage(context, 'edge1', messages)];
    for (const [i, page] of pages.entries()) {
      await waitFor(`Chromium viewer ${i + 1} decoding`, 20000, async () => {
        const f = await pageFrames(page);
        return { ok: f.frames >= 30 && f.width === 640, info: f };
      });
    }
    const before = await Promise.all(pages.map(pageFrames));
    const t0 = performance.now();
    await sleep(10000);
    const after = await Promise.all(pages.map(pageFrames));
    const seconds = (performance.now() - t0) / 1000;
    for (const [i, page] of pages.entries()) {
      const fps = (after[i].frames - before[i].frames) / seconds;
      const codec = await page.evaluate(() => window.livecast?.stats?.codec);
      const fmtp = await page.evaluate(() => window.livecast?.stats?.codecParameters);
      log(`Chromium viewer ${i + 1}: ${codec} (${fmtp}), ${fps.toFixed(1)} fps, ${after[i].width} wide`);
      check(codec === 'H264', `Chromium viewer ${i + 1} decodes ${codec}, not H.264`);
      check(fps >= MIN_FPS, `Chromium viewer ${i + 1}: ${fps.toFixed(1)} fps < ${MIN_FPS}`);
    }
    const pageErrors = messages.filter((m) => / page error: /.test(m));
    check(!pageErrors.length, `errors in the viewer pages: ${pageErrors.join('; ')}`);
    await stopProcess(sender, 'SIGINT', 10000);
    console.log('PASS: livecast → WHIP (H.264) → Janus origin → edge → Chromium decoding H.264');
  });
}

main();
