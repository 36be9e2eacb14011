// A viewer of a Janus Streaming mountpoint with a WebRTC stack that is not a browser's:
// libdatachannel (npm node-datachannel, from tests/browser/node_modules) speaking the Janus HTTP
// API (create, attach janus.plugin.streaming, watch → Janus's offer, our answer with "start",
// keepalives). It counts what it receives: RTP packets and, for VP8, whole frames (distinct
// timestamps of packets with the marker bit) and key frames (the VP8 payload header's P bit), and
// asks for a key frame (PLI) once connected, as a browser does. Whatever goes wrong (the edge
// stops answering, nothing arrives for `silenceMs`) ends the session, and a new one starts after
// a back-off (250 ms doubling to 2 s): the viewer comes back by itself, like the viewer page.

import { createRequire } from 'node:module';

const requireFromBrowserTests = createRequire(new URL('../browser/package.json', import.meta.url));

/** node-datachannel, or null when tests/browser has no node_modules. */
export async function loadNodeDataChannel() {
  try {
    const path = requireFromBrowserTests.resolve('node-datachannel');
    return (await import(path)).default;
  } catch {
    return null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a VP8 RTP payload starts: { start, key } (key only meaningful when start). */
export function vp8PayloadInfo(payload) {
  if (payload.length < 1) return { start: false, key: false };
  const b0 = payload[0];
  const x = (b0 & 0x80) !== 0;
  const s = (b0 & 0x10) !== 0;
  const pid = b0 & 0x07;
  let i = 1;
  if (x) {
    const ext = payload[i++];
    if (ext & 0x80) i += (payload[i] & 0x80) ? 2 : 1; // I: PictureID, 7 or 15 bits
    if (ext & 0x40) i += 1; // L: TL0PICIDX
    if (ext & 0x30) i += 1; // T or K: TID/KEYIDX
  }
  const start = s && pid === 0;
  return { start, key: start && i < payload.length && (payload[i] & 0x01) === 0 };
}

/** The RTP header's fields we use, and where its payload starts (null: not RTP media). */
export function parseRtp(buf) {
  if (buf.length < 12 || (buf[0] >> 6) !== 2) return null;
  const pt = buf[1] & 0x7f;
  if (pt >= 64 && pt <= 95) return null; // RTCP
  const cc = buf[0] & 0x0f;
  let offset = 12 + cc * 4;
  if (buf[0] & 0x10) { // header extension
    if (buf.length < offset + 4) return null;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  let end = buf.length;
  if (buf[0] & 0x20) end -= buf[buf.length - 1]; // padding
  if (offset > end) return null;
  return {
    pt, marker: (buf[1] & 0x80) !== 0, seq: buf.readUInt16BE(2), timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8), payload: buf.subarray(offset, end),
  };
}

export class JanusViewer {
  /**
   * @param ndc        node-datachannel
   * @param api        the edge's Janus HTTP API, e.g. http://10.98.0.11:8088/janus
   * @param mountpoint the Streaming mountpoint id
   * @param bindAddress the local address ICE uses
   */
  constructor(ndc, { api, mountpoint, bindAddress, name = 'viewer', silenceMs = 2000, keep = [] }) {
    Object.assign(this, { ndc, api, mountpoint, bindAddress, name, silenceMs });
    this.keep = keep; // node-datachannel objects, never collected while the test runs
    this.running = false;
    this.sessions = 0; // sessions started
    this.connectedSessions = 0;
    this.errors = [];
    this.frames = []; // performance.now() of each complete VP8 frame
    this.keyFrames = 0;
    this.rtp = 0;
    this.audioRtp = 0;
    this.lastRtpAt = 0;
    this.sessionStartedAt = 0;
    this.firstKeyFrameDelays = []; // ms from each session's start to its first key frame
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.done = this.#loop();
  }

  async stop() {
    this.running = false;
    this.#wake?.();
    await this.done;
  }

  /** Frames completed in [t0, t1] (performance.now() ms) per second. */
  fps(t0, t1) {
    return this.frames.filter((t) => t >= t0 && t <= t1).length * 1000 / (t1 - t0);
  }

  /** The longest time without a frame in [t0, t1], ms. */
  longestGap(t0, t1) {
    let last = t0;
    let gap = 0;
    for (const t of this.frames) {
      if (t < t0) continue;
      if (t > t1) break;
      gap = Math.max(gap, t - last);
      last = t;
    }
    return Math.max(gap, t1 - last);
  }

  #wake = null;

  async #loop() {
    let backoff = 250;
    while (this.running) {
      const started = performance.now();
      let ended;
      try {
        ended = await this.#session();
      } catch (err) {
        ended = err.message;
      }
      if (!this.running) break;
      this.errors.push(`${((performance.now()) / 1000).toFixed(1)}s ${ended}`);
      if (performance.now() - started > 5000) backoff = 250; // it had played: start over quickly
      await new Promise((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, backoff);
      });
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  async #janus(path, body, timeoutMs = 3000) {
    const res = await fetch(`${this.api}${path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...body, transaction: Math.random().toString(36).slice(2) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const reply = await res.json();
    if (reply.janus === 'error') throw new Error(`Janus: ${reply.error?.reason}`);
    return reply;
  }

  /** One session, until it ends; resolves to why it ended. */
  async #session() {
    this.sessions++;
    this.sessionStartedAt = performance.now();
    const sessionStart = this.sessionStartedAt;
    let gotKey = false;
    const session = (await this.#janus('', { janus: 'create' })).data.id;
    const sessionPath = `/${session}`;
    const handle = (await this.#janus(sessionPath, { janus: 'attach', plugin: 'janus.plugin.streaming' })).data.id;
    const handlePath = `${sessionPath}/${handle}`;
    await this.#janus(handlePath, { janus: 'message', body: { request: 'watch', id: this.mountpoint } });
    // Janus's offer comes as an event on the session's long poll.
    let offer = null;
    const deadline = performance.now() + 5000;
    while (!offer && performance.now() < deadline) {
      const res = await fetch(`${this.api}${sessionPath}?maxev=5&rid=${Date.now()}`,
        { signal: AbortSignal.timeout(6000) });
      const events = [].concat(await res.json());
      for (const e of events) {
        if (e.plugindata?.data?.error) throw new Error(`watch: ${e.plugindata.data.error}`);
        if (e.jsep?.type === 'offer') offer = e.jsep.sdp;
      }
    }
    if (!offer) throw new Error('no offer from the edge in 5 s');

    const pc = new this.ndc.PeerConnection(`${this.name}-${this.sessions}`,
      { iceServers: [], bindAddress: this.bindAddress });
    this.keep.push(pc);
    const tracks = [];
    let state = 'new';
    const frameTimestamps = new Set();
    pc.onStateChange((s) => { state = s; });
    pc.onTrack((track) => {
      tracks.push(track);
      this.keep.push(track);
      const session = new this.ndc.RtcpReceivingSession();
      this.keep.push(session);
      track.setMediaHandler(session);
      track.onMessage((buf) => {
        const rtp = parseRtp(buf);
        if (!rtp) return;
        if (track.type() === 'audio') {
          this.audioRtp++;
          return;
        }
        this.rtp++;
        this.lastRtpAt = performance.now();
        const info = vp8PayloadInfo(rtp.payload);
        if (info.key) {
          this.keyFrames++;
          if (!gotKey) {
            gotKey = true;
            this.firstKeyFrameDelays.push(performance.now() - sessionStart);
          }
        }
        if (rtp.marker && !frameTimestamps.has(rtp.timestamp)) {
          frameTimestamps.add(rtp.timestamp);
          if (frameTimestamps.size > 64) frameTimestamps.delete(frameTimestamps.values().next().value);
          this.frames.push(performance.now());
        }
      });
    });
    const answer = new Promise((resolve) => {
      pc.onGatheringStateChange((s) => { if (s === 'complete') resolve(pc.localDescription().sdp); });
    });
    try {
      pc.setRemoteDescription(offer, 'offer');
      const sdp = await Promise.race([answer, sleep(3000).then(() => pc.localDescription()?.sdp)]);
      await this.#janus(handlePath, { janus: 'message', body: { request: 'start' }, jsep: { type: 'answer', sdp } });
      let connectedAt = 0;
      let keepalive = performance.now();
      let pliSent = false;
      for (;;) {
        if (!this.running) return 'stopped';
        await sleep(200);
        const now = performance.now();
        if (state === 'connected' && !connectedAt) {
          connectedAt = now;
          this.connectedSessions++;
        }
        if (connectedAt && !pliSent && tracks.some((t) => t.type() === 'video' && t.isOpen())) {
          pliSent = true;
          for (const t of tracks) if (t.type() === 'video') t.requestKeyframe();
        }
        if (state === 'failed' || state === 'closed') return `peer connection ${state}`;
        if (!connectedAt && now - sessionStart > 10000) return 'not connected in 10 s';
        const since = Math.max(this.lastRtpAt, connectedAt);
        if (connectedAt && now - since > this.silenceMs) return `no video for ${this.silenceMs} ms`;
        if (now - keepalive > 10000) {
          keepalive = now;
          await this.#janus(sessionPath, { janus: 'keepalive' });
        }
      }
    } finally {
      try {
        pc.close();
      } catch { /* closed */ }
      // Best effort: the edge may be gone.
      this.#janus(sessionPath, { janus: 'destroy' }, 1000).catch(() => {});
    }
  }
}

/**
 * A viewer of the sink itself: WHEP (POST @url) with libdatachannel, VP8, counting whole frames.
 * A refusal (503: max-pending, max-viewers) is tried again after a second, @attempts times in
 * all; the last refusal's status and text stay in `refused`.
 */
export class WhepViewer {
  constructor(ndc, { url, name = 'whep', bindAddress, keep = [], attempts = 20 }) {
    Object.assign(this, { ndc, url, name, bindAddress, keep, attempts, frames: [], closed: false });
    this.refused = null; // { status, text } of the last refusal
  }

  async start() {
    for (let attempt = 0; attempt < this.attempts && !this.closed; attempt++) {
      const pc = new this.ndc.PeerConnection(this.name, { iceServers: [], bindAddress: this.bindAddress });
      const video = new this.ndc.Video('video', 'RecvOnly');
      video.addVP8Codec(96);
      const track = pc.addTrack(video);
      track.setMediaHandler(new this.ndc.RtcpReceivingSession());
      this.keep.push(pc, track, video);
      const seen = new Set();
      track.onMessage((buf) => {
        const rtp = parseRtp(buf);
        if (!rtp?.marker || seen.has(rtp.timestamp)) return;
        seen.add(rtp.timestamp);
        if (seen.size > 64) seen.delete(seen.values().next().value);
        this.frames.push(performance.now());
      });
      const offer = await new Promise((resolve) => {
        pc.onGatheringStateChange((s) => { if (s === 'complete') resolve(pc.localDescription().sdp); });
        pc.setLocalDescription();
      });
      const res = await fetch(this.url, {
        method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer,
        signal: AbortSignal.timeout(10000),
      });
      if (res.status === 201) {
        pc.setRemoteDescription(await res.text(), 'answer');
        this.pc = pc;
        return;
      }
      this.refused = { status: res.status, text: await res.text() };
      pc.close();
      if (attempt + 1 < this.attempts) await sleep(1000);
    }
    throw new Error(`${this.name}: the sink did not take it (${JSON.stringify(this.refused)})`);
  }

  fps(t0, t1) {
    return this.frames.filter((t) => t >= t0 && t <= t1).length * 1000 / (t1 - t0);
  }

  async stop() {
    this.closed = true;
    try {
      this.pc?.close();
    } catch { /* closed */ }
  }
}
