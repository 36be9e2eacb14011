#!/usr/bin/python3
# Tests of the livecast launcher, end to end: options, presets, the printed
# pipeline, and real runs (URL, HTTP, status line, signals, files, --loop).
#
#   test_launcher.py PATH/TO/livecast [unittest options]
#
# Starting livecast opens sockets: run the whole file inside the private network
# namespace (tests/netns-run.sh does that; meson test uses it).
#
# Prerequisites: a plugin this build made that does not load is a failure of
# every test that needs it, never a skip. What scripts/install-deps.sh installs
# (GStreamer's tools, aiortc, Xvfb, ...) may be missing, and the tests that need
# it skip, unless LIVECAST_REQUIRE_BROWSER=1 says everything was installed: then
# they fail. Skips are counted at the end, with their reasons; exit 77 (meson's
# "skipped") when every test skipped (tests/common/skips.py).
import concurrent.futures
import fcntl
import glob
import importlib
import importlib.util
import json
import os
import pty
import queue
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from skips import exit_status, skip_missing  # noqa: E402
SOURCE_ROOT = os.environ.get('LIVECAST_SOURCE_ROOT', os.path.join(HERE, '..', '..'))
LIVECAST = None  # set from argv in main
URL_RE = re.compile(r'http://\S+')
# "viewers N · F fps · B kbit/s", with "· rungs 1/0/0" (viewers on each rung of the ladder, the
# top first) when someone is on one, or with nobody watching (the encoder idles):
# "viewers 0 · waiting for the first viewer (encoder idle)".
STATUS_RE = re.compile(r'^viewers (\d+) \u00b7 (?:(\d+\.\d) fps \u00b7 (\d+(?:\.\d+)? [kM]bit/s)'
                       r'(?: \u00b7 rungs (\d+(?:/\d+)+))?'
                       r'|waiting for the first viewer \(encoder idle\))$')

# "· 2 turned away (max-viewers 1: raise it with --max-viewers)" at the end of a status line.
TURNED_AWAY_RE = (r' \u00b7 (\d+) turned away \(({limit}) (\d+): raise it with --({limit})\)$')

# Small pictures keep the encoders cheap on a 2-core machine.
SMALL = ['--size', '320x240', '--fps', '15']

# The element each of this project's plugins is checked for.
PLUGIN_OF = {'webrtcserversink': 'webrtcserver', 'screencapsrc': 'screencap'}

# Dropping these capabilities makes root as bound by file modes as anyone.
NO_DAC = ['setpriv', '--inh-caps=-dac_override,-dac_read_search',
          '--bounding-set=-dac_override,-dac_read_search']


def have_gst_launch():
    return all(shutil.which(tool) for tool in ('gst-launch-1.0', 'gst-inspect-1.0'))


def missing_modules(*names):
    """None when every module imports; else why one does not (its ImportError)."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as e:
            return str(e)
    return None


def built_plugins(env):
    """The plugin files this build made: tests/meson.build puts their directories,
    and only those, on GST_PLUGIN_PATH."""
    files = []
    for d in env.get('GST_PLUGIN_PATH', '').split(os.pathsep):
        if d:
            files += sorted(glob.glob(os.path.join(d, 'libgst*.so')))
    return files


def load_error(plugin, env):
    """None when GStreamer loads the plugin file; else why not, in gst-inspect-1.0's
    words ("Could not load plugin file: ... undefined symbol: ...")."""
    env = {k: v for k, v in env.items() if k != 'GST_DEBUG'}
    res = subprocess.run(['gst-inspect-1.0', plugin], env=env, capture_output=True, text=True,
                         timeout=60)
    if res.returncode == 0:
        return None
    lines = [l for l in (res.stdout + res.stderr).splitlines() if l.strip()]
    said = [l for l in lines if l.startswith('Could not load')] or lines[-1:]
    return said[0] if said else f'gst-inspect-1.0 exited with {res.returncode}'


class Xvfb:
    """A virtual X display of the test's own; Xvfb picks a free number (-displayfd)."""

    def __init__(self, size='1280x720x24'):
        read_end, write_end = os.pipe()
        self.proc = subprocess.Popen(['Xvfb', '-displayfd', str(write_end), '-screen', '0', size,
                                      '-nolisten', 'tcp', '-noreset'],
                                     pass_fds=(write_end,), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(write_end)
        number = b''
        deadline = time.monotonic() + 10
        with os.fdopen(read_end, 'rb') as f:
            while not number.endswith(b'\n') and time.monotonic() < deadline:
                chunk = f.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            self.stop()
            raise RuntimeError('Xvfb did not start: ' + self.proc.stderr.read().decode(errors='replace'))
        self.display = ':' + number.decode().strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stderr.close()


def unused_display():
    """A display name no X server answers to."""
    for n in range(150, 400):
        if not (os.path.exists(f'/tmp/.X{n}-lock') or os.path.exists(f'/tmp/.X11-unix/X{n}')):
            return f':{n}'
    raise RuntimeError('no unused display number')


class Run:
    """A running livecast: collects stdout/stderr lines as they come."""

    def __init__(self, args, env, stdout=None):
        self.lines = queue.Queue()
        self.out = []
        self.err = []
        self.proc = subprocess.Popen([LIVECAST] + args, env=env, stdin=subprocess.DEVNULL,
                                     stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding='utf-8', errors='replace')
        self._threads = [threading.Thread(target=self._pump, args=(self.proc.stderr, self.err),
                                          daemon=True)]
        if stdout is None:
            self._threads.append(threading.Thread(target=self._pump,
                                                  args=(self.proc.stdout, self.out, self.lines),
                                                  daemon=True))
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(stream, store, q=None):
        for line in stream:
            line = line.rstrip('\n')
            store.append(line)
            if q is not None:
                q.put(line)

    def wait_line(self, regex, timeout):
        """Returns the first new stdout line matching regex, or None after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc.poll() is not None and self.lines.empty()):
                return None
            try:
                line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            m = re.search(regex, line)
            if m:
                return m

    def url(self, timeout=20):
        m = self.wait_line(URL_RE, timeout)
        return m.group(0) if m else None

    def stop(self, sig=signal.SIGINT, timeout=5):
        """Sends sig; returns (exit code, seconds it took)."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        return rc, time.monotonic() - t0

    def finish(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._threads:
            t.join(2)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()

    def transcript(self):
        return 'stdout:\n' + '\n'.join(self.out) + '\nstderr:\n' + '\n'.join(self.err)


class PtyReader:
    """Collects what a program writes to the terminal (the master side of a pty)."""

    def __init__(self, master):
        self.master = master
        self.data = b''
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the program closed its side
                return
            if not chunk:
                return
            with self._lock:
                self.data += chunk

    def text(self):
        with self._lock:
            return self.data.decode('utf-8', 'replace')

    def wait(self, predicate, timeout):
        """Waits until predicate(text) is true; returns the text either way."""
        deadline = time.monotonic() + timeout
        while not predicate(self.text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.text()

    def close(self):
        self._thread.join(2)


def set_terminal_size(fd, rows, columns):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, columns, 0, 0))


def status_rewrites(text):
    """The status lines a terminal shows, each rewritten in place: "\r" LINE "\033[K"."""
    return re.findall(r'\r([^\r\n]*)\x1b\[K', text)


def post_offer(url, sdp):
    """POSTs an SDP offer to the server's /whep: (status, body). An answer takes a
    while on a busy machine (a DTLS certificate per viewer)."""
    request = urllib.request.Request(url.split('?')[0].rstrip('/') + '/whep', data=sdp.encode(),
                                     headers={'Content-Type': 'application/sdp'})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode(errors='replace')
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors='replace')


def get_stats(url):
    with urllib.request.urlopen(url.split('?')[0].rstrip('/') + '/stats', timeout=5) as resp:
        return json.load(resp)


def wait_until_streaming(url, timeout):
    """Whether the sink's encoder is set up (/stats names its codec) within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get_stats(url)['encoder'].get('codec'):
            return True
        time.sleep(0.1)
    return False


class LauncherTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='livecast-launcher-test-')
        cls.xdg = os.path.join(cls.tmp, 'xdg')
        os.makedirs(cls.xdg)
        env = dict(os.environ)
        # A fixed picture of the world: our presets, no user presets, no screen.
        env['LIVECAST_PRESETS'] = os.path.join(SOURCE_ROOT, 'launcher', 'presets.ini')
        env['XDG_CONFIG_HOME'] = cls.xdg
        for var in ('DISPLAY', 'WAYLAND_DISPLAY'):
            env.pop(var, None)
        cls.env = env
        # For checks of "exactly one line": no GStreamer debug log on stderr.
        cls.quiet_env = dict(env)
        cls.quiet_env.pop('GST_DEBUG', None)

        # Each plugin this build made must load; what each is for must be there.
        # (Not --exists: it also wants the plugin's version >= GStreamer's.)
        cls.plugins = built_plugins(env)
        cls.load_errors = {}
        cls.elements = set()
        if have_gst_launch():
            for plugin in cls.plugins:
                error = load_error(plugin, env)
                if error:
                    cls.load_errors[plugin] = error
            for element in PLUGIN_OF:
                if subprocess.run(['gst-inspect-1.0', element], env=env,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode == 0:
                    cls.elements.add(element)
        # The same world without the screencap plugin: its own registry, the
        # plugin's build directory left off the path.
        cls.no_screencap_env = dict(env)
        cls.no_screencap_env['GST_PLUGIN_PATH'] = os.pathsep.join(
            d for d in env.get('GST_PLUGIN_PATH', '').split(os.pathsep)
            if d and 'screencap' not in os.path.basename(os.path.normpath(d)))
        cls.no_screencap_env['GST_REGISTRY'] = os.path.join(cls.tmp, 'registry-no-screencap.bin')

        # A 2-second H.264 MP4 (15 fps), and the same under a name that needs
        # quoting everywhere (space, quote, exclamation mark).
        cls.media = os.path.join(cls.tmp, 'short.mp4')
        cls.odd_media = os.path.join(cls.tmp, "odd name's clip!.mp4")
        cls.media_seconds = 2.0
        if have_gst_launch():
            subprocess.run(['gst-launch-1.0', '-q', 'videotestsrc', 'num-buffers=30', 'pattern=ball',
                            '!', 'video/x-raw,format=I420,width=320,height=240,framerate=15/1',
                            '!', 'x264enc', 'speed-preset=ultrafast', '!', 'mp4mux',
                            '!', 'filesink', 'location=' + cls.media],
                           env=env, check=True, timeout=60)
            shutil.copy(cls.media, cls.odd_media)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.runs = []

    def tearDown(self):
        for r in self.runs:
            r.close()

    # ---- helpers ----

    def livecast(self, *args, env=None, timeout=30):
        return subprocess.run([LIVECAST] + list(args), env=env or self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self, *args, env=None, stdout=None):
        r = Run(list(args), env or self.env, stdout=stdout)
        self.runs.append(r)
        return r

    def need(self, available, what):
        """A prerequisite that scripts/install-deps.sh installs: without it the test
        skips (counted, with the reason), or fails when LIVECAST_REQUIRE_BROWSER=1."""
        if not available:
            skip_missing(self, what)

    def need_element(self, element):
        """One of this project's elements. Built but not loading: a failure, always."""
        self.need(have_gst_launch(), 'gst-launch-1.0 and gst-inspect-1.0 are missing')
        if element in self.elements:
            return
        plugin = PLUGIN_OF[element]
        for path in self.plugins:
            if os.path.basename(os.path.dirname(path)) == plugin:
                self.fail(f'{element}: {path} was built but does not load: '
                          + self.load_errors.get(path, f'it has no {element}'))
        self.need(False, f'{element} was not built (meson did not find what the {plugin} '
                         'plugin needs)')

    def need_sink(self):
        self.need_element('webrtcserversink')

    def need_gst_python(self):
        """GStreamer's Python bindings (python3-gi, gir1.2-gstreamer-1.0)."""
        try:
            import gi
            gi.require_version('Gst', '1.0')
            from gi.repository import Gst
        except (ImportError, ValueError) as e:
            self.need(False, f'no GStreamer Python bindings: {e}')
        Gst.init(None)
        return Gst

    def need_screen(self):
        """An Xvfb of this test's own (stopped at the end)."""
        self.need_element('screencapsrc')
        self.need(shutil.which('Xvfb'), 'Xvfb is not installed')
        x = Xvfb()
        self.addCleanup(x.stop)
        return x

    def screen_env(self, display, base=None):
        env = dict(base or self.env)
        env['DISPLAY'] = display
        return env

    def need_media(self):
        self.need(have_gst_launch(), 'gst-launch-1.0 is not installed')
        self.need_sink()

    def assert_usage_error(self, args, *needles, env=None, wrapper=()):
        res = subprocess.run(list(wrapper) + [LIVECAST] + list(args), env=env or self.quiet_env,
                             capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 2, f'{args}: {res.stdout}{res.stderr}')
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f'{args}: want one line, got: {res.stderr!r}')
        self.assertTrue(lines[0].startswith('livecast: '), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertEqual(res.stdout, '')
        return lines[0]

    def write_user_presets(self, text):
        d = os.path.join(self.xdg, 'livecast')
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, 'presets.ini')
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
        self.addCleanup(os.remove, path)
        return path

    # ---- help, version, presets ----

    def test_help(self):
        res = self.livecast('--help')
        self.assertEqual(res.returncode, 0, res.stderr)
        for n in ('--preset', '--list-presets', '--print-pipeline', '--port', '--bind', '--codec',
                  '--bitrate', '--fps', '--size', '--token', '--file', '--loop', '--version',
                  '--monitor', '--region', '--no-cursor', '--max-viewers', '--max-pending',
                  '--max-offers-per-second',
                  'Examples:', 'presets.ini', os.path.join(self.xdg, 'livecast', 'presets.ini')):
            self.assertIn(n, res.stdout)

    def test_version(self):
        res = self.livecast('--version')
        self.assertEqual(res.returncode, 0)
        self.assertRegex(res.stdout, r'^livecast \d+\.\d+\.\d+ \(GStreamer \d+\.\d+')

    def test_built_plugins_load(self):
        """Every plugin this build made loads: one that does not (an undefined symbol, a
        missing library) is a failure here and in every test that needs it."""
        self.need(have_gst_launch(), 'gst-launch-1.0 and gst-inspect-1.0 are missing')
        self.need(self.plugins, 'GST_PLUGIN_PATH names no plugin of this build (run the test '
                                'through meson test)')
        self.assertEqual(self.load_errors, {})

    def test_list_presets(self):
        res = self.livecast('--list-presets')
        self.assertEqual(res.returncode, 0, res.stderr)
        rows, columns = {}, set()
        for line in res.stdout.splitlines():
            m = re.match(r'^  (\S+)\s{2,}(\S.*)$', line)
            if m:
                rows[m.group(1)] = m.group(2)
                columns.add(m.start(2))
        self.assertIn('test', rows)
        self.assertIn('file', rows)
        self.assertIn('(default)', rows['test'])
        self.assertGreater(len(rows['file']), 10)  # a real description
        self.assertEqual(len(columns), 1, 'descriptions not aligned:\n' + res.stdout)

    def test_user_preset_adds_and_overrides(self):
        self.write_user_presets('''
            [mine]
            description=My own pattern
            source=videotestsrc is-live=true pattern=snow ! {caps}
            width=320
            height=240
            fps=10

            [test]
            description=Overridden test pattern
            source=videotestsrc is-live=true pattern=ball ! {caps}
            width=640
            height=480
            ''')
        res = self.livecast('--list-presets')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r'(?m)^  mine\s+My own pattern')
        self.assertRegex(res.stdout, r'(?m)^  test\s+Overridden test pattern')
        self.assertRegex(res.stdout, r'(?m)^  file\s+')  # the others stay

        res = self.livecast('--print-pipeline', '--preset', 'test')
        self.assertEqual(res.returncode, 0, res.stderr)
        # The whole preset is replaced: its source, its size, no fps of the old one.
        self.assertIn('pattern=ball', res.stdout)
        self.assertIn('width=640,height=480', res.stdout)
        self.assertNotIn('timeoverlay', res.stdout)
        self.assertNotIn('framerate', res.stdout)

        res = self.livecast('--print-pipeline', '--preset', 'mine')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('pattern=snow', res.stdout)
        self.assertIn('framerate=10/1', res.stdout)

    def test_broken_user_presets_file(self):
        path = self.write_user_presets('[oops]\nthis is not a key file line\n')
        self.assert_usage_error(['--list-presets'], path)

    # ---- the printed pipeline ----

    def test_print_pipeline_has_the_values(self):
        res = self.livecast('--print-pipeline', '--preset', 'test', '--size', '640x360',
                            '--fps', '15', '--codec', 'vp8', '--bitrate', '800', '--port', '0')
        self.assertEqual(res.returncode, 0, res.stderr)
        p = res.stdout.strip()
        self.assertEqual(len(res.stdout.strip().splitlines()), 1)
        for n in ('width=640', 'height=360', 'framerate=15/1', 'video-codec=vp8', 'bitrate=800',
                  'port=0', 'webrtcserversink name=sink'):
            self.assertIn(n, p)

        Gst = self.need_gst_python()
        self.need_sink()
        pipeline = Gst.parse_launch(p)
        sink = pipeline.get_by_name('sink')
        self.assertIsNotNone(sink)
        self.assertEqual(sink.get_property('port'), 0)
        self.assertEqual(sink.get_property('bitrate'), 800)

    def test_ice_servers_and_relay_only(self):
        turn = ['--turn', 'turn://u:p@127.0.0.1:3478', '--turn', 'turns://a:b@turn.example.org:5349']
        res = self.livecast('--print-pipeline', '--preset', 'test', '--stun',
                            'stun://127.0.0.1:3478', *turn, '--relay-only')
        self.assertEqual(res.returncode, 0, res.stderr)
        printed = shlex.split(res.stdout.strip())
        self.assertIn('stun-server=stun://127.0.0.1:3478', printed)
        self.assertIn('turn-servers=<"turn://u:p@127.0.0.1:3478","turns://a:b@turn.example.org:5349">',
                      printed)
        self.assertIn('ice-transport-policy=relay', printed)
        # Without --relay-only the sink's default (all) stands.
        res = self.livecast('--print-pipeline', '--preset', 'test', *turn)
        self.assertNotIn('ice-transport-policy', res.stdout)
        # Relay-only with nothing to relay through could never connect.
        self.assert_usage_error(['--print-pipeline', '--relay-only'], '--relay-only needs a TURN server',
                                '--turn turn://USER:PASSWORD@HOST:PORT')

    def test_audio_talkback_relay_and_tls_options(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        cert = os.path.join(tmp, 'cert.pem')
        with open(cert, 'w') as f:
            f.write('not checked before the sink starts\n')
        res = self.livecast('--print-pipeline', '--preset', 'test', '--audio=test', '--talkback',
                            '--signaling-url', 'ws://127.0.0.1:8081/ws', '--room', 'lab',
                            '--tls-cert', cert)
        self.assertEqual(res.returncode, 0, res.stderr)
        printed = shlex.split(res.stdout.strip())
        for prop in ('talkback=true', 'signaling-url=ws://127.0.0.1:8081/ws', 'room=lab',
                     f'tls-certificate={cert}', 'audiotestsrc', 'sink.audio_0'):
            self.assertIn(prop, printed)
        res = self.livecast('--print-pipeline', '--preset', 'test', '--audio')
        self.assertIn('autoaudiosrc', res.stdout)
        self.assertNotIn('talkback', res.stdout)
        self.assert_usage_error(['--print-pipeline', '--audio=loud'], '--audio', "'loud'")
        self.assert_usage_error(['--print-pipeline', '--room', 'lab'], '--signaling-url')
        self.assert_usage_error(['--print-pipeline', '--signaling-url', 'http://x/ws'], 'ws://')
        self.assert_usage_error(['--print-pipeline', '--tls-key', cert], '--tls-cert')
        self.assert_usage_error(['--print-pipeline', '--tls-cert', os.path.join(tmp, 'nope.pem')],
                                'no such file')

    def test_whip_options(self):
        """--whip URL [--whip-token T] become the sink's whip-url and whip-token (the publishing
        itself: tests/janus/topology.test.mjs)."""
        res = self.livecast('--print-pipeline', '--preset', 'test', '--whip',
                            'http://10.0.0.10:7080/whip/endpoint/livecast', '--whip-token', 'T 1')
        self.assertEqual(res.returncode, 0, res.stderr)
        printed = shlex.split(res.stdout.strip())
        for prop in ('whip-url=http://10.0.0.10:7080/whip/endpoint/livecast', 'whip-token=T 1'):
            self.assertIn(prop, printed)
        res = self.livecast('--print-pipeline', '--preset', 'test')
        self.assertNotIn('whip', res.stdout)
        self.assert_usage_error(['--print-pipeline', '--whip-token', 'T'], '--whip URL')
        self.assert_usage_error(['--print-pipeline', '--whip', 'ws://x/whip'], 'http://')

    def test_audio_and_talkback_play(self):
        """--audio=test sends a tone; --talkback plays what a viewer (aiortc, over /ws)
        says: its 440 Hz tone comes out of the talkback player."""
        self.need_sink()
        missing = missing_modules('aiortc', 'websockets', 'numpy')
        self.need(not missing, f'aiortc, websockets or numpy missing ({missing})')
        spec = importlib.util.spec_from_file_location(
            'wstest', os.path.join(SOURCE_ROOT, 'tests', 'integration', 'test_ws_signaling.py'))
        wstest = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(wstest)
        import asyncio
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, 'talkback.raw')
        env = dict(self.env)
        env['LIVECAST_TALKBACK_SINK'] = f'filesink async=false location={out}'
        port = wstest.PORT
        r = self.start('--preset', 'test', '--port', str(port), '--audio=test', '--talkback',
                       *SMALL, env=env)
        url = r.url()
        self.assertIsNotNone(url, r.transcript())
        self.assertIn('a 440 Hz tone, talkback', r.transcript())
        # Before its first frame the sink answers "not started yet" (on a busy
        # machine that can outlast the URL line).
        self.assertTrue(wait_until_streaming(url, 15), r.transcript())
        frames, _, _ = asyncio.run(asyncio.wait_for(wstest.session('join', tone=True), 40))
        self.assertGreaterEqual(frames, 30)
        self.assertIsNotNone(r.wait_line(re.compile(r'^A viewer is talking'), 5), r.transcript())
        self.assertEqual(r.stop()[0], 0, r.transcript())
        raw = open(out, 'rb').read()
        self.assertGreater(len(raw), 96000, 'less than 1 s of talkback audio was played')
        freq, rms = wstest.dominant_frequency(raw)
        print(f'# launcher talkback: {len(raw) / 96000:.1f} s, {freq:.1f} Hz, RMS {rms:.0f}')
        self.assertLess(abs(freq - 440), 5)

    def run_printed(self, printed, stop_after=None):
        """Runs a printed pipeline as a shell would pass it to gst-launch-1.0.
        With stop_after (s), interrupts it then; else it must end by itself."""
        argv = ['gst-launch-1.0'] + shlex.split(printed)
        proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            if stop_after is not None:
                time.sleep(stop_after)
                if proc.poll() is not None:
                    self.fail('gst-launch-1.0 stopped early: ' + proc.communicate()[0])
                proc.send_signal(signal.SIGINT)
                out = proc.communicate(timeout=10)[0]
            else:
                out = proc.communicate(timeout=self.media_seconds + 5)[0]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertIn('Setting pipeline to PLAYING', out)
        self.assertNotIn('ERROR', out)
        return proc.returncode, out

    def test_printed_pipeline_runs_in_gst_launch(self):
        """Pasted after gst-launch-1.0 in a shell, the printed pipeline runs."""
        self.need_media()
        res = self.livecast('--print-pipeline', '--port', '0', '--token', 'abc', *SMALL)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.run_printed(res.stdout, stop_after=2.5)

    def test_printed_file_pipeline_runs_with_an_odd_file_name(self):
        """The printed file pipeline plays the file to its end and stops by itself
        (the sink posts EOS), even with quotes and spaces in the file name."""
        self.need_media()
        res = self.livecast('--print-pipeline', '--port', '0', '--file', self.odd_media)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotIn("'", res.stdout)  # the name is percent-encoded in the URI
        rc, out = self.run_printed(res.stdout)
        self.assertEqual(rc, 0, out)
        self.assertIn('Got EOS', out)

    # ---- usage errors: exit 2, one line ----

    def test_bad_values(self):
        cases = [
            (['--size', '640'], '--size', 'WIDTHxHEIGHT'),
            (['--size', '0x0'], '--size'),
            (['--size', '641x361'], 'even'),
            (['--fps', '0'], '--fps'),
            (['--fps', 'fast'], '--fps'),
            (['--port', '70000'], '--port', '65535'),
            (['--port', '-1'], '--port'),
            (['--codec', 'av1'], 'h264'),
            (['--bitrate', '1'], '--bitrate', 'kbit/s'),
            (['--bind', 'example'], '--bind'),
            (['--token', 'a b'], '--token'),
            (['--token', ''], '--token'),
            (['--stun', 'not a server'], '--stun'),
            (['--loop'], '--loop'),
            (['--preset', 'test', '--file', self.media], 'test'),
            (['--preset', 'file'], '--file'),
            (['--nonsense'], '--nonsense'),
            (['stray'], 'stray'),
            (['--max-viewers', '-1'], '--max-viewers', 'from 0 to 1000000 (0: no limit)'),
            (['--max-viewers', 'many'], '--max-viewers', "'many'"),
            (['--max-viewers', '1000001'], '--max-viewers', '1000000'),
            (['--max-pending', '2.5'], '--max-pending', "'2.5'"),
            (['--max-offers-per-second', ''], '--max-offers-per-second'),
            (['--max-offers-per-second', '99999999999999999999999'], '--max-offers-per-second'),
        ]
        for args, *needles in cases:
            with self.subTest(args=args):
                self.assert_usage_error(['--print-pipeline'] + args, *needles)
                # The same without --print-pipeline: nothing starts.
                self.assert_usage_error(args, *needles)

    def test_screen_bad_values(self):
        cases = [
            (['--monitor', '-1'], '--monitor', '0 to 63'),
            (['--monitor', '64'], '--monitor'),
            (['--monitor', 'left'], '--monitor'),
            (['--monitor', ''], '--monitor'),
            (['--region', '10,20,300'], '--region', 'X,Y,WIDTH,HEIGHT'),
            (['--region', '10,20,300,200,1'], '--region'),
            (['--region', 'a,b,c,d'], '--region'),
            (['--region', '-1,0,300,200'], '--region'),
            (['--region', '10,20,8,200'], '--region', '16'),
            (['--region', '40000,0,300,200'], '--region', '32767'),
            (['--region', '10,20,300,9000'], '--region', '8192'),
            (['--region', '10,20,301,200'], 'even', '--region 10,20,300,200'),
        ]
        for args, *needles in cases:
            with self.subTest(args=args):
                self.assert_usage_error(['--print-pipeline', '--preset', 'screen'] + args, *needles)
                self.assert_usage_error(['--preset', 'screen', '--port', '0'] + args, *needles)
        # Scaled to an even --size, an odd region is fine.
        res = self.livecast('--print-pipeline', '--preset', 'screen', '--region', '10,20,301,201',
                            '--size', '300x200')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('width=301 height=201', res.stdout)

    def test_screen_options_need_the_screen_preset(self):
        for opt in (['--monitor', '1'], ['--region', '0,0,320,240'], ['--no-cursor']):
            with self.subTest(opt=opt):
                self.assert_usage_error(['--print-pipeline', '--preset', 'test'] + opt, opt[0],
                                        "'test'", '--preset screen')
                # No display: the default is the test pattern, so the same.
                self.assert_usage_error(opt, opt[0], '--preset screen')
                self.assert_usage_error(['--file', self.media] + opt, opt[0], "'file'")

    # ---- the screen ----

    def test_print_pipeline_screen(self):
        res = self.livecast('--print-pipeline', '--preset', 'screen', '--monitor', '1',
                            '--region', '10,20,300,200', '--no-cursor')
        self.assertEqual(res.returncode, 0, res.stderr)
        p = res.stdout.strip()
        self.assertEqual(len(p.splitlines()), 1, p)
        self.assertTrue(p.startswith('screencapsrc monitor=1 x=10 y=20 width=300 height=200 '
                                     'show-cursor=false ! '), p)
        self.assertIn('video/x-raw,framerate=30/1 ! webrtcserversink name=sink', p)
        self.assertIn('video-codec=h264', p)
        # The screen's own size unless --size says otherwise: no size in the caps.
        self.assertNotIn('width=300,', p)
        self.assertNotRegex(p, r'video/x-raw[^!]*width=')

        # Only what is asked for: the element's defaults (whole screen, cursor) otherwise.
        res = self.livecast('--print-pipeline', '--preset', 'screen')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(res.stdout.startswith('screencapsrc ! '), res.stdout)
        res = self.livecast('--print-pipeline', '--preset', 'screen', '--region', '100,50,0,0')
        self.assertTrue(res.stdout.startswith('screencapsrc x=100 y=50 ! '), res.stdout)
        res = self.livecast('--print-pipeline', '--preset', 'screen', '--size', '1280x720',
                            '--fps', '15')
        self.assertIn('video/x-raw,width=1280,height=720,framerate=15/1', res.stdout)

        # It parses, and the properties land where they should.
        self.need_element('screencapsrc')
        Gst = self.need_gst_python()
        self.need_sink()
        pipeline = Gst.parse_launch(p)
        res, src = pipeline.iterate_sources().next()
        self.assertEqual(res, Gst.IteratorResult.OK)
        self.assertEqual(src.get_factory().get_name(), 'screencapsrc')
        got = {k: src.get_property(k) for k in ('monitor', 'x', 'y', 'width', 'height',
                                                 'show-cursor', 'use-damage')}
        self.assertEqual(got, {'monitor': 1, 'x': 10, 'y': 20, 'width': 300, 'height': 200,
                               'show-cursor': False, 'use-damage': True})

    def default_pipeline(self, env):
        res = self.livecast('--print-pipeline', env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        listed = self.livecast('--list-presets', env=env)
        default = re.findall(r'(?m)^  (\S+)\s.*\(default\)', listed.stdout)
        return res.stdout.split(' ', 1)[0], default

    def test_default_preset_follows_the_display(self):
        x = self.need_screen()
        # A display and the element: the screen.
        self.assertEqual(self.default_pipeline(self.screen_env(x.display)),
                         ('screencapsrc', ['screen']))
        # No display: the test pattern.
        self.assertEqual(self.default_pipeline(self.env), ('videotestsrc', ['test']))
        empty = self.screen_env('')
        self.assertEqual(self.default_pipeline(empty), ('videotestsrc', ['test']))
        # A display but no screencapsrc to capture it with: the test pattern. (Unless the
        # plugin is also installed system-wide, where this test cannot hide it.)
        hidden = subprocess.run(['gst-inspect-1.0', 'screencapsrc'], env=self.no_screencap_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0
        with self.subTest('a display but no screencapsrc'):
            if not hidden:
                self.skipTest('screencapsrc is installed system-wide: it cannot be hidden')
            self.assertEqual(
                self.default_pipeline(self.screen_env(x.display, self.no_screencap_env)),
                ('videotestsrc', ['test']))
        # An explicit --preset wins either way.
        res = self.livecast('--print-pipeline', '--preset', 'test', env=self.screen_env(x.display))
        self.assertTrue(res.stdout.startswith('videotestsrc '), res.stdout)

    def test_screen_streams_by_default(self):
        """With a display, plain `livecast` streams the screen: a viewer decodes frames."""
        x = self.need_screen()
        self.need_sink()
        r = self.start('--port', '0', '--region', '0,0,320,240', '--fps', '15',
                       env=self.screen_env(x.display))
        url = r.url()
        self.assertIsNotNone(url, r.transcript())
        self.assertTrue(any(l.startswith("Streaming preset 'screen': 320x240 at 15 fps")
                            for l in r.out), r.transcript())
        self.watch_with_aiortc(r, url, 3)
        rc, took = r.stop()
        self.assertEqual(rc, 0, r.transcript())
        self.assertLess(took, 5)
        # (Warnings show with GST_DEBUG set; the latency warning of live X sources is not ours.)
        self.assertEqual([l for l in r.err if l.startswith('livecast: error')], [], r.transcript())

    def watch_with_aiortc(self, r, url, seconds):
        """aiortc (tests/integration/test_aiortc.py) watches @url for @seconds and must decode
        15 frames or more: it decodes what it gets (whep_viewer.py only holds a session, and
        never connects inside the test's namespace). Skips (stopping @r) without aiortc."""
        missing = missing_modules('aiortc')
        if missing:
            r.stop()
            self.need(False, f'aiortc is not installed ({missing})')
        viewer = subprocess.run([sys.executable, os.path.join(SOURCE_ROOT, 'tests', 'integration',
                                                              'test_aiortc.py'),
                                 '--url', url.rstrip('/'), '--seconds', str(seconds)],
                                env=self.env, capture_output=True, text=True, timeout=40)
        self.assertEqual(viewer.returncode, 0, viewer.stdout + viewer.stderr + r.transcript())
        frames = [int(n) for n in re.findall(r'(?m)^frames (\d+)$', viewer.stdout)]
        self.assertTrue(frames and frames[-1] >= 15, viewer.stdout + r.transcript())

    def assert_one_error_line(self, res, *needles, code=1):
        self.assertEqual(res.returncode, code, res.stdout + res.stderr)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertTrue(lines[0].startswith('livecast: error: '), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertNotIn('http://', res.stdout)  # no URL for a stream that never started
        return lines[0]

    def test_screen_without_a_display(self):
        """No display, or one nobody answers: one clear line, exit 1, no URL."""
        self.need_sink()
        res = self.livecast('--preset', 'screen', '--port', '0', env=self.quiet_env)
        self.assert_one_error_line(res, 'DISPLAY')
        self.need_element('screencapsrc')
        gone = unused_display()
        t0 = time.monotonic()
        res = self.livecast('--preset', 'screen', '--port', '0',
                            env=self.screen_env(gone, self.quiet_env), timeout=20)
        self.assertLess(time.monotonic() - t0, 10)
        self.assert_one_error_line(res, gone)

    def test_screen_x_server_goes_away(self):
        """The X server dies while streaming: one clear line naming it, exit 1, no hang."""
        x = self.need_screen()
        self.need_sink()
        r = self.start('--port', '0', '--region', '0,0,320,240', '--fps', '15',
                       env=self.screen_env(x.display, self.quiet_env))
        self.assertIsNotNone(r.url(), r.transcript())
        time.sleep(1)
        x.stop()
        rc = r.finish(10)
        self.assertEqual(rc, 1, r.transcript())
        errors = [l for l in r.err if l.startswith('livecast:')]
        self.assertEqual(len(errors), 1, r.transcript())
        self.assertTrue(errors[0].startswith('livecast: error: '), errors[0])
        self.assertIn(x.display, errors[0])

    def test_missing_file(self):
        path = os.path.join(self.tmp, 'no such dir', 'missing.mp4')
        line = self.assert_usage_error(['--file', path], path, 'No such file or directory')
        self.assertIn(path, line)

    def test_file_is_a_directory(self):
        self.assert_usage_error(['--preset', 'file', '--file', self.tmp], self.tmp, 'directory')

    def test_unreadable_file(self):
        """A file its owner took read permission from (chmod 000): the open fails with
        EACCES and livecast says so. The tests run as root (netns-run.sh), which reads
        every file; livecast then runs without the two capabilities that let it
        (setpriv), and is as bound by the file's mode as any user."""
        path = os.path.join(self.tmp, 'secret.mp4')
        with open(path, 'w') as f:
            f.write('x')
        os.chmod(path, 0)
        self.addCleanup(os.remove, path)
        wrapper = []
        if os.geteuid() == 0:
            self.need(shutil.which('setpriv'), 'setpriv (util-linux) is missing')
            wrapper = NO_DAC
            # What the test is about: this process may not read the file.
            self.assertNotEqual(subprocess.run(NO_DAC + ['head', '-c1', path],
                                               capture_output=True).returncode, 0)
        line = self.assert_usage_error(['--file', path], path, wrapper=wrapper)
        self.assertEqual(line, f"livecast: cannot read --file '{path}': Permission denied")

    def test_unknown_preset(self):
        line = self.assert_usage_error(['--preset', 'nope'], "'nope'")
        self.assertIn('test', line)
        self.assertIn('file', line)

    # ---- running ----

    def test_runs_serves_and_stops_on_sigint(self):
        self.need_sink()
        r = self.start('--preset', 'test', '--port', '0', *SMALL)
        url = r.url()
        self.assertIsNotNone(url, r.transcript())
        self.assertRegex(url, r'^http://127\.0\.0\.1:\d+/$')
        self.assertNotEqual(url, 'http://127.0.0.1:0/')  # the bound port, not 0

        with urllib.request.urlopen(url, timeout=5) as resp:
            self.assertEqual(resp.status, 200)
            self.assertIn('html', resp.headers.get('Content-Type', ''))

        # Not a TTY: a plain status line comes early, then every 10 s.
        m = r.wait_line(STATUS_RE, 6)
        self.assertIsNotNone(m, r.transcript())

        rc, took = r.stop(signal.SIGINT)
        self.assertEqual(rc, 0, r.transcript())
        self.assertLess(took, 5)
        self.assertEqual([l for l in r.err if l.startswith('livecast:')], [], r.transcript())

    def test_sigterm_stops_cleanly(self):
        self.need_sink()
        r = self.start('--port', '0', *SMALL)
        self.assertIsNotNone(r.url(), r.transcript())
        rc, took = r.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, r.transcript())
        self.assertLess(took, 5)

    def test_token_is_in_the_url(self):
        self.need_sink()
        r = self.start('--port', '0', '--token', 's3cret-T0ken', *SMALL)
        url = r.url()
        self.assertRegex(url or '', r'^http://127\.0\.0\.1:\d+/\?token=s3cret-T0ken$', r.transcript())
        self.assertEqual(r.stop()[0], 0)

    def test_wildcard_bind_prints_loopback_url_and_a_note(self):
        self.need_sink()
        r = self.start('--port', '0', '--bind', '0.0.0.0', *SMALL)
        url = r.url()
        self.assertRegex(url or '', r'^http://127\.0\.0\.1:\d+/$', r.transcript())
        self.assertIsNotNone(r.wait_line(r'every interface', 5), r.transcript())
        with urllib.request.urlopen(url, timeout=5) as resp:
            self.assertEqual(resp.status, 200)
        self.assertEqual(r.stop()[0], 0)
        # Open to everyone: one warning line that says how to close it.
        warnings = [l for l in r.err if l.startswith('livecast: warning: anyone')]
        self.assertEqual(len(warnings), 1, r.transcript())
        self.assertIn('--token SECRET', warnings[0])
        # With a token, or on loopback, no warning.
        for args in (['--bind', '0.0.0.0', '--token', 's3cret'], []):
            r = self.start('--port', '0', *args, *SMALL)
            self.assertIsNotNone(r.url(), r.transcript())
            self.assertEqual(r.stop()[0], 0)
            self.assertEqual([l for l in r.err if 'can watch' in l], [], r.transcript())

    def test_port_in_use_fails_with_one_line(self):
        self.need_sink()
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            s.listen()
            port = s.getsockname()[1]
            res = self.livecast('--port', str(port), *SMALL, env=self.quiet_env)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertTrue(lines[0].startswith('livecast: error: '), lines[0])
        self.assertNotIn('http://', res.stdout)  # no URL for a server that is not there

    def test_missing_plugin_fails_with_one_line(self):
        self.write_user_presets('''
            [broken]
            description=Uses an element that does not exist
            source=nosuchelementsrc ! {caps}
            ''')
        res = self.livecast('--preset', 'broken', '--port', '0', env=self.quiet_env)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertIn('nosuchelementsrc', lines[0])

    def test_status_line_rewrites_in_place_on_a_tty(self):
        self.need_sink()
        master, slave = pty.openpty()
        try:
            r = self.start('--port', '0', *SMALL, stdout=slave)
            os.close(slave)
            slave = None
            data = b''
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and data.count(b'\x1b[K') < 2:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            rc, _ = r.stop()
            self.assertEqual(rc, 0)
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        text = data.decode('utf-8', 'replace')
        self.assertIn('http://127.0.0.1:', text)
        # Two status updates on the same line: "\r" + status + "clear to end of line".
        self.assertGreaterEqual(len(re.findall(r'\rviewers \d+ \u00b7 [^\r\n]*\x1b\[K',
                                               text)), 2, repr(text))

    def test_file_ends_by_itself_at_eos(self):
        self.need_media()
        t0 = time.monotonic()
        r = self.start('--file', self.media, '--port', '0')
        self.assertIsNotNone(r.url(), r.transcript())
        rc = r.finish(self.media_seconds + 10)
        self.assertEqual(rc, 0, r.transcript())
        self.assertGreaterEqual(time.monotonic() - t0, self.media_seconds * 0.8)  # real-time pace
        self.assertTrue(any('End of short.mp4' in l for l in r.out), r.transcript())

    def test_file_with_odd_name_plays(self):
        self.need_media()
        r = self.start('--preset', 'file', '--file', self.odd_media, '--port', '0')
        self.assertEqual(r.finish(self.media_seconds + 10), 0, r.transcript())

    def test_loop_keeps_running_past_the_end(self):
        self.need_media()
        r = self.start('--file', self.media, '--loop', '--port', '0', '--verbose')
        self.assertIsNotNone(r.url(), r.transcript())
        # Two restarts, at about 2 s and 4 s.
        self.assertIsNotNone(r.wait_line(r'looping \(pass 2\)', self.media_seconds + 8),
                             r.transcript())
        self.assertIsNotNone(r.wait_line(r'looping \(pass 3\)', self.media_seconds + 8),
                             r.transcript())
        self.assertIsNone(r.proc.poll(), r.transcript())
        rc, took = r.stop()
        self.assertEqual(rc, 0, r.transcript())
        self.assertLess(took, 5)
        self.assertFalse(any('End of' in l for l in r.out), r.transcript())

    def test_not_a_media_file(self):
        self.need_sink()
        path = os.path.join(self.tmp, 'notes.txt')
        with open(path, 'w') as f:
            f.write('hello\n' * 100)
        res = self.livecast('--file', path, '--port', '0', env=self.quiet_env)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertIn('notes.txt', lines[0])

    def test_viewer_shows_in_the_status(self):
        """A WHEP viewer joins: a line names it and the status counts it."""
        self.need_sink()
        r = self.start('--port', '0', '--codec', 'vp8', *SMALL)
        url = r.url()
        self.assertIsNotNone(url, r.transcript())
        self.assertTrue(wait_until_streaming(url, 15), r.transcript())
        viewer = subprocess.run([sys.executable, os.path.join(HERE, 'whep_viewer.py'), url, '3',
                                 'VP8'], env=self.env, capture_output=True, text=True, timeout=40)
        self.assertEqual(viewer.returncode, 0, viewer.stdout + viewer.stderr + r.transcript())
        self.assertIsNotNone(r.wait_line(r'^viewer \S+ joined$', 5), r.transcript())
        time.sleep(1.5)  # the count falls back after the DELETE
        rc, _ = r.stop()
        self.assertEqual(rc, 0, r.transcript())
        counts = [int(STATUS_RE.match(l).group(1)) for l in r.out if STATUS_RE.match(l)]
        self.assertIn(1, counts, r.transcript())
        # The sink says why a viewer left (viewer-ended); whep_viewer.py sends DELETE.
        self.assertTrue(any(re.match(r'^viewer \S+ left: the viewer said goodbye \(DELETE\)$', l)
                            for l in r.out), r.transcript())

    def test_status_counts_viewers_per_rung(self):
        """A viewer that decodes (aiortc) is counted on the rung it watches: "· rungs 1/0"
        (320x240 has two rungs: 320x240 and 160x120; an unshaped link keeps the top). No rungs
        are shown while nobody is on one."""
        self.need_sink()
        r = self.start('--port', '0', '--codec', 'vp8', *SMALL)
        url = r.url()
        self.assertIsNotNone(url, r.transcript())
        self.assertTrue(wait_until_streaming(url, 15), r.transcript())
        self.watch_with_aiortc(r, url, 4)
        rc, _ = r.stop()
        self.assertEqual(rc, 0, r.transcript())
        lines = [m for m in map(STATUS_RE.match, r.out) if m]
        rungs = [(int(m.group(1)), m.group(4)) for m in lines]
        self.assertIn((1, '1/0'), rungs, r.transcript())
        self.assertEqual([x for x in rungs if x[1] is not None and x != (1, '1/0')], [],
                         r.transcript())
        self.assertTrue(all(rung is None for viewers, rung in rungs if viewers == 0),
                        r.transcript())

    # ---- limits: max-viewers, max-pending, max-offers-per-second ----

    LIMITS = ('max-viewers', 'max-pending', 'max-offers-per-second')

    def test_limits_reach_the_sink(self):
        """The options and the preset keys of the same names set the sink's limits (an
        option wins over its key); without either the sink's own defaults stand."""
        res = self.livecast('--print-pipeline', '--preset', 'test')
        self.assertEqual(res.returncode, 0, res.stderr)
        for limit in self.LIMITS:
            self.assertNotIn(limit, res.stdout)
        res = self.livecast('--print-pipeline', '--preset', 'test', '--max-viewers', '0',
                            '--max-pending', '64', '--max-offers-per-second', '50')
        self.assertEqual(res.returncode, 0, res.stderr)
        printed = shlex.split(res.stdout.strip())
        for prop in ('max-viewers=0', 'max-pending=64', 'max-offers-per-second=50'):
            self.assertIn(prop, printed)

        self.write_user_presets("""
            [class]
            description=A class of 40
            source=videotestsrc is-live=true ! {caps}
            max-viewers=40
            max-pending=8
            """)
        res = self.livecast('--list-presets')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotIn('unknown key', res.stderr)  # the keys are known
        res = self.livecast('--print-pipeline', '--preset', 'class')
        self.assertEqual(res.returncode, 0, res.stderr)
        printed = shlex.split(res.stdout.strip())
        self.assertIn('max-viewers=40', printed)
        self.assertIn('max-pending=8', printed)
        self.assertNotIn('max-offers-per-second', res.stdout)
        res = self.livecast('--print-pipeline', '--preset', 'class', '--max-viewers', '60')
        self.assertEqual(res.returncode, 0, res.stderr)
        printed = shlex.split(res.stdout.strip())
        self.assertIn('max-viewers=60', printed)
        self.assertNotIn('max-viewers=40', printed)

        # The element takes them (and keeps its default for the one left out).
        Gst = self.need_gst_python()
        self.need_sink()
        sink = Gst.parse_launch(res.stdout.strip()).get_by_name('sink')
        self.assertEqual(sink.get_property('max-viewers'), 60)
        self.assertEqual(sink.get_property('max-pending'), 8)
        self.assertEqual(sink.get_property('max-offers-per-second'),
                         sink.find_property('max-offers-per-second').default_value)

    def test_help_gives_the_sinks_defaults(self):
        """--help gives each limit's default as the installed sink has it."""
        Gst = self.need_gst_python()
        self.need_sink()
        res = self.livecast('--help')
        self.assertEqual(res.returncode, 0, res.stderr)
        sink = Gst.ElementFactory.make('webrtcserversink')
        for limit in self.LIMITS:
            m = re.search(r'(?m)^  --' + limit + r'=N .*\(0: no limit; default (\d+)\)$',
                          res.stdout)
            self.assertIsNotNone(m, f'--{limit}:\n{res.stdout}')
            self.assertEqual(int(m.group(1)), sink.find_property(limit).default_value)

    def test_bad_limit_in_a_preset(self):
        path = self.write_user_presets("""
            [class]
            source=videotestsrc is-live=true ! {caps}
            max-pending=lots
            """)
        for args in (['--print-pipeline', '--preset', 'class'], ['--preset', 'class']):
            with self.subTest(args=args):
                self.assert_usage_error(args, f"preset 'class' ({path}): max-pending 'lots'",
                                        'from 0 to 1000000 (0: no limit)')

    def offer_sdp(self):
        """A receive-only VP8 offer made by webrtcbin. Posted as it is, nothing ever
        answers the server's connectivity checks: the session stays "connecting"."""
        res = subprocess.run([sys.executable, os.path.join(HERE, 'whep_viewer.py'),
                              '--print-offer', 'VP8'], env=self.env, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('m=video', res.stdout)
        return res.stdout

    def assert_turns_one_away(self, run, url, sdp, limit):
        """The next offer gets 503 naming `limit` (set to 1), and the status line says
        "1 turned away (LIMIT 1: raise it with --LIMIT)"."""
        status, body = post_offer(url, sdp)
        self.assertEqual(status, 503, body)
        self.assertIn(limit + ')', body)
        m = run.wait_line(TURNED_AWAY_RE.format(limit=limit), 5)
        self.assertIsNotNone(m, run.transcript())
        self.assertEqual(m.group(1, 3), ('1', '1'))

    def test_max_viewers_turns_viewers_away(self):
        """--max-viewers 1: with a real viewer watching, the next one gets 503; the status
        line says how many were turned away and how to raise the limit; /stats counts it."""
        self.need_sink()
        sdp = self.offer_sdp()
        r = self.start('--port', '0', '--codec', 'vp8', '--max-viewers', '1', *SMALL)
        url = r.url()
        self.assertIsNotNone(url, r.transcript())
        self.assertTrue(wait_until_streaming(url, 15), r.transcript())
        # It stays longer than the rest of the test takes, even on a busy machine.
        first = subprocess.Popen([sys.executable, os.path.join(HERE, 'whep_viewer.py'), url,
                                  '60', 'VP8'], env=self.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: first.poll() is None and (first.kill(), first.communicate()))
        self.assertIsNotNone(r.wait_line(r'^viewer \S+ joined$', 30), r.transcript())
        self.assert_turns_one_away(r, url, sdp, 'max-viewers')
        self.assertEqual(get_stats(url)['refused'], {'maxViewers': 1, 'maxPending': 0, 'rate': 0})
        if first.poll() is not None:
            self.fail('the first viewer left too early: the test proves nothing\n'
                      + ''.join(first.communicate()) + r.transcript())
        self.assertEqual(r.stop()[0], 0, r.transcript())

    def test_max_pending_turns_viewers_away(self):
        """--max-pending 1: with one viewer still connecting, the next gets 503 and the
        status line names max-pending. Not on a terminal: one line for the refusal at
        once, not one a second."""
        self.need_sink()
        sdp = self.offer_sdp()
        r = self.start('--port', '0', '--codec', 'vp8', '--max-pending', '1', *SMALL)
        url = r.url()
        self.assertIsNotNone(url, r.transcript())
        self.assertTrue(wait_until_streaming(url, 15), r.transcript())
        status, body = post_offer(url, sdp)
        self.assertEqual(status, 201, body)
        self.assert_turns_one_away(r, url, sdp, 'max-pending')
        # One more refusal every second for 4 s: no line for each (the one above,
        # and perhaps the status line every 10 s, which counts them too).
        for _ in range(4):
            time.sleep(1.1)
            status, _ = post_offer(url, sdp)
            self.assertEqual(status, 503)
        time.sleep(1.5)
        self.assertEqual(get_stats(url)['refused'], {'maxViewers': 0, 'maxPending': 5, 'rate': 0})
        self.assertEqual(r.stop()[0], 0, r.transcript())
        away = [l for l in r.out if 'turned away' in l]
        self.assertIn(len(away), (1, 2), r.transcript())

    def test_turned_away_fits_the_terminal(self):
        """--max-offers-per-second 1, on a terminal: the second offer in a second gets
        429 and the status line names the limit, never wider than the terminal (a
        wrapped line could not be rewritten in place): 80 columns leave out the hint,
        40 cut the line."""
        self.need_sink()
        sdp = self.offer_sdp()
        master, slave = pty.openpty()
        set_terminal_size(slave, 24, 80)
        try:
            r = self.start('--port', '0', '--codec', 'vp8', '--max-offers-per-second', '1',
                           *SMALL, stdout=slave)
        finally:
            os.close(slave)
        reader = PtyReader(master)
        self.addCleanup(os.close, master)
        self.addCleanup(reader.close)
        m = URL_RE.search(reader.wait(URL_RE.search, 20))
        self.assertIsNotNone(m, reader.text())
        url = m.group(0)
        self.assertTrue(wait_until_streaming(url, 15), reader.text())
        status, body = post_offer(url, sdp)
        self.assertEqual(status, 201, body)
        # Three at once from one address: the second's offer went to the one above
        # (an answer takes a while, so one may have come back since).
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda _: post_offer(url, sdp), range(3)))
        statuses = sorted(status for status, _ in results)
        self.assertIn(statuses, ([201, 429, 429], [429, 429, 429]), results)
        refused = statuses.count(429)

        text = reader.wait(
            lambda t: any(f'{refused} turned away' in w for w in status_rewrites(t)), 5)
        rewrites = status_rewrites(text)
        self.assertTrue(rewrites, repr(text))
        self.assertLessEqual(max(len(w) for w in rewrites), 79, rewrites)
        away = [w for w in rewrites if 'turned away' in w]
        self.assertTrue(away, rewrites)
        self.assertRegex(away[-1], rf' \u00b7 {refused} turned away \(max-offers-per-second 1\)$')
        self.assertEqual(get_stats(url)['refused'],
                         {'maxViewers': 0, 'maxPending': 0, 'rate': refused})

        set_terminal_size(master, 24, 40)
        seen = len(text)
        text = reader.wait(lambda t: any(w.endswith('\u2026') for w in status_rewrites(t[seen:])),
                           5)
        narrow = status_rewrites(text[seen:])
        self.assertTrue(any(w.endswith('\u2026') for w in narrow), narrow)
        self.assertLessEqual(max(len(w) for w in narrow), 39, narrow)
        self.assertEqual(r.stop()[0], 0, reader.text())


def main():
    global LIVECAST
    if len(sys.argv) < 2:
        sys.exit(f'usage: {sys.argv[0]} PATH/TO/livecast [unittest options]')
    LIVECAST = os.path.abspath(sys.argv.pop(1))
    sys.exit(exit_status(unittest.main(verbosity=2, exit=False).result))


if __name__ == '__main__':
    main()
