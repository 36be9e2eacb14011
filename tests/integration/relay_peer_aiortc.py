#!/usr/bin/python3
"""An aiortc peer that meets another peer through `livecast signal`.

Joins ROOM on the relay at URL, offers a generated video track (a moving
pattern, WIDTHxHEIGHT at 30 fps) to the first other member of the room (one
already there when it joins, or the first that joins after), applies the answer
and the candidates trickled through the relay, and streams until that member
says bye, leaves, or --seconds pass.

Prints one JSON object per line on stdout for the test that drives it:
  {"event":"welcome","id":…,"peers":[…]}  {"event":"offer-sent","to":…}
  {"event":"answer","from":…}  {"event":"candidate","from":…}  {"event":"ice","state":…}
  {"event":"done","reason":…}
Exit status 0 when the answer arrived and ICE completed, 1 otherwise.

Runs inside the private network namespace (tests/netns-run.sh).
Usage: relay_peer_aiortc.py --url ws://127.0.0.1:N/ws --room ROOM [--seconds S]
"""
import argparse
import asyncio
import json
import sys

import aioice.ice
import av
import numpy
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp

# aioice skips loopback addresses; on loopback-only test hosts use 127.0.0.1.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

WIDTH, HEIGHT = 320, 240
STEP_TIMEOUT = 15  # seconds for the relay, the answer and ICE


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


class MovingPattern(VideoStreamTrack):
    """Colour bars with a white bar sweeping across: every frame differs."""

    def __init__(self):
        super().__init__()
        self.count = 0
        bars = numpy.zeros((HEIGHT, WIDTH, 3), numpy.uint8)
        colours = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
                   (255, 0, 255), (255, 0, 0), (0, 0, 255), (16, 16, 16)]
        for i, colour in enumerate(colours):
            bars[:, i * WIDTH // 8:(i + 1) * WIDTH // 8] = colour
        self.bars = bars

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        picture = self.bars.copy()
        x = (self.count * 4) % WIDTH
        picture[:, x:x + 8] = 255
        self.count += 1
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


async def run(url, room, seconds):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(MovingPattern())
    ice_done = asyncio.get_running_loop().create_future()

    @pc.on("iceconnectionstatechange")
    def on_ice():
        emit("ice", state=pc.iceConnectionState)
        if pc.iceConnectionState in ("completed", "connected") and not ice_done.done():
            ice_done.set_result(True)
        if pc.iceConnectionState == "failed" and not ice_done.done():
            ice_done.set_result(False)

    got_answer = False
    peer = None
    reason = "time is up"
    async with websockets.connect(url, open_timeout=STEP_TIMEOUT) as ws:
        await ws.send(json.dumps({"type": "join", "room": room}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), STEP_TIMEOUT))
        if welcome.get("type") != "welcome":
            emit("done", reason=f"expected welcome, got {welcome}")
            return 1
        emit("welcome", id=welcome["id"], peers=welcome["peers"])

        async def offer_to(target):
            await pc.setLocalDescription(await pc.createOffer())  # gathers: sdp has candidates
            sdp = pc.localDescription.sdp
            await ws.send(json.dumps({"type": "offer", "sdp": sdp, "to": target}))
            emit("offer-sent", to=target)
            # aiortc puts its candidates in the SDP; send them trickled too (a
            # browser ignores duplicates), so candidate messages travel the relay
            # in both directions, then the end of candidates.
            mid, index, sent = None, -1, 0
            for line in sdp.splitlines():
                if line.startswith("m="):
                    index += 1
                elif line.startswith("a=mid:"):
                    mid = line[len("a=mid:"):]
                elif line.startswith("a=candidate:"):
                    await ws.send(json.dumps({"type": "candidate", "to": target, "candidate": {
                        "candidate": line[2:], "sdpMid": mid, "sdpMLineIndex": index}}))
                    sent += 1
            await ws.send(json.dumps({"type": "candidate", "candidate": None, "to": target}))
            emit("candidates-sent", count=sent)

        if welcome["peers"]:
            peer = welcome["peers"][0]
            await offer_to(peer)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            try:
                text = await asyncio.wait_for(ws.recv(), deadline - loop.time())
            except asyncio.TimeoutError:
                break
            message = json.loads(text)
            kind, sender = message.get("type"), message.get("from")
            if kind == "join" and peer is None:
                peer = sender
                await offer_to(peer)
            elif kind == "answer" and sender == peer:
                await pc.setRemoteDescription(RTCSessionDescription(message["sdp"], "answer"))
                got_answer = True
                emit("answer", **{"from": sender})
            elif kind == "candidate" and sender == peer:
                init = message["candidate"]
                if init and init.get("candidate"):
                    candidate = candidate_from_sdp(init["candidate"].split(":", 1)[1])
                    candidate.sdpMid = init.get("sdpMid")
                    candidate.sdpMLineIndex = init.get("sdpMLineIndex")
                    await pc.addIceCandidate(candidate)
                    emit("candidate", **{"from": sender})
            elif kind in ("bye", "leave") and sender == peer:
                reason = f"{kind} from the peer"
                break
            elif kind == "error":
                emit("relay-error", message=message.get("message"))
        ok = got_answer and ice_done.done() and ice_done.result()
    await pc.close()
    emit("done", reason=reason)
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.url, args.room, args.seconds)))


if __name__ == "__main__":
    main()
