// The viewer page (index.html): one LivecastClient, a status bar and a stats overlay.
// URL parameters:
//   ?token=…            the server's token
//   &transport=ws       WebSocket signaling (/ws) instead of WHEP; &ws-mode=join: the server offers
//   &transport=wsmedia  the stream itself over the WebSocket, no WebRTC (also the automatic
//                       fallback when ICE does not connect within a few seconds)
//   &relay=ws://…/ws    signaling through a relay (livecast signal) instead; &room=NAME (livecast)
//   &janus=ws://edge:8188/&mountpoint=1   watch a Janus Streaming mountpoint (deploy/janus);
//                       an empty janus= means the page's own host; &janusjs=URL: where the
//                       Janus client script is (default: beside the page)
//   &audio=0            no audio (default: audio when the stream has some); &audio: always ask
//   &mic=0              no microphone button even when the server takes viewers' microphones
//   &stats              the statistics overlay shown

import {
  LivecastClient, formatBitrate, formatLevel, ladderText, statusText,
} from './livecast-client.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const STATS_KEY = 'livecast.showStats';
// The server's view of this viewer (its rung and estimate, from /stats) is asked for only while
// the overlay is shown: /stats lists every viewer, too much to fetch for nothing.
const SERVER_STATS_MS = 2000;
let serverStats = null; // sessionStats() of the last poll, or null
let serverStatsTimer = 0;

const ui = {
  video: $('video'),
  stage: $('stage'),
  statusText: $('status-text'),
  startStop: $('start-stop'),
  statsToggle: $('stats-toggle'),
  fullscreen: $('fullscreen'),
  mic: $('mic'),
  micLabel: $('mic-label'),
  sound: $('sound'),
  soundLabel: $('sound-label'),
  unmuteHint: $('unmute-hint'),
  notice: $('notice'),
  noticeText: $('notice-text'),
  stats: $('stats'),
  placeholderTitle: $('placeholder-title'),
  placeholderDetail: $('placeholder-detail'),
  tokenForm: $('token-form'),
  tokenInput: $('token-input'),
};

/** "0", "false", "off", "no" → false; present otherwise → true; absent → the default. */
function flag(name, absent) {
  if (!params.has(name)) return absent;
  return !['0', 'false', 'off', 'no'].includes(params.get(name).toLowerCase());
}

function transportOptions() {
  const transport = (params.get('transport') ?? 'whep').toLowerCase();
  const wsMode = (params.get('ws-mode') ?? 'offer').toLowerCase();
  if (params.has('janus') || transport === 'janus') {
    return {
      transport: 'janus',
      janus: params.get('janus') ?? '',
      mountpoint: Number(params.get('mountpoint') ?? 1),
      janusScript: params.get('janusjs') ?? '',
    };
  }
  // ?fallback=off (or 0): never switch to the WebSocket by itself; ?fallback=N: after N s.
  const fallback = params.has('fallback') ? {
    wsMediaFallbackMs: flag('fallback', true) ? 1000 * (Number(params.get('fallback')) || 4) : 0,
  } : {};
  return {
    ...fallback,
    transport: ['ws', 'websocket'].includes(transport) ? 'ws'
      : transport === 'wsmedia' ? 'wsmedia' : 'whep',
    wsMode: wsMode === 'join' ? 'join' : 'offer',
    // ?relay=ws://host:port/ws&room=NAME: a stream served through a signaling relay.
    relay: params.get('relay') ?? '',
    room: params.get('room') || 'livecast',
  };
}

let client = createClient(params.get('token') ?? '');

function createClient(token) {
  const created = new LivecastClient({
    token,
    ...transportOptions(),
    audio: flag('audio', 'auto'),
    talkback: flag('mic', true) ? 'auto' : false,
    video: ui.video,
    onStatus: render,
    onStats: (stats) => {
      renderStats(stats);
      if (created.state === 'playing') render(created.status);
    },
    onTrack: () => renderSound(),
    onMicrophone: renderMicrophone,
  });
  // For the console and for tests: window.livecast.stats.framesDecoded, .state, .timings.
  window.livecast = created;
  return created;
}

/** A 401 in words for the viewer (the server's sentence may speak of URLs and headers). */
function tokenProblem(status) {
  if (status.state !== 'error' || status.error?.status !== 401) return null;
  return client.token ? 'The token is not right' : 'This stream needs a token';
}

let fallbackShown = false;

function render(status) {
  document.body.dataset.state = status.state;
  if (status.fallback && !fallbackShown) {
    fallbackShown = true;
    showNotice(`${status.fallback}: playing over the WebSocket instead of WebRTC.`,
      { timeoutMs: 10000 });
  }
  ui.statusText.textContent = tokenProblem(status) ?? statusText(status, client.stats);
  ui.startStop.textContent = client.running ? 'Stop' : 'Start';
  const [title, detail] = placeholderText(status);
  ui.placeholderTitle.textContent = title;
  ui.placeholderDetail.textContent = detail;
  ui.tokenForm.hidden = !(status.state === 'error' && status.error?.status === 401);
  if (!client.stats) renderStats(null);
  renderSound();
}

function placeholderText(status) {
  switch (status.state) {
    case 'error':
      return tokenProblem(status)
        ? [tokenProblem(status), 'Enter the token of this stream:']
        : [status.message, 'Press Start to try again.'];
    case 'reconnecting':
      return [status.message, status.error?.message ?? ''];
    case 'stopped':
      return ['Stopped', 'Press Start to watch.'];
    case 'connected':
      return ['Connected', 'Waiting for the first picture…'];
    default:
      return [status.message, ''];
  }
}

// ---- sound -------------------------------------------------------------------------------------
// The video starts muted (browsers only autoplay muted media); sound is one click away.

function hasAudio() {
  return ui.video.srcObject?.getAudioTracks?.().length > 0;
}

function renderSound() {
  const audio = hasAudio();
  const muted = ui.video.muted;
  ui.sound.hidden = !audio;
  ui.sound.setAttribute('aria-pressed', String(!muted));
  ui.sound.classList.toggle('is-muted', muted);
  ui.soundLabel.textContent = muted ? 'Unmute' : 'Mute';
  ui.unmuteHint.hidden = !(audio && muted && client.state === 'playing');
}

function setMuted(muted) {
  ui.video.muted = muted;
  // Unmuting is a user gesture: playback with sound is allowed from now on.
  if (!muted) ui.video.play().catch(() => {});
  renderSound();
}

ui.video.addEventListener('volumechange', renderSound);

// ---- microphone --------------------------------------------------------------------------------

let noticeTimer = 0;

function showNotice(text, { timeoutMs = 0 } = {}) {
  clearTimeout(noticeTimer);
  ui.noticeText.textContent = text;
  ui.notice.hidden = !text;
  if (text && timeoutMs) noticeTimer = setTimeout(() => { ui.notice.hidden = true; }, timeoutMs);
}

function renderMicrophone(mic) {
  ui.mic.hidden = !mic.available;
  ui.mic.dataset.mic = mic.state;
  ui.mic.setAttribute('aria-pressed', String(mic.state === 'on'));
  ui.mic.disabled = mic.state === 'starting';
  ui.micLabel.textContent = {
    on: 'Mic on', starting: 'Mic…', error: 'Microphone', off: 'Microphone',
  }[mic.state] ?? 'Microphone';
  ui.mic.title = mic.state === 'on'
    ? 'The sender hears you: click to switch the microphone off (M)'
    : 'Talk to the sender with your microphone (M)';
  if (mic.state === 'error') showNotice(mic.message);
  else if (mic.state === 'on') showNotice('Microphone on: the sender hears you.', { timeoutMs: 4000 });
  else if (mic.state === 'off') showNotice('');
  document.body.dataset.mic = mic.state;
}

function toggleMicrophone() {
  if (!client.microphone.available || client.microphone.state === 'starting') return;
  client.setMicrophone(client.microphone.state !== 'on');
}

// ---- statistics --------------------------------------------------------------------------------

function renderStats(s) {
  const set = (id, text) => { $(id).textContent = text; };
  set('s-resolution', s?.width ? `${s.width} × ${s.height}` : '–');
  set('s-fps', s?.fps != null ? `${s.fps.toFixed(s.fps < 10 ? 1 : 0)} fps` : '–');
  set('s-bitrate', s ? formatBitrate(s.bitrate) : '–');
  set('s-rtt', s?.rtt != null ? `${s.rtt.toFixed(s.rtt < 10 ? 1 : 0)} ms` : '–');
  set('s-loss', s ? `${s.packetsLost} (${s.lossPercent.toFixed(2)} %)` : '–');
  set('s-ladder', s && serverStats ? ladderText(serverStats) : '–');
  set('s-frames', s ? s.framesDecoded.toLocaleString('en') : '–');
  set('s-codec', s?.codec ? [s.codec, s.decoder].filter(Boolean).join(' · ') : '–');
  set('s-path', s?.candidateType ? `${s.candidateType} · ${s.protocol}` : '–');
  const sig = client.signaling;
  set('s-signaling', !sig ? '–' : sig.transport === 'wsmedia' ? 'WebSocket (media, no WebRTC)'
    : sig.transport === 'ws' ? `WebSocket (${sig.mode === 'join' ? 'server offers' : 'we offer'})`
      : sig.transport === 'janus' ? `Janus (${sig.server})` : 'WHEP');
  const audio = s?.audio;
  ui.stats.classList.toggle('has-audio', Boolean(audio));
  // Servers write "opus" or "OPUS" in their SDP: the codec's own spelling is "Opus".
  const audioCodec = audio?.codec?.toLowerCase() === 'opus' ? 'Opus' : audio?.codec;
  set('s-audio', audio ? [audioCodec, formatBitrate(audio.bitrate)].filter(Boolean).join(' · ')
    : '–');
  // Chromium measures received audio where it plays it: nothing while the video is muted.
  const muted = ui.video.muted && !(audio?.rms > 0);
  const level = audio && !muted ? audio.rms ?? audio.level : null;
  set('s-audio-level', audio && muted ? 'muted' : formatLevel(level));
  meter('s-audio-meter', level);
  const mic = s?.microphone;
  ui.stats.classList.toggle('has-mic', Boolean(mic) && client.microphone.state === 'on');
  set('s-mic', mic ? `${formatBitrate(mic.bitrate)} · ${formatLevel(mic.level)}` : '–');
  meter('s-mic-meter', mic?.level);
}

/** A level meter over −60…0 dBFS. */
function meter(id, level) {
  const db = level > 0 ? 20 * Math.log10(level) : -Infinity;
  const fraction = Math.min(Math.max((db + 60) / 60, 0), 1);
  $(id).style.width = `${(fraction * 100).toFixed(1)}%`;
}

// ---- the server's view: rung and estimate -------------------------------------------------------

async function pollServerStats() {
  clearTimeout(serverStatsTimer);
  if (ui.stats.hidden) return;
  const polled = client;
  const stats = polled.state === 'playing' ? await polled.fetchSessionStats() : null;
  if (polled !== client) return;
  serverStats = stats;
  $('s-ladder').textContent = client.stats && stats ? ladderText(stats) : '–';
  if (!ui.stats.hidden) serverStatsTimer = setTimeout(pollServerStats, SERVER_STATS_MS);
}

function showStats(show) {
  ui.stats.hidden = !show;
  if (show) pollServerStats();
  else clearTimeout(serverStatsTimer);
  ui.statsToggle.setAttribute('aria-pressed', String(show));
  localStorage.setItem(STATS_KEY, show ? '1' : '');
}

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen();
  else ui.stage.requestFullscreen().catch(() => {});
}

// A 401 asks for the token; it goes into the URL so that a reload keeps working.
ui.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = ui.tokenInput.value.trim();
  const url = new URL(location.href);
  url.searchParams.set('token', token);
  history.replaceState(null, '', url);
  client = createClient(token);
  client.start();
});

ui.startStop.addEventListener('click', () => (client.running ? client.stop() : client.start()));
ui.statsToggle.addEventListener('click', () => showStats(ui.stats.hidden));
ui.fullscreen.addEventListener('click', toggleFullscreen);
ui.sound.addEventListener('click', () => setMuted(!ui.video.muted));
ui.unmuteHint.addEventListener('click', () => setMuted(false));
ui.mic.addEventListener('click', toggleMicrophone);
$('notice-close').addEventListener('click', () => showNotice(''));
ui.video.addEventListener('dblclick', toggleFullscreen);
// WebCodecs draws on a canvas in front of the video (transport wsmedia).
ui.stage.addEventListener('dblclick', (event) => {
  if (event.target.classList?.contains('livecast-canvas')) toggleFullscreen();
});
addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target instanceof HTMLInputElement) return;
  const key = e.key.toLowerCase();
  if (key === 's') showStats(ui.stats.hidden);
  else if (key === 'f') toggleFullscreen();
  else if (key === 'u' && hasAudio()) setMuted(!ui.video.muted);
  else if (key === 'm') toggleMicrophone();
});

showStats(params.has('stats') || localStorage.getItem(STATS_KEY) === '1');
renderMicrophone(client.microphone);
client.start();
