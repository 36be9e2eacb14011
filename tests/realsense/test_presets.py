#!/usr/bin/python3
# The realsense presets of livecast (launcher/presets.ini) with the fake
# librealsense2 (tests/fakes): listed, printed, run with a viewer that decodes
# frames, and each failure as one clear line.
#
#   test_presets.py PATH/TO/livecast PATH/TO/fake/librealsense2.so.2.50 [unittest options]
#
# livecast opens sockets: run inside tests/netns-run.sh (meson test does).
import importlib.util
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
from skips import exit_status, skip_missing  # noqa: E402
SOURCE_ROOT = os.environ.get('LIVECAST_SOURCE_ROOT', os.path.join(HERE, '..', '..'))
# The project's aiortc viewer: it decodes and prints "frames N".
AIORTC_VIEWER = os.path.join(SOURCE_ROOT, 'tests', 'integration', 'test_aiortc.py')
LIVECAST = None
FAKE = None
URL_RE = re.compile(r'http://\S+')
PRESETS = ('realsense', 'realsense-depth', 'realsense-rgbd')


class Run:
    """A running livecast, its output collected line by line."""

    def __init__(self, args, env):
        self.lines = queue.Queue()
        self.out, self.err = [], []
        self.proc = subprocess.Popen([LIVECAST] + args, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors='replace')
        self.threads = [threading.Thread(target=self.pump, args=(self.proc.stdout, self.out, True),
                                         daemon=True),
                        threading.Thread(target=self.pump, args=(self.proc.stderr, self.err, False),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def pump(self, stream, store, to_queue):
        for line in stream:
            store.append(line.rstrip('\n'))
            if to_queue:
                self.lines.put(line.rstrip('\n'))

    def url(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = URL_RE.search(self.lines.get(timeout=0.2))
                if m:
                    return m.group(0)
            except queue.Empty:
                if self.proc.poll() is not None:
                    return None
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        for t in self.threads:
            t.join(2)
        return rc

    def transcript(self):
        return 'stdout:\n' + '\n'.join(self.out) + '\nstderr:\n' + '\n'.join(self.err)


class PresetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='livecast-realsense-presets-')
        env = dict(os.environ)
        env['LIVECAST_PRESETS'] = os.path.join(SOURCE_ROOT, 'launcher', 'presets.ini')
        env['XDG_CONFIG_HOME'] = cls.tmp  # no user presets
        env['LIVECAST_REALSENSE_LIBRARY'] = FAKE
        env.pop('DISPLAY', None)
        env.pop('GST_DEBUG', None)  # one-line errors: no debug log on stderr
        cls.env = env
        # meson defines this test only where the plugin is built: a plugin that does not load
        # is a failure here, never a skip.
        res = subprocess.run(['gst-inspect-1.0', 'realsensesrc'], env=env, capture_output=True,
                             text=True)
        if res.returncode != 0:
            raise AssertionError('gst-inspect-1.0 realsensesrc failed (the plugin does not load, '
                                 f'or GST_PLUGIN_PATH misses it):\n{res.stdout}{res.stderr}')

    def livecast(self, *args, env=None):
        return subprocess.run([LIVECAST] + list(args), env=env or self.env, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)

    def with_env(self, **changes):
        env = dict(self.env)
        for k, v in changes.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def one_error_line(self, res):
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f'want one line, got: {res.stderr!r}')
        self.assertTrue(lines[0].startswith('livecast: error: '), lines[0])
        return lines[0][len('livecast: error: '):]

    def test_listed(self):
        res = self.livecast('--list-presets')
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = dict(re.findall(r'^  (\S+)\s{2,}(\S.*)$', res.stdout, re.M))
        for name in PRESETS:
            self.assertIn(name, rows)
            self.assertIn('RealSense', rows[name])

    def test_printed_pipelines(self):
        res = self.livecast('--print-pipeline', '--preset', 'realsense', '--size', '1280x720',
                            '--fps', '15')
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(res.stdout.startswith(
            'realsensesrc stream=color ! video/x-raw,width=1280,height=720,framerate=15/1 ! '
            'webrtcserversink '), res.stdout)
        res = self.livecast('--print-pipeline', '--preset', 'realsense-depth')
        self.assertIn('realsensesrc stream=depth ! video/x-raw,width=640,height=480,'
                      'framerate=30/1 ! depthcolorize ! webrtcserversink ', res.stdout)
        res = self.livecast('--print-pipeline', '--preset', 'realsense-rgbd', '--size', '848x480')
        self.assertIn('realsensesrc stream=depth align=color ! video/x-raw,width=848,height=480,'
                      'framerate=30/1 ! depthcolorize ! mix.sink_1', res.stdout)
        self.assertIn('compositor name=mix background=black sink_1::xpos=848 ! webrtcserversink ',
                      res.stdout)

    def test_printed_rgbd_pipeline_runs_in_gst_launch(self):
        res = self.livecast('--print-pipeline', '--preset', 'realsense-rgbd', '--port', '0')
        self.assertEqual(res.returncode, 0, res.stderr)
        proc = subprocess.Popen(['gst-launch-1.0', '-e'] + shlex.split(res.stdout), env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        self.assertIsNone(proc.poll(), proc.stdout.read() if proc.poll() is not None else '')
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
        self.assertEqual(proc.returncode, 0, out)
        self.assertNotIn('ERROR', out)

    def test_each_preset_streams_to_a_viewer(self):
        if importlib.util.find_spec('aiortc') is None:
            skip_missing(self, 'aiortc is not installed (apt-get install python3-aiortc)')
        for name in ('realsense', 'realsense-depth'):
            with self.subTest(preset=name):
                r = Run(['--preset', name, '--port', '0'], self.env)
                try:
                    url = r.url()
                    self.assertIsNotNone(url, r.transcript())
                    viewer = subprocess.run([sys.executable, AIORTC_VIEWER, '--url',
                                             url.rstrip('/'), '--seconds', '3'],
                                            env=self.env, capture_output=True, text=True,
                                            timeout=60)
                    self.assertEqual(viewer.returncode, 0, viewer.stdout + viewer.stderr)
                    frames = [int(n) for n in re.findall(r'(?m)^frames (\d+)$', viewer.stdout)]
                    self.assertTrue(frames, viewer.stdout + viewer.stderr)
                    print(f'# {name}: aiortc decoded {frames[-1]} frames in 3 s')
                    self.assertGreaterEqual(frames[-1], 30, viewer.stdout + r.transcript())
                finally:
                    rc = r.stop()
                self.assertEqual(rc, 0, r.transcript())
                self.assertEqual([l for l in r.err if l.startswith('livecast:')], [],
                                 r.transcript())

    def test_no_camera(self):
        res = self.livecast('--preset', 'realsense', '--port', '0',
                            env=self.with_env(LIVECAST_FAKE_RS_DEVICES=''))
        self.assertEqual(self.one_error_line(res),
                         'No RealSense camera is connected (librealsense2 2.50.0 found none).')

    def test_library_missing(self):
        res = self.livecast('--preset', 'realsense-rgbd', '--port', '0',
                            env=self.with_env(LIVECAST_REALSENSE_LIBRARY='/nonexistent/librealsense2.so'))
        line = self.one_error_line(res)
        self.assertTrue(line.startswith('Cannot use /nonexistent/librealsense2.so as librealsense2 '
                                        '(set by LIVECAST_REALSENSE_LIBRARY): '), line)

    def test_mode_the_camera_lacks(self):
        res = self.livecast('--preset', 'realsense', '--port', '0', '--size', '1000x500')
        line = self.one_error_line(res)
        self.assertIn('offers no colour mode that downstream accepts; it offers 320x240, 424x240, '
                      '640x480', line)

    def test_camera_unplugged_while_streaming(self):
        r = Run(['--preset', 'realsense-rgbd', '--port', '0'],
                self.with_env(LIVECAST_FAKE_RS_FAULT='unplug-after=30'))
        try:
            self.assertIsNotNone(r.url(), r.transcript())
            deadline = time.monotonic() + 10
            while r.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            rc = r.stop()
        self.assertEqual(rc, 1, r.transcript())
        errors = [l for l in r.err if l.startswith('livecast:')]
        self.assertEqual(errors, ['livecast: error: The RealSense camera 831612070001 (Intel '
                                  'RealSense D435 (fake)) was disconnected.'], r.transcript())


def main():
    global LIVECAST, FAKE
    if len(sys.argv) < 3:
        sys.exit(f'usage: {sys.argv[0]} PATH/TO/livecast PATH/TO/librealsense2.so.2.50 '
                 '[unittest options]')
    LIVECAST = os.path.abspath(sys.argv.pop(1))
    FAKE = os.path.abspath(sys.argv.pop(1))
    # unittest exits 0 when tests skip, which meson reads as OK (tests/common/skips.py).
    sys.exit(exit_status(unittest.main(verbosity=2, exit=False).result))


if __name__ == '__main__':
    main()
