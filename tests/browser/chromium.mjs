// How every livecast test and benchmark starts Chromium: Debian's binary and
// the flags it needs here (headless; no background traffic, whose
// connections this machine's closed network refuses; WebRTC on loopback
// without mDNS candidates). Playwright adds
// --headless itself and gives each launch a fresh, empty user-data-dir.
export const CHROMIUM = process.env.LIVECAST_CHROMIUM || '/usr/lib/chromium/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
