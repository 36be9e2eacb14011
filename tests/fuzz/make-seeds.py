#!/usr/bin/env python3
"""Writes the committed seed corpora of tests/fuzz/corpus/ (run it again after
changing it; the files are committed so CI needs nothing else). The offers
are those of tests/unit/offers.h, the presets file is launcher/presets.ini,
the messages are the shapes of protocol/signalmessage.h."""
import json
import os
import re
import shutil
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
corpus = os.path.join(here, 'corpus')


def c_strings(path):
    """name -> text of each `static const char kName[] = "..." "...";`."""
    text = open(path).read()
    out = {}
    for m in re.finditer(r'static const char (\w+)\[\] =(.*?);\n', text, re.S):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        out[m.group(1)] = ''.join(parts).encode().decode('unicode_escape')
    return out


offers = c_strings(os.path.join(root, 'tests/unit/offers.h'))
chromium = offers['kChromiumOffer']
vp8_only = offers['kVp8OnlyOffer']
# Chromium with a sendrecv Opus section first (talkback), as browsers-viewers sends.
with_audio = chromium.replace(
    'a=group:BUNDLE 0\r\n', 'a=group:BUNDLE 1 0\r\n').replace(
    'm=video', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n'
    'a=sendrecv\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n'
    'a=rtpmap:0 PCMU/8000\r\nm=video', 1)
# Video that is rejected (port 0) next to a usable one, and a high-profile-only one.
bundled = vp8_only.replace('m=audio 9', 'm=audio 0')
high_only = chromium.replace('42e01f', '640c1f').replace('packetization-mode=0', 'packetization-mode=1')
candidates = ('a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n'
              'a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active\r\n'
              'a=end-of-candidates\r\n')
with_candidates = chromium.replace('a=setup:actpass\r\n', 'a=setup:actpass\r\n' + candidates)
sdps = {'chromium': chromium, 'vp8-only': vp8_only, 'audio-sendrecv': with_audio,
        'bundled-port0': bundled, 'h264-high': high_only, 'candidates': with_candidates}

frag = ('a=ice-ufrag:Kx3d\r\na=ice-pwd:5l6Fj1sPq7gWwqPuY7lqAW3z\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\n'
        'a=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n'
        'a=candidate:2 1 udp 1686052607 203.0.113.7 50001 typ srflx raddr 127.0.0.1 rport 50000\r\n'
        'a=end-of-candidates\r\n')
frags = {
    'whep-trickle': frag,
    'two-mlines': frag + 'm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:1\r\n'
                         'a=candidate:3 1 udp 1 127.0.0.1 9 typ host\r\n',
    'ice-restart': 'a=ice-ufrag:NEW1\r\na=ice-pwd:newpasswordnewpassword12\r\n',
    'end-only': 'a=end-of-candidates\n',
}


def js(obj):
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=False)


cand = {'candidate': 'candidate:2 1 udp 2122260223 127.0.0.1 9 typ host', 'sdpMid': '0',
        'sdpMLineIndex': 0, 'usernameFragment': 'Kx3d'}
messages = {
    'join': {'type': 'join', 'room': 'lab'},
    'join-bare': {'type': 'join'},
    'joined': {'type': 'join', 'from': 'a1b2'},
    'welcome-relay': {'type': 'welcome', 'id': 'me', 'room': 'lab', 'peers': ['a', 'b'],
                      'iceServers': [{'urls': ['stun:127.0.0.1:3478']},
                                     {'urls': 'turn:127.0.0.1:3478?transport=udp',
                                      'username': 'u', 'credential': 'p'}]},
    'offer': {'type': 'offer', 'sdp': chromium},
    'offer-to': {'type': 'offer', 'sdp': vp8_only, 'to': 'b', 'from': 'a', 'extra': {'k': [1, 2.5, None, True]}},
    'answer': {'type': 'answer', 'sdp': 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'},
    'candidate': {'type': 'candidate', 'candidate': cand},
    'candidate-null': {'type': 'candidate', 'candidate': None},
    'candidate-empty': {'type': 'candidate', 'candidate': {'candidate': '', 'sdpMid': '0'}},
    'bye': {'type': 'bye'},
    'leave': {'type': 'leave', 'from': 'x'},
    'error': {'type': 'error', 'message': 'Something went wrong.'},
    'unicode': {'type': 'join', 'room': 'salle \u00e9t\u00e9 \U0001f3a5'},
}
raw_messages = {
    'not-json': 'hello',
    'deep': '[' * 40 + ']' * 40,
    'nul-escape': '{"type":"error","message":"a\\u0000b"}',
    'numbers': '{"type":"bye","n":1e400,"m":-0.0,"o":12345678901234567890}',
}


def write(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)


if os.path.isdir(corpus):
    shutil.rmtree(corpus)

for name, sdp in sdps.items():
    write('sdpoffer', name, sdp)
for name, text in frags.items():
    write('sdpfrag', name, text)
for name, m in messages.items():
    write('signaling', name, js(m))
for name, text in raw_messages.items():
    write('signaling', name, text)

# One viewer on /ws.
offer = js(messages['offer'])
candidate = js(messages['candidate'])
write('wspeer', 'offer-trickle-bye', '\n'.join([offer, candidate, '!c', '!C', js(messages['candidate-null']), '!t', js(messages['bye'])]))
write('wspeer', 'join-answer', '\n'.join([js({'type': 'join'}), js(messages['answer']), candidate, '!e', js({'type': 'join'})]))
write('wspeer', 'deferred', '\n'.join(['!a', offer, candidate, js(messages['bye']), offer, '!r', '!c', '!x', '!r']))
write('wspeer', 'refused', '\n'.join(['!f', offer, '!f', '!s', js({'type': 'join'}), '!s', '!A', js({'type': 'join'}), js(messages['answer']), '!K', candidate]))
write('wspeer', 'flood', '\n'.join(['{}'] * 60 + ['!t'] + ['{}'] * 60 + ['!t', '!t', '!t'] + ['{}'] * 60))
write('wspeer', 'vp8', '\n'.join(['!v', js({'type': 'offer', 'sdp': vp8_only}), '!v', '!v', js({'type': 'offer', 'sdp': with_audio})]))

# Client mode: the relay's traffic.
def relay(m, frm):
    m = dict(m)
    m['from'] = frm
    return js(m)

write('relayrouter', 'room', '\n'.join([
    js(messages['welcome-relay']), relay(messages['answer'], 'a'), relay(messages['candidate'], 'a'),
    js({'type': 'join', 'from': 'c'}), relay(messages['offer'], 'd'), '!c', '!C',
    js({'type': 'join', 'from': 'me'}), js({'type': 'bye'}), js({'type': 'leave', 'from': 'a'}),
    relay(messages['bye'], 'b'), js({'type': 'error', 'message': 'full'}), '!x']))
write('relayrouter', 'deferred', '\n'.join([
    '!a', js({'type': 'welcome', 'id': 'me', 'peers': ['a']}), relay(messages['offer'], 'b'),
    js({'type': 'leave', 'from': 'a'}), '!r', js({'type': 'join', 'from': 'b'}), '!e', '!r']))

# `livecast signal`: clients 0-3.
write('signalrelay', 'room', '\n'.join([
    '!c0', '!c1', '!c2', '0' + js({'type': 'join', 'room': 'lab'}), '1' + js({'type': 'join', 'room': 'lab'}),
    '2' + js({'type': 'join', 'room': 'lab'}), '0' + js(messages['offer']), '1' + js(messages['answer']),
    '1' + js({'type': 'candidate', 'candidate': cand, 'to': 'nobody'}), '!b0', '0' + js({'type': 'leave'}),
    '0' + js({'type': 'welcome', 'id': 'x'}), '!d1', '!c3', '3' + js({'type': 'join', 'room': 'other'}),
    '2' + js({'type': 'join', 'room': 'third'}), '!t']))
write('signalrelay', 'flood', '\n'.join(['!c0', '0{"type":"join","room":"r"}', '!c1', '1{"type":"join","room":"r"}'] + ['0{"type":"bye"}'] * 150 + ['!T'] * 3 + ['!t', '0{"type":"bye"}'] + ['0x'] * 120 + ['!t'] * 4 + ['0x'] * 120))

# HTTP: config byte, then requests separated by "%%" lines.
def req(method, target, headers=(), body=''):
    head = '%s %s\n' % (method, target) + ''.join('%s: %s\n' % h for h in headers)
    return head + '\n' + body


sep = '\n%%\n'
whep = req('POST', '/whep', [('Content-Type', 'application/sdp')], chromium)
patch = req('PATCH', '/whep/s1', [('Content-Type', 'application/trickle-ice-sdpfrag'), ('If-Match', '"es1"')], frag)
write('httpapi', 'whep', b'\x00' + sep.join([whep, patch, req('DELETE', '/whep/s1'), req('DELETE', '/whep/s1')]).encode())
write('httpapi', 'whep-token-deferred', b'\x0b' + sep.join([
    req('POST', '/whep', [('Content-Type', 'application/sdp'), ('Authorization', 'Bearer s3cret'), ('Origin', 'https://b.example')], chromium),
    '!r', req('PATCH', '/whep/s1', [('Content-Type', 'application/trickle-ice-sdpfrag'), ('Authorization', 'bearer s3cret')], frags['ice-restart']),
    req('GET', '/stats', [('Authorization', 'Bearer wrong')]), req('GET', '/config?x=1', [('Authorization', 'Bearer s3cret')])]).encode())
write('httpapi', 'offer-json', b'\x40' + sep.join([
    req('POST', '/offer', [('Content-Type', 'application/json; charset=utf-8')], js({'type': 'offer', 'sdp': vp8_only})),
    req('POST', '/offer', [('Content-Type', 'application/sdp')], with_audio),
    req('POST', '/offer', [('Content-Type', 'application/json')], '{"type":"offer"}')]).encode())
write('httpapi', 'static-and-options', b'\x02' + sep.join([
    req('GET', '/'), req('HEAD', '/livecast-client.js'), req('GET', '/%2e%2e/etc/passwd'), req('GET', '/embed.html'),
    req('OPTIONS', '/whep', [('Origin', 'null')]), req('OPTIONS', '/whep/abc'), req('PUT', '/whep'),
    req('GET', '/config', [('Origin', 'https://a.example')])]).encode())
write('httpapi', 'ws', b'\x01' + sep.join([
    req('GET', '/ws?token=s3cret', [('Origin', 'http://127.0.0.1:8080'), ('Host', '127.0.0.1:8080')], '\n'.join([offer, candidate, js(messages['bye'])])),
    req('GET', '/ws?token=nope'), req('GET', '/ws', [('Authorization', 'Bearer s3cret'), ('Origin', 'https://evil.example')])]).encode())
write('httpapi', 'limits', b'\x14' + sep.join([whep, req('POST', '/whep', [('Content-Type', 'application/sdp')], 'v=0\r\n' + 'x' * 300)]).encode())

write('presets', 'installed.ini', open(os.path.join(root, 'launcher/presets.ini')).read())
write('presets', 'user.ini', '[mine]\ndescription=Mine\ndescription[de]=Meins\nsource=videotestsrc ! {caps} ! x {capture} ! y {fps}\n'
      'needs-file=maybe\nwidht=3\n[other]\nsource=filesrc location={file} ! { I420, NV12 } {uri}\n')
write('presets', 'broken.ini', '[a]\nsource=\n[b\nkey')

for name, url in {'stun': 'stun://127.0.0.1:3478', 'turn': 'turn://user:pa%40ss@example.org:3478?transport=tcp',
                  'turns-v6': 'turns://u:p@[::1]', 'bare': 'stun:host', 'bad-port': 'turn://u:p@h:99999/'}.items():
    write('iceserver', name, url)

# Transport-cc FCIs: Chromium's (tests/unit/twccvectors.h) and the hand-built ones of
# tests/unit/test_rtcpfeedback.cpp; a REMB.
vectors = open(os.path.join(root, 'tests/unit/twccvectors.h')).read()
for name, body in re.findall(r'static const uint8_t (kChromiumFci\d+)\[\] = \{([^}]*)\};', vectors):
    write('rtcpfeedback', name, bytes(int(x, 16) for x in re.findall(r'0x[0-9a-f]{2}', body)))
write('rtcpfeedback', 'two-bit', bytes([0, 0x64, 0, 4, 0, 0, 1, 7, 0xd8, 0x40, 4, 0xff, 0xfc, 8, 0, 0]))
write('rtcpfeedback', 'run-wrap', bytes([0xff, 0xfe, 0, 3, 0, 0, 0, 0, 0x20, 3, 1, 2, 3, 0]))
write('rtcpfeedback', 'one-bit', bytes([0, 0x0a, 0, 0x0e, 0xff, 0xff, 0xff, 1, 0xac, 1, 4, 4, 4, 4]))
write('rtcpfeedback', 'long-runs', bytes([0x12, 0x34, 0x27, 0x10, 0, 0, 5, 0, 0x1f, 0xff, 7, 0x11]))
write('rtcpfeedback', 'remb', b'REMB' + bytes([1, 0x0a, 0x1b, 0x2c, 0x11, 0x22, 0x33, 0x44]))

print('wrote', sum(len(f) for _, _, f in os.walk(corpus)), 'seed files under', corpus)
