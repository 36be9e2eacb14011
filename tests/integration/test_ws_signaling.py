#!/usr/bin/python3
"""webrtcserversink's WebSocket signaling (GET /ws) with aiortc as the viewer.

  offer     aiortc offers, the sink answers; the sink's candidates trickle in
  join      aiortc sends join, the sink offers, aiortc answers
  join-audio  join with audio_0 fed a 440 Hz tone: aiortc decodes the video and
            2 s of the audio track, whose dominant frequency must be 440 Hz
            (within 5 Hz) and not silent
  talkback  aiortc sends a 440 Hz tone as its microphone; the sink's
            talkback_<id> pad (linked by gst-launch to a file) must carry
            audio whose dominant frequency is 440 Hz (within 5 Hz)
  bad-input non-JSON, wrong types, unknown types, huge and flooding messages:
            errors come back and the server keeps serving

Runs inside the private network namespace (tests/netns-run.sh).
"""
import asyncio
import fractions
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import aioice.ice
import numpy
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame

# aioice skips loopback addresses; on loopback-only test hosts use 127.0.0.1.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

PORT = 18095
URL = f"http://127.0.0.1:{PORT}"
WS = f"ws://127.0.0.1:{PORT}/ws"
TONE_HZ = 440


def start_sender(extra="", tail="", url=URL, context=None):
    pipeline = (
        f"videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
        f"! webrtcserversink name=s port={PORT} {extra} {tail}"
    )
    proc = subprocess.Popen(["gst-launch-1.0", "-q"] + pipeline.split())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            stats = json.load(urllib.request.urlopen(url + "/stats", timeout=1, context=context))
            if stats["encoder"]["codec"]:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"gst-launch-1.0 exited with {proc.returncode}: {pipeline}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("webrtcserversink did not start serving within 10 s")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Tone(AudioStreamTrack):
    """A 440 Hz sine as aiortc's microphone, 20 ms frames at 48 kHz."""

    def __init__(self):
        super().__init__()
        self.samples = 0

    async def recv(self):
        n = 960
        if self.samples:
            await asyncio.sleep(n / 48000)
        t = (numpy.arange(n) + self.samples) / 48000
        pcm = (numpy.sin(2 * numpy.pi * TONE_HZ * t) * 12000).astype(numpy.int16)
        frame = AudioFrame(format="s16", layout="mono", samples=n)
        frame.planes[0].update(pcm.tobytes())
        frame.sample_rate = 48000
        frame.pts = self.samples
        frame.time_base = fractions.Fraction(1, 48000)
        self.samples += n
        return frame


async def recv_json(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def session(mode, tone=False, ws_url=WS, ssl_context=None, audio=None):
    """One viewer over /ws; returns (frames, candidates trickled to us, ms to first frame).
    With audio (a list), the received audio track is decoded too, at least AUDIO_SECONDS of
    it: its first channel's samples are appended to the list (numpy int16 arrays)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    got_track = asyncio.get_running_loop().create_future()
    got_audio = asyncio.get_running_loop().create_future()

    def on_track(track):
        if track.kind == "video" and not got_track.done():
            got_track.set_result(track)
        elif track.kind == "audio" and not got_audio.done():
            got_audio.set_result(track)

    pc.on("track", on_track)
    started = time.monotonic()
    trickled = 0
    async with websockets.connect(ws_url, ssl=ssl_context) as ws:
        welcome = await recv_json(ws)
        assert welcome["type"] == "welcome", welcome
        assert welcome["iceServers"] == [], welcome
        if mode == "join":
            await ws.send(json.dumps({"type": "join"}))
            offer = await recv_json(ws)
            assert offer["type"] == "offer", offer
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
            if os.environ.get("SHOW_SDP"):
                print(offer["sdp"])
            if tone:
                pc.addTrack(Tone())  # takes the offered audio section, now sendrecv
            await pc.setLocalDescription(await pc.createAnswer())
            if os.environ.get("SHOW_SDP"):
                print(pc.localDescription.sdp)
            await ws.send(json.dumps({"type": "answer", "sdp": pc.localDescription.sdp}))
        else:
            pc.addTransceiver("video", direction="recvonly")
            if tone:
                pc.addTransceiver(Tone(), direction="sendrecv")
            await pc.setLocalDescription(await pc.createOffer())
            await ws.send(json.dumps({"type": "offer", "sdp": pc.localDescription.sdp}))

        async def read_signals():
            nonlocal trickled
            async for text in ws:
                msg = json.loads(text)
                if msg["type"] == "answer":
                    await pc.setRemoteDescription(RTCSessionDescription(sdp=msg["sdp"], type="answer"))
                elif msg["type"] == "candidate":
                    c = msg["candidate"]
                    if c and c["candidate"]:
                        trickled += 1
                        candidate = candidate_from_sdp(c["candidate"].split(":", 1)[1])
                        candidate.sdpMid = c.get("sdpMid")
                        candidate.sdpMLineIndex = c.get("sdpMLineIndex")
                        await pc.addIceCandidate(candidate)
                elif msg["type"] == "error":
                    print(f"# server error: {msg}")

        reader = asyncio.ensure_future(read_signals())
        track = await asyncio.wait_for(got_track, 15)
        listener = asyncio.ensure_future(read_audio(got_audio, audio)) if audio is not None else None
        frames, first = 0, None
        end = time.monotonic() + (4 if tone else 0)
        while frames < 30 or time.monotonic() < end:
            await asyncio.wait_for(track.recv(), 10)
            frames += 1
            if first is None:
                first = (time.monotonic() - started) * 1000
        if listener:
            # Its own errors (no audio track, no audio for 10 s) end the session here.
            await asyncio.wait_for(listener, 20)
        await ws.send(json.dumps({"type": "bye"}))
        reader.cancel()
    await pc.close()
    return frames, trickled, first


AUDIO_SECONDS = 2


async def read_audio(got_audio, out):
    """Decodes the audio track until AUDIO_SECONDS of it came (first channel into out)."""
    try:
        track = await asyncio.wait_for(got_audio, 10)
    except asyncio.TimeoutError:
        raise AssertionError("no audio track within 10 s of the video") from None
    samples = 0
    while samples < AUDIO_SECONDS * 48000:
        frame = await asyncio.wait_for(track.recv(), 10)
        assert frame.sample_rate == 48000, f"audio at {frame.sample_rate} Hz"
        pcm = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0]
        out.append(pcm.astype(numpy.int16))
        samples += len(pcm)


def dominant_frequency(raw):
    pcm = numpy.frombuffer(raw, dtype="<i2").astype(float)
    pcm = pcm[-48000:]  # the last second
    spectrum = numpy.abs(numpy.fft.rfft(pcm * numpy.hanning(len(pcm))))
    freqs = numpy.fft.rfftfreq(len(pcm), 1 / 48000)
    return freqs[int(numpy.argmax(spectrum))], float(numpy.sqrt(numpy.mean(pcm ** 2)))


async def bad_input():
    """Every bad message gets an error and the socket keeps working."""
    failures = []
    async with websockets.connect(WS, max_size=2**22) as ws:
        await recv_json(ws)
        cases = [
            ("non-JSON", "hello"),
            ("not an object", "[1,2]"),
            ("no type", "{}"),
            ("wrong type of sdp", json.dumps({"type": "offer", "sdp": 5})),
            ("unknown type", json.dumps({"type": "dance"})),
            ("answer without offer", json.dumps({"type": "answer", "sdp": "v=0\r\n"})),
            ("candidate without session", json.dumps(
                {"type": "candidate", "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
                                                    "sdpMLineIndex": 0}})),
            ("bad SDP offer", json.dumps({"type": "offer", "sdp": "v=0\r\nnonsense"})),
            ("huge message", json.dumps({"type": "offer", "sdp": "v=0" + "x" * 200000})),
        ]
        for name, text in cases:
            await ws.send(text)
            reply = await recv_json(ws)
            if reply.get("type") != "error" or not reply.get("message"):
                failures.append(f"{name}: got {reply}")
            else:
                print(f"# {name}: {reply.get('status', '-')} {reply['message']}")
        # A flood: 500 messages at once. The server reads 50 a second (each "{}" gets its 400)
        # and drops the rest of that second with one 429; then the socket still answers. The
        # pause starts the flood in a fresh one-second window, and 500 small messages on
        # loopback are read well within it: exactly 50 + 1 replies.
        await asyncio.sleep(1.1)
        for _ in range(500):
            await ws.send("{}")
        statuses = {}
        try:
            while True:
                reply = await recv_json(ws, 2)
                key = reply.get("status") if reply.get("type") == "error" else reply.get("type")
                statuses[key] = statuses.get(key, 0) + 1
        except asyncio.TimeoutError:
            pass
        print(f"# flood of 500: replies by status {statuses}")
        if statuses != {400: 50, 429: 1}:
            failures.append(f"flood of 500: expected 50 errors 400 and one 429, got {statuses}")
        await asyncio.sleep(1.1)
        await ws.send("{}")
        reply = await recv_json(ws)
        if reply.get("type") != "error":
            failures.append(f"after the flood: got {reply}")
    # 2 MiB: refused, by an error or by closing that socket (1009); either
    # way the server keeps serving others.
    try:
        async with websockets.connect(WS, max_size=2**22) as ws:
            await recv_json(ws)
            await ws.send("x" * (2 * 1024 * 1024))
            reply = await recv_json(ws, 5)
            print(f"# 2 MiB message: {reply}")
            if reply.get("type") != "error":
                failures.append(f"a 2 MiB message got {reply}")
    except websockets.ConnectionClosed as e:
        print(f"# 2 MiB message: socket closed with {e.rcvd.code if e.rcvd else '?'}")
    frames, _, _ = await session("offer")
    if frames < 30:
        failures.append("no stream after the bad input")
    # Plain HTTP on /ws says what it is.
    try:
        urllib.request.urlopen(URL + "/ws", timeout=5)
        failures.append("GET /ws without upgrade succeeded")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        print(f"# plain GET /ws: {e.code} {body.strip()}")
        if e.code != 426:
            failures.append(f"plain GET /ws: {e.code}")
    # Paths that only begin with /ws are ordinary requests, not the WebSocket endpoint (libsoup
    # matches handler paths as prefixes): an unknown
    # /wsx a 404, and a WebSocket upgrade on /ws/x is refused.
    for path, want in (("/wsmedia.js", 404), ("/ws/x", 404), ("/wsx", 404)):
        try:
            urllib.request.urlopen(URL + path, timeout=5)
            failures.append(f"GET {path} succeeded")
        except urllib.error.HTTPError as e:
            print(f"# plain GET {path}: {e.code}")
            if e.code != want:
                failures.append(f"GET {path}: {e.code}, expected {want}")
    try:
        async with websockets.connect(WS.replace("/ws", "/ws/x"), open_timeout=5):
            failures.append("a WebSocket opened on /ws/x")
    except (websockets.exceptions.InvalidStatusCode, websockets.exceptions.InvalidHandshake) as e:
        print(f"# WebSocket on /ws/x: {e}")
    return failures


async def told_at_end():
    """A stream that ends (EOS) tells its /ws viewer: error + bye, then the socket
    stays usable; returns (frames before the end, seconds from the first frame to the bye)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    got_track = asyncio.get_running_loop().create_future()
    pc.on("track", lambda t: t.kind == "video" and not got_track.done() and got_track.set_result(t))
    async with websockets.connect(WS) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "join"}))
        offer = await recv_json(ws)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await ws.send(json.dumps({"type": "answer", "sdp": pc.localDescription.sdp}))
        track = await asyncio.wait_for(got_track, 15)
        await asyncio.wait_for(track.recv(), 10)
        first = time.monotonic()
        frames = 1
        told = []
        async def frames_until_end():
            nonlocal frames
            try:
                while True:
                    await asyncio.wait_for(track.recv(), 10)
                    frames += 1
            except Exception:
                pass
        counter = asyncio.ensure_future(frames_until_end())
        while "bye" not in [m["type"] for m in told]:
            told.append(await recv_json(ws, 15))
        took = time.monotonic() - first
        counter.cancel()
    await pc.close()
    return frames, took, told


def tls():
    """tls-certificate/tls-key: HTTPS and WSS with a self-signed certificate."""
    import ssl

    tmp = tempfile.mkdtemp()
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    context = ssl.create_default_context(cafile=cert)
    failures = []
    # A key without a certificate, and a missing file: clear errors, no server.
    for extra, expect in ((f"tls-key={key}", "tls-certificate is not"),
                          (f"tls-certificate={tmp}/missing.pem", "TLS certificate")):
        pipeline = (f"videotestsrc is-live=true ! webrtcserversink port={PORT} {extra}")
        run = subprocess.run(["gst-launch-1.0"] + pipeline.split(), capture_output=True, text=True,
                             timeout=20)
        line = next((l for l in run.stdout.splitlines() + run.stderr.splitlines()
                     if "ERROR" in l), "")
        print(f"# {extra}: exit {run.returncode}: {line.strip()}")
        if run.returncode == 0 or expect not in run.stdout + run.stderr:
            failures.append(f"{extra}: exit {run.returncode}, no error naming '{expect}'")
    https = f"https://127.0.0.1:{PORT}"
    sender = start_sender(f"tls-certificate={cert} tls-key={key}", url=https, context=context)
    try:
        page = urllib.request.urlopen(https + "/", timeout=5, context=context).read()
        if b"<video" not in page:
            failures.append("GET / over HTTPS did not give the viewer page")
        try:
            urllib.request.urlopen(URL + "/config", timeout=5)
            failures.append("plain HTTP was served on the HTTPS port")
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            print(f"# plain HTTP on the HTTPS port: refused ({e.__class__.__name__})")
        frames, trickled, first = asyncio.run(asyncio.wait_for(
            session("join", ws_url=f"wss://127.0.0.1:{PORT}/ws", ssl_context=context), 40))
        print(f"# wss join: {frames} frames, first after {first:.0f} ms")
    finally:
        stop(sender)
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "offer"
    if mode in ("offer", "join", "join-audio"):
        # join-audio: our offer has an audio section too (audio_0 fed)
        audio = [] if mode == "join-audio" else None
        sender = start_sender("", f"audiotestsrc is-live=true freq={TONE_HZ} ! s.audio_0"
                              if audio is not None else "")
        try:
            frames, trickled, first = asyncio.run(
                asyncio.wait_for(session("offer" if mode == "offer" else "join", audio=audio), 40))
        except AssertionError as e:
            print(f"FAIL: {e}")
            return 1
        finally:
            stop(sender)
        print(f"# /ws {mode}: {frames} frames, first after {first:.0f} ms, "
              f"{trickled} candidate(s) trickled by the server")
        if trickled < 1:
            print("FAIL: the server trickled no candidate")
            return 1
        if audio is not None:
            raw = numpy.concatenate(audio).astype("<i2").tobytes()
            freq, rms = dominant_frequency(raw)
            print(f"# /ws {mode}: {len(raw) / 2 / 48000:.1f} s of audio decoded, dominant "
                  f"{freq:.1f} Hz, RMS {rms:.0f}")
            # audiotestsrc's default volume 0.8: RMS ~18500 sent; silence or noise fails.
            if abs(freq - TONE_HZ) > 5 or rms < 3000:
                print(f"FAIL: the audio track is not the {TONE_HZ} Hz tone: dominant {freq:.1f} Hz, "
                      f"RMS {rms:.0f}")
                return 1
        print("1 passed, 0 failed")
        return 0
    if mode == "talkback":
        out = tempfile.NamedTemporaryFile(suffix=".raw", delete=False).name
        # gst-launch links the talkback_<id> pad when it appears; async=false, as
        # a sink that gets nothing until a viewer talks must not hold up PLAYING.
        sender = start_sender("talkback=true", f"s. ! queue ! filesink async=false location={out}")
        try:
            # join: aiortc 1.4 offers each section with its own ICE credentials
            # under one BUNDLE group, which webrtcbin refuses; it answers ours fine.
            for offer_mode in ("join",):
                frames, _, _ = asyncio.run(asyncio.wait_for(session(offer_mode, tone=True), 40))
        finally:
            stop(sender)
        raw = open(out, "rb").read()
        os.unlink(out)
        seconds = len(raw) / 2 / 48000
        if seconds < 1:
            print(f"FAIL: only {seconds:.2f} s of talkback audio came out of the sink")
            return 1
        freq, rms = dominant_frequency(raw)
        print(f"# talkback: {seconds:.1f} s of audio, dominant {freq:.1f} Hz, RMS {rms:.0f}")
        if abs(freq - TONE_HZ) > 5:
            print(f"FAIL: dominant frequency {freq:.1f} Hz, expected {TONE_HZ} Hz")
            return 1
        print("1 passed, 0 failed")
        return 0
    if mode == "tls":
        return tls()
    if mode == "eos":
        # 4 s of video, then EOS: gst-launch -e ends cleanly (exit 0) and the viewer is told.
        pipeline = (f"videotestsrc is-live=true num-buffers=120 ! video/x-raw,width=320,height=240,"
                    f"framerate=30/1 ! webrtcserversink port={PORT}")
        proc = subprocess.Popen(["gst-launch-1.0", "-q", "-e"] + pipeline.split())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(URL + "/stats", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        try:
            frames, took, told = asyncio.run(asyncio.wait_for(told_at_end(), 40))
            code = proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        print(f"# end of stream: {frames} frames, told {[m['type'] for m in told]} {took:.1f} s after "
              f"the first frame; gst-launch exit {code}")
        told = [m for m in told if m["type"] != "candidate"]
        if told[0]["type"] != "error" or "stream ended" not in told[0]["message"] or code != 0:
            print(f"FAIL: expected error + bye and exit 0, got {told}, exit {code}")
            return 1
        return 0
    if mode == "bad-input":
        sender = start_sender()
        try:
            failures = asyncio.run(asyncio.wait_for(bad_input(), 90))
        finally:
            stop(sender)
        for f in failures:
            print(f"FAIL: {f}")
        return 1 if failures else 0
    print(f"unknown mode {mode}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
