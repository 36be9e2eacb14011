// livecast-client.js: WHEP viewer client for livecast's webrtcserversink.
//
// A plain ES module with no dependencies, usable by any page:
//
//   import { LivecastClient } from 'http://host:8080/livecast-client.js';
//   const client = new LivecastClient({ server: 'http://host:8080', video, onStatus, onStats });
//   client.start();
//
// Flow (RFC 9725, WHEP): GET /config → RTCPeerConnection with its ICE servers → recvonly offer →
// POST /whep → answer; later local candidates are trickled with PATCH (RFC 8840 sdpfrag); DELETE
// on stop() and when the page goes away. Failures reconnect with exponential back-off.

const DEFAULTS = {
  server: '', // base URL of the livecast server; '' = the page's own origin
  token: '', // sent as "Authorization: Bearer" on every API call when set
  video: null, // HTMLVideoElement that shows the stream (optional)
  audio: false, // also ask for audio (recvonly transceiver)
  onStatus: null, // (status) => void, see #setStatus()
  onStats: null, // (stats) => void, see summarizeStats()
  initialRetryMs: 500,
  maxRetryMs: 10000,
  stableAfterMs: 5000, // playing this long → back-off starts from initialRetryMs again
  gatherTimeoutMs: 1000, // offers are sent after ICE gathering or this long, whichever is first
  requestTimeoutMs: 10000,
  connectTimeoutMs: 15000, // from the answer to a connected peer connection
  // Chromium says "disconnected" after ~5 s without packets; it may still recover, but a new
  // session takes under a second, so do not wait long.
  disconnectGraceMs: 1000,
  statsIntervalMs: 1000,
};

/** An error with what the reconnect logic needs to know about it. */
export class LivecastError extends Error {
  constructor(message, { status = 0, retryable = false, retryAfterMs = 0, cause } = {}) {
    super(message, { cause });
    this.name = 'LivecastError';
    this.status = status; // HTTP status, 0 when there was no response
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * One viewer: owns the peer connection and the UI-independent reconnect loop.
 *
 * Public state, read-only: `state` ('idle' | 'connecting' | 'connected' | 'playing' |
 * 'reconnecting' | 'error' | 'stopped'), `status` (last object given to onStatus), `stats` (last
 * summary, null without a session) and `timings` (performance.now() marks of the current attempt:
 * start, answered, connected, firstFrame).
 */
export class LivecastClient {
  state = 'idle';
  status = { state: 'idle', message: 'Idle' };
  stats = null;
  timings = {};

  #opts;
  #session = null;
  #running = false;
  #attempt = 0; // failed attempts since the last stable connection
  #generation = 0; // bumped on every (re)connect and stop: stale async work checks it
  #timers = new Timers();
  #prevStats = null;

  constructor(options = {}) {
    this.#opts = { ...DEFAULTS, ...options };
    this.#opts.server = String(this.#opts.server || '').replace(/\/+$/, '');
  }

  get running() {
    return this.#running;
  }

  /** Starts watching; does nothing when already started. */
  start() {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    addEventListener('pagehide', this.#onPageHide);
    addEventListener('pageshow', this.#onPageShow);
    this.#connect();
  }

  /** Stops watching and ends the server-side session; resolves once the DELETE is answered. */
  async stop() {
    this.#running = false;
    this.#generation++;
    this.#timers.clearAll();
    removeEventListener('pagehide', this.#onPageHide);
    removeEventListener('pageshow', this.#onPageShow);
    const closing = this.#teardown();
    this.#setStatus('stopped', 'Stopped');
    await closing;
  }

  #url(path) {
    return this.#opts.server + path;
  }

  async #connect() {
    const gen = ++this.#generation;
    const stale = () => gen !== this.#generation;
    this.#timers.clearAll();
    this.timings = { start: performance.now() };
    this.#setStatus('connecting', this.#attempt ? 'Reconnecting…' : 'Connecting…');
    try {
      const config = await fetchConfig(this.#url('/config'), this.#opts);
      if (stale()) return;
      const session = new WhepSession({
        endpoint: this.#url('/whep'),
        rtcConfig: rtcConfiguration(config),
        options: this.#opts,
        onTrack: () => this.#attachVideo(session),
        onConnectionState: (state) => this.#onConnectionState(session, state),
      });
      this.#session = session;
      await session.open();
      if (stale()) return;
      this.timings.answered = performance.now();
      if (session.pc.connectionState !== 'connected') {
        this.#timers.set('connect', () => this.#fail(new LivecastError(
          'The media connection could not be established', { retryable: true })),
        this.#opts.connectTimeoutMs);
      }
      this.#timers.repeat('stats', () => this.#pollStats(), this.#opts.statsIntervalMs);
    } catch (err) {
      if (!stale()) this.#fail(err);
    }
  }

  #attachVideo(session) {
    const video = this.#opts.video;
    if (!video || session !== this.#session || video.srcObject === session.stream) return;
    video.srcObject = session.stream;
    // Muted autoplay is allowed everywhere; an unmuted one may be refused until a user gesture.
    video.play().catch(() => {});
    // The stats poll would notice the first picture up to a second late: be told when it is shown.
    const shown = () => {
      if (session !== this.#session) return;
      if (this.state !== 'playing') this.#onFirstFrame();
      this.#pollStats();
    };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(shown);
    else video.addEventListener('loadeddata', shown, { once: true });
  }

  #onConnectionState(session, state) {
    if (session !== this.#session) return;
    console.debug('livecast: peer connection', state);
    if (state === 'connected') {
      this.#timers.clear('connect');
      this.#timers.clear('disconnect');
      this.timings.connected ??= performance.now();
      if (this.state !== 'playing') this.#setStatus('connected', 'Connected, waiting for video…');
      this.#pollStats();
    } else if (state === 'disconnected') {
      this.#timers.set('disconnect', () => this.#fail(new LivecastError(
        'The connection was lost', { retryable: true })), this.#opts.disconnectGraceMs);
    } else if (state === 'failed' || state === 'closed') {
      this.#fail(new LivecastError(
        state === 'failed' ? 'The connection failed' : 'The server ended the connection',
        { retryable: true }));
    }
  }

  async #pollStats() {
    const session = this.#session;
    if (!session) return;
    let report;
    try {
      report = await session.pc.getStats();
    } catch {
      return; // closed meanwhile
    }
    if (session !== this.#session) return;
    const stats = summarizeStats(report, this.#prevStats);
    this.#prevStats = stats;
    this.stats = stats;
    if (stats.framesDecoded > 0 && this.state !== 'playing') this.#onFirstFrame();
    this.#opts.onStats?.(stats);
  }

  #onFirstFrame() {
    this.timings.firstFrame = performance.now();
    this.#timers.clear('connect');
    this.#setStatus('playing', 'Playing');
    this.#timers.set('stable', () => { this.#attempt = 0; }, this.#opts.stableAfterMs);
  }

  /** Ends the current attempt and either schedules the next one or gives up. */
  #fail(err) {
    if (!(err instanceof LivecastError)) {
      err = new LivecastError(err?.message || String(err), { retryable: true, cause: err });
    }
    this.#generation++;
    this.#timers.clearAll();
    this.#teardown();
    if (!this.#running) return;
    if (!err.retryable) {
      this.#running = false;
      removeEventListener('pagehide', this.#onPageHide);
      removeEventListener('pageshow', this.#onPageShow);
      this.#setStatus('error', err.message, { error: err });
      return;
    }
    const backoff = Math.min(this.#opts.maxRetryMs, this.#opts.initialRetryMs * 2 ** this.#attempt);
    // Up to 20 % jitter so that many viewers of a restarted server do not all return at once.
    const delay = Math.max(backoff * (1 + Math.random() * 0.2), err.retryAfterMs);
    this.#attempt++;
    this.#countDown(performance.now() + delay, err);
  }

  #countDown(until, err, shown = 0) {
    const left = until - performance.now();
    if (left <= 0) {
      this.#connect();
      return;
    }
    const seconds = Math.ceil(left / 1000);
    if (seconds !== shown) {
      this.#setStatus('reconnecting', `Reconnecting in ${seconds} s…`,
        { error: err, retryInMs: left });
    }
    // Wake up when the displayed number of seconds changes (a little after: timers may fire a
    // fraction of a millisecond early).
    this.#timers.set('retry', () => this.#countDown(until, err, seconds),
      left - (seconds - 1) * 1000 + 5);
  }

  /** Drops the current session (DELETE + close); the caller decides what comes next. */
  #teardown({ keepalive = false } = {}) {
    const session = this.#session;
    this.#session = null;
    this.stats = null;
    this.#prevStats = null;
    const video = this.#opts.video;
    if (video && session && video.srcObject === session.stream) video.srcObject = null;
    return session ? session.close({ keepalive }) : Promise.resolve();
  }

  // Leaving the page: end the server-side session now (keepalive lets the DELETE outlive the
  // page) rather than leaving it to the server's ICE consent timeout.
  #onPageHide = () => {
    if (!this.#running) return;
    this.#generation++;
    this.#timers.clearAll();
    this.#teardown({ keepalive: true });
  };

  // Back from the back/forward cache: the session was ended in pagehide, start a new one.
  #onPageShow = (event) => {
    if (event.persisted && this.#running) this.#connect();
  };

  #setStatus(state, message, extra = {}) {
    this.state = state;
    this.status = { state, message, ...extra };
    if (state === 'error') console.warn('livecast:', message);
    else console.debug('livecast:', state, message, extra.error?.message ?? '');
    this.#opts.onStatus?.(this.status);
  }
}

/** One WHEP session: a peer connection and its resource on the server. */
class WhepSession {
  stream = new MediaStream();
  pc;

  #endpoint;
  #opts;
  #resource = null; // absolute URL from the Location header
  #etag = null;
  #closed = false;
  #trickle = true; // false once the offer held every candidate or the server refused a PATCH
  #offerSent = false;
  #pending = []; // candidates found after the offer was sent, waiting for a PATCH
  #gatheringDone = false;
  #endSent = false;
  #patchChain = Promise.resolve(); // PATCHes go out one after another, in order
  #flushTimer = 0;

  constructor({ endpoint, rtcConfig, options, onTrack, onConnectionState }) {
    this.#endpoint = endpoint;
    this.#opts = options;
    this.pc = new RTCPeerConnection(rtcConfig);
    this.pc.ontrack = ({ track }) => {
      this.stream.addTrack(track);
      onTrack();
    };
    this.pc.onconnectionstatechange = () => onConnectionState(this.pc.connectionState);
    this.pc.onicecandidate = ({ candidate }) => this.#onCandidate(candidate);
  }

  /** Offer, POST, answer. Throws a LivecastError. */
  async open() {
    const pc = this.pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    if (this.#opts.audio) pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    // Non-trickle first: most candidates ride in the offer. On loopback Chromium finds none at
    // all, which is fine: the server learns a peer-reflexive candidate from our checks.
    await waitForGathering(pc, this.#opts.gatherTimeoutMs);
    this.#trickle = pc.iceGatheringState !== 'complete';
    this.#offerSent = true;
    const res = await request(this.#endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
      token: this.#opts.token,
      timeoutMs: this.#opts.requestTimeoutMs,
    });
    if (!res.ok) throw await errorFromResponse(res);
    const location = res.headers.get('Location');
    this.#resource = location ? new URL(location, res.url).href : null;
    this.#etag = res.headers.get('ETag');
    if (!location) console.warn('livecast: no Location header in the WHEP answer (CORS?)');
    const answer = await res.text();
    if (this.#closed) {
      // stop() came while the POST was on its way: the server has a session nobody will use.
      this.#delete();
      throw new LivecastError('Closed');
    }
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (err) {
      throw new LivecastError(`The server's answer was refused: ${err.message}`, { cause: err });
    }
    this.#scheduleFlush();
  }

  /** Ends the session on the server (best effort) and closes the peer connection. */
  close({ keepalive = false } = {}) {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    const deleted = this.#delete({ keepalive });
    this.pc.ontrack = this.pc.onconnectionstatechange = this.pc.onicecandidate = null;
    this.pc.close();
    for (const track of this.stream.getTracks()) track.stop();
    return deleted;
  }

  #delete({ keepalive = false } = {}) {
    if (!this.#resource) return Promise.resolve();
    const url = this.#resource;
    this.#resource = null;
    // Failure is harmless: the server also ends a viewer on ICE failure or consent timeout.
    return request(url, { method: 'DELETE', token: this.#opts.token, keepalive, timeoutMs: 3000 })
      .then(() => {}, () => {});
  }

  #onCandidate(candidate) {
    if (!this.#offerSent || !this.#trickle) return; // before that, the offer carries it
    if (!candidate) this.#gatheringDone = true;
    else if (candidate.candidate) this.#pending.push(candidate);
    this.#scheduleFlush();
  }

  // Candidates come in bursts: gather them for a moment into one PATCH.
  #scheduleFlush() {
    if (!this.#resource || this.#closed || this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = 0;
      this.#patchChain = this.#patchChain.then(() => this.#patch());
    }, 50);
  }

  async #patch() {
    const end = this.#gatheringDone && !this.#endSent;
    if (!this.#trickle || this.#closed || (!this.#pending.length && !end)) return;
    const candidates = this.#pending.splice(0);
    this.#endSent ||= end;
    const headers = { 'Content-Type': 'application/trickle-ice-sdpfrag' };
    if (this.#etag) headers['If-Match'] = this.#etag;
    try {
      const res = await request(this.#resource, {
        method: 'PATCH',
        headers,
        body: sdpFragment(this.pc.localDescription.sdp, candidates, end),
        token: this.#opts.token,
        timeoutMs: this.#opts.requestTimeoutMs,
      });
      if (res.status === 405 || res.status === 501) this.#trickle = false; // no trickle support
      else if (!res.ok) console.warn('livecast: PATCH refused:', res.status, await res.text());
    } catch (err) {
      console.warn('livecast: PATCH failed:', err.message);
    }
  }
}

/** setTimeout handles by name, so every pending timer can be dropped at once. */
class Timers {
  #ids = new Map();

  set(name, fn, ms) {
    this.clear(name);
    this.#ids.set(name, setTimeout(() => {
      this.#ids.delete(name);
      fn();
    }, ms));
  }

  repeat(name, fn, ms) {
    this.clear(name);
    this.#ids.set(name, setInterval(fn, ms));
  }

  // clearTimeout() also clears intervals: both share one list of timers.
  clear(name) {
    clearTimeout(this.#ids.get(name));
    this.#ids.delete(name);
  }

  clearAll() {
    for (const id of this.#ids.values()) clearTimeout(id);
    this.#ids.clear();
  }
}

async function request(url, { method = 'GET', headers = {}, body, token, keepalive = false,
  timeoutMs }) {
  const allHeaders = new Headers(headers);
  if (token) allHeaders.set('Authorization', `Bearer ${token}`);
  try {
    return await fetch(url, {
      method,
      headers: allHeaders,
      body,
      keepalive,
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const where = new URL(url, location.href).origin;
    const message = err.name === 'TimeoutError'
      ? `The server at ${where} did not answer in time`
      : `Cannot reach the server at ${where}`;
    throw new LivecastError(message, { retryable: true, cause: err });
  }
}

/** The server explains every error in a one-sentence text body: that is what the user sees. */
async function errorFromResponse(res) {
  let text = '';
  try {
    text = (await res.text()).trim();
  } catch {
    // no body
  }
  // An HTML page (from a proxy, say) is no sentence to show.
  if (text.length > 300 || text.startsWith('<')) text = '';
  const status = res.status;
  return new LivecastError(text || `HTTP ${status} ${res.statusText}`.trim(), {
    status,
    // 5xx (503: viewer limit reached, stream not running) may pass; other 4xx need the user.
    retryable: status >= 500 || status === 408 || status === 429,
    retryAfterMs: parseRetryAfter(res.headers.get('Retry-After')),
  });
}

function parseRetryAfter(value) {
  if (!value) return 0;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 60000) : 0;
}

async function fetchConfig(url, opts) {
  const res = await request(url, { token: opts.token, timeoutMs: opts.requestTimeoutMs });
  if (res.status === 404) return {}; // a server without /config: defaults will do
  if (!res.ok) throw await errorFromResponse(res);
  try {
    return await res.json();
  } catch {
    console.warn('livecast: /config is not JSON; using defaults');
    return {};
  }
}

function rtcConfiguration(config) {
  return {
    iceServers: Array.isArray(config.iceServers) ? config.iceServers : [],
    iceTransportPolicy: config.iceTransportPolicy === 'relay' ? 'relay' : 'all',
    bundlePolicy: 'max-bundle', // WHEP servers expect a single transport
  };
}

function waitForGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

/**
 * A trickle-ICE SDP fragment (RFC 8840, as WHEP uses it): the ICE credentials, then for each
 * media section with new candidates its m= line, a=mid and the a=candidate lines.
 */
export function sdpFragment(localSdp, candidates, endOfCandidates = false) {
  const lines = localSdp.split(/\r?\n/);
  const attr = (name) => lines.find((l) => l.startsWith(`a=${name}:`));
  const sections = mediaSections(lines);
  const byMid = new Map();
  for (const c of candidates) {
    const mid = c.sdpMid ?? sections[c.sdpMLineIndex ?? 0]?.mid;
    if (!byMid.has(mid)) byMid.set(mid, []);
    byMid.get(mid).push(c.candidate);
  }
  // With BUNDLE every candidate belongs to the first section; end-of-candidates goes there too.
  if (endOfCandidates && !byMid.size && sections.length) byMid.set(sections[0].mid, []);
  const out = [attr('ice-ufrag'), attr('ice-pwd')].filter(Boolean);
  for (const [mid, list] of byMid) {
    const section = sections.find((s) => s.mid === mid) ?? sections[0];
    if (section) out.push(section.mline, `a=mid:${section.mid}`);
    for (const c of list) out.push(c.startsWith('a=') ? c : `a=${c}`);
    if (endOfCandidates) out.push('a=end-of-candidates');
  }
  return out.join('\r\n') + '\r\n';
}

function mediaSections(lines) {
  const sections = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      // The port means nothing in a fragment: 9 as in the RFC examples.
      sections.push({ mline: line.replace(/^(m=\S+ )\d+/, '$19'), mid: String(sections.length) });
    } else if (line.startsWith('a=mid:') && sections.length) {
      sections[sections.length - 1].mid = line.slice(6);
    }
  }
  return sections;
}

/**
 * Reduces a getStats() report to what a viewer shows. `prev` is the previous result (for rates;
 * `rateBase` is the sample they are measured from). Rates are null until two reports half a
 * second apart exist; counters are 0 before the first packet.
 */
export function summarizeStats(report, prev = null) {
  let video = null;
  let pair = null;
  for (const s of report.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      pair = report.get(s.selectedCandidatePairId) ?? pair;
    }
  }
  pair ??= [...report.values()].find((s) => s.type === 'candidate-pair' && s.nominated &&
    s.state === 'succeeded') ?? null;
  const codec = video?.codecId ? report.get(video.codecId) : null;
  const local = pair ? report.get(pair.localCandidateId) : null;
  const timestamp = video?.timestamp ?? performance.now();
  const bytesReceived = video?.bytesReceived ?? 0;
  const framesDecoded = video?.framesDecoded ?? 0;
  const packetsLost = Math.max(video?.packetsLost ?? 0, 0);
  const packetsReceived = video?.packetsReceived ?? 0;
  // Rates are measured over at least half a second: an extra poll (at the first frame) may come
  // a few milliseconds after the last one, and would give noise. Until then the last rates hold.
  const base = prev?.rateBase ?? null;
  const seconds = base ? (timestamp - base.timestamp) / 1000 : 0;
  const fresh = seconds >= 0.5;
  const rate = (now, before) => Math.max(now - before, 0) / seconds;
  return {
    timestamp,
    width: video?.frameWidth ?? 0,
    height: video?.frameHeight ?? 0,
    fps: video?.framesPerSecond ??
      (fresh ? rate(framesDecoded, base.framesDecoded) : prev?.fps ?? null),
    bitrate: fresh ? rate(bytesReceived * 8, base.bytesReceived * 8) : prev?.bitrate ?? null, // bit/s
    rtt: pair?.currentRoundTripTime != null ? pair.currentRoundTripTime * 1000 : null, // ms
    packetsLost,
    packetsReceived,
    lossPercent: packetsLost + packetsReceived ? (100 * packetsLost) /
      (packetsLost + packetsReceived) : 0,
    framesDecoded,
    framesDropped: video?.framesDropped ?? 0,
    bytesReceived,
    codec: codec?.mimeType?.split('/')[1] ?? null, // 'H264', 'VP8', …
    codecParameters: codec?.sdpFmtpLine ?? null,
    decoder: video?.decoderImplementation ?? null,
    candidateType: local?.candidateType ?? null, // 'host', 'srflx', 'prflx', 'relay'
    protocol: local?.protocol ?? null,
    rateBase: video && (fresh || !base) ? { timestamp, bytesReceived, framesDecoded } : base,
  };
}

export function formatBitrate(bps) {
  if (bps == null) return '–';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  return `${Math.round(bps / 1e3)} kbit/s`;
}

/** One line for a status bar: "Playing — 1280×720 · 30 fps · 2.1 Mbit/s", "Reconnecting in…" */
export function statusText(status, stats) {
  if (status.state === 'playing' && stats?.width) {
    const fps = stats.fps != null ? ` · ${Math.round(stats.fps)} fps` : '';
    const rate = stats.bitrate != null ? ` · ${formatBitrate(stats.bitrate)}` : '';
    return `Playing — ${stats.width}×${stats.height}${fps}${rate}`;
  }
  if (status.state === 'reconnecting' && status.error) {
    return `${status.message} (${status.error.message.replace(/\.$/, '')})`;
  }
  return status.message;
}
