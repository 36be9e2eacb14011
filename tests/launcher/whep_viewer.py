#!/usr/bin/python3
# A minimal WHEP viewer built on GStreamer's webrtcbin, for the launcher tests:
#   whep_viewer.py URL SECONDS [H264|VP8]
#   whep_viewer.py --print-offer [H264|VP8]
# Posts a receive-only offer to URL's /whep (with the URL's ?token= as a Bearer
# token), keeps the session for SECONDS, prints "frames N" (decoded frames, for
# information: the launcher tests only need the session to exist), then ends it
# with DELETE. Exits 1 on an HTTP error. --print-offer prints the offer (no
# candidates, as Chromium's on loopback) and exits: posted as it is, it makes a
# session that never connects, one that stays "connecting" on the server.
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstSdp', '1.0')
gi.require_version('GstWebRTC', '1.0')
from gi.repository import Gst, GstSdp, GstWebRTC  # noqa: E402

CAPS = {
    'H264': 'application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,'
            'packetization-mode=(string)1,profile-level-id=(string)42e01f',
    'VP8': 'application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000',
}


def main():
    print_offer = sys.argv[1] == '--print-offer'
    if print_offer:
        url, seconds = None, 0
        codec = sys.argv[2] if len(sys.argv) > 2 else 'VP8'
    else:
        url, seconds = sys.argv[1], float(sys.argv[2])
        codec = sys.argv[3] if len(sys.argv) > 3 else 'VP8'
    Gst.init(None)

    pipe = Gst.Pipeline.new()
    webrtc = Gst.ElementFactory.make('webrtcbin')
    webrtc.set_property('bundle-policy', 'max-bundle')
    pipe.add(webrtc)
    frames = [0]

    def on_pad(_, pad):
        if pad.direction != Gst.PadDirection.SRC:
            return
        branch = Gst.parse_bin_from_description(
            'decodebin ! fakesink name=out signal-handoffs=true', True)
        pipe.add(branch)
        branch.sync_state_with_parent()
        branch.get_by_name('out').connect('handoff', lambda *a: frames.__setitem__(0, frames[0] + 1))
        pad.link(branch.get_static_pad('sink'))

    webrtc.connect('pad-added', on_pad)
    webrtc.emit('add-transceiver', GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                Gst.Caps.from_string(CAPS[codec]))
    pipe.set_state(Gst.State.PLAYING)

    promise = Gst.Promise.new()
    webrtc.emit('create-offer', None, promise)
    promise.wait()
    reply = promise.get_reply()  # keep the reply alive while using its offer
    offer = reply.get_value('offer')
    if print_offer:
        print(offer.sdp.as_text(), end='', flush=True)
        pipe.set_state(Gst.State.NULL)
        return 0
    promise = Gst.Promise.new()
    webrtc.emit('set-local-description', offer, promise)
    promise.wait()
    deadline = time.monotonic() + 5
    while (webrtc.get_property('ice-gathering-state') != GstWebRTC.WebRTCICEGatheringState.COMPLETE
           and time.monotonic() < deadline):
        time.sleep(0.05)
    sdp = webrtc.get_property('local-description').sdp.as_text()

    parts = urllib.parse.urlsplit(url)
    base = f'{parts.scheme}://{parts.netloc}'
    token = urllib.parse.parse_qs(parts.query).get('token', [None])[0]
    headers = {'Content-Type': 'application/sdp'}
    if token:
        headers['Authorization'] = 'Bearer ' + token
    # An answer can take seconds on a busy machine (a DTLS certificate per viewer).
    try:
        resp = urllib.request.urlopen(
            urllib.request.Request(base + '/whep', data=sdp.encode(), headers=headers), timeout=30)
    except urllib.error.HTTPError as e:
        print('http', e.code, e.read().decode(errors='replace'), flush=True)
        pipe.set_state(Gst.State.NULL)
        return 1
    location = urllib.parse.urljoin(base + '/whep', resp.headers.get('Location', ''))
    _, msg = GstSdp.SDPMessage.new_from_text(resp.read().decode())
    answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
    promise = Gst.Promise.new()
    webrtc.emit('set-remote-description', answer, promise)
    promise.wait()
    print('connected', flush=True)

    time.sleep(seconds)
    print('frames', frames[0], flush=True)
    try:
        urllib.request.urlopen(
            urllib.request.Request(location, method='DELETE', headers=headers), timeout=3)
    except (urllib.error.URLError, OSError):
        pass
    pipe.set_state(Gst.State.NULL)
    return 0


if __name__ == '__main__':
    sys.exit(main())
