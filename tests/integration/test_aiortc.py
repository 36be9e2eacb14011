#!/usr/bin/python3
"""webrtcserversink seen by aiortc (a Python WebRTC stack) through POST /offer
with a JSON body: frames must arrive and decode at the sent size.

Runs inside the private network namespace (tests/netns-run.sh).
Usage: test_aiortc.py [h264|vp8]
       test_aiortc.py --url URL --seconds S   (a viewer for other tests: prints
       "frames N" every half second)
"""
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

# aioice skips loopback addresses; on loopback-only test hosts use 127.0.0.1.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

PORT = 18090
URL = f"http://127.0.0.1:{PORT}"
WIDTH, HEIGHT = 320, 240


def start_sender(codec):
    pipeline = (
        f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={WIDTH},height={HEIGHT},"
        f"framerate=30/1 ! webrtcserversink port={PORT} video-codec={codec}"
    )
    proc = subprocess.Popen(["gst-launch-1.0", "-q"] + pipeline.split())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            stats = json.load(urllib.request.urlopen(URL + "/stats", timeout=1))
            if stats["encoder"]["codec"]:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("webrtcserversink did not start serving within 10 s")


async def connect(url):
    """Offers recvonly video to @url's POST /offer (JSON form); returns the
    peer connection, its video track, the answer SDP and when the POST began."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    got_track = asyncio.get_running_loop().create_future()
    pc.on("track", lambda track: got_track.set_result(track))
    await pc.setLocalDescription(await pc.createOffer())
    body = json.dumps({"type": "offer", "sdp": pc.localDescription.sdp}).encode()
    request = urllib.request.Request(url + "/offer", data=body,
                                     headers={"Content-Type": "application/json"})
    started = time.monotonic()
    reply = await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(request, timeout=10)))
    assert reply["type"] == "answer", reply
    await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
    track = await asyncio.wait_for(got_track, 10)
    return pc, track, reply["sdp"], started


async def watch(codec):
    pc, track, answer, started = await connect(URL)
    assert codec.upper() in answer, "answer lacks the codec"
    frames, size, first = 0, None, None
    while frames < 30:
        frame = await asyncio.wait_for(track.recv(), 10)
        frames += 1
        size = (frame.width, frame.height)
        if first is None:
            first = time.monotonic() - started
    await pc.close()
    return frames, size, first


async def view(url, seconds):
    """Watches @url for @seconds, printing the decoded frame count."""
    pc, track, _, _ = await connect(url)
    frames = 0
    end = time.monotonic() + seconds
    next_report = time.monotonic()
    while time.monotonic() < end:
        try:
            await asyncio.wait_for(track.recv(), 1)
            frames += 1
        except asyncio.TimeoutError:
            pass
        if time.monotonic() >= next_report:
            print(f"frames {frames}", flush=True)
            next_report += 0.5
    print(f"frames {frames}", flush=True)
    await pc.close()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--url":
        url, seconds = sys.argv[2], float(sys.argv[4])
        asyncio.run(asyncio.wait_for(view(url, seconds), seconds + 30))
        return 0
    codec = sys.argv[1] if len(sys.argv) > 1 else "h264"
    sender = start_sender(codec)
    try:
        frames, size, first = asyncio.run(asyncio.wait_for(watch(codec), 40))
    finally:
        sender.terminate()
        try:
            sender.wait(5)
        except subprocess.TimeoutExpired:
            sender.kill()
    print(f"# aiortc {codec}: {frames} frames of {size[0]}x{size[1]}, first after {first*1000:.0f} ms")
    if size != (WIDTH, HEIGHT):
        print(f"FAIL: frames are {size}, expected {(WIDTH, HEIGHT)}")
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
