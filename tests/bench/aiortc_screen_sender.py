#!/usr/bin/python3
"""The seeds' sender, for the glass-to-glass benchmark (bench_glass.mjs).

  aiortc_screen_sender.py --port N [--fps 30]

aiortc (Debian's python3-aiortc, 1.4) with one RTCPeerConnection and one
VideoStreamTrack per viewer; the track's recv() grabs the X screen ($DISPLAY)
with PIL's ImageGrab.grab(xdisplay=None) for every frame, as the seeds'
demo does. Signaling: POST /offer with {"type":"offer","sdp":...} JSON in,
{"type":"answer","sdp":...} out. aioice is pointed at 127.0.0.1 (it skips
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
import fractions
import json
import signal
import sys
import time

import aioice.ice
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.codecs import vpx
from aiortc.rtcdtlstransport import RTCDtlsTransport
from PIL import ImageGrab

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


class ScreenTrack(VideoStreamTrack):
    def __init__(self, fps):
        super().__init__()
        self.fps = fps
        self.start = None
        self.count = 0

    async def next_timestamp(self):
        # VideoStreamTrack's own pacing, at our frame rate.
        clock_rate = 90000
        if self.start is None:
            self.start = time.time()
            self.count = 0
        else:
            self.count += 1
            wait = self.start + self.count / self.fps - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        return int(self.count * clock_rate / self.fps), fractions.Fraction(1, clock_rate)

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


PCS = set()


async def answer(offer, fps):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    PCS.add(pc)

    @pc.on('connectionstatechange')
    async def on_state():
        if pc.connectionState in ('failed', 'closed'):
            await pc.close()
            PCS.discard(pc)

    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer['sdp'], type=offer['type']))
    for t in pc.getTransceivers():
        if t.kind == 'video':
            pc.addTrack(ScreenTrack(fps))
    await pc.setLocalDescription(await pc.createAnswer())
    return {'type': pc.localDescription.type, 'sdp': pc.localDescription.sdp}


async def handle(reader, writer, fps):
    try:
        request = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 10)
        head = request.decode('latin-1').split('\r\n')
        method, path = head[0].split(' ')[:2]
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(':', 1) for line in head[1:] if ':' in line)}
        body = await reader.readexactly(int(headers.get('content-length', '0')))
        if method == 'POST' and path == '/offer':
            status, reply = '200 OK', json.dumps(await answer(json.loads(body), fps)).encode()
            kind = 'application/json'
        else:
            status, reply, kind = '404 Not Found', b'not found\n', 'text/plain'
        writer.write(f'HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(reply)}\r\n'
                     'Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n'.encode() + reply)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
        print(f'aiortc_screen_sender: bad request: {e}', file=sys.stderr)
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--fps', type=int, default=30)
    args = parser.parse_args()
    instrument()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.fps), '127.0.0.1', args.port)
    print(f'port {args.port}', flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for pc in list(PCS):
        await pc.close()
    for record in FRAMES.values():
        if record.get('painted'):
            print('frame ' + json.dumps(record))
    sys.stdout.flush()


if __name__ == '__main__':
    asyncio.run(main())
