#!/usr/bin/python3
"""The seeds' sender, for the glass-to-glass benchmark (bench_glass.mjs).

  aiortc_screen_sender.py --port N [--fps 30]

aiortc (Debian's python3-aiortc, 1.4) with one RTCPeerConnection and one
VideoStreamTrack per viewer; the track's recv() grabs the X screen ($DISPLAY)
with PIL's ImageGrab.grab(xdisplay=None) for every frame, as the seeds'
demo does. Signaling (tests/common/aiortc_sending.py): POST /offer with
{"type":"offer","sdp":...} JSON in, {"type":"answer","sdp":...} out. aioice is pointed at 127.0.0.1 (it skips
loopback otherwise). Prints "port N" once listening; on SIGINT/SIGTERM one
"frame {json}" line per frame with the wall-clock times (µs) at which it
passed each stage, then exits:
  grab0/grab1  ImageGrab.grab() called / returned (painted: the code read from it)
  enc_in/enc_out  aiortc's encoder called / returned
  net0/net1    first / last RTP packet of the frame handed to the DTLS transport
Opens sockets: run inside tests/netns-run.sh.
"""
import argparse
import asyncio
import json
import os
import sys
import time

import aioice.ice
import av
from aiortc.codecs import vpx
from aiortc.rtcdtlstransport import RTCDtlsTransport
from PIL import ImageGrab

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from aiortc_sending import PacedTrack, serve  # noqa: E402

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ['127.0.0.1']

# clockcode.h: 12 x 4 cells of 24 px, 40 bits of ms then CRC-8 (0x07).
CELL, COLS, ROWS = 24, 12, 4

FRAMES = {}  # pts -> {stage: µs, 'painted': ms}
RTP_ORIGIN = []  # RTP timestamp minus pts, learnt from the first packet


def now_us():
    return time.time_ns() // 1000


def crc8(value):
    crc = 0
    for byte in value.to_bytes(5, 'big'):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xff if crc & 0x80 else (crc << 1) & 0xff
    return crc


def read_clock(image):
    """The painted ms from the top left corner of @image (PIL, RGB), or 0."""
    px = image.load()
    bits = 0
    for i in range(COLS * ROWS):
        x = (i % COLS) * CELL + CELL // 2
        y = (i // COLS) * CELL + CELL // 2
        g = px[x, y][1]
        if 64 < g < 192:
            return 0
        bits = (bits << 1) | (1 if g >= 192 else 0)
    value = bits >> 8
    return value if value and crc8(value) == bits & 0xff else 0


class ScreenTrack(PacedTrack):
    async def recv(self):
        pts, time_base = await self.next_timestamp()
        t0 = now_us()
        image = ImageGrab.grab(xdisplay=None)
        t1 = now_us()
        frame = av.VideoFrame.from_image(image)
        frame.pts = pts
        frame.time_base = time_base
        FRAMES[pts] = {'painted': read_clock(image), 'grab0': t0, 'grab1': t1}
        return frame


def instrument():
    encode = vpx.Vp8Encoder.encode

    def timed_encode(self, frame, force_keyframe=False):
        t0 = now_us()
        result = encode(self, frame, force_keyframe)
        record = FRAMES.get(frame.pts)
        if record is not None:
            record['enc_in'] = t0
            record['enc_out'] = now_us()
        return result

    vpx.Vp8Encoder.encode = timed_encode
    send_rtp = RTCDtlsTransport._send_rtp

    async def timed_send_rtp(self, data):
        t = now_us()
        if len(data) >= 12 and not 192 <= data[1] <= 223:
            ts = int.from_bytes(data[4:8], 'big')
            if not RTP_ORIGIN:
                first = min(p for p, r in FRAMES.items() if 'enc_out' in r)
                RTP_ORIGIN.append((ts - first) & 0xffffffff)
            record = FRAMES.get((ts - RTP_ORIGIN[0]) & 0xffffffff)
            if record is not None:
                record.setdefault('net0', t)
                record['net1'] = t
        return await send_rtp(self, data)

    RTCDtlsTransport._send_rtp = timed_send_rtp


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--fps', type=int, default=30)
    args = parser.parse_args()
    instrument()
    await serve(args.port, lambda: ScreenTrack(args.fps))
    for record in FRAMES.values():
        if record.get('painted'):
            print('frame ' + json.dumps(record))
    sys.stdout.flush()


if __name__ == '__main__':
    asyncio.run(main())
