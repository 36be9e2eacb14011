"""What the tests' aiortc senders share: the seeds' approach, one RTCPeerConnection
and one VideoStreamTrack per viewer, signalled with POST /offer JSON.

  PacedTrack   a VideoStreamTrack whose frames come at its own frame rate
  serve()      a minimal HTTP server: POST /offer[?name=N] ({"type":"offer","sdp":...}
               in, {"type":"answer","sdp":...} out), GET / (a page, when given);
               prints "port N" once listening and returns on SIGINT/SIGTERM, every
               peer closed
  PEERS        the peer connections being served, each with its viewer's name

Used by tests/bench/aiortc_screen_sender.py (glass to glass) and
tests/browser/aiortc_pattern_sender.py (browser-ladder). Opens sockets: run
inside a private network namespace (tests/netns-run.sh).
"""
import asyncio
import fractions
import json
import signal
import sys
import time
import urllib.parse

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

CLOCK_RATE = 90000
PEERS = {}  # RTCPeerConnection -> the viewer's name (?name=, else viewerN)


class PacedTrack(VideoStreamTrack):
    """A video track that times its frames at `fps` (VideoStreamTrack's own pacing is 30)."""

    def __init__(self, fps):
        super().__init__()
        self.fps = fps
        self.start = None
        self.count = 0

    async def next_timestamp(self):
        if self.start is None:
            self.start = time.time()
            self.count = 0
        else:
            self.count += 1
            wait = self.start + self.count / self.fps - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        return int(self.count * CLOCK_RATE / self.fps), fractions.Fraction(1, CLOCK_RATE)


async def _answer(offer, make_track, name):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    PEERS[pc] = name or f'viewer{len(PEERS) + 1}'
    tracks = []

    @pc.on('connectionstatechange')
    async def on_state():
        if pc.connectionState in ('failed', 'closed'):
            for track in tracks:
                track.stop()
            await pc.close()
            PEERS.pop(pc, None)

    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer['sdp'], type=offer['type']))
    for t in pc.getTransceivers():
        if t.kind == 'video':
            tracks.append(make_track())
            pc.addTrack(tracks[-1])
    await pc.setLocalDescription(await pc.createAnswer())
    return {'type': pc.localDescription.type, 'sdp': pc.localDescription.sdp}


async def _handle(reader, writer, make_track, page):
    try:
        request = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), 10)
        head = request.decode('latin-1').split('\r\n')
        method, path = head[0].split(' ')[:2]
        headers = {k.strip().lower(): v.strip() for k, v in
                   (line.split(':', 1) for line in head[1:] if ':' in line)}
        body = await reader.readexactly(int(headers.get('content-length', '0')))
        route, _, query = path.partition('?')
        if method == 'POST' and route == '/offer':
            name = urllib.parse.parse_qs(query).get('name', [''])[0][:32]
            status, kind = '200 OK', 'application/json'
            reply = json.dumps(await _answer(json.loads(body), make_track, name)).encode()
        elif method == 'GET' and route == '/' and page:
            status, reply, kind = '200 OK', page, 'text/html; charset=utf-8'
        else:
            status, reply, kind = '404 Not Found', b'not found\n', 'text/plain'
        writer.write(f'HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(reply)}\r\n'
                     'Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n'.encode() + reply)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, KeyError) as e:
        print(f'{sys.argv[0]}: bad request: {e}', file=sys.stderr)
    finally:
        writer.close()


async def serve(port, make_track, host='127.0.0.1', page=None):
    """Answers offers with a track of make_track() each until SIGINT or SIGTERM."""
    server = await asyncio.start_server(lambda r, w: _handle(r, w, make_track, page), host, port)
    print(f'port {port}', flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for pc in list(PEERS):
        await pc.close()
