#!/usr/bin/env python3
# A raw /ws client for tests/browser/wsmedia.test.mjs, in Python for one thing Node cannot do:
# a small receive buffer (SO_RCVBUF before connect), so a client that stops reading fills the
# server's side of the socket within a second instead of after megabytes.
#   wsmedia_client.py HOST PORT stall SECONDS   {"type":"media"}, read 2 s, stop reading for
#                                               SECONDS, then read again: prints what it saw
#   wsmedia_client.py HOST PORT bad             bad input: prints the server's replies
#   wsmedia_client.py HOST PORT read SECONDS    {"type":"media"}, read everything for SECONDS
#                                               (tests/bench/bench_glass.mjs: CPU per viewer)
#   wsmedia_client.py HOST PORT limits TOKEN    no token (401), then two media viewers with it
#                                               (the second one over max-viewers=1)
# Prints one JSON object on stdout.
import base64
import json
import os
import socket
import struct
import sys
import time


def handshake(host, port, rcvbuf=None, token=''):
    """(socket, status line) after the upgrade request."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    path = f'/ws?token={token}' if token else '/ws'
    s.sendall((f'GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n'
               f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n'
               'Sec-WebSocket-Version: 13\r\n\r\n').encode())
    head = b''
    while b'\r\n\r\n' not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    return s, head.split(b'\r\n')[0].decode(errors='replace')


def connect(host, port, rcvbuf=None, token=''):
    s, status = handshake(host, port, rcvbuf, token)
    if ' 101 ' not in status:
        raise SystemExit(f'no upgrade: {status!r}')
    return s


def send(s, payload, opcode=1):
    if isinstance(payload, str):
        payload = payload.encode()
    mask = os.urandom(4)
    n = len(payload)
    header = bytes([0x80 | opcode])
    if n < 126:
        header += bytes([0x80 | n])
    elif n < 65536:
        header += bytes([0x80 | 126]) + struct.pack('>H', n)
    else:
        header += bytes([0x80 | 127]) + struct.pack('>Q', n)
    s.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def recv_exact(s, n):
    out = b''
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError
        out += chunk
    return out


def recv(s):
    """One message: (opcode, payload)."""
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack('>H', recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack('>Q', recv_exact(s, 8))[0]
    return b0 & 0x0f, recv_exact(s, n)


def texts_until(s, count, seconds):
    out = []
    deadline = time.time() + seconds
    while len(out) < count and time.time() < deadline:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            op, data = recv(s)
        except (socket.timeout, EOFError):
            break
        if op == 1:
            out.append(json.loads(data))
    return out


def stall(host, port, seconds):
    s = connect(host, port, rcvbuf=4096)
    texts_until(s, 1, 5)  # welcome
    send(s, json.dumps({'type': 'media'}))
    seen = {'before': 0, 'after': 0, 'first_after': None, 'texts': []}
    deadline = time.time() + 2
    while time.time() < deadline:
        op, data = recv(s)
        if op == 2:
            seen['before'] += 1
        elif op == 1:
            seen['texts'].append(json.loads(data))
    time.sleep(seconds)  # not reading: the server's send buffer fills
    # Read again: the backlog, then live frames; the first video frame after the gap must be a
    # key frame marked discontinuous (flags 3).
    deadline = time.time() + 8
    s.settimeout(2)
    kinds = []
    while time.time() < deadline:
        try:
            op, data = recv(s)
        except (socket.timeout, EOFError):
            break
        if op != 2:
            continue
        seen['after'] += 1
        kind, flags = data[1], data[2]
        kinds.append((kind, flags))
        if kind == 2 and flags & 2 and seen['first_after'] is None:
            seen['first_after'] = {'flags': flags, 'index': seen['after']}
    s.close()
    print(json.dumps(seen))


def bad(host, port):
    s = connect(host, port)
    replies = {'welcome': texts_until(s, 1, 5)}
    send(s, b'\x01\x02\x00\x00garbage\xff', opcode=2)  # binary, not JSON
    replies['binary'] = texts_until(s, 1, 5)
    send(s, '{"type":"media","id":7}')
    replies['bad_id'] = texts_until(s, 1, 5)
    send(s, '{"type":"media"}')
    first = texts_until(s, 1, 5)
    send(s, '{"type":"media"}')  # a second time on the same socket
    replies['media'] = first
    deadline = time.time() + 5
    again = []
    s.settimeout(1)
    while time.time() < deadline and not again:
        try:
            op, data = recv(s)
        except (socket.timeout, EOFError):
            break
        if op == 1:
            again.append(json.loads(data))
    replies['again'] = again
    s.close()
    print(json.dumps(replies))


def limits(host, port, token):
    out = {}
    s, out['no_token'] = handshake(host, port)
    s.close()
    first = connect(host, port, token=token)
    texts_until(first, 1, 5)
    send(first, json.dumps({'type': 'media'}))
    out['first'] = texts_until(first, 1, 5)
    second = connect(host, port, token=token)
    texts_until(second, 1, 5)
    send(second, json.dumps({'type': 'media'}))
    out['second'] = texts_until(second, 1, 5)
    first.close()
    second.close()
    print(json.dumps(out))


def read(host, port, seconds):
    s = connect(host, port)
    texts_until(s, 1, 5)
    send(s, json.dumps({'type': 'media'}))
    count = 0
    deadline = time.time() + seconds
    s.settimeout(1)
    while time.time() < deadline:
        try:
            op, _ = recv(s)
        except socket.timeout:
            continue
        except EOFError:
            break
        count += op == 2
    s.close()
    print(json.dumps({'messages': count}))


if __name__ == '__main__':
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == 'read':
        read(host, port, float(sys.argv[4]))
    elif mode == 'limits':
        limits(host, port, sys.argv[4])
    elif mode == 'stall':
        stall(host, port, float(sys.argv[4]))
    else:
        bad(host, port)
