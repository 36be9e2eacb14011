// janus-transport.js: LivecastClient's Janus transport (transport: 'janus'): the stream as a Janus
// Streaming mountpoint, served by a Janus edge of the topology in deploy/janus/.
//
// The Janus client (Meetecho's own, Debian's libjs-janus-gateway) speaks the Janus API: session,
// keepalives, the Streaming plugin handle, "watch" → Janus's offer, "start" with our answer, our
// candidates in it. The peer connection is our own, as in the WHEP and WebSocket transports:
// the same tracks, connection states and getStats() for the status line and the overlay, and
// nothing of the Janus client's media code (which wants getUserMedia: a secure page, even to
// receive).
//
// Why the Janus client's Streaming "watch" rather than WHEP through janus-whep-server: Janus 1.1.2 (Debian
// 12) makes the Streaming plugin's offer itself and takes a viewer's offer only from 1.1.4 on,
// while WHEP has the viewer offer; so WHEP would need the server-offer variant that
// LivecastClient's WHEP code (and RFC-track WHEP) does not do, and one more server per edge.
//
// The Janus client is a classic script (it defines the global Janus), loaded once per page from
// `janusScript` (the page's ?janusjs=), by default from beside the page: deploy/janus's edges
// serve the viewer page with the libjs-janus-gateway package's script beside it.
// webrtcserversink does not serve it: a page it serves needs ?janusjs=URL.

/** The LivecastError class of livecast-client.js, handed in to avoid an import cycle. */
let LivecastError = Error;

let janusLoaded = null; // one load per page: Promise<Janus>

/** Loads the Janus client script (once) and initialises it; resolves to the Janus constructor. */
function loadJanus(scriptUrl) {
  janusLoaded ??= new Promise((resolve, reject) => {
    const url = new URL(scriptUrl || 'janus.js', document.baseURI).href;
    const failed = () => {
      janusLoaded = null; // a later attempt may load it (fixed URL, server back)
      reject(new LivecastError(`janus.js could not be loaded from ${url}: serve it beside the page ` +
        '(deploy/janus does) or give its URL in ?janusjs=', { status: 404 }));
    };
    const ready = () => {
      const Janus = globalThis.Janus;
      if (typeof Janus?.init !== 'function') return failed();
      Janus.init({
        debug: false,
        // Janus reads only adapter's browser details; the rest of adapter is not needed
        // for a receiving peer connection of our own.
        dependencies: Janus.useDefaultDependencies({ adapter: { browserDetails: browserDetails() } }),
        callback: () => resolve(Janus),
      });
    };
    if (globalThis.Janus) {
      ready();
      return;
    }
    const script = document.createElement('script');
    script.src = url;
    script.async = true;
    script.onload = ready;
    script.onerror = failed;
    document.head.append(script);
  });
  return janusLoaded;
}

function browserDetails() {
  const ua = navigator.userAgent;
  const version = (re) => Number((ua.match(re) || [])[1] || 0);
  if (/Firefox\//.test(ua)) return { browser: 'firefox', version: version(/Firefox\/(\d+)/) };
  if (/(Chrome|Chromium|CriOS)\//.test(ua)) return { browser: 'chrome', version: version(/Chrom(?:e|ium)\/(\d+)/) };
  if (/Safari\//.test(ua)) return { browser: 'safari', version: version(/AppleWebKit\/(\d+)/) };
  return { browser: 'unknown', version: 0 };
}

/** The Janus server URL for ?janus=: empty means the page's own host, Janus's WebSocket port. */
export function janusServerUrl(value) {
  if (value) return value;
  const secure = location.protocol === 'https:';
  return `${secure ? 'wss' : 'ws'}://${location.hostname}:${secure ? 8989 : 8188}/`;
}

/**
 * One viewer of a mountpoint: a Janus session with a Streaming handle, and our peer connection.
 * The same shape as the client's WHEP and WebSocket sessions: open(), close(), pc, stream,
 * setMicrophoneTrack().
 */
export class JanusSession {
  stream = new MediaStream();
  pc = null;
  audioTransceiver = null;

  #opts;
  #signaling;
  #callbacks;
  #janus = null;
  #handle = null;
  #closed = false;
  #opened = false;
  #offer = null; // { resolve, reject } while open() waits for Janus's offer

  /**
   * @param options   the client's options: janus (server URL), mountpoint, janusScript, audio,
   *                  requestTimeoutMs
   * @param callbacks onTrack(track), onConnectionState(state), onRemoteCandidate(), onFail(err)
   * @param errorClass LivecastError
   */
  constructor({ options, signaling, errorClass, ...callbacks }) {
    LivecastError = errorClass;
    this.#opts = options;
    this.#signaling = signaling;
    this.#callbacks = callbacks;
  }

  get server() {
    return janusServerUrl(this.#opts.janus);
  }

  /** Session, handle, watch, Janus's offer, our answer, start. Throws a LivecastError. */
  async open() {
    const Janus = await loadJanus(this.#opts.janusScript);
    if (this.#closed) throw new LivecastError('Closed');
    const server = this.server;
    const mountpoint = Number(this.#opts.mountpoint ?? 1);
    await this.#timed(new Promise((resolve, reject) => {
      this.#janus = new Janus({
        server,
        // Janus's keepalive every 25 s; its session_timeout drops us 30–60 s after a silence.
        keepAlivePeriod: 15000,
        success: resolve,
        error: (why) => {
          const err = new LivecastError(`Cannot reach the Janus server at ${server} (${why})`,
            { retryable: true });
          if (!this.#opened) reject(err);
          else this.#lost(err);
        },
        destroyed: () => this.#lost(new LivecastError('The Janus session ended', { retryable: true })),
      });
    }), `The Janus server at ${server} did not answer in time`);
    this.#handle = await this.#timed(new Promise((resolve, reject) => {
      this.#janus.attach({
        plugin: 'janus.plugin.streaming',
        success: resolve,
        error: (why) => reject(new LivecastError(`Janus refused the Streaming plugin: ${why}`,
          { retryable: true })),
        onmessage: (message, jsep) => this.#onMessage(message, jsep),
        webrtcState: (up, reason) => {
          if (!up && this.#opened) {
            this.#lost(new LivecastError(`Janus hung up${reason ? ` (${reason})` : ''}`, { retryable: true }));
          }
        },
        detached: () => this.#lost(new LivecastError('Janus detached the viewer', { retryable: true })),
      });
    }), 'Janus did not attach the Streaming plugin in time');
    const offer = new Promise((resolve, reject) => { this.#offer = { resolve, reject }; });
    this.#handle.send({
      message: { request: 'watch', id: mountpoint },
      error: (why) => this.#offer?.reject(new LivecastError(`Janus refused to watch: ${why}`,
        { retryable: true })),
    });
    const sdp = await this.#timed(offer, `No offer for mountpoint ${mountpoint} from Janus in time`);
    this.#offer = null;
    if (this.#closed) throw new LivecastError('Closed');

    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
    this.pc = pc;
    pc.ontrack = ({ track }) => {
      this.stream.addTrack(track);
      this.#callbacks.onTrack(track);
    };
    pc.onconnectionstatechange = () => this.#callbacks.onConnectionState(pc.connectionState);
    const remote = sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).length;
    this.#signaling.remoteCandidates += remote;
    this.#signaling.remoteEndOfCandidates = /^a=end-of-candidates/m.test(sdp);
    if (remote) this.#callbacks.onRemoteCandidate();
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp });
    } catch (err) {
      throw new LivecastError(`Janus's offer was refused: ${err.message}`, { cause: err });
    }
    for (const t of pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      t.direction = kind === 'video' || (kind === 'audio' && this.#opts.audio !== false)
        ? 'recvonly' : 'inactive';
      if (kind === 'audio' && t.direction !== 'inactive') this.audioTransceiver ??= t;
    }
    await pc.setLocalDescription(await pc.createAnswer());
    // The Janus client trickles only for peer connections of its own (its trickle request is
    // private):
    // our candidates go in the answer, after gathering (or gatherTimeoutMs, as for WHEP).
    await this.#gathered(pc);
    if (this.#closed) throw new LivecastError('Closed');
    const answer = pc.localDescription.sdp;
    this.#signaling.localCandidates += answer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).length;
    await this.#timed(new Promise((resolve, reject) => {
      this.#handle.send({
        message: { request: 'start' },
        jsep: { type: 'answer', sdp: answer },
        success: resolve,
        error: (why) => reject(new LivecastError(`Janus refused our answer: ${why}`, { retryable: true })),
      });
    }), 'Janus did not take our answer in time');
    this.#opened = true;
  }

  /** What the stream offers, for the client's onConfig: Janus's offer says whether audio. */
  get audio() {
    return Boolean(this.audioTransceiver);
  }

  /** Hangs up and destroys the Janus session; closes the peer connection. */
  close() {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#offer?.reject(new LivecastError('Closed'));
    const janus = this.#janus;
    this.#janus = null;
    this.#handle = null;
    if (this.pc) {
      this.pc.ontrack = this.pc.onconnectionstatechange = null;
      this.pc.close();
    }
    for (const track of this.stream.getTracks()) track.stop();
    if (!janus) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 2000);
      try {
        janus.destroy({
          success: () => { clearTimeout(timer); resolve(); },
          error: () => { clearTimeout(timer); resolve(); },
        });
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** Janus viewers send no microphone. */
  setMicrophoneTrack() {
    return Promise.resolve(false);
  }

  #onMessage(message, jsep) {
    if (this.#closed) return;
    const error = message?.error;
    if (error) {
      // 455: no such mountpoint, a mistake in the URL that retrying will not mend.
      const err = new LivecastError(`Janus: ${error}`, {
        status: message.error_code === 455 ? 404 : 0,
        retryable: message.error_code !== 455,
      });
      if (this.#offer) this.#offer.reject(err);
      else this.#lost(err);
      return;
    }
    if (jsep?.type === 'offer' && this.#offer) {
      this.#offer.resolve(jsep.sdp);
      return;
    }
    const status = message?.result?.status;
    if (status === 'stopped' && this.#opened) {
      this.#lost(new LivecastError('The mountpoint stopped', { retryable: true }));
    }
  }

  #lost(err) {
    if (this.#closed) return;
    if (this.#offer) this.#offer.reject(err);
    else if (this.#opened) this.#callbacks.onFail(err);
  }

  /** Resolves when @pc has gathered its candidates, or after gatherTimeoutMs. */
  #gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#opts.gatherTimeoutMs ?? 1000);
      function done() {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      }
      function check() {
        if (pc.iceGatheringState === 'complete') done();
      }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  #timed(promise, message) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new LivecastError(message, { retryable: true })),
        this.#opts.requestTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
