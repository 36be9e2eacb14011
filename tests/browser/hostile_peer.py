#!/usr/bin/python3
"""A viewer that misbehaves on purpose, built from aiortc (a real WebRTC
stack) with one part of it broken. Used by isolation.test.mjs, next to a
good Chromium viewer that must keep playing.

Usage: hostile_peer.py URL MODE
Modes:
  reject-cert     refuses our DTLS certificate during the handshake: its
                  verify callback says no, so OpenSSL sends a fatal alert
  wrong-fingerprint  offers a fingerprint that is not its certificate's
  dtls-stall      answers our first DTLS flight, then goes silent for good
  garbage-udp     connects, then sends random datagrams of every kind the
                  demultiplexer tells apart (STUN, DTLS, RTP/RTCP, other)
                  from the connected address to our ICE port
  bad-srtcp       connects, then sends SRTCP with a wrong authentication tag
                  and well-encrypted RTCP that lies about its lengths

Prints one JSON line at the end: what the peer saw (state, RTP packets
received before and after the misbehaviour).
"""
import asyncio
import json
import os
import random
import struct
import sys
import time
import urllib.request

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc import rtcdtlstransport
from OpenSSL import SSL

# aioice skips loopback addresses; on loopback-only test hosts use 127.0.0.1.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

rng = random.Random(int(os.environ.get("LIVECAST_HOSTILE_SEED", "7")))


def patch_reject_certificate():
    """Every certificate the peer is shown fails verification, inside the
    handshake, as a browser does when the answer's fingerprint is not ours."""
    create = rtcdtlstransport.RTCCertificate._create_ssl_context

    def create_rejecting(self, *args, **kwargs):
        ctx = create(self, *args, **kwargs)
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *a: False)
        return ctx

    rtcdtlstransport.RTCCertificate._create_ssl_context = create_rejecting


def patch_dtls_stall():
    """The first DTLS flight goes out; after that the peer sends nothing."""
    write = rtcdtlstransport.RTCDtlsTransport._write_ssl

    async def write_once(self):
        if getattr(self, "_hostile_flights", 0) >= 1:
            try:
                self.ssl.bio_read(65536)  # made, never sent
            except SSL.Error:
                pass
            return
        self._hostile_flights = getattr(self, "_hostile_flights", 0) + 1
        await write(self)

    rtcdtlstransport.RTCDtlsTransport._write_ssl = write_once


def wrong_fingerprint(sdp):
    """The offer's fingerprint with its first hex digit changed."""
    out = []
    for line in sdp.splitlines():
        if line.startswith("a=fingerprint:"):
            algo, value = line.split(" ", 1)
            first = "0" if value[0] != "0" else "1"
            line = f"{algo} {first}{value[1:]}"
        out.append(line)
    return "\r\n".join(out) + "\r\n"


def garbage_datagrams():
    """Random datagrams, a batch for each first-byte range RFC 7983 uses."""
    ranges = [(0, 3), (20, 63), (64, 79), (128, 191), (192, 255)]
    out = []
    for lo, hi in ranges:
        for _ in range(40):
            size = rng.choice([1, 2, 12, 13, 20, 100, 600, 1200])
            data = bytes([rng.randint(lo, hi)]) + bytes(rng.getrandbits(8) for _ in range(size - 1))
            out.append(data)
    # DTLS-shaped records: a real header (handshake, alert, application data)
    # around random bodies, the kind that reach OpenSSL.
    for content_type in (20, 21, 22, 23):
        for epoch in (0, 1):
            body = bytes(rng.getrandbits(8) for _ in range(rng.choice([2, 40, 300])))
            out.append(struct.pack("!BHHIHH", content_type, 0xFEFD, epoch, 0,
                                    rng.getrandbits(16), len(body)) + body)
    return out


def bad_srtcp_packets(dtls):
    """SRTCP with a wrong tag, and RTCP that is properly encrypted but lies."""
    out = []
    for _ in range(50):
        # RR header, then garbage, an E-flag index and a 10-byte tag that is wrong.
        body = struct.pack("!BBHI", 0x81, 201, 7, rng.getrandbits(32))
        body += bytes(rng.getrandbits(8) for _ in range(24))
        out.append(body + struct.pack("!I", 0x80000000 | rng.getrandbits(31)) +
                   bytes(rng.getrandbits(8) for _ in range(10)))
    liars = [
        struct.pack("!BBHI", 0x81, 201, 200, 1),               # length beyond the packet
        struct.pack("!BBHI", 0x9F, 201, 1, 2),                 # 31 report blocks, none there
        struct.pack("!BBHI", 0x81, 206, 2, 3) + b"\0" * 4,     # PSFB FMT 1 (PLI) cut short
        struct.pack("!BBHI", 0x8F, 205, 2, 4) + b"\0" * 4,     # RTPFB FMT 15 (TWCC) cut short
        struct.pack("!BBHII", 0x8F, 205, 4, 5, 6) + struct.pack("!HHI", 0, 0xFFFF, 0),  # TWCC: 65535 packets
        struct.pack("!BBHI", 0x80, 204, 1, 7),                 # APP without a name
        struct.pack("!BBHI", 0x81, 202, 3, 8) + b"\x01\xff" + b"x" * 6,  # SDES item longer than packet
        struct.pack("!BBHI", 0x80, 200, 0, 10),                # SR without its sender info
        struct.pack("!BBHI", 0x80, 210, 1, 9),                 # unknown packet type
    ]
    for packet in liars:
        out.append(dtls._tx_srtp.protect_rtcp(packet))
    return out


async def run(url, mode):
    if mode == "reject-cert":
        patch_reject_certificate()
    elif mode == "dtls-stall":
        patch_dtls_stall()

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    transceiver = pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    if mode == "wrong-fingerprint":
        offer = wrong_fingerprint(offer)
    body = json.dumps({"type": "offer", "sdp": offer}).encode()
    request = urllib.request.Request(url + "/offer", data=body,
                                     headers={"Content-Type": "application/json"})
    reply = await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(request, timeout=10)))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
    result = {"mode": mode, "id": reply.get("id")}

    dtls = transceiver.receiver.transport
    received = lambda: dtls._get_stats()  # noqa: E731
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and dtls.state not in ("connected", "failed", "closed"):
        await asyncio.sleep(0.05)
    result["dtls"] = dtls.state

    def rtp_packets():
        for s in received().values():
            if getattr(s, "type", "") == "transport":
                return s.packetsReceived
        return 0

    if mode in ("garbage-udp", "bad-srtcp"):
        if dtls.state != "connected":
            result["error"] = "did not connect, so could not misbehave after connecting"
        else:
            await asyncio.sleep(1.0)  # media flowing
            result["packets_before"] = rtp_packets()
            connection = dtls.transport._connection
            packets = garbage_datagrams() if mode == "garbage-udp" else bad_srtcp_packets(dtls)
            for packet in packets:
                await connection.send(packet)
                await asyncio.sleep(0.002)
            result["sent"] = len(packets)
            await asyncio.sleep(2.0)
            result["packets_after"] = rtp_packets()
    elif mode == "dtls-stall":
        await asyncio.sleep(12)  # longer than the sink's silence timeout
    else:
        await asyncio.sleep(3)
        result["packets_after"] = rtp_packets()
    result["dtls_end"] = dtls.state
    print(json.dumps(result), flush=True)
    await pc.close()


def main():
    url, mode = sys.argv[1], sys.argv[2]
    asyncio.run(asyncio.wait_for(run(url, mode), 40))
    return 0


if __name__ == "__main__":
    sys.exit(main())
