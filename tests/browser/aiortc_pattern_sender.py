#!/usr/bin/python3
"""The seeds' sender, as the reference beside livecast in browser-ladder (ladder.test.mjs).

  aiortc_pattern_sender.py --port N --addresses A[,B...] [--bitrate 2000] [--width 1280]
                           [--height 720] [--fps 30]

aiortc (Debian's python3-aiortc, 1.4) with one RTCPeerConnection and one
VideoStreamTrack per viewer: every viewer gets an encoder of its own, which
follows that viewer's REMB (aiortc's answer carries goog-remb), as the seeds'
demo does. The picture is livecast's test stream, frame for frame:
videotestsrc pattern=smpte horizontal-speed=4 at the size given, one
GStreamer pipeline per track pulled from an appsink at the track's own pace.
aiortc caps its encoders at 1.5 Mbit/s (VP8) and 3 Mbit/s (H.264): both stop
at --bitrate here, livecast's bitrate, so the two are compared at the same
most. They start where aiortc starts them (0.5 and 1 Mbit/s) and follow the
REMB up from there: started at 2 Mbit/s, a viewer behind 1 Mbit/s loses most
packets for as long as this was tried (20 s).

HTTP on 0.0.0.0:N (tests/common/aiortc_sending.py): GET / is a viewer page (an RTCPeerConnection, recvonly
video, its candidates gathered into the offer, POST /offer, the stream in a
<video>), POST /offer takes
{"type":"offer","sdp":...} JSON and answers {"type":"answer","sdp":...}.
ICE gathers on --addresses only (aioice skips nothing then, and finds no
other interface). Prints "port N" once listening, then every 2 s "targets
kbit/s: slow=A fast=B" (each viewer's encoder target, i.e. the REMB it
follows; the name from the page's ?name=); stops on SIGINT/SIGTERM.
Opens sockets: run inside a private network namespace (tests/netns-run.sh).
"""
import argparse
import asyncio
import os
import sys

import aioice.ice
import av
import gi
from aiortc.codecs import h264, vpx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from aiortc_sending import PEERS, PacedTrack, serve  # noqa: E402

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>aiortc reference</title></head>
<body style="margin:0;background:#000">
<video id="video" muted autoplay playsinline style="width:100%"></video>
<script>
const pc = new RTCPeerConnection();
pc.addTransceiver('video', { direction: 'recvonly' });
pc.ontrack = ({ streams, track }) => {
  document.getElementById('video').srcObject = streams[0] ?? new MediaStream([track]);
};
(async () => {
  await pc.setLocalDescription(await pc.createOffer());
  // aiortc takes no trickled candidates: the offer carries them all, as the seeds' page does.
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 2000);
  });
  // ?name=... names this viewer in the sender's "targets" lines.
  const res = await fetch(`/offer${location.search}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp }),
  });
  await pc.setRemoteDescription(await res.json());
})();
window.pc = pc;
</script></body></html>
"""


class PatternTrack(PacedTrack):
    """livecast's test picture, from a pipeline of its own, at --fps."""

    def __init__(self, width, height, fps):
        super().__init__(fps)
        self.pipeline = Gst.parse_launch(
            'videotestsrc pattern=smpte horizontal-speed=4 ! '
            f'video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 ! '
            'appsink name=out max-buffers=2 sync=false emit-signals=false')
        self.sink = self.pipeline.get_by_name('out')
        self.width, self.height = width, height
        self.pipeline.set_state(Gst.State.PLAYING)

    def pull(self):
        sample = self.sink.emit('try-pull-sample', Gst.SECOND)
        if sample is None:
            return None
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if not ok:
            return None
        try:
            frame = av.VideoFrame(self.width, self.height, 'yuv420p')
            y = self.width * self.height
            c = y // 4
            data = info.data
            # I420 planes in order; PyAV's planes may be padded: copy row by row when they are.
            for plane, (offset, size, w) in zip(
                    frame.planes, ((0, y, self.width), (y, c, self.width // 2),
                                   (y + c, c, self.width // 2))):
                if plane.line_size == w:
                    plane.update(data[offset:offset + size])
                else:
                    rows = size // w
                    padded = bytearray(plane.line_size * rows)
                    for r in range(rows):
                        padded[r * plane.line_size:r * plane.line_size + w] = \
                            data[offset + r * w:offset + (r + 1) * w]
                    plane.update(bytes(padded))
            return frame
        finally:
            buf.unmap(info)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = await asyncio.get_running_loop().run_in_executor(None, self.pull)
        if frame is None:
            raise ConnectionError('the test pattern stopped')
        frame.pts = pts
        frame.time_base = time_base
        return frame

    def stop(self):
        super().stop()
        self.pipeline.set_state(Gst.State.NULL)


def encoder_of(pc):
    """The encoder aiortc made for @pc's video sender (a private member of RTCRtpSender), or None."""
    for sender in pc.getSenders():
        encoder = getattr(sender, '_RTCRtpSender__encoder', None)
        if encoder is not None:
            return encoder
    return None


async def print_targets():
    """Every 2 s: "targets kbit/s: slow=A fast=B": each viewer's encoder target (its REMB)."""
    while True:
        await asyncio.sleep(2)
        targets = [(name, encoder_of(pc)) for pc, name in list(PEERS.items())]
        targets = [f'{name}={e.target_bitrate // 1000}' for name, e in targets
                   if e is not None and hasattr(e, 'target_bitrate')]
        if targets:
            print('targets kbit/s: ' + ' '.join(targets), flush=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--addresses', required=True)
    parser.add_argument('--bitrate', type=int, default=2000, help='kbit/s')
    parser.add_argument('--width', type=int, default=1280)
    parser.add_argument('--height', type=int, default=720)
    parser.add_argument('--fps', type=int, default=30)
    args = parser.parse_args()
    Gst.init(None)
    addresses = [a for a in args.addresses.split(',') if a]
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: addresses
    for codec in (vpx, h264):
        codec.MAX_BITRATE = args.bitrate * 1000
    targets = asyncio.get_running_loop().create_task(print_targets())
    await serve(args.port, lambda: PatternTrack(args.width, args.height, args.fps),
                host='0.0.0.0', page=PAGE)
    targets.cancel()


if __name__ == '__main__':
    asyncio.run(main())
