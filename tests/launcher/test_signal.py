#!/usr/bin/python3
# `livecast signal`, the WebSocket relay, over real sockets: the printed URL,
# rooms (join, welcome, forwarding with "from", "to", leave announcements),
# errors for bad input that keep the connection (and the server), the size and
# flood limits, the paths, and the command line (bad port, port in use, signals).
#
#   test_signal.py PATH/TO/livecast [unittest options]
#
# Opens sockets: run inside the private network namespace (tests/netns-run.sh).
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

try:
    import websockets
    import websockets.exceptions
except ImportError:
    print('python3-websockets is missing: apt-get install python3-websockets '
          '(scripts/install-deps.sh --tests)', file=sys.stderr)
    sys.exit(77 if os.environ.get('LIVECAST_REQUIRE_BROWSER') != '1' else 1)

LIVECAST = None  # set from argv in main
LISTEN_RE = re.compile(r'^livecast signal: listening on (ws://127\.0\.0\.1:(\d+)/ws)$')
TIMEOUT = 5  # seconds for any single step


class Relay:
    """One `livecast signal` process; the URL comes from its first line."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([LIVECAST, 'signal', '--port', '0', *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().rstrip('\n')
        m = LISTEN_RE.match(line)
        if not m:
            self.stop()
            raise AssertionError(f'unexpected first line {line!r}; stderr: {self.proc.stderr.read()}')
        self.url = m.group(1)
        self.port = int(m.group(2))
        self.base = f'ws://127.0.0.1:{self.port}'

    def stop(self, sig=signal.SIGTERM):
        """Stops the relay; returns (exit code, rest of stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait()

    def wait(self):
        """Waits for the relay to end by itself; returns what stop() returns."""
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err


async def recv_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def expect_silence(ws, seconds=0.3):
    try:
        text = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f'expected nothing, got {text}')


async def connect(url):
    return await asyncio.wait_for(websockets.connect(url, max_size=None, open_timeout=TIMEOUT,
                                                     close_timeout=1), TIMEOUT)


async def join(url, room):
    ws = await connect(url)
    await ws.send(json.dumps({'type': 'join', 'room': room}))
    welcome = await recv_json(ws)
    assert welcome['type'] == 'welcome', welcome
    return ws, welcome


class RelayTest(unittest.TestCase):
    relay_args = ()

    def setUp(self):
        self.relay = Relay(*self.relay_args)

    def tearDown(self):
        code, out, err = self.relay.stop()
        self.assertEqual(code, 0, err)
        self.assertNotIn('CRITICAL', err)
        self.assertNotIn('WARNING', err)

    def run_async(self, coro):
        asyncio.run(asyncio.wait_for(coro, 60))


class Rooms(RelayTest):
    def test_join_welcome_and_announcement(self):
        async def body():
            a, wa = await join(self.relay.url, 'lobby')
            self.assertEqual(set(wa), {'type', 'id', 'room', 'peers'})
            self.assertEqual(wa['room'], 'lobby')
            self.assertEqual(wa['peers'], [])
            self.assertRegex(wa['id'], r'^[0-9a-f]{16}$')
            b, wb = await join(self.relay.url, 'lobby')
            self.assertEqual(wb['peers'], [wa['id']])
            self.assertNotEqual(wa['id'], wb['id'])
            self.assertEqual(await recv_json(a), {'type': 'join', 'from': wb['id']})
            # Another room hears nothing.
            c, wc = await join(self.relay.url, 'elsewhere')
            self.assertEqual(wc['peers'], [])
            await expect_silence(a)
            await expect_silence(b)
            for ws in (a, b, c):
                await ws.close()
        self.run_async(body())

    def test_forwarding_with_from_and_to(self):
        async def body():
            a, wa = await join(self.relay.url, 'r')
            b, wb = await join(self.relay.url, 'r')
            c, wc = await join(self.relay.url, 'r')
            await recv_json(a)
            await recv_json(a)
            await recv_json(b)
            sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'
            # Broadcast: everyone else, "from" set (a forged one replaced),
            # unknown members kept.
            await a.send(json.dumps({'type': 'offer', 'sdp': sdp, 'from': 'forged', 'extra': [1]}))
            for ws in (b, c):
                self.assertEqual(await recv_json(ws), {'type': 'offer', 'sdp': sdp, 'extra': [1],
                                                       'from': wa['id']})
            await expect_silence(a)
            # Targeted: only that member.
            candidate = {'candidate': 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
                         'sdpMid': '0', 'sdpMLineIndex': 0}
            await c.send(json.dumps({'type': 'candidate', 'candidate': candidate,
                                     'to': wa['id']}))
            self.assertEqual(await recv_json(a), {'type': 'candidate', 'candidate': candidate,
                                                  'to': wa['id'], 'from': wc['id']})
            await expect_silence(b)
            # End of candidates and bye pass too.
            await b.send('{"type":"candidate","candidate":null}')
            await b.send('{"type":"bye"}')
            for ws in (a, c):
                self.assertEqual(await recv_json(ws), {'type': 'candidate', 'candidate': None,
                                                       'from': wb['id']})
                self.assertEqual(await recv_json(ws), {'type': 'bye', 'from': wb['id']})
            # "to" someone not in the room: an error for the sender only.
            await a.send(json.dumps({'type': 'answer', 'sdp': sdp, 'to': 'nobody'}))
            error = await recv_json(a)
            self.assertEqual(error, {'type': 'error', 'message':
                                     'No other member of room "r" has the id "nobody".'})
            await expect_silence(b)
            for ws in (a, b, c):
                await ws.close()
        self.run_async(body())

    def test_leave_is_announced(self):
        async def body():
            a, wa = await join(self.relay.url, 'r')
            b, wb = await join(self.relay.url, 'r')
            await recv_json(a)
            # Closing the connection.
            await b.close()
            self.assertEqual(await recv_json(a), {'type': 'leave', 'from': wb['id']})
            # An explicit leave; the connection stays and can join again.
            c, wc = await join(self.relay.url, 'r')
            self.assertEqual(wc['peers'], [wa['id']])
            await recv_json(a)
            await c.send('{"type":"leave"}')
            self.assertEqual(await recv_json(a), {'type': 'leave', 'from': wc['id']})
            await c.send('{"type":"join","room":"r"}')
            again = await recv_json(c)
            self.assertEqual((again['type'], again['id'], again['peers']),
                             ('welcome', wc['id'], [wa['id']]))
            self.assertEqual(await recv_json(a), {'type': 'join', 'from': wc['id']})
            # A connection dropped without a close frame is announced as well.
            d, wd = await join(self.relay.url, 'r')
            await recv_json(a)
            d.transport.abort()
            self.assertEqual(await recv_json(a), {'type': 'leave', 'from': wd['id']})
            await a.close()
            await c.close()
        self.run_async(body())

    def test_both_paths(self):
        async def body():
            a, wa = await join(self.relay.base + '/', 'p')
            b, wb = await join(self.relay.base + '/ws', 'p')
            self.assertEqual(wb['peers'], [wa['id']])
            other = await connect(self.relay.base + '/other')
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(other.recv(), TIMEOUT)
            self.assertEqual(other.close_code, 1008)
            self.assertEqual(other.close_reason, 'Unknown path; the signaling WebSocket is at /ws.')
            await a.close()
            await b.close()
        self.run_async(body())


class BadInput(RelayTest):
    relay_args = ('--max-rate', '20')

    def test_errors_keep_connection_and_server(self):
        async def body():
            a, wa = await join(self.relay.url, 'r')
            b, wb = await join(self.relay.url, 'r')
            await recv_json(a)
            HUGE = '{"type":"offer","sdp":"v=0' + 'x' * 100_000 + '"}'
            cases = [
                ('hello', 'The message is not valid JSON'),
                ('[1,2]', 'The message must be a JSON object'),
                ('{"sdp":"v=0"}', 'The message has no "type" member.'),
                ('{"type":7}', 'The "type" member must be a string.'),
                ('{"type":"hug"}', 'Unknown message type "hug"'),
                ('{"type":"offer","sdp":5}', 'The "sdp" member must be a string.'),
                ('{"type":"offer"}', 'An offer needs a string member "sdp".'),
                ('{"type":"candidate","candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host"}',
                 'The "candidate" member must be an object'),
                ('{"type":"candidate","candidate":{"candidate":"candidate:1","sdpMLineIndex":"0"}}',
                 'The "sdpMLineIndex" member must be a whole number'),
                ('{"type":"join","room":"other"}', 'You are already in room "r"'),
                ('{"type":"welcome","id":"x"}', 'Only the server sends welcome messages.'),
                ('{"type":"bye","to":42}', 'The "to" member must be a string.'),
                (HUGE, f'The message is {len(HUGE)} bytes; the limit is 65536 bytes.'),
                ('[' * 10_000 + ']' * 10_000, 'nests arrays or objects deeper than 32 levels'),
                (b'\x00\x01binary', 'Binary messages are not part of the protocol'),
            ]
            for text, expected in cases:
                await a.send(text)
                reply = await recv_json(a)
                self.assertEqual(reply['type'], 'error', text[:80])
                self.assertIn(expected, reply['message'])
                self.assertTrue(reply['message'].endswith('.'))
            await expect_silence(b)  # nothing bad was forwarded
            # The same connection still relays.
            await a.send('{"type":"bye"}')
            self.assertEqual(await recv_json(b), {'type': 'bye', 'from': wa['id']})
            # A message over libsoup's 1 MiB frame limit ends that connection
            # (libsoup sends 1009, too big, and drops the socket while the
            # client is still sending: the client may see 1006) and only that one.
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                await b.send('{"type":"offer","sdp":"v=0' + 'x' * (2 << 20) + '"}')
                await asyncio.wait_for(b.recv(), TIMEOUT)
            self.assertIn(b.close_code, (1006, 1009))
            self.assertEqual(await recv_json(a), {'type': 'leave', 'from': wb['id']})
            c, wc = await join(self.relay.url, 'r')
            self.assertEqual(wc['peers'], [wa['id']])
            await a.close()
            await c.close()
        self.run_async(body())

    def test_flood(self):
        async def body():
            a, wa = await join(self.relay.url, 'r')
            b, wb = await join(self.relay.url, 'r')
            await recv_json(a)
            # 500 messages at once: the burst (twice the rate) passes, the rest
            # is dropped, the sender is told once.
            for _ in range(500):
                await a.send('{"type":"bye"}')
            received = 0
            try:
                while True:
                    reply = json.loads(await asyncio.wait_for(b.recv(), 0.5))
                    self.assertEqual(reply['type'], 'bye')
                    received += 1
            except asyncio.TimeoutError:
                pass
            self.assertGreaterEqual(received, 35)
            self.assertLessEqual(received, 60)
            error = await recv_json(a)
            self.assertEqual(error['message'], 'Too many messages: the limit is 20 per second, '
                             'so messages are dropped until you slow down.')
            # Keeping it up: closed with 1008 and a reason within a few seconds.
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 10 and not closed:
                try:
                    for _ in range(20):
                        await a.send('{"type":"bye"}')
                    await asyncio.sleep(0.05)
                except websockets.exceptions.ConnectionClosed:
                    closed = True
            if not closed:
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    while True:
                        await asyncio.wait_for(a.recv(), TIMEOUT)
            self.assertEqual(a.close_code, 1008)
            self.assertEqual(a.close_reason,
                             'Too many messages per second for too long; the limit is 20.')
            self.assertLess(time.monotonic() - started, 6)
            # The room hears the flooder leave; the server still serves.
            deadline = time.monotonic() + TIMEOUT
            while True:
                reply = await recv_json(b)
                if reply['type'] == 'leave':
                    break
                self.assertLess(time.monotonic(), deadline)
            self.assertEqual(reply, {'type': 'leave', 'from': wa['id']})
            c, wc = await join(self.relay.url, 'r')
            self.assertEqual(wc['peers'], [wb['id']])
            self.assertEqual(await recv_json(b), {'type': 'join', 'from': wc['id']})
            await c.send('{"type":"bye"}')
            self.assertEqual(await recv_json(b), {'type': 'bye', 'from': wc['id']})
            await b.close()
            await c.close()
        self.run_async(body())


class Limits(RelayTest):
    relay_args = ('--max-members', '2', '--max-rooms', '2')

    def test_room_and_server_limits(self):
        async def body():
            a, _ = await join(self.relay.url, 'one')
            b, _ = await join(self.relay.url, 'one')
            c = await connect(self.relay.url)
            await c.send('{"type":"join","room":"one"}')
            self.assertEqual(await recv_json(c), {'type': 'error',
                                                  'message': 'Room "one" is full: it has 2 members.'})
            d, _ = await join(self.relay.url, 'two')
            await c.send('{"type":"join","room":"three"}')
            self.assertEqual(await recv_json(c), {
                'type': 'error', 'message': 'The server has 2 rooms, its limit; try again later.'})
            await d.close()
            await asyncio.sleep(0.2)
            await c.send('{"type":"join","room":"three"}')
            self.assertEqual((await recv_json(c))['type'], 'welcome')
            for ws in (a, b, c):
                await ws.close()
        self.run_async(body())


class IceServers(RelayTest):
    relay_args = ('--stun', 'stun://127.0.0.1:3478', '--turn', 'turn://u:p%40ss@127.0.0.1:3478',
                  '--turn', 'turns://u:p@turn.example.org:5349?transport=tcp')

    def test_welcome_hands_out_ice_servers(self):
        async def body():
            a, wa = await join(self.relay.url, 'r')
            self.assertEqual(wa['iceServers'], [
                {'urls': ['stun:127.0.0.1:3478']},
                {'urls': ['turn:127.0.0.1:3478'], 'username': 'u', 'credential': 'p@ss'},
                {'urls': ['turns:turn.example.org:5349?transport=tcp'], 'username': 'u',
                 'credential': 'p'},
            ])
            await a.close()
        self.run_async(body())


class CommandLine(unittest.TestCase):
    def run_livecast(self, *args):
        return subprocess.run([LIVECAST, 'signal', *args], capture_output=True, text=True,
                              timeout=TIMEOUT)

    def assert_one_line_error(self, result, code, expected):
        self.assertEqual(result.returncode, code, result.stderr)
        self.assertEqual(result.stdout, '')
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith('livecast signal: '), lines[0])
        self.assertIn(expected, lines[0])

    def test_bad_port(self):
        for port in ('70000', '-1', 'http', ''):
            self.assert_one_line_error(self.run_livecast('--port', port), 2,
                                       f'--port must be a whole number from 0 to 65535, not "{port}".')

    def test_bad_options(self):
        self.assert_one_line_error(self.run_livecast('--bind', 'localhost'), 2,
                                   '--bind must be an IP address')
        self.assert_one_line_error(self.run_livecast('--max-members', '1'), 2,
                                   '--max-members must be a whole number from 2 to 1000')
        self.assert_one_line_error(self.run_livecast('--frobnicate'), 2, 'frobnicate')
        self.assert_one_line_error(self.run_livecast('extra'), 2, 'unexpected argument "extra"')
        self.assert_one_line_error(self.run_livecast('--turn', 'turn://127.0.0.1:3478'), 2,
                                   'ICE server "turn://127.0.0.1:3478" is not stun://HOST:PORT')
        self.assert_one_line_error(self.run_livecast('--stun', 'turn://u:p@h:1'), 2,
                                   '--stun "turn://u:p@h:1" is a TURN server; use --turn for it.')

    def test_port_in_use(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            s.listen()
            port = s.getsockname()[1]
            self.assert_one_line_error(self.run_livecast('--port', str(port)), 1,
                                       f'cannot listen on 127.0.0.1:{port}:')

    def test_fixed_port_and_help(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([LIVECAST, 'signal', '--port', str(port)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(proc.stdout.readline(),
                             f'livecast signal: listening on ws://127.0.0.1:{port}/ws\n')
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0)
        result = self.run_livecast('--help')
        self.assertEqual(result.returncode, 0)
        self.assertIn('--max-rate', result.stdout)
        self.assertIn('"type":"join"', result.stdout)

    def test_signals_stop_cleanly_with_clients(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            relay = Relay()

            async def body():
                a, _ = await join(relay.url, 'r')
                started = time.monotonic()
                relay.proc.send_signal(sig)
                with self.assertRaises(websockets.exceptions.ConnectionClosed):
                    await asyncio.wait_for(a.recv(), TIMEOUT)
                self.assertEqual(a.close_code, 1001)
                self.assertEqual(a.close_reason, 'The signaling server is stopping.')
                return time.monotonic() - started

            elapsed = asyncio.run(body())
            # Signalled once already: a second signal could land after the
            # handlers are gone, while the relay is on its way out.
            code, out, err = relay.wait()
            self.assertEqual(code, 0, err)
            self.assertEqual(out, 'livecast signal: stopped\n')
            self.assertEqual(err, '')
            self.assertLess(elapsed, 2)


def main():
    global LIVECAST
    if len(sys.argv) < 2:
        print('usage: test_signal.py PATH/TO/livecast [unittest options]', file=sys.stderr)
        sys.exit(2)
    LIVECAST = sys.argv.pop(1)
    unittest.main(verbosity=2)


if __name__ == '__main__':
    main()
