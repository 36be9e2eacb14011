// mediasocket.js: the stream over the page's own WebSocket, for networks where only the page's port
// gets through (no ICE). GET /ws → "welcome" → {"type":"media"} → {"type":"media","id":…}, then
// binary messages (protocol/mediaframe.h in the livecast sources):
//
//   16-byte header, big-endian: version (1) · kind (1 video config, 2 video frame, 3 audio
//   config, 4 audio frame) · flags (bit 0 key frame, bit 1 frames dropped before) · 0 ·
//   timestamp µs (int64) · duration µs (uint32); then the payload: one access unit (H.264 in
//   Annex B with SPS/PPS before each key frame, VP8/VP9, one Opus packet) or, for a config, a
//   JSON object {"codec","width","height"} / {"codec","sampleRate","channels"}.
//
// Decoded with WebCodecs (VideoDecoder drawn on a canvas, AudioDecoder played through an
// AudioContext) where the page is a secure context; elsewhere (http:// from a LAN address, where
// WebCodecs does not exist) the same access units are muxed into fragmented MP4 here and played
// through Media Source Extensions, kept close to live.

import { LivecastError, ReplyWaiter } from './livecast-client.js';

export const HEADER_BYTES = 16;
export const Kind = Object.freeze({ VideoConfig: 1, Video: 2, AudioConfig: 3, Audio: 4 });

/** One binary message → { kind, key, discont, timestampUs, durationUs, payload }; throws. */
export function parseMediaMessage(buffer) {
  if (buffer.byteLength < HEADER_BYTES) throw new Error('media message too short');
  const view = new DataView(buffer);
  if (view.getUint8(0) !== 1) throw new Error(`unknown media message version ${view.getUint8(0)}`);
  const kind = view.getUint8(1);
  if (kind < 1 || kind > 4) throw new Error(`unknown media message kind ${kind}`);
  const flags = view.getUint8(2);
  return {
    kind,
    key: (flags & 1) !== 0,
    discont: (flags & 2) !== 0,
    timestampUs: Number(view.getBigInt64(4)),
    durationUs: view.getUint32(12),
    payload: new Uint8Array(buffer, HEADER_BYTES),
  };
}

/** Which player this page can use: 'webcodecs', 'mse' or null. */
export function wsMediaPlayer() {
  if (typeof VideoDecoder === 'function' && typeof EncodedVideoChunk === 'function') {
    return 'webcodecs';
  }
  if (typeof MediaSource === 'function') return 'mse';
  return null;
}

/**
 * One viewer of the stream over /ws. The same shape as the WebRTC sessions of
 * livecast-client.js where the client needs it: open(), close(), getSummary() (stats as
 * summarizeStats gives them), `pc` is null.
 */
export class WsMediaSession {
  pc = null;
  stream = null;
  id = null;
  player = null; // 'webcodecs' | 'mse'

  #url;
  #opts;
  #video;
  #canvas;
  #onConfig;
  #onFirstFrame;
  #onFail;
  #ws = null;
  #closed = false;
  #waiter = new ReplyWaiter();
  #sink = null; // WebCodecsSink | MseSink
  #counts = { bytes: 0, frames: 0, audioBytes: 0, audioFrames: 0, dropped: 0 };
  #prev = null;
  #first = false;

  constructor({ url, options, video, canvas, onConfig, onFirstFrame, onFail }) {
    this.#url = url;
    this.#opts = options;
    this.#video = video;
    this.#canvas = canvas;
    this.#onConfig = onConfig;
    this.#onFirstFrame = onFirstFrame;
    this.#onFail = onFail;
  }

  async open() {
    this.player = wsMediaPlayer();
    if (!this.player) {
      throw new LivecastError('This browser can decode neither with WebCodecs nor with Media ' +
        'Source Extensions', { retryable: false });
    }
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch (err) {
      throw new LivecastError(`Bad WebSocket URL ${this.#url}`, { cause: err });
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    const welcome = this.#expect('welcome');
    ws.onmessage = (event) => this.#onMessage(event.data);
    ws.onclose = (event) => this.#onClose(event);
    const config = await welcome;
    this.#onConfig?.(config);
    const onFrame = () => {
      if (this.#first || this.#closed) return;
      this.#first = true;
      this.#onFirstFrame?.();
    };
    this.#sink = this.player === 'webcodecs'
      ? new WebCodecsSink({ canvas: this.#canvas, video: this.#video, onFrame,
        audio: this.#opts.audio !== false })
      : new MseSink({ video: this.#video, onFrame,
        audio: this.#opts.audio !== false && config.audio === true });
    const media = this.#expect('media');
    ws.send(JSON.stringify({ type: 'media' }));
    const reply = await media;
    this.id = reply.id ?? null;
  }

  close() {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#waiter.reject(new LivecastError('Closed'));
    this.#sink?.close();
    this.#sink = null;
    const ws = this.#ws;
    if (ws && ws.readyState <= WebSocket.OPEN) {
      try {
        ws.send(JSON.stringify({ type: 'bye' }));
      } catch { /* not open yet */ }
      ws.close(1000, 'bye');
    }
    return Promise.resolve();
  }

  /** Statistics in the shape of summarizeStats() (livecast-client.js). */
  getSummary() {
    const now = performance.now();
    const sink = this.#sink;
    const framesDecoded = sink?.framesDecoded ?? 0;
    const c = this.#counts;
    const prev = this.#prev;
    const seconds = prev ? (now - prev.timestamp) / 1000 : 0;
    const fresh = seconds >= 0.5;
    const rate = (a, b) => Math.max(a - b, 0) / seconds;
    const summary = {
      timestamp: now,
      width: sink?.width ?? 0,
      height: sink?.height ?? 0,
      fps: fresh ? rate(framesDecoded, prev.framesDecoded) : prev?.fps ?? null,
      bitrate: fresh ? rate(c.bytes * 8, prev.bytes * 8) : prev?.bitrate ?? null,
      rtt: null,
      packetsLost: c.dropped,
      packetsReceived: c.frames,
      lossPercent: c.frames + c.dropped ? (100 * c.dropped) / (c.frames + c.dropped) : 0,
      framesDecoded,
      framesDropped: sink?.framesDropped ?? 0,
      framesPresented: sink?.framesPresented ?? null,
      freezeCount: 0,
      totalFreezesDuration: 0,
      bytesReceived: c.bytes,
      codec: sink?.videoCodec ?? null,
      codecParameters: null,
      decoder: this.player === 'webcodecs' ? 'WebCodecs' : 'Media Source',
      candidateType: 'WebSocket',
      protocol: 'tcp',
      audio: sink?.audioCodec ? {
        bitrate: fresh ? rate(c.audioBytes * 8, prev.audioBytes * 8) : prev?.audio?.bitrate ?? null,
        level: null,
        rms: sink.audioRms ?? null,
        totalAudioEnergy: 0,
        bytesReceived: c.audioBytes,
        packetsReceived: c.audioFrames,
        packetsLost: 0,
        codec: sink.audioCodec,
        framesDecoded: sink.audioFramesDecoded,
      } : null,
      microphone: null,
    };
    if (!prev || fresh) {
      this.#prev = { timestamp: now, framesDecoded, bytes: c.bytes, audioBytes: c.audioBytes,
        fps: summary.fps, bitrate: summary.bitrate, audio: summary.audio };
    }
    return summary;
  }

  #expect(type) {
    return this.#waiter.expect(type, this.#opts.requestTimeoutMs);
  }

  #onMessage(data) {
    if (this.#closed) return;
    if (typeof data !== 'string') {
      this.#onBinary(data);
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === 'error') {
      const status = Number.isInteger(message.status) ? message.status : 0;
      const err = new LivecastError(String(message.message || 'The server refused'), {
        status, retryable: status === 0 || status >= 500 || status === 429,
      });
      if (!this.#waiter.reject(err)) console.warn('livecast:', err.message);
      return;
    }
    if (message.type === 'bye') {
      this.#fail(new LivecastError('The server ended the session', { retryable: true }));
      return;
    }
    if (message.type === this.#waiter.type) this.#waiter.resolve(message);
  }

  #onBinary(buffer) {
    let m;
    try {
      m = parseMediaMessage(buffer);
    } catch (err) {
      console.warn('livecast: bad media message:', err.message);
      return;
    }
    const c = this.#counts;
    if (m.kind === Kind.Video) {
      c.bytes += buffer.byteLength;
      c.frames++;
      if (m.discont) c.dropped++;
    } else if (m.kind === Kind.Audio) {
      c.audioBytes += buffer.byteLength;
      c.audioFrames++;
    }
    try {
      this.#sink?.push(m);
    } catch (err) {
      this.#fail(new LivecastError(`The stream could not be played: ${err.message}`,
        { retryable: true, cause: err }));
    }
  }

  #onClose(event) {
    if (this.#closed) return;
    const err = new LivecastError(event.reason || 'The WebSocket closed', { retryable: true });
    if (!this.#waiter.reject(err)) this.#fail(err);
  }

  #fail(err) {
    if (this.#closed) return;
    this.close();
    this.#onFail?.(err);
  }
}

const decodeJson = (bytes) => JSON.parse(new TextDecoder().decode(bytes));

/** What both players count, for WsMediaSession.getSummary(). */
class SinkStats {
  framesDecoded = 0;
  framesPresented = null; // Media Source only: what requestVideoFrameCallback saw presented
  framesDropped = 0;
  width = 0;
  height = 0;
  videoCodec = null;
  audioCodec = null;
  audioFramesDecoded = 0;
  audioRms = null;
}

/** WebCodecs: video drawn on a canvas as soon as it is decoded, audio through an AudioContext. */
class WebCodecsSink extends SinkStats {
  #canvas;
  #ctx;
  #video;
  #onFrame;
  #wantAudio;
  #decoder = null;
  #config = null; // the video config it was configured with (JSON text)
  #waitKey = true;
  #audioDecoder = null;
  #audioContext = null;
  #audioDest = null;
  #audioTime = 0;

  constructor({ canvas, video, onFrame, audio }) {
    super();
    this.#canvas = canvas;
    this.#ctx = canvas.getContext('2d');
    this.#video = video;
    this.#onFrame = onFrame;
    this.#wantAudio = audio;
    canvas.hidden = false;
    if (video) video.hidden = true;
  }

  push(m) {
    switch (m.kind) {
      case Kind.VideoConfig: return this.#configureVideo(m.payload);
      case Kind.Video: return this.#decodeVideo(m);
      case Kind.AudioConfig: return this.#configureAudio(m.payload);
      case Kind.Audio: return this.#decodeAudio(m);
      default: return undefined;
    }
  }

  #configureVideo(payload) {
    const text = new TextDecoder().decode(payload);
    if (text === this.#config && this.#decoder?.state === 'configured') return;
    const config = JSON.parse(text);
    this.#config = text;
    this.#decoder?.close?.();
    this.#decoder = new VideoDecoder({
      output: (frame) => this.#draw(frame),
      error: (err) => {
        console.warn('livecast: video decoder:', err.message);
        this.#config = null; // configured again at the next key frame's config
        this.#waitKey = true;
      },
    });
    this.#decoder.configure({ codec: config.codec, optimizeForLatency: true });
    this.videoCodec = config.codec.startsWith('avc1') ? 'H264'
      : config.codec.startsWith('vp8') ? 'VP8' : config.codec.startsWith('vp09') ? 'VP9'
        : config.codec;
    this.#waitKey = true;
  }

  #decodeVideo(m) {
    const decoder = this.#decoder;
    if (!decoder || decoder.state !== 'configured') return;
    // A second behind (a frozen tab, a decoder far too slow): drop to the next key frame rather
    // than lag. Shorter backlogs are normal on a busy machine (a burst at the start, a busy
    // second) and are decoded away.
    if (!m.key && (this.#waitKey || decoder.decodeQueueSize > 30)) {
      this.framesDropped++;
      this.#waitKey = true;
      return;
    }
    this.#waitKey = false;
    decoder.decode(new EncodedVideoChunk({
      type: m.key ? 'key' : 'delta', timestamp: m.timestampUs, data: m.payload,
    }));
  }

  #draw(frame) {
    try {
      if (this.#canvas.width !== frame.displayWidth) this.#canvas.width = frame.displayWidth;
      if (this.#canvas.height !== frame.displayHeight) this.#canvas.height = frame.displayHeight;
      this.width = frame.displayWidth;
      this.height = frame.displayHeight;
      this.#ctx.drawImage(frame, 0, 0);
      this.framesDecoded++;
    } finally {
      frame.close();
    }
    this.#onFrame();
  }

  #configureAudio(payload) {
    if (!this.#wantAudio || typeof AudioDecoder !== 'function') return;
    const config = decodeJson(payload);
    this.#audioDecoder?.close?.();
    this.#audioContext ??= new AudioContext({ latencyHint: 'interactive' });
    // Played through the (hidden) video element: its mute button and autoplay rules apply.
    if (!this.#audioDest) {
      this.#audioDest = this.#audioContext.createMediaStreamDestination();
      if (this.#video) {
        this.#video.srcObject = this.#audioDest.stream;
        this.#video.play().catch(() => {});
      }
    }
    this.#audioDecoder = new AudioDecoder({
      output: (data) => this.#play(data),
      error: (err) => console.warn('livecast: audio decoder:', err.message),
    });
    this.#audioDecoder.configure({ codec: config.codec, sampleRate: config.sampleRate,
      numberOfChannels: config.channels });
    this.audioCodec = config.codec === 'opus' ? 'opus' : config.codec;
  }

  #decodeAudio(m) {
    const decoder = this.#audioDecoder;
    if (!decoder || decoder.state !== 'configured') return;
    if (decoder.decodeQueueSize > 25) return; // a second behind: skip
    decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: m.timestampUs,
      data: m.payload }));
  }

  #play(data) {
    this.audioFramesDecoded++;
    const ctx = this.#audioContext;
    try {
      const buffer = ctx.createBuffer(data.numberOfChannels, data.numberOfFrames, data.sampleRate);
      let energy = 0;
      for (let ch = 0; ch < data.numberOfChannels; ch++) {
        const samples = new Float32Array(data.numberOfFrames);
        data.copyTo(samples, { planeIndex: ch, format: 'f32-planar' });
        buffer.copyToChannel(samples, ch);
        if (ch === 0) for (const s of samples) energy += s * s;
      }
      this.audioRms = Math.sqrt(energy / Math.max(data.numberOfFrames, 1));
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(this.#audioDest);
      // A short cushion against jitter; too far behind (more than 200 ms): start again at now.
      const now = ctx.currentTime;
      if (this.#audioTime < now + 0.02 || this.#audioTime > now + 0.2) this.#audioTime = now + 0.04;
      source.start(this.#audioTime);
      this.#audioTime += buffer.duration;
    } finally {
      data.close();
    }
  }

  close() {
    try { this.#decoder?.close(); } catch { /* closed */ }
    try { this.#audioDecoder?.close(); } catch { /* closed */ }
    this.#audioContext?.close().catch(() => {});
    this.#canvas.hidden = true;
    if (this.#video) {
      if (this.#audioDest && this.#video.srcObject === this.#audioDest.stream) {
        this.#video.srcObject = null;
      }
      this.#video.hidden = false;
    }
  }
}

// ---- Media Source Extensions: fragmented MP4 from the same access units -------------------------

/** Start-code separated NAL units of an Annex B access unit. */
export function splitAnnexB(data) {
  const units = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && data[end - 1] === 0) end--; // a 4-byte start code's leading zero
        units.push(data.subarray(start, end));
      }
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0 && start < data.length) units.push(data.subarray(start));
  return units;
}

function box(type, ...parts) {
  let size = 8;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u8(...values) {
  return new Uint8Array(values);
}

function u32(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function u64(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(value))));
  return out;
}

function fullBox(type, version, flags, ...parts) {
  return box(type, u8(version, (flags >> 16) & 255, (flags >> 8) & 255, flags & 255), ...parts);
}

const MATRIX = u8(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 64, 0, 0, 0);

/** ftyp + moov of one track: 'video' (H.264, avcC from SPS/PPS) or 'audio' (Opus). */
export function initSegment(track) {
  const { kind, timescale } = track;
  const ftyp = box('ftyp', new TextEncoder().encode('isom'), u32(512),
    new TextEncoder().encode('isomiso6avc1mp41'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(1000), u32(0), u32(0x00010000),
    u8(1, 0), new Uint8Array(10), MATRIX, new Uint8Array(24), u32(2));
  const tkhd = fullBox('tkhd', 0, 3, u32(0), u32(0), u32(1), u32(0), u32(0), new Uint8Array(8),
    u8(0, 0, 0, 0), kind === 'audio' ? u8(1, 0) : u8(0, 0), u8(0, 0), MATRIX,
    u32((track.width ?? 0) << 16), u32((track.height ?? 0) << 16));
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(timescale), u32(0), u8(0x55, 0xc4, 0, 0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), new TextEncoder().encode(kind === 'audio' ? 'soun'
    : 'vide'), new Uint8Array(12), new TextEncoder().encode('livecast\0'));
  const dref = fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1));
  const dinf = box('dinf', dref);
  let sampleEntry;
  let header;
  if (kind === 'video') {
    const { sps, pps } = track;
    const avcC = box('avcC', u8(1, sps[1], sps[2], sps[3], 0xff, 0xe1, sps.length >> 8,
      sps.length & 255), sps, u8(1, pps.length >> 8, pps.length & 255), pps);
    sampleEntry = box('avc1', new Uint8Array(6), u8(0, 1), new Uint8Array(16),
      u8(track.width >> 8, track.width & 255, track.height >> 8, track.height & 255),
      u32(0x00480000), u32(0x00480000), u32(0), u8(0, 1), new Uint8Array(32), u8(0, 0x18),
      u8(0xff, 0xff), avcC);
    header = fullBox('vmhd', 0, 1, new Uint8Array(8));
  } else {
    // Opus in ISO BMFF (opus-codec.org "Encapsulation of Opus in ISO Base Media File Format").
    // Pre-skip 0: these packets are cut from a live stream, not the start of one.
    const dOps = box('dOps', u8(0, track.channels), u8(0, 0), u32(track.sampleRate),
      u8(0, 0), u8(0));
    sampleEntry = box('Opus', new Uint8Array(6), u8(0, 1), new Uint8Array(8),
      u8(0, track.channels), u8(0, 16), u8(0, 0, 0, 0), u32(48000 << 16), dOps);
    header = fullBox('smhd', 0, 0, u8(0, 0, 0, 0));
  }
  const stsd = fullBox('stsd', 0, 0, u32(1), sampleEntry);
  const empty = (type) => fullBox(type, 0, 0, u32(0));
  const stbl = box('stbl', stsd, empty('stts'), empty('stsc'), fullBox('stsz', 0, 0, u32(0), u32(0)),
    empty('stco'));
  const minf = box('minf', header, dinf, stbl);
  const mdia = box('mdia', mdhd, hdlr, minf);
  const trak = box('trak', tkhd, mdia);
  const trex = fullBox('trex', 0, 0, u32(1), u32(1), u32(0), u32(0), u32(0));
  const moov = box('moov', mvhd, trak, box('mvex', trex));
  const out = new Uint8Array(ftyp.length + moov.length);
  out.set(ftyp);
  out.set(moov, ftyp.length);
  return out;
}

/** moof + mdat of one sample. */
export function mediaSegment(sequence, decodeTime, duration, key, data) {
  const flags = key ? 0x02000000 : 0x01010000;
  const mfhd = fullBox('mfhd', 0, 0, u32(sequence));
  const tfhd = fullBox('tfhd', 0, 0x020000, u32(1)); // default-base-is-moof
  const tfdt = fullBox('tfdt', 1, 0, u64(decodeTime));
  // trun: data offset, duration, size, flags of one sample.
  const trunSize = 12 + 4 + 4 + 12;
  const moofSize = 8 + mfhd.length + 8 + tfhd.length + tfdt.length + trunSize;
  const trun = fullBox('trun', 0, 0x000701, u32(1), u32(moofSize + 8), u32(duration),
    u32(data.length), u32(flags));
  const moof = box('moof', mfhd, box('traf', tfhd, tfdt, trun));
  const mdat = box('mdat', data);
  const out = new Uint8Array(moof.length + mdat.length);
  out.set(moof);
  out.set(mdat, moof.length);
  return out;
}

/** H.264 Annex B → 4-byte length-prefixed NAL units (what an MP4 sample holds), without SPS,
 *  PPS and AUD (the init segment has them). */
function toLengthPrefixed(units) {
  const kept = units.filter((u) => ![7, 8, 9].includes(u[0] & 0x1f));
  let size = 0;
  for (const u of kept) size += 4 + u.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const u of kept) {
    view.setUint32(at, u.length);
    out.set(u, at + 4);
    at += 4 + u.length;
  }
  return out;
}

/** Media Source Extensions: one SourceBuffer per track, a sample per segment, near live. */
class MseSink extends SinkStats {
  #video;
  #onFrame;
  #wantAudio;
  #source;
  #url;
  #open;
  #tracks = { video: null, audio: null }; // { buffer, queue, timescale, sequence, last, base }
  #videoConfig = null;
  #audioConfig = null;
  #origin = null; // µs: the first timestamp, time 0 of the media timeline
  #timer;
  #frameCallback = null;
  #closed = false;

  constructor({ video, onFrame, audio }) {
    super();
    this.#video = video;
    this.#onFrame = onFrame;
    // Every SourceBuffer must exist before the first segment is appended: whether audio comes
    // is known from the start (the welcome), and the tracks are added together.
    this.#wantAudio = audio && MediaSource.isTypeSupported('audio/mp4; codecs="opus"');
    this.#source = new MediaSource();
    this.#url = URL.createObjectURL(this.#source);
    this.#open = new Promise((resolve) => {
      this.#source.addEventListener('sourceopen', resolve, { once: true });
    });
    video.srcObject = null;
    video.src = this.#url;
    video.hidden = false;
    video.play().catch(() => {});
    this.#timer = setInterval(() => this.#keepLive(), 250);
    this.#countFrames();
  }

  push(m) {
    switch (m.kind) {
      case Kind.VideoConfig:
        this.#videoConfig = decodeJson(m.payload);
        return;
      case Kind.AudioConfig:
        this.#audioConfig = this.#wantAudio ? decodeJson(m.payload) : null;
        return;
      case Kind.Video: return this.#pushVideo(m);
      case Kind.Audio: return this.#pushAudio(m);
      default: return undefined;
    }
  }

  #pushVideo(m) {
    const config = this.#videoConfig;
    if (!config || !config.codec.startsWith('avc1')) {
      if (config && !this.#unsupportedSaid) {
        this.#unsupportedSaid = true;
        throw new Error(`${config.codec} over Media Source is not supported here; H.264 is`);
      }
      return;
    }
    let track = this.#tracks.video;
    const units = splitAnnexB(m.payload);
    if (!track) {
      // The audio config comes before the first audio frame, so at most one frame after the
      // join; the video starts at a key frame once it is known.
      if (!m.key || (this.#wantAudio && !this.#audioConfig)) return;
      const sps = units.find((u) => (u[0] & 0x1f) === 7);
      const pps = units.find((u) => (u[0] & 0x1f) === 8);
      if (!sps || !pps) return;
      track = this.#newTrack('video', `video/mp4; codecs="${config.codec}"`, initSegment({
        kind: 'video', timescale: 90000, width: config.width, height: config.height, sps, pps,
      }), 90000);
      const tracks = [track];
      if (this.#wantAudio) {
        const audio = this.#audioConfig;
        tracks.push(this.#newTrack('audio', 'audio/mp4; codecs="opus"', initSegment({
          kind: 'audio', timescale: 48000, channels: audio.channels, sampleRate: audio.sampleRate,
        }), 48000));
        this.audioCodec = 'opus';
      }
      this.#addTracks(tracks);
      this.videoCodec = 'H264';
      this.width = config.width;
      this.height = config.height;
    }
    this.#append(track, m, toLengthPrefixed(units));
  }

  #unsupportedSaid = false;

  #pushAudio(m) {
    const track = this.#tracks.audio; // made with the video's, at its first key frame
    if (!track) return;
    this.audioFramesDecoded++;
    this.#append(track, m, m.payload);
  }

  #newTrack(kind, mime, init, timescale) {
    const track = { buffer: null, mime, queue: [init], timescale, sequence: 1, held: null };
    this.#tracks[kind] = track;
    return track;
  }

  #addTracks(tracks) {
    this.#open.then(() => {
      if (this.#closed) return;
      for (const track of tracks) {
        track.buffer = this.#source.addSourceBuffer(track.mime);
        track.buffer.mode = 'segments';
        track.buffer.addEventListener('updateend', () => this.#flush(track));
      }
      for (const track of tracks) this.#flush(track);
    });
  }

  #append(track, m, sample) {
    this.#origin ??= m.timestampUs;
    const time = Math.round(Math.max(0, ((m.timestampUs - this.#origin) * track.timescale) / 1e6));
    // Each sample is held until the next one comes and lasts until then: frames the encoder
    // skipped (or the server dropped) leave no hole in the buffered range, where playback would
    // stop. One frame of latency (33 ms of video, 20 ms of audio) for that.
    const held = track.held;
    track.held = { time, key: m.key, sample };
    if (!held) return;
    const nominal = m.durationUs ? (m.durationUs * track.timescale) / 1e6
      : track.timescale / (track === this.#tracks.audio ? 50 : 30);
    const duration = time > held.time ? time - held.time : Math.round(nominal);
    track.queue.push(mediaSegment(track.sequence++, held.time, duration, held.key, held.sample));
    this.#flush(track);
  }

  #flush(track) {
    const buffer = track.buffer;
    if (!buffer || buffer.updating || !track.queue.length || this.#closed) return;
    const segments = track.queue.splice(0, track.queue.length);
    let size = 0;
    for (const s of segments) size += s.length;
    const joined = new Uint8Array(size);
    let at = 0;
    for (const s of segments) {
      joined.set(s, at);
      at += s.length;
    }
    try {
      buffer.appendBuffer(joined);
    } catch (err) {
      console.warn('livecast: appendBuffer:', err.message);
    }
  }

  /** Low latency: play at most ~0.3 s behind what arrived, jump when further behind. */
  #keepLive() {
    const video = this.#video;
    const ranges = video.buffered;
    if (!ranges.length) return;
    const end = ranges.end(ranges.length - 1);
    const behind = end - video.currentTime;
    if (behind > 1.0 || video.currentTime < ranges.start(ranges.length - 1)) {
      video.currentTime = Math.max(end - 0.15, ranges.start(ranges.length - 1));
    }
    video.playbackRate = behind > 0.35 ? 1.1 : 1.0;
    if (video.paused) video.play().catch(() => {});
    // Keep the buffer short: what is more than 10 s old goes.
    for (const track of Object.values(this.#tracks)) {
      const b = track?.buffer;
      if (b && !b.updating && b.buffered.length && video.currentTime - b.buffered.start(0) > 10) {
        try {
          b.remove(0, video.currentTime - 5);
        } catch { /* busy */ }
      }
    }
  }

  #countFrames() {
    const video = this.#video;
    if (!video.requestVideoFrameCallback) return;
    const count = (now, meta) => {
      if (this.#closed) return;
      // Decoded, as WebCodecs counts its decoder's output; what the compositor then skipped on a
      // busy machine is framesDropped (the media element's own counts).
      const quality = video.getVideoPlaybackQuality?.();
      this.framesDecoded = quality?.totalVideoFrames ?? meta.presentedFrames;
      this.framesDropped = quality?.droppedVideoFrames ?? 0;
      this.framesPresented = meta.presentedFrames;
      this.width = meta.width ?? this.width;
      this.height = meta.height ?? this.height;
      this.#onFrame();
      this.#frameCallback = video.requestVideoFrameCallback(count);
    };
    this.#frameCallback = video.requestVideoFrameCallback(count);
  }

  close() {
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#frameCallback != null) this.#video.cancelVideoFrameCallback?.(this.#frameCallback);
    if (this.#video.src === this.#url) {
      this.#video.removeAttribute('src');
      this.#video.load();
    }
    URL.revokeObjectURL(this.#url);
  }
}
