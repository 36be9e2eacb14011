/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * screencapsrc against a real X server: every test starts its own Xvfb (a
 * free display number picked by -displayfd), draws known content with
 * xpaint (XPAINT=path, see xpaint.c), captures through appsink and checks
 * the pixels. X goes over unix sockets, but libxcb falls back to TCP on
 * 127.0.0.1:60NN when a local display's socket is missing (the no-display
 * case), so this runs inside tests/netns-run.sh like every socket test.
 */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "testutil.h"
#include "xvfb.h"

namespace
{

/* Runs a command-line tool against @display, bounded by timeout(1). */
bool run_tool(const std::string &display, std::vector<std::string> args, std::string *out = nullptr)
{
  args.insert(args.begin(), {"timeout", "10"});
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  gchar **envp = g_environ_setenv(g_get_environ(), "DISPLAY", display.c_str(), TRUE);
  gchar *sout = nullptr, *serr = nullptr;
  gint status = 0;
  GError *err = nullptr;
  const gboolean spawned = g_spawn_sync(nullptr, argv.data(), envp, G_SPAWN_SEARCH_PATH, nullptr,
                                        nullptr, &sout, &serr, &status, &err);
  g_strfreev(envp);
  g_assert_no_error(err);
  const bool ok = spawned && g_spawn_check_wait_status(status, nullptr);
  if (!ok)
    g_printerr("# %s failed: %s\n", args[2].c_str(), serr);
  if (out)
    *out = sout;
  g_free(sout);
  g_free(serr);
  return ok;
}

/* The screen as the test expects it: 0xRRGGBB per pixel, mirroring what
 * xpaint is told to draw. */
struct Canvas {
  int width, height;
  std::vector<uint32_t> rgb;
  Canvas(int w, int h) : width(w), height(h), rgb(size_t(w) * h, 0) {}
  void fill(int x, int y, int w, int h, uint32_t c)
  {
    for (int j = std::max(y, 0); j < std::min(y + h, height); j++)
      for (int i = std::max(x, 0); i < std::min(x + w, width); i++)
        rgb[size_t(j) * width + i] = c;
  }
  uint32_t at(int x, int y) const { return rgb[size_t(y) * width + x]; }
};

/* Drives xpaint; every drawing command is on screen once it returns. */
class XPaint
{
 public:
  XPaint(const Xvfb &x, Canvas *mirror = nullptr) : mirror_(mirror)
  {
    const char *path = g_getenv("XPAINT");
    if (!path)
      g_error("XPAINT is not set (the path of the built xpaint)");
    const char *argv[] = {path, nullptr};
    gchar **envp = g_environ_setenv(g_get_environ(), "DISPLAY", x.name().c_str(), TRUE);
    GError *err = nullptr;
    g_spawn_async_with_pipes(nullptr, (gchar **)argv, envp, G_SPAWN_DO_NOT_REAP_CHILD,
                             die_with_parent, nullptr, &pid_, &in_, &out_, nullptr, &err);
    g_strfreev(envp);
    g_assert_no_error(err);
    std::string line;
    if (!read_line(out_, buf_, line, 10000) || line != "ready")
      g_error("xpaint did not start on %s", x.name().c_str());
  }
  ~XPaint()
  {
    close(in_); /* EOF: xpaint exits by itself */
    close(out_);
    stop_child(pid_);
  }
  XPaint(const XPaint &) = delete;
  XPaint &operator=(const XPaint &) = delete;

  /* Sends one command; returns xpaint's answer ("ok" or "error: ..."). */
  std::string send(const std::string &cmd)
  {
    const std::string l = cmd + "\n";
    g_assert_cmpint(write(in_, l.data(), l.size()), ==, gssize(l.size()));
    std::string reply;
    if (!read_line(out_, buf_, reply, 5000))
      g_error("xpaint did not answer \"%s\" within 5 s", cmd.c_str());
    return reply;
  }
  void rect(int x, int y, int w, int h, uint32_t c)
  {
    char cmd[64];
    g_snprintf(cmd, sizeof cmd, "rect %d %d %d %d %06x", x, y, w, h, c);
    const std::string r = send(cmd);
    if (r != "ok")
      g_error("xpaint: %s -> %s", cmd, r.c_str());
    if (mirror_)
      mirror_->fill(x, y, w, h, c);
  }

 private:
  Canvas *mirror_;
  GPid pid_ = 0;
  int in_ = -1, out_ = -1;
  std::string buf_;
};

/* A pulled sample, copied out so it outlives the pipeline. */
struct Frame {
  int width = 0, height = 0, fps_n = 0, fps_d = 0;
  std::string format;
  GstClockTime pts = GST_CLOCK_TIME_NONE, duration = GST_CLOCK_TIME_NONE;
  std::vector<uint32_t> rgb; /* 0xRRGGBB, tightly packed */
  uint32_t at(int x, int y) const { return rgb[size_t(y) * width + x]; }
};

/* screencapsrc properties the tests set. */
struct Props {
  int monitor = -1;
  int x = 0, y = 0, width = 0, height = 0;
  bool region = false;
  int show_cursor = -1; /* -1: leave the default */
  int use_damage = -1;
};

std::string source_desc(const std::string &display, const Props &p)
{
  std::string d = "screencapsrc";
  if (!display.empty())
    d += " display=" + display;
  if (p.monitor != -1)
    d += " monitor=" + std::to_string(p.monitor);
  if (p.region)
    d += " x=" + std::to_string(p.x) + " y=" + std::to_string(p.y) +
         " width=" + std::to_string(p.width) + " height=" + std::to_string(p.height);
  if (p.show_cursor >= 0)
    d += std::string(" show-cursor=") + (p.show_cursor ? "true" : "false");
  if (p.use_damage >= 0)
    d += std::string(" use-damage=") + (p.use_damage ? "true" : "false");
  return d;
}

/* source ! caps ! appsink, with the appsink's queue settings. */
class Capture
{
 public:
  Capture(const std::string &display, const Props &p,
          const std::string &caps = "video/x-raw,framerate=30/1", bool keep_all = false)
  {
    /* sync=false: the source alone must pace a live stream. keep_all=false
     * keeps only the newest frame, so a pulled frame is never a stale one. */
    desc_ = source_desc(display, p) + " ! " + (caps.empty() ? "" : caps + " ! ") +
            "appsink name=sink sync=false " +
            (keep_all ? "max-buffers=0 drop=false" : "max-buffers=1 drop=true");
    GError *err = nullptr;
    pipeline_ = gst_parse_launch(desc_.c_str(), &err);
    g_assert_no_error(err);
    sink_ = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    bus_ = gst_element_get_bus(pipeline_);
  }
  ~Capture()
  {
    set_state(pipeline_, GST_STATE_NULL);
    if (error_)
      g_error_free(error_);
    gst_object_unref(bus_);
    gst_object_unref(sink_);
    gst_object_unref(pipeline_);
  }
  Capture(const Capture &) = delete;
  Capture &operator=(const Capture &) = delete;

  GstElement *pipeline() const { return pipeline_; }

  void play()
  {
    g_print("# %s\n", desc_.c_str());
    if (set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      g_error("%s: PLAYING failed: %s", desc_.c_str(), error_text(1000).c_str());
  }

  /* Next frame within @timeout_ms; fails the test (with any bus error) if none. */
  Frame pull(int timeout_ms = 3000)
  {
    Frame f;
    if (!try_pull(f, timeout_ms))
      g_error("%s: no frame within %d ms; bus: %s", desc_.c_str(), timeout_ms,
              error_text(0).c_str());
    return f;
  }

  bool try_pull(Frame &f, int timeout_ms)
  {
    GstSample *s =
        gst_app_sink_try_pull_sample(GST_APP_SINK(sink_), GstClockTime(timeout_ms) * GST_MSECOND);
    if (!s)
      return false;
    GstVideoInfo info;
    g_assert_true(gst_video_info_from_caps(&info, gst_sample_get_caps(s)));
    f.width = GST_VIDEO_INFO_WIDTH(&info);
    f.height = GST_VIDEO_INFO_HEIGHT(&info);
    f.fps_n = GST_VIDEO_INFO_FPS_N(&info);
    f.fps_d = GST_VIDEO_INFO_FPS_D(&info);
    f.format = gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info));
    GstBuffer *b = gst_sample_get_buffer(s);
    f.pts = GST_BUFFER_PTS(b);
    f.duration = GST_BUFFER_DURATION(b);
    /* Honours a GstVideoMeta stride, as any real consumer would. */
    GstVideoFrame vf;
    if (!gst_video_frame_map(&vf, &info, b, GST_MAP_READ))
      g_error("%s: %dx%d buffer of %" G_GSIZE_FORMAT " bytes cannot be mapped", desc_.c_str(),
              f.width, f.height, gst_buffer_get_size(b));
    const bool bgr = GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_BGRx ||
                     GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_BGRA;
    if (!bgr)
      g_error("%s: format %s, expected BGRx", desc_.c_str(), f.format.c_str());
    f.rgb.resize(size_t(f.width) * f.height);
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
    for (int y = 0; y < f.height; y++) {
      const guint8 *row = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&vf, 0) + size_t(y) * stride;
      for (int x = 0; x < f.width; x++)
        f.rgb[size_t(y) * f.width + x] =
            uint32_t(row[4 * x + 2]) << 16 | uint32_t(row[4 * x + 1]) << 8 | row[4 * x];
    }
    gst_video_frame_unmap(&vf);
    gst_sample_unref(s);
    return true;
  }

  /* The first ERROR within @timeout_ms (caller frees), or nullptr. WARNING
   * messages met on the way are printed and counted. */
  GError *wait_error(int timeout_ms, std::string *debug = nullptr)
  {
    const gint64 deadline = now_ms() + timeout_ms;
    while (!error_) {
      const gint64 left = std::max<gint64>(0, deadline - now_ms());
      GstMessage *m =
          gst_bus_timed_pop_filtered(bus_, GstClockTime(left) * GST_MSECOND,
                                     GstMessageType(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING));
      if (!m)
        break;
      GError *e = nullptr;
      gchar *dbg = nullptr;
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
        gst_message_parse_warning(m, &e, &dbg);
        g_print("# warning: %s\n", e->message);
        warnings_++;
        g_error_free(e);
      } else {
        gst_message_parse_error(m, &error_, &dbg);
        error_debug_ = dbg ? dbg : "";
      }
      g_free(dbg);
      gst_message_unref(m);
    }
    if (debug)
      *debug = error_debug_;
    GError *e = error_;
    error_ = nullptr;
    return e;
  }
  /* "" or "message (debug)" of an error posted within @timeout_ms. */
  std::string error_text(int timeout_ms)
  {
    std::string dbg;
    GError *e = wait_error(timeout_ms, &dbg);
    if (!e)
      return "";
    const std::string t = std::string(e->message) + " (" + dbg + ")";
    g_error_free(e);
    return t;
  }
  /* WARNING messages posted so far. */
  int warnings()
  {
    if (!error_)
      error_ = wait_error(0); /* an error met stays for the next wait_error() */
    return warnings_;
  }

 private:
  std::string desc_;
  GstElement *pipeline_ = nullptr, *sink_ = nullptr;
  GstBus *bus_ = nullptr;
  GError *error_ = nullptr; /* popped off the bus, not yet returned */
  std::string error_debug_;
  int warnings_ = 0;
};

/* Every pixel of @f equals the canvas at offset (@ox,@oy). */
void expect_pixels(const Frame &f, const Canvas &c, int ox, int oy, const char *what)
{
  int bad = 0;
  for (int y = 0; y < f.height; y++)
    for (int x = 0; x < f.width; x++) {
      const uint32_t want = c.at(ox + x, oy + y), got = f.at(x, y);
      if (got != want && bad++ < 5)
        g_printerr("# %s: frame pixel (%d,%d) = screen (%d,%d): got %06x, expected %06x\n", what, x,
                   y, ox + x, oy + y, got, want);
    }
  if (bad)
    g_error("%s: %d of %d pixels differ", what, bad, f.width * f.height);
}

void expect_size(const Frame &f, int w, int h, const char *what)
{
  if (f.width != w || f.height != h)
    g_error("%s: frame is %dx%d, expected %dx%d", what, f.width, f.height, w, h);
}

/* Distinct, byte-order revealing colours on a black screen. */
void paint_scene(XPaint &xp)
{
  xp.rect(100, 100, 200, 100, 0xff0000);
  xp.rect(400, 50, 100, 300, 0x00ff00);
  xp.rect(700, 400, 150, 150, 0x0000ff);
  xp.rect(50, 600, 31, 17, 0x123456);
  xp.rect(0, 0, 3, 2, 0xfedcba);      /* top-left corner */
  xp.rect(1277, 718, 3, 2, 0xa1b2c3); /* bottom-right corner */
  xp.rect(639, 0, 2, 720, 0x7f7f7f);  /* across the middle (monitor boundary) */
  xp.rect(101, 51, 1, 1, 0xffffff);   /* single pixels */
  xp.rect(419, 289, 1, 1, 0x010203);
}

void test_pixels()
{
  Xvfb x;
  Canvas screen(1280, 720);
  XPaint xp(x, &screen);
  paint_scene(xp);
  {
    Props p;
    p.show_cursor = 0;
    Capture cap(x.name(), p);
    cap.play();
    const Frame f = cap.pull();
    expect_size(f, 1280, 720, "whole screen");
    g_assert_cmpstr(f.format.c_str(), ==, "BGRx");
    g_assert_cmpint(f.fps_n, ==, 30);
    g_assert_cmpint(f.fps_d, ==, 1);
    expect_pixels(f, screen, 0, 0, "whole screen");
    /* Later frames too (with use-damage, they come from another path). */
    for (int i = 0; i < 5; i++)
      expect_pixels(cap.pull(), screen, 0, 0, "whole screen, later frame");
  }
  /* No display property: $DISPLAY. Plain setenv(): the pipelines before are
   * stopped, nothing reads the environment concurrently (g_setenv would log
   * that it is unsafe with threads around). */
  setenv("DISPLAY", x.name().c_str(), 1);
  Props p;
  p.show_cursor = 0;
  Capture cap("", p);
  cap.play();
  const Frame f = cap.pull();
  expect_size(f, 1280, 720, "display from $DISPLAY");
  expect_pixels(f, screen, 0, 0, "display from $DISPLAY");
  unsetenv("DISPLAY");
}

/* @clamped: the region reaches outside the screen, which the element must
 * tell with a WARNING message. */
void check_region(const Xvfb &x, const Canvas &screen, int rx, int ry, int rw, int rh, int ew,
                  int eh, bool clamped = false)
{
  Props p;
  p.show_cursor = 0;
  p.region = true;
  p.x = rx, p.y = ry, p.width = rw, p.height = rh;
  Capture cap(x.name(), p);
  cap.play();
  const Frame f = cap.pull();
  const std::string what = "region " + std::to_string(rx) + "," + std::to_string(ry) + " " +
                           std::to_string(rw) + "x" + std::to_string(rh);
  expect_size(f, ew, eh, what.c_str());
  expect_pixels(f, screen, rx, ry, what.c_str());
  expect_pixels(cap.pull(), screen, rx, ry, what.c_str());
  const int warnings = cap.warnings();
  const std::string err = cap.error_text(0);
  if (!err.empty())
    g_error("%s: error on the bus: %s", what.c_str(), err.c_str());
  g_print("# %s -> %dx%d, %d warning message(s)\n", what.c_str(), f.width, f.height, warnings);
  if (clamped ? warnings == 0 : warnings != 0)
    g_error("%s: %d WARNING messages, expected %s", what.c_str(), warnings,
            clamped ? "one or more" : "none");
}

void test_region()
{
  Xvfb x;
  Canvas screen(1280, 720);
  XPaint xp(x, &screen);
  paint_scene(xp);
  xp.rect(100, 50, 1, 1, 0x00ffff); /* the region's (0,0) */
  check_region(x, screen, 100, 50, 320, 240, 320, 240);
  check_region(x, screen, 1, 1, 333, 77, 333, 77);    /* odd width: no stride assumptions */
  check_region(x, screen, 1000, 500, 0, 0, 280, 220); /* 0 = to the edge */
  check_region(x, screen, 1200, 600, 200, 200, 80, 120, true); /* partly outside: clamped */
}

/* Index of each monitor by name, as `xrandr --listmonitors` prints them. */
std::map<std::string, int> list_monitors(const Xvfb &x)
{
  std::string out;
  g_assert_true(run_tool(x.name(), {"xrandr", "--listmonitors"}, &out));
  g_print("# xrandr --listmonitors:\n%s", out.c_str());
  std::map<std::string, int> m;
  gchar **lines = g_strsplit(out.c_str(), "\n", -1);
  for (gchar **l = lines; *l; l++) {
    int index;
    char name[64];
    if (sscanf(*l, " %d: %63s", &index, name) != 2)
      continue;
    const char *n = name;
    while (*n == '+' || *n == '*') /* automatic, primary */
      n++;
    m[n] = index;
  }
  g_strfreev(lines);
  return m;
}

/* Makes @change, then pulls frames until one matches the canvas at offset
 * (@ox,@oy) exactly; fails after @max_frames. Returns how many it took. */
int frames_until(Capture &cap, const Canvas &screen, int ox, int oy, int max_frames,
                 const std::function<void()> &change, const char *what)
{
  change();
  for (int n = 1; n <= max_frames; n++) {
    const Frame f = cap.pull();
    bool same = true;
    for (int y = 0; y < f.height && same; y++)
      for (int x = 0; x < f.width && same; x++)
        same = f.at(x, y) == screen.at(ox + x, oy + y);
    if (same)
      return n;
  }
  const Frame f = cap.pull();
  expect_pixels(f, screen, ox, oy, what); /* prints where it differs */
  g_error("%s: not visible within %d frames", what, max_frames);
}

void test_monitors()
{
  Xvfb x;
  Canvas screen(1280, 720);
  XPaint xp(x, &screen);
  paint_scene(xp);
  xp.rect(10, 10, 50, 50, 0xaa5500);  /* in the left monitor */
  xp.rect(650, 10, 50, 50, 0x0055aa); /* in the right one */
  xp.rect(640, 0, 1, 1, 0x00ffff);    /* right monitor's (0,0) */
  g_assert_true(
      run_tool(x.name(), {"xrandr", "--setmonitor", "left", "640/169x720/190+0+0", "none"}));
  g_assert_true(
      run_tool(x.name(), {"xrandr", "--setmonitor", "right", "640/169x720/190+640+0", "none"}));
  auto mon = list_monitors(x);
  g_assert_true(mon.count("left") && mon.count("right"));

  struct {
    const char *name;
    int ox, w;
  } cases[] = {{"left", 0, 640}, {"right", 640, 640}, {"screen", 0, 1280}};
  for (const auto &c : cases) {
    if (!mon.count(c.name))
      continue;
    Props p;
    p.show_cursor = 0;
    p.monitor = mon[c.name];
    Capture cap(x.name(), p);
    cap.play();
    const Frame f = cap.pull();
    const std::string what =
        std::string("monitor ") + c.name + " (" + std::to_string(p.monitor) + ")";
    expect_size(f, c.w, 720, what.c_str());
    expect_pixels(f, screen, c.ox, 0, what.c_str());
  }

  /* A region inside a monitor is relative to it; damage follows it too. */
  Props p;
  p.show_cursor = 0;
  p.monitor = mon["right"];
  p.region = true;
  p.x = 10, p.y = 10, p.width = 100, p.height = 200;
  Capture cap(x.name(), p);
  cap.play();
  Frame f = cap.pull();
  expect_size(f, 100, 200, "region in monitor right");
  expect_pixels(f, screen, 650, 10, "region in monitor right");
  const int n = frames_until(
      cap, screen, 650, 10, 2, [&] { xp.rect(700, 100, 20, 20, 0x336699); },
      "change in monitor right's region");
  g_print("# change in a monitor region seen in frame %d after it\n", n);
}

/* Xvfb's default cursor is the core X_cursor glyph: 16x16, hotspot (7,7),
 * opaque black inside a white outline (as XFixesGetCursorImage gives it).
 * Checks it is drawn exactly there on a @bg screen, and nothing else is. */
bool has_x_cursor_at(const Frame &f, uint32_t bg, int px, int py, bool report, const char *what)
{
  int x0 = INT_MAX, y0 = INT_MAX, x1 = -1, y1 = -1;
  for (int y = 0; y < f.height; y++)
    for (int x = 0; x < f.width; x++) {
      const uint32_t c = f.at(x, y);
      if (c == bg)
        continue;
      if (c != 0x000000 && c != 0xffffff) {
        if (report)
          g_error("%s: cursor pixel (%d,%d) is %06x, not black or white", what, x, y, c);
        return false;
      }
      x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
    }
  const bool ok = x0 == px - 7 && y0 == py - 7 && x1 == px + 8 && y1 == py + 8 &&
                  f.at(px, py) == 0x000000 && f.at(px - 7, py - 7) == 0xffffff;
  if (report && !ok)
    g_error(
        "%s: cursor pixels in (%d,%d)-(%d,%d) (none if -1), expected the X cursor in "
        "(%d,%d)-(%d,%d)",
        what, x0, y0, x1, y1, px - 7, py - 7, px + 8, py + 8);
  return ok;
}

/* Pixels off by more than 2 from xpaint's ARGB cursor (set_argb_cursor():
 * 32x32, hotspot (5,9), premultiplied) blended over @bg at (@px,@py); all
 * other pixels must be exactly @bg. */
int argb_cursor_errors(const Frame &f, uint32_t bg, int px, int py, bool report)
{
  const int left = px - 5, top = py - 9;
  int bad = 0;
  for (int y = 0; y < f.height; y++)
    for (int x = 0; x < f.width; x++) {
      const int cx = x - left, cy = y - top;
      const bool in = cx >= 0 && cx < 32 && cy >= 0 && cy < 32;
      uint32_t want = bg;
      if (in) {
        const uint32_t argb =
            cy < 16 ? (cx < 16 ? 0xffff0000u : 0x80000080u) : (cx < 16 ? 0x40404040u : 0u);
        const uint32_t a = argb >> 24;
        want = 0;
        for (int s = 0; s < 24; s += 8) {
          const uint32_t src = (argb >> s) & 0xff, dst = (bg >> s) & 0xff;
          want |= std::min(255u, src + (dst * (255 - a) + 127) / 255) << s;
        }
      }
      const uint32_t got = f.at(x, y);
      int diff = 0;
      for (int s = 0; s < 24; s += 8)
        diff = std::max(diff, std::abs(int((got >> s) & 0xff) - int((want >> s) & 0xff)));
      if (diff > (in ? 2 : 0) && bad++ < 5 && report)
        g_printerr("# ARGB cursor: (%d,%d) got %06x, expected %06x\n", x, y, got, want);
    }
  return bad;
}

void test_cursor()
{
  Xvfb x;
  const uint32_t bg = 0x336699;
  Canvas screen(1280, 720);
  XPaint xp(x, &screen);
  xp.rect(0, 0, 1280, 720, bg);
  g_assert_true(run_tool(x.name(), {"xdotool", "mousemove", "400", "300"}));

  Props p; /* show-cursor defaults to true */
  p.use_damage = 1;
  {
    Capture cap(x.name(), p);
    cap.play();
    cap.pull();
    has_x_cursor_at(cap.pull(), bg, 400, 300, true, "show-cursor default");

    /* Pointer moves on a still screen: the cursor follows, nothing left behind. */
    g_assert_true(run_tool(x.name(), {"xdotool", "mousemove", "900", "500"}));
    Frame f;
    int n = 0;
    while (n < 3 && !has_x_cursor_at(f = cap.pull(), bg, 900, 500, false, ""))
      n++;
    has_x_cursor_at(f, bg, 900, 500, true, "after mousemove on a still screen");
    g_print("# moved cursor seen in frame %d after the move\n", n + 1);
  }

  const std::string r = xp.send("cursor argb");
  if (r != "ok") {
    g_print("# ARGB cursor not checked: %s\n", r.c_str());
  } else {
    /* Translucent cursor: premultiplied alpha blended at the hotspot. */
    Capture cap(x.name(), p);
    cap.play();
    cap.pull();
    const int bad = argb_cursor_errors(cap.pull(), bg, 900, 500, true);
    if (bad)
      g_error("ARGB cursor: %d pixels off (more than 2 inside the cursor, any outside)", bad);
    g_print("# ARGB cursor blended exactly (within 2)\n");

    /* Shape change on a still screen shows like a move does. */
    const std::string reply = xp.send("cursor default"); /* g_assert_cmpstr outlives a temporary */
    g_assert_cmpstr(reply.c_str(), ==, "ok");
    Frame f;
    int n = 0;
    while (n < 3 && !has_x_cursor_at(f = cap.pull(), bg, 900, 500, false, ""))
      n++;
    if (n == 3) {
      if (argb_cursor_errors(f, bg, 900, 500, false) == 0)
        g_error(
            "cursor shape change (ARGB -> default X cursor) on a still screen: still the "
            "old shape 3 frames later");
      has_x_cursor_at(f, bg, 900, 500, true, "after a cursor shape change on a still screen");
    }
    g_print("# cursor shape change seen in frame %d after it\n", n + 1);
  }

  p.show_cursor = 0;
  Capture cap(x.name(), p);
  cap.play();
  for (int i = 0; i < 3; i++)
    expect_pixels(cap.pull(), screen, 0, 0, "show-cursor=false");
}

/* Changes appear at once; a still screen keeps its frames (and rate). */
void check_damage(bool use_damage)
{
  Xvfb x;
  Canvas screen(1280, 720);
  XPaint xp(x, &screen);
  paint_scene(xp);
  Props p;
  p.show_cursor = 0;
  p.use_damage = use_damage;
  Capture cap(x.name(), p);
  cap.play();
  for (int i = 0; i < 5; i++)
    cap.pull();

  /* Big, small, single-pixel and edge changes, each checked over the whole frame. */
  const struct {
    int x, y, w, h;
    uint32_t c;
  } changes[] = {
      {200, 200, 300, 200, 0xc0ffee},  {210, 210, 10, 10, 0x0badf0},  {1279, 719, 1, 1, 0xffffff},
      {0, 0, 1280, 1, 0x808080},       {0, 0, 1, 720, 0x404040},      {640, 360, 1, 1, 0x010101},
      {1000, 100, 200, 500, 0xff00ff}, {1100, 300, 50, 50, 0x00aa00}, {100, 100, 200, 100, 0},
      {5, 5, 1270, 710, 0x202020},
  };
  int next = 0, second = 0;
  for (const auto &c : changes) {
    char what[96];
    g_snprintf(what, sizeof what, "use-damage=%d: rect %d,%d %dx%d %06x", use_damage, c.x, c.y, c.w,
               c.h, c.c);
    const int n = frames_until(
        cap, screen, 0, 0, 2, [&] { xp.rect(c.x, c.y, c.w, c.h, c.c); }, what);
    (n == 1 ? next : second)++;
    /* And it stays: no frame goes back to older content. */
    expect_pixels(cap.pull(), screen, 0, 0, what);
  }
  /* Many small changes in a burst, all between two frames. */
  const int n = frames_until(
      cap, screen, 0, 0, 2,
      [&] {
        for (int i = 0; i < 40; i++)
          xp.rect(37 + (i % 8) * 151, 23 + (i / 8) * 139, 7 + i, 5 + i % 7,
                  0x100000u * (i % 15) + 0x3377);
      },
      "burst of 40 rects");
  g_print(
      "# use-damage=%d: %d changes in the very next frame, %d in the second; a burst of 40 "
      "rects in frame %d\n",
      use_damage, next, second, n);
}

void test_damage()
{
  check_damage(true);
}

void test_no_damage()
{
  check_damage(false);
}

/* A still screen delivers the requested rate, identical frames, steady PTS. */
void test_still_rate()
{
  Xvfb x;
  Canvas screen(1280, 720);
  XPaint xp(x, &screen);
  paint_scene(xp);
  Props p;
  p.show_cursor = 0;
  p.use_damage = 1;
  {
    Capture cap(x.name(), p, "video/x-raw,framerate=30/1", true);
    cap.play();
    for (int i = 0; i < 5; i++)
      cap.pull();
    std::vector<Frame> frames;
    const gint64 start = now_ms();
    while (now_ms() - start < 1000) {
      Frame f;
      if (cap.try_pull(f, 200))
        frames.push_back(std::move(f));
    }
    const int n = int(frames.size());
    g_assert_cmpint(n, >, 2);
    const double mean_ms = double(frames.back().pts - frames.front().pts) / GST_MSECOND / (n - 1);
    GstClockTime min_d = GST_CLOCK_TIME_NONE, max_d = 0;
    for (int i = 1; i < n; i++) {
      g_assert_true(GST_CLOCK_TIME_IS_VALID(frames[i].pts));
      if (frames[i].pts <= frames[i - 1].pts)
        g_error("PTS not increasing at frame %d", i);
      const GstClockTime d = frames[i].pts - frames[i - 1].pts;
      min_d = std::min(min_d, d), max_d = std::max(max_d, d);
    }
    g_print(
        "# still screen: %d frames in 1 s, PTS step mean %.2f ms (min %.2f, max %.2f), "
        "duration %.2f ms\n",
        n, mean_ms, double(min_d) / GST_MSECOND, double(max_d) / GST_MSECOND,
        GST_CLOCK_TIME_IS_VALID(frames[0].duration) ? double(frames[0].duration) / GST_MSECOND
                                                    : -1.0);
    g_assert_cmpint(n, >=, 27);
    g_assert_cmpint(n, <=, 33);
    g_assert_cmpfloat(mean_ms, >=, 31.0);
    g_assert_cmpfloat(mean_ms, <=, 36.0);
    g_assert_cmpuint(min_d, >=, 10 * GST_MSECOND);
    g_assert_cmpuint(max_d, <=, 60 * GST_MSECOND);
    for (const Frame &f : frames)
      expect_pixels(f, screen, 0, 0, "still screen");
  }
  /* Unconstrained: 30/1; fast rates are accepted. */
  {
    Capture cap(x.name(), p, "");
    cap.play();
    const Frame f = cap.pull();
    g_assert_cmpint(f.fps_n, ==, 30);
    g_assert_cmpint(f.fps_d, ==, 1);
  }
  {
    Capture cap(x.name(), p, "video/x-raw,framerate=1000/1", true);
    cap.play();
    const Frame f = cap.pull();
    g_assert_cmpint(f.fps_n, ==, 1000);
    int n = 0;
    const gint64 start = now_ms();
    Frame g;
    while (now_ms() - start < 500 && cap.try_pull(g, 200))
      n++;
    g_print("# framerate=1000/1 on a still screen: %d frames in 0.5 s\n", n);
  }
}

void test_resolution_change()
{
  Xvfb x;
  Canvas screen(1280, 720);
  XPaint xp(x, &screen);
  paint_scene(xp);
  Props p;
  p.show_cursor = 0;
  Capture cap(x.name(), p);
  cap.play();
  expect_pixels(cap.pull(), screen, 0, 0, "before the change");

  /* Xvfb cannot grow past its initial size: add a smaller mode, switch to
   * it, then back. */
  g_assert_true(run_tool(x.name(), {"xrandr", "--newmode", "1024x576", "0", "1024", "0", "0", "0",
                                    "576", "0", "0", "0"}));
  g_assert_true(run_tool(x.name(), {"xrandr", "--addmode", "screen", "1024x576"}));
  struct {
    const char *mode;
    int w, h;
  } steps[] = {{"1024x576", 1024, 576}, {"1280x720", 1280, 720}};
  for (const auto &s : steps) {
    const gint64 t0 = now_ms();
    g_assert_true(run_tool(x.name(), {"xrandr", "-s", s.mode}));
    Frame f;
    int frames = 0;
    do {
      f = cap.pull();
      frames++;
    } while ((f.width != s.w || f.height != s.h) && now_ms() - t0 < 5000);
    expect_size(f, s.w, s.h, "after xrandr -s");
    g_print("# xrandr -s %s: new caps after %d frame(s), %" G_GINT64_FORMAT " ms\n", s.mode, frames,
            now_ms() - t0);
    for (int i = 0; i < 10; i++) {
      f = cap.pull();
      expect_size(f, s.w, s.h, "streaming after the change");
      expect_pixels(f, screen, 0, 0, "after the change");
    }
    const std::string err = cap.error_text(0);
    if (!err.empty())
      g_error("error after the resolution change: %s", err.c_str());
  }

  /* Grabbing flat out while the mode flips: sooner or later the screen
   * shrinks between the event check and XShmGetImage (a BadMatch), which
   * must cost a retried grab, not the process. */
  Capture fast(x.name(), p, "video/x-raw,framerate=1000/1");
  fast.play();
  fast.pull();
  const gint64 t0 = now_ms();
  for (int i = 0; i < 20; i++) {
    g_assert_true(run_tool(x.name(), {"xrandr", "-s", i % 2 ? "1280x720" : "1024x576"}));
    fast.pull();
  }
  Frame f;
  do
    f = fast.pull();
  while ((f.width != 1280 || f.height != 720) && now_ms() - t0 < 10000);
  expect_size(f, 1280, 720, "after 20 mode switches");
  expect_pixels(f, screen, 0, 0, "after 20 mode switches");
  const std::string err = fast.error_text(0) + cap.error_text(0);
  if (!err.empty())
    g_error("error after 20 mode switches: %s", err.c_str());
  g_print("# 20 mode switches while grabbing at 1000/1: %" G_GINT64_FORMAT " ms, no error\n",
          now_ms() - t0);
}

/* Set while the X server is killed: Xlib's default I/O error handler would
 * exit() the whole process, which the test can only explain from atexit. */
bool expecting_server_loss = false;

void explain_exit()
{
  if (expecting_server_loss)
    g_printerr(
        "# the process exited when the X server died: the element left Xlib's default "
        "I/O error handler (which calls exit()) in place\n");
}

void test_server_killed()
{
  atexit(explain_exit);
  Xvfb x;
  XPaint xp(x);
  Props p;
  Capture cap(x.name(), p);
  cap.play();
  cap.pull();
  cap.pull();
  const gint64 t0 = now_ms();
  expecting_server_loss = true;
  x.kill_now();
  std::string dbg;
  GError *e = cap.wait_error(5000, &dbg);
  if (!e)
    g_error("no ERROR within 5 s of the X server's death");
  g_print("# error after %" G_GINT64_FORMAT " ms: %s [%s] (%s)\n", now_ms() - t0, e->message,
          g_quark_to_string(e->domain), dbg.c_str());
  if (!strstr(e->message, x.name().c_str()))
    g_error("error message \"%s\" does not name %s", e->message, x.name().c_str());
  g_assert_true(e->domain == GST_RESOURCE_ERROR);
  g_error_free(e);
  const gint64 t1 = now_ms();
  g_assert_cmpint(set_state(cap.pipeline(), GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  g_print("# set_state(NULL) took %" G_GINT64_FORMAT " ms\n", now_ms() - t1);
  expecting_server_loss = false;
}

void test_no_display()
{
  if (g_strcmp0(g_getenv("LIVECAST_IN_NETNS"), "1") != 0) {
    testutil::skip_missing(
        "libxcb tries TCP 127.0.0.1:60NN for a missing display: run in "
        "tests/netns-run.sh");
    return;
  }
  /* A display nobody serves: no lock file, no socket. */
  std::string display;
  for (int n = 97; n < 200 && display.empty(); n++) {
    const std::string lock = "/tmp/.X" + std::to_string(n) + "-lock";
    const std::string socket = "/tmp/.X11-unix/X" + std::to_string(n);
    if (!g_file_test(lock.c_str(), G_FILE_TEST_EXISTS) &&
        !g_file_test(socket.c_str(), G_FILE_TEST_EXISTS))
      display = ":" + std::to_string(n);
  }
  if (display.empty())
    g_error("displays :97 to :199 are all in use here");
  const char *name = display.c_str();
  Props p;
  Capture cap(name, p);
  const gint64 t0 = now_ms();
  const GstStateChangeReturn r = set_state(cap.pipeline(), GST_STATE_PLAYING);
  GError *e = cap.wait_error(5000);
  if (!e)
    g_error("no ERROR for display %s (state change returned %s)", name,
            gst_element_state_change_return_get_name(r));
  g_print("# %s after %" G_GINT64_FORMAT " ms: state change %s, error: %s\n", name, now_ms() - t0,
          gst_element_state_change_return_get_name(r), e->message);
  if (!strstr(e->message, name))
    g_error("error message \"%s\" does not name %s", e->message, name);
  g_assert_true(r == GST_STATE_CHANGE_FAILURE);
  g_error_free(e);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  testutil::add("/screencapsrc/pixels", test_pixels);
  testutil::add("/screencapsrc/region", test_region);
  testutil::add("/screencapsrc/monitors", test_monitors);
  testutil::add("/screencapsrc/cursor", test_cursor);
  testutil::add("/screencapsrc/damage", test_damage);
  testutil::add("/screencapsrc/no-damage", test_no_damage);
  testutil::add("/screencapsrc/still-rate", test_still_rate);
  testutil::add("/screencapsrc/resolution-change", test_resolution_change);
  testutil::add("/screencapsrc/server-killed", test_server_killed);
  testutil::add("/screencapsrc/no-display", test_no_display);
  return testutil::run();
}
