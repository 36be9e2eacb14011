// livecast-client.js: viewer client for livecast's webrtcserversink, over WHEP or WebSocket.
//
// A plain ES module with no dependencies, usable by any page:
//
//   import { LivecastClient } from 'http://host:8080/livecast-client.js';
//   const client = new LivecastClient({ server: 'http://host:8080', video, onStatus, onStats });
//   client.start();
//
// WHEP (RFC 9725, the default): GET /config → RTCPeerConnection with its ICE servers → offer →
// POST /whep → answer; later local candidates are trickled with PATCH (RFC 8840 sdpfrag); DELETE
// on stop() and when the page goes away.
// WebSocket (transport: 'ws'): GET /ws → "welcome" (ICE servers, what the stream offers) → our
// offer and the server's answer, or (wsMode: 'join') the server's offer and our answer; candidates
// trickle both ways on the socket; "bye" or closing the socket ends the session.
// Media over the WebSocket (transport: 'wsmedia', mediasocket.js): no WebRTC at all; the stream's
// access units come on /ws itself, decoded with WebCodecs (or Media Source Extensions on insecure
// pages). WHEP and 'ws' fall back to it by themselves when ICE has not connected within
// wsMediaFallbackMs on their first connection (networks that let only the page's own port
// through); once ICE has connected, later failures are outages and reconnect over WebRTC.
// Janus (transport: 'janus'): the stream as a Janus Streaming mountpoint on an edge of
// deploy/janus (janus-transport.js, loaded only for it: the Janus client's "watch", Janus's offer,
// our answer).
// Either way, failures reconnect with exponential back-off (Retry-After honoured).
//
// Audio: received when the server has it (/config.audio; audio: true/false forces it). Talkback:
// when the server accepts viewers' microphones (/config.talkback), the audio section is offered
// sendrecv from the start with no track; setMicrophone(true) asks for the microphone and puts its
// track on the sender (replaceTrack, no renegotiation).

const DEFAULTS = {
  server: '', // base URL of the livecast server; '' = the page's own origin
  token: '', // sent as "Authorization: Bearer" on every API call when set
  video: null, // HTMLVideoElement that shows the stream (optional)
  transport: 'whep', // 'whep' | 'ws' (WebSocket signaling on /ws) | 'wsmedia' (media on /ws) | 'janus' (a Janus edge)
  canvas: null, // HTMLCanvasElement for 'wsmedia' with WebCodecs (shown instead of the video)
  // ICE not connected this long after a start: play over the WebSocket instead (0: never).
  wsMediaFallbackMs: 4000,
  // Janus only: the edge's Janus API (ws://edge:8188/; '' = the page's host), the Streaming
  // mountpoint, and where the Janus client script is ('' = beside the page).
  janus: '',
  mountpoint: 1,
  janusScript: '',
  wsMode: 'offer', // WebSocket only: 'offer' (we offer) | 'join' (the server offers)
  // A signaling relay (`livecast signal`) instead of the server's own /ws: its ws(s):// URL and
  // the room the stream serves (webrtcserversink signaling-url/room). Implies transport 'ws'.
  relay: '',
  room: 'livecast',
  audio: 'auto', // receive audio: 'auto' (when the server says it has some) | true | false
  talkback: 'auto', // offer our microphone: 'auto' (when the server accepts it) | false
  onStatus: null, // (status) => void, see #setStatus()
  onStats: null, // (stats) => void, see summarizeStats()
  onConfig: null, // (config) => void: what the server offers ({ audio, talkback, … })
  onMicrophone: null, // (microphone) => void, see `microphone`
  onTrack: null, // (track, stream) => void: a track of the stream arrived
  initialRetryMs: 500,
  maxRetryMs: 10000,
  stableAfterMs: 5000, // playing this long → back-off starts from initialRetryMs again
  gatherTimeoutMs: 1000, // WHEP offers are sent after ICE gathering or this long, at most
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
 * summary, null without a session), `timings` (performance.now() marks of the current attempt:
 * start, configured, answered, connected, firstFrame, firstRemoteCandidate), `config` (what the
 * server last said it offers: iceServers, audio, talkback…), `signaling` (transport, mode and
 * candidate counts of the current attempt) and `microphone` (see setMicrophone()).
 */
export class LivecastClient {
  state = 'idle';
  status = { state: 'idle', message: 'Idle' };
  stats = null;
  timings = {};
  config = null;
  signaling = null;
  /** available: the server takes our microphone; state: 'off' | 'starting' | 'on' | 'error'. */
  microphone = { available: false, state: 'off', message: '' };

  #opts;
  #session = null;
  #running = false;
  #attempt = 0; // failed attempts since the last stable connection
  #generation = 0; // bumped on every (re)connect and stop: stale async work checks it
  #timers = new Timers();
  #prevStats = null;
  #micTrack = null;
  #micGeneration = 0; // bumped when the microphone is switched: a late getUserMedia is dropped
  #fallback = ''; // why this client plays over the WebSocket instead of WebRTC, once it does
  // ICE connected once: this network carries WebRTC, and a later failure is an outage that
  // reconnecting rides out (the fallback is for networks where ICE never connects).
  #iceConnectedOnce = false;

  constructor(options = {}) {
    this.#opts = { ...DEFAULTS, ...options };
    this.#opts.server = String(this.#opts.server || '').replace(/\/+$/, '');
    if (this.#opts.relay) this.#opts.transport = 'ws';
    if (!['whep', 'ws', 'wsmedia', 'janus'].includes(this.#opts.transport)) {
      throw new TypeError(`transport must be 'whep', 'ws', 'wsmedia' or 'janus', not ${this.#opts.transport}`);
    }
    if (!['offer', 'join'].includes(this.#opts.wsMode)) {
      throw new TypeError(`wsMode must be 'offer' or 'join', not ${this.#opts.wsMode}`);
    }
  }

  get running() {
    return this.#running;
  }

  get transport() {
    return this.#fallback ? 'wsmedia' : this.#opts.transport;
  }

  get token() {
    return this.#opts.token;
  }

  /**
   * This viewer's session id on the server (the last part of the WHEP Location, or the id of
   * the /ws welcome when the server gives one); null before the answer and on transports whose
   * sessions the server's /stats does not list (Janus, media over the WebSocket, a relay).
   */
  get sessionId() {
    if (this.transport === 'wsmedia' || this.#opts.transport === 'janus' || this.#opts.relay) {
      return null;
    }
    return this.#session?.id || null;
  }

  /**
   * What the server says about this viewer (its /stats, this session's entry): where it is on
   * the rendition ladder and its bandwidth estimate, see sessionStats(). Resolves to null when
   * the server does not list this session (yet) or cannot be asked; never throws.
   */
  async fetchSessionStats() {
    const id = this.sessionId;
    if (!id) return null;
    try {
      const res = await request(this.#url('/stats'), {
        token: this.#opts.token, timeoutMs: this.#opts.requestTimeoutMs,
      });
      if (!res.ok) return null;
      return sessionStats(await res.json(), id);
    } catch {
      return null;
    }
  }

  /**
   * Switches our microphone on (asks for it: getUserMedia) or off (stops it). Resolves to true
   * when the microphone is in the state asked for; on failure `microphone.state` is 'error' and
   * `microphone.message` says why in one sentence. The track survives reconnects.
   */
  async setMicrophone(on) {
    const gen = ++this.#micGeneration;
    if (!on) {
      this.#dropMicrophone();
      this.#setMicrophone('off', '');
      return true;
    }
    if (this.#micTrack) return true;
    if (!this.microphone.available) {
      this.#setMicrophone('error', 'This stream does not take a microphone.');
      return false;
    }
    if (!globalThis.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      this.#setMicrophone('error', globalThis.isSecureContext === false
        ? 'The microphone needs a secure page: open this page over https:// or on localhost.'
        : 'This browser cannot capture a microphone.');
      return false;
    }
    this.#setMicrophone('starting', 'Asking for the microphone…');
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      if (gen === this.#micGeneration) this.#setMicrophone('error', microphoneError(err));
      return false;
    }
    const track = stream.getAudioTracks()[0];
    if (gen !== this.#micGeneration || !track) {
      // Switched off (or on again) while the browser asked: this answer is not wanted any more.
      for (const t of stream.getTracks()) t.stop();
      if (!track && gen === this.#micGeneration) {
        this.#setMicrophone('error', 'The browser gave no microphone track.');
      }
      return false;
    }
    track.addEventListener('ended', () => {
      if (this.#micTrack !== track) return;
      this.#dropMicrophone();
      this.#setMicrophone('error', 'The microphone stopped (unplugged, or access was withdrawn).');
    });
    this.#micTrack = track;
    try {
      await this.#session?.setMicrophoneTrack(track);
    } catch (err) {
      console.warn('livecast: replaceTrack failed:', err.message);
    }
    if (gen === this.#micGeneration) this.#setMicrophone('on', 'Microphone on');
    return gen === this.#micGeneration;
  }

  #dropMicrophone() {
    const track = this.#micTrack;
    this.#micTrack = null;
    if (!track) return;
    track.stop();
    this.#session?.setMicrophoneTrack(null).catch(() => {});
  }

  #setMicrophone(state, message) {
    this.microphone = { ...this.microphone, state, message };
    if (state === 'error') console.warn('livecast:', message);
    this.#opts.onMicrophone?.(this.microphone);
  }

  /** What the server said about itself (/config or the WebSocket welcome). */
  #onConfig(config) {
    this.config = config;
    this.timings.configured ??= performance.now();
    const available = this.#opts.talkback !== false && config.talkback === true;
    if (available !== this.microphone.available) {
      this.microphone = { ...this.microphone, available };
      if (!available && this.microphone.state !== 'off') {
        this.#micGeneration++;
        this.#dropMicrophone();
        this.microphone = { ...this.microphone, state: 'off', message: '' };
      }
      this.#opts.onMicrophone?.(this.microphone);
    }
    this.#opts.onConfig?.(config);
  }

  /** The audio section we want, given what the server offers: { receive, send }. */
  #audioWanted(config) {
    const audio = this.#opts.audio;
    // A server that does not say whether it has audio gets no audio section: an unanswered one
    // must never cost the video.
    const receive = audio === 'auto' ? config.audio === true : Boolean(audio);
    const send = this.#opts.talkback !== false && config.talkback === true;
    return { receive, send };
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
    if (this.#micTrack || this.microphone.state !== 'off') {
      this.#micGeneration++;
      this.#dropMicrophone();
      this.#setMicrophone('off', '');
    }
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
    if (this.transport === 'wsmedia') {
      this.#connectMedia(gen);
      return;
    }
    const ws = this.#opts.transport === 'ws';
    const janus = this.#opts.transport === 'janus';
    this.signaling = {
      transport: this.#opts.transport,
      mode: ws ? this.#opts.wsMode : janus ? 'join' : 'offer',
      localCandidates: 0,
      remoteCandidates: 0,
      remoteEndOfCandidates: false,
    };
    this.#setStatus('connecting', this.#attempt ? 'Reconnecting…' : 'Connecting…');
    let session;
    try {
      const common = {
        options: this.#opts,
        signaling: this.signaling,
        micTrack: () => this.#micTrack,
        onTrack: (track) => this.#onTrack(session, track),
        onConnectionState: (state) => this.#onConnectionState(session, state),
        onRemoteCandidate: () => {
          if (!stale()) this.timings.firstRemoteCandidate ??= performance.now();
        },
      };
      if (janus) {
        // Its own module, fetched only by pages that watch through Janus.
        const { JanusSession } = await import('./janus-transport.js');
        if (stale()) return;
        session = new JanusSession({
          ...common,
          errorClass: LivecastError,
          onFail: (err) => {
            if (!stale() && session === this.#session) this.#fail(err);
          },
        });
        this.#session = session;
        this.signaling.server = session.server;
      } else if (ws) {
        session = new WsSession({
          ...common,
          url: this.#opts.relay || webSocketUrl(this.#url('/ws'), this.#opts.token),
          probeUrl: this.#opts.relay ? null : this.#url('/ws'),
          audioWanted: (config) => {
            if (!stale()) this.#onConfig(config);
            return this.#audioWanted(config);
          },
          onFail: (err) => {
            if (!stale() && session === this.#session) this.#fail(err);
          },
        });
        this.#session = session;
      } else {
        const config = await fetchConfig(this.#url('/config'), this.#opts);
        if (stale()) return;
        this.#onConfig(config);
        session = new WhepSession({
          ...common,
          endpoint: this.#url('/whep'),
          rtcConfig: rtcConfiguration(config),
          audio: this.#audioWanted(config),
        });
        this.#session = session;
      }
      const fallbackMs = this.#opts.wsMediaFallbackMs;
      if (fallbackMs > 0 && !this.#opts.relay && !janus && !this.#iceConnectedOnce &&
        canPlayOverWebSocket()) {
        this.#timers.set('fallback', () => this.#fallBack(
          `ICE did not connect within ${Math.round(fallbackMs / 1000)} s`), fallbackMs);
      }
      await session.open();
      if (stale()) return;
      if (janus) this.#onConfig({ audio: session.audio, talkback: false });
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

  /** Media over the WebSocket: no peer connection, frames on /ws (mediasocket.js). */
  async #connectMedia(gen) {
    const stale = () => gen !== this.#generation;
    this.signaling = { transport: 'wsmedia', mode: 'media', fallback: this.#fallback,
      localCandidates: 0, remoteCandidates: 0, remoteEndOfCandidates: false };
    this.#setStatus('connecting', this.#fallback && !this.#attempt
      ? `${this.#fallback}; connecting over the WebSocket…`
      : this.#attempt ? 'Reconnecting…' : 'Connecting over the WebSocket…',
    { fallback: this.#fallback });
    let session;
    try {
      // Its own module, fetched only by pages that play over the WebSocket.
      const { WsMediaSession } = await import('./mediasocket.js');
      if (stale()) return;
      session = new WsMediaSession({
        url: webSocketUrl(this.#url('/ws'), this.#opts.token),
        options: this.#opts,
        video: this.#opts.video,
        canvas: this.#opts.canvas ?? this.#canvasFor(this.#opts.video),
        onConfig: (config) => {
          if (!stale()) this.#onConfig({ ...config, talkback: false });
        },
        onFirstFrame: () => {
          if (stale() || session !== this.#session) return;
          this.timings.connected ??= performance.now();
          this.#onFirstFrame();
          this.#pollStats();
        },
        onFail: (err) => {
          if (!stale() && session === this.#session) this.#fail(err);
        },
      });
      this.#session = session;
      await session.open();
      if (stale()) return;
      this.timings.answered = performance.now();
      this.#setStatus('connected', 'Connected over the WebSocket, waiting for video…',
        { fallback: this.#fallback });
      this.#timers.set('connect', () => this.#fail(new LivecastError(
        'No picture arrived over the WebSocket', { retryable: true })),
      this.#opts.connectTimeoutMs);
      this.#timers.repeat('stats', () => this.#pollStats(), this.#opts.statsIntervalMs);
    } catch (err) {
      if (!stale()) this.#fail(err);
    }
  }

  /** A canvas in front of @video, in the same stage, for WebCodecs to draw on. */
  #canvasFor(video) {
    if (!video?.parentNode) return globalThis.document?.createElement('canvas');
    let canvas = video.parentNode.querySelector('canvas.livecast-canvas');
    if (!canvas) {
      canvas = document.createElement('canvas');
      canvas.className = 'livecast-canvas';
      canvas.hidden = true;
      video.after(canvas);
    }
    return canvas;
  }

  /** ICE did not connect (@why): from now on this client plays over the WebSocket. */
  #fallBack(why) {
    const session = this.#session;
    if (!session?.pc || session.pc.connectionState === 'connected') return;
    this.#fallback = why;
    console.warn(`livecast: ${this.#fallback}; playing over the WebSocket instead`);
    this.#generation++;
    this.#timers.clearAll();
    this.#teardown();
    this.#attempt = 0;
    this.#connect();
  }

  #onTrack(session, track) {
    if (session !== this.#session) return;
    this.#attachVideo(session);
    this.#opts.onTrack?.(track, session.stream);
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
      this.#timers.clear('fallback');
      this.#iceConnectedOnce = true;
      this.#timers.clear('disconnect');
      this.timings.connected ??= performance.now();
      if (this.state !== 'playing') this.#setStatus('connected', 'Connected, waiting for video…');
      this.#pollStats();
    } else if (state === 'disconnected') {
      this.#timers.set('disconnect', () => this.#fail(new LivecastError(
        'The connection was lost', { retryable: true })), this.#opts.disconnectGraceMs);
    } else if (state === 'failed' && this.#opts.wsMediaFallbackMs > 0 && !this.#opts.relay &&
               !this.#iceConnectedOnce && canPlayOverWebSocket()) {
      this.#fallBack('ICE failed');
    } else if (state === 'failed' || state === 'closed') {
      this.#fail(new LivecastError(
        state === 'failed' ? 'The connection failed' : 'The server ended the connection',
        { retryable: true }));
    }
  }

  async #pollStats() {
    const session = this.#session;
    if (!session) return;
    if (session.getSummary) {
      const stats = session.getSummary();
      this.stats = stats;
      if (stats.framesDecoded > 0 && this.state !== 'playing') this.#onFirstFrame();
      this.#opts.onStats?.(stats);
      return;
    }
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
    this.#setStatus('playing', this.#fallback
      ? `Playing over the WebSocket (${this.#fallback})` : 'Playing', { fallback: this.#fallback });
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

/**
 * What WHEP and WebSocket sessions share: the peer connection, the stream it receives, and the
 * audio transceiver that carries our microphone.
 */
class PeerSession {
  stream = new MediaStream();
  pc = null;
  signaling; // the client's counters of this attempt (shared object)
  callbacks;
  audioTransceiver = null;

  constructor({ signaling, micTrack, onTrack, onConnectionState, onRemoteCandidate }) {
    this.signaling = signaling;
    this.callbacks = { micTrack, onTrack, onConnectionState, onRemoteCandidate };
  }

  createPeerConnection(rtcConfig, onLocalCandidate) {
    const pc = new RTCPeerConnection(rtcConfig);
    pc.ontrack = ({ track }) => {
      this.stream.addTrack(track);
      this.callbacks.onTrack(track);
    };
    pc.onconnectionstatechange = () => this.callbacks.onConnectionState(pc.connectionState);
    pc.onicecandidate = ({ candidate }) => onLocalCandidate(candidate);
    this.pc = pc;
    return pc;
  }

  /** As the offerer: video recvonly, and the audio section we want ({ receive, send }). */
  addTransceivers(audio) {
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    const direction = audioDirection(audio);
    if (direction === 'inactive') return;
    // Talkback: sendrecv with no track yet; the microphone joins later with replaceTrack().
    this.audioTransceiver = this.pc.addTransceiver('audio', { direction });
    this.#applyMicrophone();
  }

  /** As the answerer (after the server's offer): what we take of each section it offers. */
  acceptTransceivers(audio) {
    let video = null;
    for (const t of this.pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      if (kind === 'video' && !video) {
        t.direction = 'recvonly';
        video = t;
      } else if (kind === 'audio' && !this.audioTransceiver) {
        t.direction = audioDirection(audio);
        if (t.direction !== 'inactive') this.audioTransceiver = t;
      } else {
        t.direction = 'inactive';
      }
    }
    this.#applyMicrophone();
  }

  /** Puts our microphone track (or null: nothing) on the audio sender; no renegotiation. */
  async setMicrophoneTrack(track) {
    const t = this.audioTransceiver;
    if (!t || !this.pc || this.pc.signalingState === 'closed') return false;
    if (t.direction !== 'sendrecv' && t.direction !== 'sendonly') return false;
    await t.sender.replaceTrack(track);
    return true;
  }

  #applyMicrophone() {
    const track = this.callbacks.micTrack();
    if (track) {
      this.setMicrophoneTrack(track).catch((err) =>
        console.warn('livecast: replaceTrack failed:', err.message));
    }
  }

  closePeer() {
    if (!this.pc) return;
    this.pc.ontrack = this.pc.onconnectionstatechange = this.pc.onicecandidate = null;
    this.pc.close();
    // Received tracks end here; our microphone belongs to the client and stays open.
    for (const track of this.stream.getTracks()) track.stop();
  }
}

function audioDirection({ receive, send }) {
  if (receive && send) return 'sendrecv';
  if (send) return 'sendonly';
  return receive ? 'recvonly' : 'inactive';
}

/** One WHEP session: a peer connection and its resource on the server. */
class WhepSession extends PeerSession {
  id = null; // the server's id for this session (from the Location header)
  #endpoint;
  #opts;
  #audio;
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

  constructor({ endpoint, rtcConfig, options, audio, ...common }) {
    super(common);
    this.#endpoint = endpoint;
    this.#opts = options;
    this.#audio = audio;
    this.createPeerConnection(rtcConfig, (candidate) => this.#onCandidate(candidate));
  }

  /** Offer, POST, answer. Throws a LivecastError. */
  async open() {
    const pc = this.pc;
    this.addTransceivers(this.#audio);
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
    // The resource's last segment is the session's id in the server's /stats.
    this.id = this.#resource
      ? decodeURIComponent(new URL(this.#resource).pathname.split('/').pop()) || null : null;
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
    // WHEP servers send their candidates in the answer.
    const count = answer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).length;
    this.signaling.remoteCandidates += count;
    this.signaling.remoteEndOfCandidates = /^a=end-of-candidates/m.test(answer);
    if (count) this.callbacks.onRemoteCandidate();
    this.#scheduleFlush();
  }

  /** Ends the session on the server (best effort) and closes the peer connection. */
  close({ keepalive = false } = {}) {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    const deleted = this.#delete({ keepalive });
    this.closePeer();
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
    this.signaling.localCandidates += candidates.length;
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

/**
 * The one reply a WebSocket session waits for: expect(type) gives a promise that resolve() or
 * reject() settles, or the timeout (0: none, as a relay's room may be empty for a while).
 */
export class ReplyWaiter {
  #waiter = null; // { type, resolve, reject, timer }

  get type() {
    return this.#waiter?.type ?? null;
  }

  expect(type, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = timeoutMs === 0 ? 0 : setTimeout(() => {
        this.reject(new LivecastError(type === 'welcome'
          ? 'The server did not open the WebSocket session in time'
          : `The server sent no ${type} in time`, { retryable: true }));
      }, timeoutMs);
      this.#waiter = { type, resolve, reject, timer };
    });
  }

  resolve(message) {
    const waiter = this.#waiter;
    if (!waiter) return false;
    this.#waiter = null;
    clearTimeout(waiter.timer);
    waiter.resolve(message);
    return true;
  }

  /** false when nothing was waiting. */
  reject(err) {
    const waiter = this.#waiter;
    if (!waiter) return false;
    this.#waiter = null;
    clearTimeout(waiter.timer);
    waiter.reject(err);
    return true;
  }
}

/**
 * One session over WebSocket signaling (GET /ws): welcome, then our offer and the server's
 * answer or (mode 'join') the server's offer and our answer, candidates both ways as they come.
 * Closing the socket ends the session on the server; the server closing it ends ours (onFail).
 */
class WsSession extends PeerSession {
  id = null; // the server's id for this session (from the welcome)

  #url;
  #probeUrl;
  #opts;
  #audioWanted;
  #onFail;
  #ws = null;
  #welcomed = false;
  #closed = false;
  #waiter = new ReplyWaiter(); // the one reply open() waits for
  #localSent = false; // our description went out: our candidates may follow it
  #localQueue = [];
  #localEndSent = false;
  #remoteQueue = []; // the server's candidates that came before its description
  #closedPromise = null;
  #peer = null; // relay mode: the room member (the stream) we talk to, from its offer

  constructor({ url, probeUrl, options, audioWanted, onFail, ...common }) {
    super(common);
    this.#url = url;
    this.#probeUrl = probeUrl;
    this.#opts = options;
    this.#audioWanted = audioWanted;
    this.#onFail = onFail;
  }

  /** Welcome, offer/answer. Throws a LivecastError. */
  async open() {
    const relay = Boolean(this.#opts.relay);
    const welcome = await this.#connect();
    this.id = typeof welcome.id === 'string' ? welcome.id : null;
    let audio = this.#audioWanted(welcome);
    if (this.#closed) throw new LivecastError('Closed');
    const pc = this.createPeerConnection(rtcConfiguration(welcome),
      (candidate) => this.#onLocalCandidate(candidate));
    if (relay || this.#opts.wsMode === 'join') {
      // Through a relay the stream offers to each member that joins the room (our join went
      // with the connection); it may not be there yet, so wait as long as it takes.
      const offer = this.#expect('offer', relay ? 0 : undefined);
      if (!relay) this.#send({ type: 'join' });
      const { sdp, from } = await offer;
      if (relay) {
        this.#peer = typeof from === 'string' ? from : null;
        // A relay's welcome says nothing about the stream: its offer does.
        audio = audioFromOffer(sdp, this.#opts);
      }
      await this.#setRemote({ type: 'offer', sdp });
      this.acceptTransceivers(audio);
      await pc.setLocalDescription(await pc.createAnswer());
      this.#send({ type: 'answer', sdp: pc.localDescription.sdp });
      this.#flushLocal();
    } else {
      this.addTransceivers(audio);
      await pc.setLocalDescription(await pc.createOffer());
      const answer = this.#expect('answer');
      // Trickle: the offer goes at once, candidates follow as the browser finds them.
      this.#send({ type: 'offer', sdp: pc.localDescription.sdp });
      this.#flushLocal();
      const { sdp } = await answer;
      await this.#setRemote({ type: 'answer', sdp });
    }
  }

  /** Says bye, closes the socket and the peer connection; resolves once the socket is closed. */
  close() {
    if (this.#closed) return this.#closedPromise ?? Promise.resolve();
    this.#closed = true;
    this.#waiter.reject(new LivecastError('Closed'));
    const ws = this.#ws;
    if (ws && ws.readyState <= WebSocket.OPEN) {
      this.#closedPromise = new Promise((resolve) => {
        const timer = setTimeout(resolve, 1000);
        ws.addEventListener('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.#send({ type: 'bye' });
      ws.close(1000, 'bye');
    }
    this.closePeer();
    return this.#closedPromise ?? Promise.resolve();
  }

  /** Opens the socket and waits for the welcome. */
  #connect() {
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch (err) {
      return Promise.reject(new LivecastError(`Bad WebSocket URL ${this.#url}`, { cause: err }));
    }
    this.#ws = ws;
    const welcome = this.#expect('welcome');
    // A relay speaks only once we join a room.
    if (this.#opts.relay) {
      ws.onopen = () => ws.send(JSON.stringify({ type: 'join', room: this.#opts.room }));
    }
    ws.onmessage = (event) => this.#onMessage(event.data);
    ws.onclose = (event) => this.#onClose(event);
    return welcome;
  }

  /** The next message of this type (or the error the server sends instead), within the timeout. */
  #expect(type, timeoutMs = this.#opts.requestTimeoutMs) {
    return this.#waiter.expect(type, timeoutMs);
  }

  #send(message) {
    // Through a relay: to the stream only, not to every viewer in the room.
    const addressed = this.#peer ? { ...message, to: this.#peer } : message;
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(addressed));
  }

  #onMessage(data) {
    if (this.#closed) return;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn('livecast: a WebSocket message that is not JSON:', String(data).slice(0, 80));
      return;
    }
    const type = message?.type;
    if (this.#opts.relay) {
      // Other members' traffic is not ours; the stream leaving ends the session.
      const from = typeof message?.from === 'string' ? message.from : null;
      if (type === 'join' || (from && this.#peer && from !== this.#peer)) return;
      if (type === 'leave') {
        if (from && from === this.#peer) {
          this.#end(new LivecastError('The stream left the room', { retryable: true }));
        }
        return;
      }
    }
    if (type === 'welcome') this.#welcomed = true;
    if (type === this.#waiter.type) {
      if ((type === 'offer' || type === 'answer') && typeof message.sdp !== 'string') {
        this.#waiter.reject(new LivecastError(`The server's ${type} has no SDP`));
      } else {
        this.#waiter.resolve(message);
      }
      return;
    }
    switch (type) {
      case 'candidate':
        this.#onRemoteCandidate(message.candidate);
        break;
      case 'error': {
        const err = errorFromMessage(message);
        // An error in reply to what open() waits for ends this attempt; others are reported.
        if (!this.#waiter.reject(err)) console.warn('livecast: the server says:', err.message);
        break;
      }
      case 'bye':
        this.#end(new LivecastError('The server ended the session', { retryable: true }));
        break;
      default:
        console.debug('livecast: ignored WebSocket message', type);
    }
  }

  async #onClose(event) {
    if (this.#closed) return;
    let err;
    if (!this.#welcomed && !this.#probeUrl) {
      err = new LivecastError(`Cannot reach the signaling relay at ${this.#url}`, { retryable: true });
    } else if (!this.#welcomed) {
      // The browser hides why a WebSocket failed (401? 404? nobody there?): ask the route
      // with a plain GET, whose answer explains.
      err = await this.#probe();
    } else {
      const reason = event.reason ? `: ${event.reason}` : '';
      err = new LivecastError(`The signaling connection closed${reason}`, { retryable: true });
    }
    this.#end(err);
  }

  #end(err) {
    if (this.#closed) return;
    if (!this.#waiter.reject(err)) this.#onFail(err);
  }

  async #probe() {
    const where = new URL(this.#probeUrl, location.href).origin;
    let res;
    try {
      res = await request(this.#probeUrl, { token: this.#opts.token, timeoutMs: 3000 });
    } catch (err) {
      return err; // "Cannot reach the server at …", retryable
    }
    if (res.status === 404) {
      return new LivecastError(
        `The server at ${where} has no WebSocket signaling (/ws); use WHEP instead`,
        { status: 404 });
    }
    // 400/426 "upgrade expected" and 2xx mean the route is there: the socket itself failed.
    if ([200, 400, 426].includes(res.status) || res.ok) {
      return new LivecastError(`The WebSocket connection to ${where} failed`, { retryable: true });
    }
    return errorFromResponse(res);
  }

  #onLocalCandidate(candidate) {
    if (candidate && !candidate.candidate) return; // an empty one: end of a generation
    if (!this.#localSent) {
      this.#localQueue.push(candidate);
      return;
    }
    if (!candidate) {
      if (this.#localEndSent) return;
      this.#localEndSent = true;
      this.#send({ type: 'candidate', candidate: null });
      return;
    }
    this.signaling.localCandidates++;
    this.#send({
      type: 'candidate',
      candidate: {
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
        ...(candidate.usernameFragment ? { usernameFragment: candidate.usernameFragment } : {}),
      },
    });
  }

  #flushLocal() {
    this.#localSent = true;
    for (const candidate of this.#localQueue.splice(0)) this.#onLocalCandidate(candidate);
  }

  #onRemoteCandidate(candidate) {
    let init = null; // null: end of candidates
    if (candidate && typeof candidate === 'object' && typeof candidate.candidate === 'string' &&
      candidate.candidate.trim()) {
      init = {
        candidate: candidate.candidate.trim().replace(/^a=/, ''),
        sdpMid: typeof candidate.sdpMid === 'string' ? candidate.sdpMid : null,
        sdpMLineIndex: Number.isInteger(candidate.sdpMLineIndex) ? candidate.sdpMLineIndex : null,
      };
      if (init.sdpMid === null && init.sdpMLineIndex === null) init.sdpMLineIndex = 0;
      this.signaling.remoteCandidates++;
      this.callbacks.onRemoteCandidate();
    } else if (candidate != null && !(typeof candidate === 'object' && candidate.candidate === '')) {
      console.warn('livecast: a malformed candidate from the server:', JSON.stringify(candidate));
      return;
    } else {
      this.signaling.remoteEndOfCandidates = true;
    }
    if (this.pc?.remoteDescription) this.#addRemote(init);
    else this.#remoteQueue.push(init);
  }

  #addRemote(init) {
    // No argument: end of candidates.
    const added = init ? this.pc.addIceCandidate(init) : this.pc.addIceCandidate();
    added.catch((err) => {
      if (init) console.warn('livecast: a candidate from the server was refused:', err.message);
    });
  }

  async #setRemote(description) {
    try {
      await this.pc.setRemoteDescription(description);
    } catch (err) {
      throw new LivecastError(`The server's ${description.type} was refused: ${err.message}`,
        { cause: err });
    }
    for (const init of this.#remoteQueue.splice(0)) this.#addRemote(init);
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

/** ws:// or wss:// for the page's or the given server's /ws; the token rides in the query. */
/** What to do with the audio section of a stream's own offer: receive what it sends, and
 * send our microphone where it would receive one (talkback). */
function audioFromOffer(sdp, opts) {
  // (Port 0 with a=bundle-only is still a live section.)
  const section = sdp.split(/\r?\n(?=m=)/).find((m) => m.startsWith('m=audio'));
  const dir = section ? ((section.match(/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m) || [])[1] ?? 'sendrecv') : 'inactive';
  return {
    receive: opts.audio !== false && (dir === 'sendrecv' || dir === 'sendonly'),
    send: opts.talkback !== false && (dir === 'sendrecv' || dir === 'recvonly'),
  };
}

/** WebCodecs (secure pages) or Media Source Extensions: mediasocket.js can play here. */
function canPlayOverWebSocket() {
  return typeof VideoDecoder === 'function' || typeof MediaSource === 'function';
}

function webSocketUrl(httpUrl, token) {
  const url = new URL(httpUrl, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('token', token);
  return url.href;
}

/** {"type":"error","message":…,"status":…} → a LivecastError, retryable as HTTP errors are. */
function errorFromMessage(message) {
  const status = Number.isInteger(message.status) ? message.status : 0;
  let text = typeof message.message === 'string' ? message.message.trim() : '';
  if (text.length > 300) text = `${text.slice(0, 300)}…`;
  const retryAfterMs = message.retryAfter != null ? parseRetryAfter(String(message.retryAfter)) : 0;
  return new LivecastError(text || `The server refused${status ? ` (${status})` : ''}`, {
    status,
    retryable: status >= 500 || status === 408 || status === 429,
    retryAfterMs,
  });
}

/** One sentence for a failed getUserMedia(). */
function microphoneError(err) {
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'The microphone was refused: allow it for this site in the browser and try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The microphone could not be opened (another application may be using it).';
    default:
      return `The microphone could not be opened: ${err?.message || err}`;
  }
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
 * second apart exist; counters are 0 before the first packet. `audio` (what we receive) and
 * `microphone` (what we send) are null when there is no such stream.
 */
export function summarizeStats(report, prev = null) {
  let video = null;
  let audioIn = null;
  let audioOut = null;
  let pair = null;
  for (const s of report.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') audioIn = s;
    if (s.type === 'outbound-rtp' && s.kind === 'audio') audioOut = s;
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      pair = report.get(s.selectedCandidatePairId) ?? pair;
    }
  }
  pair ??= [...report.values()].find((s) => s.type === 'candidate-pair' && s.nominated &&
    s.state === 'succeeded') ?? null;
  const codec = video?.codecId ? report.get(video.codecId) : null;
  const audioCodec = audioIn?.codecId ? report.get(audioIn.codecId) : null;
  const micSource = audioOut?.mediaSourceId ? report.get(audioOut.mediaSourceId) : null;
  const local = pair ? report.get(pair.localCandidateId) : null;
  const timestamp = (video ?? audioIn)?.timestamp ?? performance.now();
  const bytesReceived = video?.bytesReceived ?? 0;
  const framesDecoded = video?.framesDecoded ?? 0;
  const packetsLost = Math.max(video?.packetsLost ?? 0, 0);
  const packetsReceived = video?.packetsReceived ?? 0;
  const audioBytes = audioIn?.bytesReceived ?? 0;
  const audioEnergy = audioIn?.totalAudioEnergy ?? 0;
  const audioDuration = audioIn?.totalSamplesDuration ?? 0;
  const micBytes = audioOut?.bytesSent ?? 0;
  // Rates are measured over at least half a second: an extra poll (at the first frame) may come
  // a few milliseconds after the last one, and would give noise. Until then the last rates hold.
  const base = prev?.rateBase ?? null;
  const seconds = base ? (timestamp - base.timestamp) / 1000 : 0;
  const fresh = seconds >= 0.5;
  const rate = (now, before) => Math.max(now - before, 0) / seconds;
  // RMS level over the interval from the energy counters: steadier than the instant audioLevel.
  const energyRms = () => {
    const duration = audioDuration - (base.audioDuration ?? 0);
    return duration > 0 ? Math.sqrt(Math.max(audioEnergy - (base.audioEnergy ?? 0), 0) / duration)
      : null;
  };
  const audio = audioIn ? {
    bitrate: fresh ? rate(audioBytes * 8, (base.audioBytes ?? 0) * 8) : prev?.audio?.bitrate ?? null,
    level: audioIn.audioLevel ?? null, // 0…1, now
    rms: fresh ? energyRms() : prev?.audio?.rms ?? null, // 0…1, over the last interval
    totalAudioEnergy: audioEnergy,
    bytesReceived: audioBytes,
    packetsReceived: audioIn.packetsReceived ?? 0,
    packetsLost: Math.max(audioIn.packetsLost ?? 0, 0),
    codec: audioCodec?.mimeType?.split('/')[1] ?? null, // 'opus'
  } : null;
  const microphone = audioOut && (micBytes > 0 || micSource?.audioLevel != null) ? {
    bitrate: fresh ? rate(micBytes * 8, (base.micBytes ?? 0) * 8) : prev?.microphone?.bitrate ?? null,
    level: micSource?.audioLevel ?? null,
    bytesSent: micBytes,
  } : null;
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
    freezeCount: video?.freezeCount ?? 0,
    totalFreezesDuration: video?.totalFreezesDuration ?? 0, // s
    bytesReceived,
    codec: codec?.mimeType?.split('/')[1] ?? null, // 'H264', 'VP8', …
    codecParameters: codec?.sdpFmtpLine ?? null,
    decoder: video?.decoderImplementation ?? null,
    candidateType: local?.candidateType ?? null, // 'host', 'srflx', 'prflx', 'relay'
    protocol: local?.protocol ?? null,
    audio,
    microphone,
    rateBase: (video || audioIn) && (fresh || !base)
      ? { timestamp, bytesReceived, framesDecoded, audioBytes, audioEnergy, audioDuration, micBytes }
      : base,
  };
}

/**
 * This session's entry in the server's /stats (`stats`: its JSON, `id`: the session id), with
 * the rung it is on: { id, rung, rungs, pendingRung, width, height, halfRate, estimate, basis }.
 * `rung` counts from 0, the top of the ladder (the input size), to rungs - 1; -1 before its first
 * frame. `estimate` is the server's bandwidth estimate for this viewer in bit/s (null before
 * any feedback). Null when the session is not listed.
 */
export function sessionStats(stats, id) {
  const session = stats?.sessions?.find((s) => s.id === id);
  if (!session) return null;
  // The ladder of this session's codec (a VP8 ladder is listed after the stream's own when
  // VP8 is encoded on demand).
  const rungs = (stats.encoder?.rungs ?? []).filter((r) => !session.codec || !r.codec ||
    r.codec === session.codec);
  const rung = Number.isInteger(session.rung) ? session.rung : -1;
  const spec = rungs[rung] ?? null;
  return {
    id,
    rung,
    rungs: rungs.length,
    pendingRung: Number.isInteger(session.pendingRung) ? session.pendingRung : -1,
    width: spec?.width ?? 0,
    height: spec?.height ?? 0,
    halfRate: Boolean(spec?.halfRate),
    estimate: session.estimate?.bitrate > 0 ? session.estimate.bitrate : null,
    basis: session.estimate?.basis ?? null,
  };
}

/** sessionStats() in one line: "rung 1/3 · 640x360 · estimate 850 kbit/s". */
export function ladderText(s) {
  if (!s) return '–';
  const rung = s.rung >= 0 ? `rung ${s.rung}/${s.rungs}` : `rung –/${s.rungs}`;
  const moving = s.pendingRung >= 0 && s.pendingRung !== s.rung ? ` → ${s.pendingRung}` : '';
  const size = s.width ? ` · ${s.width}x${s.height}${s.halfRate ? ' (half rate)' : ''}` : '';
  return `${rung}${moving}${size} · estimate ${formatBitrate(s.estimate)}`;
}

/** An audio level (0…1, linear) in dBFS, as text: "−18 dB", "silent". */
export function formatLevel(level) {
  if (level == null) return '–';
  if (level < 1e-4) return 'silent';
  return `${Math.round(20 * Math.log10(level)).toString().replace('-', '−')} dB`;
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
    const path = stats.candidateType === 'WebSocket' ? ' · WebSocket' : '';
    return `Playing — ${stats.width}×${stats.height}${fps}${rate}${path}`;
  }
  if (status.state === 'reconnecting' && status.error) {
    return `${status.message} (${status.error.message.replace(/\.$/, '')})`;
  }
  return status.message;
}
