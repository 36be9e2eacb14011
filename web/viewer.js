// The viewer page (index.html): one LivecastClient, a status bar and a stats overlay.
// URL parameters: ?token=… (server token), &audio (also receive audio), &stats (overlay shown).

import { LivecastClient, formatBitrate, statusText } from './livecast-client.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const STATS_KEY = 'livecast.showStats';

const ui = {
  video: $('video'),
  stage: $('stage'),
  statusText: $('status-text'),
  startStop: $('start-stop'),
  statsToggle: $('stats-toggle'),
  fullscreen: $('fullscreen'),
  stats: $('stats'),
  placeholderTitle: $('placeholder-title'),
  placeholderDetail: $('placeholder-detail'),
  tokenForm: $('token-form'),
  tokenInput: $('token-input'),
};

let client = createClient(params.get('token') ?? '');

function createClient(token) {
  const created = new LivecastClient({
    token,
    audio: params.has('audio'),
    video: ui.video,
    onStatus: render,
    onStats: (stats) => {
      renderStats(stats);
      if (created.state === 'playing') render(created.status);
    },
  });
  // For the console and for tests: window.livecast.stats.framesDecoded, .state, .timings.
  window.livecast = created;
  return created;
}

function render(status) {
  document.body.dataset.state = status.state;
  ui.statusText.textContent = statusText(status, client.stats);
  ui.startStop.textContent = client.running ? 'Stop' : 'Start';
  const [title, detail] = placeholderText(status);
  ui.placeholderTitle.textContent = title;
  ui.placeholderDetail.textContent = detail;
  ui.tokenForm.hidden = !(status.state === 'error' && status.error?.status === 401);
  if (!client.stats) renderStats(null);
}

function placeholderText(status) {
  switch (status.state) {
    case 'error':
      return [status.message, status.error?.status === 401
        ? 'Enter the token of this stream:'
        : 'Press Start to try again.'];
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

function renderStats(s) {
  const set = (id, text) => { $(id).textContent = text; };
  set('s-resolution', s?.width ? `${s.width} × ${s.height}` : '–');
  set('s-fps', s?.fps != null ? `${s.fps.toFixed(s.fps < 10 ? 1 : 0)} fps` : '–');
  set('s-bitrate', s ? formatBitrate(s.bitrate) : '–');
  set('s-rtt', s?.rtt != null ? `${s.rtt.toFixed(s.rtt < 10 ? 1 : 0)} ms` : '–');
  set('s-loss', s ? `${s.packetsLost} (${s.lossPercent.toFixed(2)} %)` : '–');
  set('s-frames', s ? s.framesDecoded.toLocaleString('en') : '–');
  set('s-codec', s?.codec ? [s.codec, s.decoder].filter(Boolean).join(' · ') : '–');
  set('s-path', s?.candidateType ? `${s.candidateType} · ${s.protocol}` : '–');
}

function showStats(show) {
  ui.stats.hidden = !show;
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
ui.video.addEventListener('dblclick', toggleFullscreen);
addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target instanceof HTMLInputElement) return;
  if (e.key === 's' || e.key === 'S') showStats(ui.stats.hidden);
  else if (e.key === 'f' || e.key === 'F') toggleFullscreen();
});

showStats(params.has('stats') || localStorage.getItem(STATS_KEY) === '1');
client.start();
