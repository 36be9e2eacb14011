#!/usr/bin/env node
// Audio end to end: videotestsrc + audiotestsrc (440 Hz sine, volume 0.8) into webrtcserversink,
// the viewer page in headless Chromium with its defaults:
//   1. video frames decode and an audio track arrives (asked for by default);
//   2. the audio has energy: WebAudio AnalyserNode RMS > 0.1 (a 0.8 sine is ~0.566), dominant
//      frequency 440 Hz;
//   3. the video starts muted with the "Unmute" controls shown; a click unmutes, and then
//      getStats() inbound-rtp audio totalAudioEnergy > 0 (Chromium measures it at playout) and
//      the overlay shows the level in dB;
//   4. ?audio=0: video only, no audio track, no sound control.
//
//   tests/netns-run.sh node tests/browser/audio.test.mjs [--shots DIR]

/* global window, document, AudioContext, MediaStream */

import { parseArgs } from 'node:util';
import {
  check, getJson, log, ms, runTest, saveShot, sleep, startPipeline, waitForFrames, waitForHttp,
  watchPage,
} from './harness.mjs';

const PORT = 18080;
const BASE = `http://127.0.0.1:${PORT}`;
const WIDTH = 640;
const FREQ = 440;
const MIN_RMS = 0.1;

const { values: cli } = parseArgs({ options: { shots: { type: 'string' } } });

/** RMS and dominant frequency of the page's received audio track, through WebAudio. */
function measureAudio(page, durationMs) {
  return page.evaluate(async (duration) => {
    const track = document.querySelector('video').srcObject?.getAudioTracks()[0];
    if (!track) return { track: false };
    const ctx = new AudioContext();
    await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 2000))]);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192; // 5.9 Hz bins at 48 kHz
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const wave = new Float32Array(analyser.fftSize);
    const spectrum = new Float32Array(analyser.frequencyBinCount);
    const rms = [];
    const peaks = [];
    const end = performance.now() + duration;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      analyser.getFloatTimeDomainData(wave);
      let sum = 0;
      for (const x of wave) sum += x * x;
      rms.push(Math.sqrt(sum / wave.length));
      analyser.getFloatFrequencyData(spectrum);
      let best = 1;
      for (let i = 2; i < spectrum.length; i++) if (spectrum[i] > spectrum[best]) best = i;
      peaks.push((best * ctx.sampleRate) / analyser.fftSize);
    }
    const state = ctx.state;
    const sampleRate = ctx.sampleRate;
    await ctx.close();
    const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    return {
      track: true, state, sampleRate, readyState: track.readyState,
      rmsMedian: median(rms), rmsMax: Math.max(...rms), peakHz: median(peaks),
    };
  }, durationMs);
}

function soundUi(page) {
  return page.evaluate(() => ({
    muted: document.querySelector('video').muted,
    soundHidden: document.getElementById('sound').hidden,
    soundLabel: document.getElementById('sound-label').textContent,
    hintHidden: document.getElementById('unmute-hint').hidden,
    audioTracks: document.querySelector('video').srcObject?.getAudioTracks().length ?? 0,
    audioStats: window.livecast.stats?.audio ?? null,
  }));
}

runTest('browser-audio', 60000, async ({ launch, servers, messages }) => {
  const server = startPipeline([
    'videotestsrc', 'is-live=true', 'pattern=ball', '!',
    `video/x-raw,width=${WIDTH},height=480,framerate=30/1`, '!',
    'webrtcserversink', 'name=s', `port=${PORT}`,
    'audiotestsrc', 'is-live=true', 'wave=sine', `freq=${FREQ}`, 'volume=0.8', '!', 's.audio_0',
  ]);
  servers.push(server);
  await waitForHttp(`${BASE}/`, 10000, server);
  const config = await getJson(`${BASE}/config`);
  log('/config', JSON.stringify(config));

  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  watchPage(page, 'viewer', messages);
  await page.goto(`${BASE}/?stats`, { timeout: 10000 });
  const frames = await waitForFrames(page, 'viewer', { width: WIDTH });
  log('viewer:', JSON.stringify(frames));

  // 1. An audio track, muted video, the unmute controls.
  await page.waitForFunction(() => window.livecast.stats?.audio?.packetsReceived > 50, null,
    { timeout: 5000, polling: 100 }).catch(() => {});
  const before = await soundUi(page);
  log('sound UI before:', JSON.stringify(before));
  check(before.audioTracks === 1, `viewer: ${before.audioTracks} audio tracks, expected 1`);
  check(before.audioStats?.packetsReceived > 0,
    `viewer: no audio packets in getStats (${JSON.stringify(before.audioStats)})`);
  check(before.audioStats.codec?.toLowerCase() === 'opus',
    `viewer: audio codec ${before.audioStats.codec}, expected opus`);
  check(before.muted, 'viewer: the video should start muted (autoplay rules)');
  check(!before.soundHidden && before.soundLabel === 'Unmute',
    `viewer: the sound button should say "Unmute" (hidden ${before.soundHidden}, "${before.soundLabel}")`);
  check(!before.hintHidden, 'viewer: the "click to unmute" hint is not shown');
  await sleep(1100); // one more stats poll: the overlay shows audio rates
  await saveShot(cli.shots, 'audio-muted.png', await page.screenshot());

  // 2. Energy: WebAudio and getStats.
  const measured = await measureAudio(page, 1500);
  log('WebAudio:', JSON.stringify(measured));
  check(measured.track, 'viewer: no audio track to measure');
  check(measured.rmsMedian > MIN_RMS,
    `viewer: audio RMS ${measured.rmsMedian?.toFixed(3)} (max ${measured.rmsMax?.toFixed(3)}), ` +
    `expected > ${MIN_RMS} (AudioContext ${measured.state})`);
  check(Math.abs(measured.peakHz - FREQ) <= 15,
    `viewer: dominant frequency ${measured.peakHz.toFixed(1)} Hz, expected ${FREQ} ± 15 Hz`);

  // 3. Unmute with a click.
  await page.click('#unmute-hint', { timeout: 3000 });
  await page.waitForFunction(() => !document.querySelector('video').muted, null,
    { timeout: 2000, polling: 50 }).catch(() => {});
  const after = await soundUi(page);
  check(!after.muted, 'viewer: still muted after clicking "click to unmute"');
  check(after.soundLabel === 'Mute' && after.hintHidden,
    `viewer: after unmuting the button says "${after.soundLabel}", hint hidden ${after.hintHidden}`);
  // Chromium measures the level of received audio where it plays it out: once unmuted.
  await page.waitForFunction(() => window.livecast.stats?.audio?.totalAudioEnergy > 0 &&
    window.livecast.stats.audio.rms > 0, null, { timeout: 4000, polling: 100 }).catch(() => {});
  const energy = await page.evaluate(() => window.livecast.stats?.audio);
  log('getStats audio (unmuted):', JSON.stringify(energy));
  check(energy?.totalAudioEnergy > 0,
    `viewer: getStats totalAudioEnergy ${energy?.totalAudioEnergy} after unmuting`);
  const levelText = await page.textContent('#s-audio-level');
  check(/dB$/.test(levelText), `viewer: the overlay's audio level says "${levelText}"`);
  await saveShot(cli.shots, 'audio-unmuted.png', await page.screenshot());
  await page.click('#sound');
  check(await page.evaluate(() => document.querySelector('video').muted),
    'viewer: the sound button did not mute again');

  // 4. ?audio=0: video only.
  const noAudio = await context.newPage();
  watchPage(noAudio, 'audio=0', messages);
  await noAudio.goto(`${BASE}/?audio=0`, { timeout: 10000 });
  await waitForFrames(noAudio, 'viewer ?audio=0', { width: WIDTH, min: 10 });
  const off = await soundUi(noAudio);
  check(off.audioTracks === 0 && off.soundHidden && !off.audioStats,
    `viewer ?audio=0: ${off.audioTracks} audio tracks, sound button hidden ${off.soundHidden}, ` +
    `audio stats ${JSON.stringify(off.audioStats)}`);

  const energyText = `getStats totalAudioEnergy ${energy.totalAudioEnergy.toFixed(3)}, ` +
    `audioLevel ${energy.level?.toFixed(3)} (overlay ${levelText})`;
  return `video ${frames.width}x${frames.height} ${frames.codec} first frame ` +
    `${ms(frames.firstFrameMs)}; audio opus: WebAudio RMS ${measured.rmsMedian.toFixed(3)} ` +
    `(expected ~0.566, > ${MIN_RMS}), dominant ${measured.peakHz.toFixed(1)} Hz, ${energyText}; ` +
    'muted at start, unmuted by a click; ?audio=0 video only';
});
