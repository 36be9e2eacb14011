// What a page's video receiver did, sampled from getStats() in the page, and the numbers over a
// window of those samples (fps, worst second, longest gap, freezes, loss, bitrate, size). Shared by
// browser-loss (tests/browser/loss.test.mjs) and browser-ladder (tests/browser/ladder.test.mjs).

/* global window, document, performance */

import { check } from './testkit.mjs';
// ---- in the page ---------------------------------------------------------------------------------

// Keeps every RTCPeerConnection and samples the newest one's video getStats() every `ms` while
// started, each sample stamped with Date.now() (the same clock as this process).
export function installSampler() {
  const Original = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
  window.__samples = [];
  window.__presented = [];
  let timer = null;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      const pcIndex = window.__pcs.length - 1;
      const pc = window.__pcs[pcIndex];
      if (!pc) return;
      const report = await pc.getStats();
      const t = Date.now();
      for (const s of report.values()) {
        if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.mediaType === 'video')) {
          window.__samples.push({
            t, pc: pcIndex, state: pc.connectionState,
            framesDecoded: s.framesDecoded ?? 0, framesReceived: s.framesReceived ?? 0,
            framesDropped: s.framesDropped ?? 0, keyFramesDecoded: s.keyFramesDecoded ?? 0,
            freezeCount: s.freezeCount ?? 0, totalFreezesDuration: s.totalFreezesDuration ?? 0,
            pauseCount: s.pauseCount ?? 0,
            packetsLost: s.packetsLost ?? 0, packetsReceived: s.packetsReceived ?? 0,
            nackCount: s.nackCount ?? 0, pliCount: s.pliCount ?? 0, firCount: s.firCount ?? 0,
            retransmittedPacketsReceived: s.retransmittedPacketsReceived ?? null,
            retransmittedBytesReceived: s.retransmittedBytesReceived ?? null,
            bytesReceived: s.bytesReceived ?? 0,
            jitterBufferDelay: s.jitterBufferDelay ?? 0,
            jitterBufferEmittedCount: s.jitterBufferEmittedCount ?? 0,
            width: s.frameWidth ?? 0, height: s.frameHeight ?? 0,
          });
          break;
        }
      }
    } catch {
      // closed meanwhile
    } finally {
      busy = false;
    }
  };
  window.__startSampling = (ms) => {
    if (!timer) timer = setInterval(sample, ms);
  };
  window.__stopSampling = () => {
    clearInterval(timer);
    timer = null;
  };
  // Frames actually presented by the <video> (wall-clock ms), when the browser supports it.
  const watchVideo = () => {
    const v = document.querySelector('video');
    if (!v || !v.requestVideoFrameCallback) return;
    const onFrame = (now, meta) => {
      // rtpTimestamp (WebRTC sources): which moment of the stream this frame shows; pc: the
      // session it came from (each has its own RTP clock).
      window.__presented.push({
        t: performance.timeOrigin + now, rtp: meta?.rtpTimestamp ?? null, pc: window.__pcs.length - 1,
      });
      if (window.__presented.length > 4000) window.__presented.splice(0, 1000);
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  };
  document.addEventListener('DOMContentLoaded', watchVideo);
}

// ---- numbers -------------------------------------------------------------------------------------

/** The last sample at or before t (same peer connection as `pc` when given). */
export function at(samples, t, pc) {
  let found = null;
  for (const s of samples) {
    if (s.t > t) break;
    if (pc === undefined || s.pc === pc) found = s;
  }
  return found;
}

export function firstAfter(samples, t) {
  return samples.find((s) => s.t >= t) ?? null;
}

export const delta = (a, b, key) => (a[key] ?? 0) - (b[key] ?? 0);

/** A gap in decoded frames this long is listed (windowStats' longGaps). */
export const LONG_GAP_MS = 500;

/** Numbers over [t0, t1] from the samples. */
export function windowStats(samples, t0, t1) {
  const a = firstAfter(samples, t0);
  const b = at(samples, t1, a?.pc);
  check(a && b && b.t > a.t, `no getStats samples between ${t0} and ${t1}`);
  const seconds = (b.t - a.t) / 1000;
  // Worst one-second window (sliding, sample to sample).
  let minFps = Infinity;
  const inside = samples.filter((s) => s.t >= a.t && s.t <= b.t && s.pc === a.pc);
  for (let i = 0, j = 0; i < inside.length; i++) {
    while (j < inside.length && inside[j].t - inside[i].t < 1000) j++;
    if (j >= inside.length) break;
    minFps = Math.min(minFps, (inside[j].framesDecoded - inside[i].framesDecoded) * 1000 /
      (inside[j].t - inside[i].t));
  }
  // The longest time without a new decoded frame, and every gap of LONG_GAP_MS or more (when it
  // began, the clock of Date.now()).
  let longestGap = 0;
  const longGaps = [];
  let lastChange = inside[0]?.t;
  for (let i = 1; i < inside.length; i++) {
    if (inside[i].framesDecoded !== inside[i - 1].framesDecoded) {
      const gap = inside[i].t - lastChange;
      longestGap = Math.max(longestGap, gap);
      if (gap >= LONG_GAP_MS) longGaps.push({ t: lastChange, ms: gap });
      lastChange = inside[i].t;
    }
  }
  const lost = delta(b, a, 'packetsLost');
  const received = delta(b, a, 'packetsReceived');
  return {
    seconds,
    samples: inside.length,
    sameSession: a.pc === b.pc,
    fps: delta(b, a, 'framesDecoded') / seconds,
    minFps,
    longestGapMs: longestGap,
    longGaps,
    frames: delta(b, a, 'framesDecoded'),
    framesDropped: delta(b, a, 'framesDropped'),
    keyFrames: delta(b, a, 'keyFramesDecoded'),
    freezes: delta(b, a, 'freezeCount'),
    freezeSeconds: delta(b, a, 'totalFreezesDuration'),
    packetsLost: lost,
    packetsReceived: received,
    lossPercent: lost + received > 0 ? (100 * lost) / (lost + received) : 0,
    nacks: delta(b, a, 'nackCount'),
    plis: delta(b, a, 'pliCount'),
    firs: delta(b, a, 'firCount'),
    rtxPackets: b.retransmittedPacketsReceived === null ? null
      : delta(b, a, 'retransmittedPacketsReceived'),
    kbps: (delta(b, a, 'bytesReceived') * 8) / seconds / 1000,
    jitterBufferMs: delta(b, a, 'jitterBufferEmittedCount') > 0
      ? (1000 * delta(b, a, 'jitterBufferDelay')) / delta(b, a, 'jitterBufferEmittedCount') : null,
    width: b.width,
    height: b.height,
  };
}

export function describe(w) {
  return `${w.fps.toFixed(2)} fps over ${w.seconds.toFixed(1)} s (worst 1 s ` +
    `${Number.isFinite(w.minFps) ? w.minFps.toFixed(1) : '?'} fps, longest gap ` +
    `${w.longestGapMs} ms), freezes ${w.freezes} (${w.freezeSeconds.toFixed(2)} s), ` +
    `dropped ${w.framesDropped}, key frames ${w.keyFrames}; packets lost ${w.packetsLost} of ` +
    `${w.packetsLost + w.packetsReceived} (${w.lossPercent.toFixed(2)}% on the wire, repaired ones included), ` +
    `NACKs ${w.nacks}, retransmitted received ${w.rtxPackets ?? 'n/a'}, PLIs ${w.plis}, ` +
    `FIRs ${w.firs}; ${w.kbps.toFixed(0)} kbit/s, jitter buffer ` +
    `${w.jitterBufferMs === null ? '?' : w.jitterBufferMs.toFixed(0)} ms`;
}
