/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realsensesrc against the fake librealsense2 (tests/fakes/), loaded the
 * way the real one is: by file through library-path or
 * LIVECAST_REALSENSE_LIBRARY, or not found by the default search. Every
 * check is on what an application sees: caps, pixel values, metadata,
 * timestamps, error messages; after each pipeline the fake must have every
 * frame back (no leaked, no double-released frame) and every library object
 * deleted. The recordings in ../shared/data/realsense play through the real
 * library only: that case skips, saying why, where it is not installed, and
 * meson runs it as a test of its own (realsense-recordings) so that the skip
 * shows as SKIP.
 */
#include <glib/gstdio.h>

#include <cmath>
#include <map>
#include <set>

#include "rstest.h"
#include "testutil.h"

using namespace rstest;

namespace
{

/* Every frame is back with the fake, none released twice, nothing streams, and every library
 * object (context, device list, device, config, pipeline, error...) is deleted. */
void expect_all_released(const char *what)
{
  const Fake &fake = Fake::get();
  /* The device closes when its last element stops: give its thread a moment. */
  const gint64 deadline = now_ms() + 2000;
  while ((fake.live_frames() || fake.streaming() || fake.live_objects(nullptr, 0)) &&
         now_ms() < deadline)
    g_usleep(10000);
  char objects[256] = "";
  const int n_objects = fake.live_objects(objects, sizeof objects);
  if (fake.live_frames() || fake.misuse() || fake.streaming() || n_objects)
    g_error(
        "%s: the fake has %d frame(s) not released, %d misuse(s), %d pipeline(s) streaming, "
        "%d object(s) not deleted%s%s%s",
        what, fake.live_frames(), fake.misuse(), fake.streaming(), n_objects, n_objects ? " (" : "",
        objects, n_objects ? ")" : "");
}

/* Colour pattern of the fake: R (x + 16*camera), G y, B frame number. */
void expect_color(const Frame &f, int camera, const char *order, const char *what)
{
  g_assert_true(f.has_rs_meta);
  int bad = 0;
  for (int y = 0; y < f.height; y += 7)
    for (int x = 0; x < f.width; x += 5) {
      const uint8_t want[3] = {uint8_t(x + 16 * camera), uint8_t(y), uint8_t(f.number)};
      const uint8_t *p = f.at(x, y);
      for (int c = 0; c < 3; c++) {
        const int src = order[c] == 'R' ? 0 : order[c] == 'G' ? 1 : 2;
        if (p[c] != want[src] && bad++ < 5)
          g_printerr("# %s: (%d,%d) channel %c is %d, expected %d\n", what, x, y, order[c], p[c],
                     want[src]);
      }
      if (f.pixel == 4 && p[3] != 255 && bad++ < 5)
        g_printerr("# %s: (%d,%d) alpha %d\n", what, x, y, p[3]);
    }
  if (bad)
    g_error("%s: %d wrong values (frame %" G_GUINT64_FORMAT ")", what, bad, f.number);
}

uint16_t ramp(int camera, int x, int y)
{
  return x == 0 ? 0 : uint16_t(1000 * (camera + 1) + 4 * x + y);
}

void expect_depth(const Frame &f, int camera, const char *what)
{
  int bad = 0;
  for (int y = 0; y < f.height; y += 3)
    for (int x = 0; x < f.width; x += 3)
      if (f.depth(x, y) != ramp(camera, x, y) && bad++ < 5)
        g_printerr("# %s: depth (%d,%d) is %u, expected %u\n", what, x, y, f.depth(x, y),
                   ramp(camera, x, y));
  if (bad)
    g_error("%s: %d wrong depth values", what, bad);
}

void expect_caps(const Frame &f, const char *format, int w, int h, int fps, const char *what)
{
  if (f.format != format || f.width != w || f.height != h || f.fps_n != fps || f.fps_d != 1)
    g_error("%s: %s %dx%d at %d/%d, expected %s %dx%d at %d/1", what, f.format.c_str(), f.width,
            f.height, f.fps_n, f.fps_d, format, w, h, fps);
}

/* The error a pipeline posts (state change or streaming), as text. */
std::string start_error(const std::string &desc, int timeout_ms = 3000)
{
  Pipe p(desc);
  const GstStateChangeReturn r = p.try_play();
  std::string dbg;
  GError *e = p.wait_error(timeout_ms, &dbg);
  if (!e)
    g_error("%s: no error within %d ms (state change %s)", desc.c_str(), timeout_ms,
            gst_element_state_change_return_get_name(r));
  const std::string msg = e->message;
  g_print("# error: %s\n#   (%s)\n", msg.c_str(), dbg.c_str());
  g_error_free(e);
  return msg;
}

void test_color_and_depth()
{
  const int started = Fake::get().pipelines_started();
  {
    Pipe p(src("color", "name=color") + sink("c") + " " + src("depth", "name=depth") + sink("d"));
    p.play();
    std::vector<Frame> color, depth;
    for (int i = 0; i < 30; i++) {
      color.push_back(p.pull("c"));
      depth.push_back(p.pull("d"));
    }
    /* Default mode: 640x480 at 30, the formats the streams are known in. */
    expect_caps(color[0], "RGB", 640, 480, 30, "colour");
    expect_caps(depth[0], "GRAY16_LE", 640, 480, 30, "depth");
    for (const Frame &f : color) {
      expect_color(f, 0, "RGB", "colour");
      ASSERT_STR_EQ(f.stream, "color");
      ASSERT_STR_EQ(f.serial, "831612070001");
      g_assert_cmpfloat(f.unit, ==, 0); /* no depth meta on colour */
    }
    for (const Frame &f : depth) {
      expect_depth(f, 0, "depth");
      g_assert_cmpfloat(f.unit, ==, 0.001);
      ASSERT_STR_EQ(f.stream, "depth");
      ASSERT_STR_EQ(f.domain, "global-time");
    }
    gdouble unit = 0;
    g_object_get(p.get("depth"), "depth-unit", &unit, nullptr);
    g_assert_cmpfloat(unit, ==, 0.001);

    /* Timestamps: on the pipeline clock, strictly increasing, one frame apart,
     * never in the future, and colour and depth of one frameset together. */
    for (const auto *frames : {&color, &depth}) {
      const std::vector<Frame> &fs = *frames;
      for (size_t i = 1; i < fs.size(); i++) {
        if (fs[i].pts <= fs[i - 1].pts)
          g_error("PTS not increasing at %zu: %" GST_TIME_FORMAT " after %" GST_TIME_FORMAT, i,
                  GST_TIME_ARGS(fs[i].pts), GST_TIME_ARGS(fs[i - 1].pts));
        g_assert_cmpuint(fs[i].number, ==, fs[i - 1].number + 1);
      }
      for (const Frame &f : fs) {
        g_assert_cmpuint(f.duration, ==, GST_SECOND / 30);
        g_assert_cmpuint(f.pts, <=, f.pulled_running);
      }
      const double step_ms =
          double(fs.back().pts - fs.front().pts) / GST_MSECOND / double(fs.size() - 1);
      g_print("# %s: PTS step %.2f ms over %zu frames, first PTS %" GST_TIME_FORMAT "\n",
              fs[0].stream.c_str(), step_ms, fs.size(), GST_TIME_ARGS(fs[0].pts));
      g_assert_cmpfloat(step_ms, >, 30.0);
      g_assert_cmpfloat(step_ms, <, 37.0);
    }
    double worst = 0;
    for (const Frame &c : color)
      for (const Frame &d : depth)
        if (c.number == d.number)
          worst = std::max(worst, std::fabs(double(c.pts) - double(d.pts)) / GST_MSECOND);
    g_print("# colour and depth of one frameset: PTS at most %.3f ms apart\n", worst);
    g_assert_cmpfloat(worst, <, 2.0);

    /* Latency: one frame. */
    GstQuery *q = gst_query_new_latency();
    g_assert_true(gst_element_query(p.get("color"), q));
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(q, &live, &min, &max);
    gst_query_unref(q);
    g_assert_true(live);
    g_assert_cmpuint(min, ==, GST_SECOND / 30);
    g_assert_cmpuint(max, >=, min);
  }
  /* One camera, one librealsense2 pipeline for both elements. */
  g_assert_cmpint(Fake::get().pipelines_started() - started, ==, 1);
  expect_all_released("colour and depth");
}

void test_formats()
{
  struct Case {
    const char *stream, *caps, *format;
    int w, h, fps;
  } cases[] = {
      {"color", "video/x-raw,format=BGR,width=1280,height=720,framerate=15/1", "BGR", 1280, 720,
       15},
      {"color", "video/x-raw,format=RGBA,width=424,height=240", "RGBA", 424, 240, 30},
      {"color", "video/x-raw,format=BGRA,framerate=60/1", "BGRA", 640, 480, 60},
      {"color", "video/x-raw,format=YUY2,width=1920,height=1080", "YUY2", 1920, 1080, 30},
      {"color", "video/x-raw,width=1920,height=1080,framerate=6/1", "RGB", 1920, 1080, 6},
      {"depth", "video/x-raw,width=848,height=480,framerate=90/1", "GRAY16_LE", 848, 480, 90},
      {"infrared", "video/x-raw", "GRAY8", 640, 480, 30},
      {"infrared", "video/x-raw,format=GRAY16_LE", "GRAY16_LE", 1280, 720, 15},
  };
  for (const Case &c : cases) {
    Pipe p(src(c.stream) + " ! " + c.caps + sink("s"));
    p.play();
    Frame f = p.pull("s");
    f = p.pull("s"); /* a second one: steady state */
    const std::string what = std::string(c.stream) + " " + c.caps;
    expect_caps(f, c.format, c.w, c.h, c.fps, what.c_str());
    const std::string fmt = c.format;
    if (fmt == "RGB" || fmt == "RGBA")
      expect_color(f, 0, "RGB", what.c_str());
    else if (fmt == "BGR" || fmt == "BGRA")
      expect_color(f, 0, "BGR", what.c_str());
    else if (fmt == "GRAY16_LE" && std::string(c.stream) == "depth")
      expect_depth(f, 0, what.c_str());
    else if (fmt == "YUY2") {
      for (int y = 0; y < f.height; y += 11)
        for (int x = 0; x < f.width; x += 13) {
          const int R = uint8_t(x), G = uint8_t(y), B = uint8_t(f.number);
          g_assert_cmpint(f.data[(size_t(y) * f.width + x) * 2], ==,
                          (77 * R + 150 * G + 29 * B) >> 8);
        }
    } else if (fmt == "GRAY8") {
      for (int y = 0; y < f.height; y += 11)
        for (int x = 0; x < f.width; x += 13)
          g_assert_cmpint(*f.at(x, y), ==, uint8_t(x + y + f.number));
    } else { /* infrared GRAY16_LE */
      for (int y = 0; y < f.height; y += 11)
        for (int x = 0; x < f.width; x += 13)
          g_assert_cmpint(f.depth(x, y), ==, uint8_t(x + y + f.number) << 8);
    }
  }
  /* The right imager is infrared 2; there is no infrared 3. */
  {
    Pipe p(src("infrared", "stream-index=2") + sink("s"));
    p.play();
    const Frame f = p.pull("s");
    g_assert_cmpint(*f.at(10, 20), ==, uint8_t(30 + f.number));
  }
  const std::string e = start_error(src("infrared", "stream-index=3") + " ! fakesink");
  expect_contains(e, "has no infrared stream 3; it has 1, 2.", "infrared 3");
  expect_all_released("formats");
}

void test_no_matching_mode()
{
  /* The colour sensor also lists Y16 (calibration): not a colour format, not
   * even linkable. */
  GError *err = nullptr;
  GstElement *p =
      gst_parse_launch((src("color") + " ! video/x-raw,format=GRAY16_LE ! fakesink").c_str(), &err);
  g_assert_nonnull(err);
  expect_contains(err->message, "can't handle caps video/x-raw, format=(string)GRAY16_LE",
                  "colour as GRAY16_LE");
  g_error_free(err);
  if (p)
    gst_object_unref(p);
  {
    Pipe any(src("color") + " ! video/x-raw,width=1920,height=1080,framerate=15/1" + sink("s"));
    any.play();
    ASSERT_STR_EQ(any.pull("s").format, "RGB");
  }
  const std::string e =
      start_error(src("color") + " ! video/x-raw,width=1000,height=500 ! fakesink");
  expect_contains(e,
                  "The RealSense camera 831612070001 (Intel RealSense D435 (fake)) offers no "
                  "colour mode that downstream accepts; it offers 320x240, 424x240, 640x480, "
                  "848x480, 1280x720, 1920x1080 at 6, 15, 30, 60 fps.",
                  "1000x500");
  expect_all_released("no matching mode");
}

void test_serial()
{
  const int started = Fake::get().pipelines_started();
  {
    Pipe p(src("color", "serial=831612070002") + sink("c") + " " +
           src("depth", "serial=831612070002") + sink("d"));
    p.play();
    const Frame c = p.pull("c"), d = p.pull("d");
    expect_color(c, 1, "RGB", "second camera");
    expect_depth(d, 1, "second camera");
    ASSERT_STR_EQ(c.serial, "831612070002");
  }
  g_assert_cmpint(Fake::get().pipelines_started() - started, ==, 1);
  /* Naming the first camera and naming none is the same camera. */
  {
    Pipe p(src("color", "serial=831612070001") + sink("c") + " " + src("depth") + sink("d"));
    p.play();
    expect_color(p.pull("c"), 0, "RGB", "first camera by serial");
    expect_depth(p.pull("d"), 0, "first camera by default");
  }
  g_assert_cmpint(Fake::get().pipelines_started() - started, ==, 2);
  /* Both cameras in one pipeline: two devices. */
  {
    Pipe p(src("color", "serial=831612070001") + sink("a") + " " +
           src("color", "serial=831612070002") + sink("b"));
    p.play();
    expect_color(p.pull("a"), 0, "RGB", "camera 1 of 2");
    expect_color(p.pull("b"), 1, "RGB", "camera 2 of 2");
  }
  g_assert_cmpint(Fake::get().pipelines_started() - started, ==, 4);
  const std::string e = start_error(src("color", "serial=123") + " ! fakesink");
  ASSERT_STR_EQ(e,
                "No RealSense camera with serial 123 is connected; found 831612070001 (Intel "
                "RealSense D435 (fake)), 831612070002 (Intel RealSense D435 (fake)).");
  expect_all_released("serial");
}

/* Aligned depth at 1280x720 beside unaligned depth of the same camera: one
 * depth mode for both, whichever negotiated first chose it. Returns the
 * unaligned frame. */
Frame play_aligned_beside_unaligned()
{
  Pipe p(src("depth", "align=color") + " ! video/x-raw,width=1280,height=720" + sink("a") + " " +
         src("depth") + sink("n"));
  p.play();
  const Frame a = p.pull("a"), n = p.pull("n");
  expect_caps(a, "GRAY16_LE", 1280, 720, 30, "aligned depth");
  g_assert_true((n.width == 1280 && n.height == 720) || (n.width == 640 && n.height == 480));
  expect_depth(n, 0, "unaligned depth");
  for (int y = 0; y < a.height; y += 9)
    for (int x = 0; x < a.width; x += 7)
      g_assert_cmpint(a.depth(x, y), ==, ramp(0, x * n.width / 1280, y * n.height / 720));
  return n;
}

void test_align()
{
  /* Colour 1920x1080: depth comes at that size, from the 640x480 depth mode. */
  {
    Pipe p(src("color") + " ! video/x-raw,width=1920,height=1080" + sink("c") + " " +
           src("depth", "align=color") + sink("d"));
    p.play();
    const Frame c = p.pull("c"), d = p.pull("d");
    expect_caps(c, "RGB", 1920, 1080, 30, "colour");
    expect_caps(d, "GRAY16_LE", 1920, 1080, 30, "aligned depth");
    g_assert_cmpfloat(d.unit, ==, 0.001);
    int bad = 0;
    for (int y = 0; y < d.height; y += 9)
      for (int x = 0; x < d.width; x += 7) {
        const uint16_t want = ramp(0, x * 640 / 1920, y * 480 / 1080);
        if (d.depth(x, y) != want && bad++ < 5)
          g_printerr("# aligned (%d,%d): %u, expected %u\n", x, y, d.depth(x, y), want);
      }
    if (bad)
      g_error("aligned depth: %d wrong values", bad);
  }
  /* Aligned depth alone (colour enabled for the alignment only), and next
   * to unaligned depth of the same camera. */
  const Frame n = play_aligned_beside_unaligned();
  g_print("# depth mode shared by aligned and unaligned depth: %dx%d\n", n.width, n.height);
  /* Colour and aligned depth must agree on the size. */
  const std::string e =
      start_error(src("color") + " ! video/x-raw,width=1280,height=720" + sink("c") + " " +
                  src("depth", "align=color") + " ! video/x-raw,width=640,height=480" + sink("d"));
  expect_contains(e, "give colour and depth the same width and height.", "size clash");
  expect_contains(start_error(src("color", "align=color") + " ! fakesink"),
                  "align=color applies to stream=depth only, not stream=color.", "align colour");
  expect_all_released("align");
}

/* Two elements of one stream negotiate at once: one can configure the
 * shared depth mode between the other's caps query and its set_caps(). That
 * one negotiates again instead of failing (it failed about one start in
 * twelve). */
void test_shared_mode_race()
{
  constexpr int kStarts = 40;
  for (int i = 0; i < kStarts; i++)
    play_aligned_beside_unaligned();
}

/* Depth at 15 fps next to colour at 30: framesets come at 30 and carry each
 * depth frame twice; the depth element must deliver each once. */
void test_slower_stream()
{
  {
    Pipe p(src("color") + " ! video/x-raw,framerate=30/1" + sink("c") + " " + src("depth") +
           " ! video/x-raw,framerate=15/1" + sink("d"));
    p.play();
    std::vector<Frame> depth;
    int colour_frames = 0;
    const gint64 t0 = now_ms();
    while (now_ms() - t0 < 1500) {
      Frame f;
      while (p.try_pull("c", f, 0))
        colour_frames++;
      if (p.try_pull("d", f, 20))
        depth.push_back(f);
    }
    g_print("# in 1.5 s: %d colour frames, %zu depth frames\n", colour_frames, depth.size());
    for (size_t i = 1; i < depth.size(); i++)
      if (depth[i].number != depth[i - 1].number + 1)
        g_error("depth frame %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT, depth[i].number,
                depth[i - 1].number);
    g_assert_cmpint(int(depth.size()), >=, 18);
    g_assert_cmpint(int(depth.size()), <=, 25);
    g_assert_cmpint(colour_frames, >=, 38);
  }
  expect_all_released("slower stream");
}

void test_depth_unit()
{
  ScopedEnv unit("LIVECAST_FAKE_RS_DEPTH_UNIT", "0.0001");
  {
    Pipe p(src("depth", "name=depth") + " ! tee name=t  t. ! queue" + sink("raw") +
           "  t. ! queue ! videoscale ! video/x-raw,width=320,height=240" + sink("scaled") +
           "  t. ! queue ! videoconvert ! video/x-raw,format=GRAY8" + sink("converted"));
    p.play();
    const Frame raw = p.pull("raw"), scaled = p.pull("scaled"), converted = p.pull("converted");
    g_assert_cmpfloat(raw.unit, ==, 0.0001);
    gdouble u = 0;
    g_object_get(p.get("depth"), "depth-unit", &u, nullptr);
    g_assert_cmpfloat(u, ==, 0.0001);
    /* Scaling keeps the unit; the frame metadata goes everywhere. */
    g_assert_cmpint(scaled.width, ==, 320);
    g_assert_cmpfloat(scaled.unit, ==, 0.0001);
    g_assert_true(scaled.has_rs_meta);
    g_assert_true(converted.has_rs_meta);
    g_assert_cmpuint(converted.number, >, 0);
  }
  expect_all_released("depth unit");
}

void test_stride()
{
  ScopedEnv pad("LIVECAST_FAKE_RS_STRIDE_PAD", "36");
  {
    Pipe p(src("color") + " ! video/x-raw,width=424,height=240" + sink("c") + " " + src("depth") +
           sink("d"));
    p.play();
    expect_color(p.pull("c"), 0, "RGB", "padded rows");
    expect_depth(p.pull("d"), 0, "padded rows");
  }
  expect_all_released("stride");
}

void test_timestamp_domains()
{
  for (const char *domain : {"hardware", "system"}) {
    ScopedEnv d("LIVECAST_FAKE_RS_DOMAIN", domain);
    Pipe p(src("color") + sink("c"));
    p.play();
    std::vector<Frame> fs;
    for (int i = 0; i < 20; i++)
      fs.push_back(p.pull("c"));
    ASSERT_STR_EQ(fs[0].domain,
                  std::string(domain) == "hardware" ? "hardware-clock" : "system-time");
    for (size_t i = 1; i < fs.size(); i++) {
      g_assert_cmpuint(fs[i].pts, >, fs[i - 1].pts);
      g_assert_cmpuint(fs[i].pts, <=, fs[i].pulled_running);
    }
    const double step = double(fs.back().pts - fs.front().pts) / GST_MSECOND / 19;
    g_print("# %s clock: PTS step %.2f ms\n", domain, step);
    g_assert_cmpfloat(step, >, 27.0);
    g_assert_cmpfloat(step, <, 40.0);
  }
  expect_all_released("timestamp domains");
}

void test_no_device()
{
  ScopedEnv none("LIVECAST_FAKE_RS_DEVICES", "");
  const std::string e = start_error(src("color") + " ! fakesink");
  ASSERT_STR_EQ(e, "No RealSense camera is connected (librealsense2 2.50.0 found none).");
  expect_all_released("no device");
}

/* An error reaches the application while streaming, for both elements; the
 * pipeline then stops at once. */
void expect_streaming_error(const std::string &expected, int within_ms, const std::string &props)
{
  Pipe p(src("color", props) + sink("c") + " " + src("depth", props) + sink("d"));
  p.play();
  const gint64 t0 = now_ms();
  std::string dbg;
  GError *e = p.wait_error(within_ms, &dbg);
  if (!e)
    g_error("no error within %d ms (expected \"%s\")", within_ms, expected.c_str());
  g_print("# error after %" G_GINT64_FORMAT " ms: %s\n", now_ms() - t0, e->message);
  g_assert_true(e->domain == GST_RESOURCE_ERROR);
  const std::string msg = e->message;
  g_error_free(e);
  expect_contains(msg, expected, "streaming error");
  const gint64 t1 = now_ms();
  g_assert_cmpint(set_state(p.pipeline(), GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  g_print("# set_state(NULL) took %" G_GINT64_FORMAT " ms\n", now_ms() - t1);
  g_assert_cmpint(now_ms() - t1, <, 1000);
}

void test_unplug()
{
  ScopedEnv fault("LIVECAST_FAKE_RS_FAULT", "unplug-after=15");
  expect_streaming_error(
      "The RealSense camera 831612070001 (Intel RealSense D435 (fake)) was disconnected.", 3000,
      "");
  expect_all_released("unplug");
  /* Unplugged by hand in the middle of a pipeline that already streams. */
  {
    ScopedEnv nofault("LIVECAST_FAKE_RS_FAULT", nullptr);
    Pipe p(src("color") + sink("c"));
    p.play();
    p.pull("c");
    Fake::get().unplug("831612070001");
    const gint64 t0 = now_ms();
    std::string text = p.error_text(3000);
    expect_contains(text, "was disconnected.", "unplugged while streaming");
    g_print("# unplug noticed after %" G_GINT64_FORMAT " ms\n", now_ms() - t0);
    g_assert_cmpint(now_ms() - t0, <, 1500);
  }
  expect_all_released("unplug by hand");
}

void test_timeout()
{
  ScopedEnv fault("LIVECAST_FAKE_RS_FAULT", "timeout");
  expect_streaming_error(
      "No frames from the RealSense camera 831612070001 (Intel RealSense D435 (fake)) for 700 "
      "ms.",
      3000, "timeout=700");
  expect_all_released("timeout");
}

void test_device_error()
{
  ScopedEnv fault("LIVECAST_FAKE_RS_FAULT", "error-after=5");
  expect_streaming_error(
      "Lost the RealSense camera 831612070001 (Intel RealSense D435 (fake)): fake: USB transfer "
      "failed (the camera stopped answering).",
      3000, "");
  expect_all_released("device error");
  ScopedEnv start("LIVECAST_FAKE_RS_FAULT", "start-error");
  expect_contains(start_error(src("color") + " ! fakesink"),
                  "Cannot start the RealSense camera 831612070001 with colour 640x480 RGB8 at 30 "
                  "fps: failed to set power state.",
                  "start error");
  expect_all_released("start error");
}

/* Stopping while the camera sends nothing returns at once. */
void test_stop_while_waiting()
{
  ScopedEnv fault("LIVECAST_FAKE_RS_FAULT", "timeout");
  for (int i = 0; i < 3; i++) {
    {
      Pipe p(src("color", "timeout=0") + sink("c") + " " + src("depth", "timeout=0") + sink("d"));
      p.play();
      g_usleep(300000);
    }
    g_print("# stopped in %" G_GINT64_FORMAT " ms\n", Pipe::stop_ms);
    g_assert_cmpint(Pipe::stop_ms, <, 500);
  }
  expect_all_released("stop while waiting");
}

/* Two pipelines on one camera: the second joins a streaming device, which
 * restarts with both streams; the first keeps receiving. */
void test_two_pipelines()
{
  const int started = Fake::get().pipelines_started();
  {
    Pipe a(src("color") + sink("c"));
    a.play();
    a.pull("c");
    {
      Pipe b(src("depth") + sink("d"));
      b.play();
      expect_depth(b.pull("d"), 0, "second pipeline");
      Frame f;
      while (a.try_pull("c", f, 0)) {
      }
      expect_color(a.pull("c"), 0, "RGB", "first pipeline after the restart");
    }
    expect_color(a.pull("c"), 0, "RGB", "first pipeline after the second stopped");
    g_assert_cmpint(Fake::get().pipelines_started() - started, ==, 2);
  }
  expect_all_released("two pipelines");
}

std::string write_recording(const char *name, const std::string &text)
{
  gchar *path = g_build_filename(g_get_tmp_dir(), name, nullptr);
  g_assert_true(g_file_set_contents(path, text.c_str(), -1, nullptr));
  std::string p = path;
  g_free(path);
  return p;
}

void test_playback()
{
  const std::string bag = write_recording(
      "livecast-fake.bag",
      "LIVECAST-FAKE-BAG\nserial=FAKEBAG1\nframes=12\ndepth=640x480@30\ncolor=640x480@30 RGB8\n");
  {
    Pipe p(src("color", "playback-file=" + bag) + sink("c") + " " +
           src("depth", "playback-file=" + bag) + sink("d"));
    p.play();
    std::vector<Frame> c, d;
    Frame f;
    while (p.try_pull("c", f, 2000))
      c.push_back(f);
    while (p.try_pull("d", f, 500))
      d.push_back(f);
    g_assert_true(p.wait_eos("c", 100) && p.wait_eos("d", 100));
    g_print("# recording of 12: %zu colour, %zu depth frames, then EOS\n", c.size(), d.size());
    g_assert_cmpint(int(c.size()), ==, 12);
    g_assert_cmpint(int(d.size()), ==, 12);
    ASSERT_STR_EQ(c[0].serial, "FAKEBAG1");
    g_assert_cmpuint(c.back().number, ==, 12);
    expect_depth(d[5], 0, "recorded depth");
  }
  expect_all_released("playback");
  {
    Pipe p(src("color", "playback-file=" + bag + " loop=true") + sink("c"));
    p.play();
    std::vector<guint64> numbers;
    for (int i = 0; i < 30; i++)
      numbers.push_back(p.pull("c").number);
    /* It reached the end and started again. (A frame may be skipped on a
     * loaded machine: the source keeps only the newest, so look for the
     * wrap, not for frame 12 itself.) */
    bool wrapped = false;
    for (std::size_t i = 1; i < numbers.size(); i++)
      wrapped = wrapped || (numbers[i] < numbers[i - 1] && numbers[i - 1] >= 10);
    g_assert_true(wrapped);
  }
  expect_all_released("loop");
  const std::string junk = write_recording("livecast-not-a.bag", "hello\n");
  ASSERT_STR_EQ(start_error(src("color", "playback-file=" + junk) + " ! fakesink"),
                ("Cannot play " + junk +
                 " (is it a RealSense .bag recording?): Failed to create ros reader: Bag "
                 "unindexed: " +
                 junk + "."));
  ASSERT_STR_EQ(start_error(src("color", "playback-file=/nonexistent/x.bag") + " ! fakesink"),
                "Cannot play /nonexistent/x.bag: no such file.");
  g_unlink(bag.c_str());
  g_unlink(junk.c_str());
}

/* ---- loading librealsense2: each case in a new process, as a library once
 * loaded stays loaded ---- */

/* Whether the dynamic loader knows a real librealsense2 (ldconfig's cache
 * or LD_LIBRARY_PATH). */
bool real_library_installed(std::string &where)
{
  gchar *out = nullptr;
  const char *argv[] = {"/sbin/ldconfig", "-p", nullptr};
  std::vector<std::string> lines;
  if (g_spawn_sync(nullptr, (gchar **)argv, nullptr, G_SPAWN_STDERR_TO_DEV_NULL, nullptr, nullptr,
                   &out, nullptr, nullptr, nullptr) &&
      out) {
    gchar **l = g_strsplit(out, "\n", -1);
    for (gchar **it = l; *it; it++)
      lines.push_back(*it);
    g_strfreev(l);
  }
  g_free(out);
  for (const std::string &line : lines)
    if (line.find("librealsense2.so") != std::string::npos) {
      where = line;
      return true;
    }
  const char *llp = g_getenv("LD_LIBRARY_PATH");
  gchar **dirs = g_strsplit(llp ? llp : "", ":", -1);
  for (gchar **d = dirs; *d && where.empty(); d++) {
    GDir *dir = **d ? g_dir_open(*d, 0, nullptr) : nullptr;
    while (const char *name = dir ? g_dir_read_name(dir) : nullptr)
      if (g_str_has_prefix(name, "librealsense2.so")) {
        where = std::string(*d) + "/" + name;
        break;
      }
    if (dir)
      g_dir_close(dir);
  }
  g_strfreev(dirs);
  return !where.empty();
}

/* Runs the current test again in a subprocess with @env set; it must pass
 * and print @expected. */
void in_subprocess(std::initializer_list<std::pair<const char *, const char *>> env,
                   const char *expected_stdout)
{
  std::vector<std::unique_ptr<ScopedEnv>> set;
  for (const auto &[k, v] : env)
    set.push_back(std::make_unique<ScopedEnv>(k, v));
  g_test_trap_subprocess(nullptr, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
  g_test_trap_assert_stdout(expected_stdout);
}

void test_library_explicit_missing()
{
  if (g_test_subprocess()) {
    const std::string e =
        start_error("realsensesrc library-path=/nonexistent/librealsense2.so.2.50 ! fakesink");
    g_print("%s\n", e.c_str());
    return;
  }
  in_subprocess({{"LIVECAST_REALSENSE_LIBRARY", fake_path().c_str()}},
                "*Cannot use /nonexistent/librealsense2.so.2.50 as librealsense2 (set by the "
                "library-path property): /nonexistent/librealsense2.so.2.50: cannot open shared "
                "object file: No such file or directory.*");
}

void test_library_from_environment()
{
  if (g_test_subprocess()) {
    {
      Pipe p("realsensesrc ! video/x-raw,width=320,height=240" + sink("c"));
      p.play();
      expect_color(p.pull("c"), 0, "RGB", "library from the environment");
    }
    expect_all_released("library from the environment");
    g_print("played\n");
    return;
  }
  in_subprocess({{"LIVECAST_REALSENSE_LIBRARY", fake_path().c_str()}}, "*played*");
}

void test_library_environment_missing()
{
  if (g_test_subprocess()) {
    g_print("%s\n", start_error("realsensesrc ! fakesink").c_str());
    return;
  }
  in_subprocess({{"LIVECAST_REALSENSE_LIBRARY", "/nonexistent/librealsense2.so"}},
                "*Cannot use /nonexistent/librealsense2.so as librealsense2 (set by "
                "LIVECAST_REALSENSE_LIBRARY): *");
}

void test_library_too_old()
{
  if (g_test_subprocess()) {
    g_print("%s\n", start_error(src("color") + " ! fakesink").c_str());
    return;
  }
  in_subprocess(
      {{"LIVECAST_FAKE_RS_API_VERSION", "23400"}},
      ("*Cannot use " + fake_path() +
       " as librealsense2 (set by the library-path "
       "property): librealsense2 2.34.0 at " +
       fake_path() + " is not supported; realsensesrc needs librealsense2 2.35.0 or a newer 2.x.*")
          .c_str());
}

void test_library_newer_minor()
{
  /* A newer 2.x accepts our older API version. */
  if (g_test_subprocess()) {
    {
      Pipe p(src("color") + sink("c"));
      p.play();
      p.pull("c");
    }
    g_print("played\n");
    return;
  }
  in_subprocess({{"LIVECAST_FAKE_RS_API_VERSION", "25701"}}, "*played*");
}

void test_library_not_realsense()
{
  if (g_test_subprocess()) {
    g_print("%s\n", start_error("realsensesrc library-path=libz.so.1 ! fakesink").c_str());
    return;
  }
  in_subprocess({},
                "*Cannot use libz.so.1 as librealsense2 (set by the library-path property): "
                "*libz.so.1 is not a usable librealsense2: it has no rs2_get_error_message.*");
}

void test_library_not_installed()
{
  std::string where;
  if (real_library_installed(where)) {
    testutil::skip_unavailable("a real librealsense2 is installed (" + where +
                               "): the default search finds it");
    return;
  }
  if (g_test_subprocess()) {
    g_print("%s\n", start_error("realsensesrc ! fakesink").c_str());
    return;
  }
  in_subprocess({{"LIVECAST_REALSENSE_LIBRARY", nullptr}},
                "*librealsense2 is not installed: install Intel's librealsense2 package (from "
                "Intel's apt repository, see "
                "https://github.com/IntelRealSense/librealsense/blob/master/doc/"
                "distribution_linux.md), or set the library-path property or "
                "LIVECAST_REALSENSE_LIBRARY to the librealsense2 library file.*");
}

/* The recordings of ../shared/data/realsense, through the real library. */
void test_real_recordings()
{
  const char *dir = g_getenv("LIVECAST_REALSENSE_DATA");
  std::string where;
  if (!dir || !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    testutil::skip_unavailable(std::string("no recordings directory (LIVECAST_REALSENSE_DATA=") +
                               (dir ? dir : "") + "): they are not part of the repository");
    return;
  }
  if (!g_test_subprocess() && !real_library_installed(where)) {
    testutil::skip_unavailable(
        "librealsense2 is not installed here (the dynamic loader knows no librealsense2.so*; "
        "Debian 12 does not package it): the .bag recordings play only through Intel's "
        "library");
    return;
  }
  if (g_test_subprocess()) {
    const std::string d435 = std::string(dir) + "/single_depth_color_640x480.bag";
    {
      Pipe p("realsensesrc stream=color playback-file=" + d435 + sink("c") +
             " realsensesrc stream=depth playback-file=" + d435 + sink("d"));
      p.play();
      const Frame c = p.pull("c", 10000), d = p.pull("d", 10000);
      expect_caps(c, "RGB", 640, 480, 6, "D435 colour");
      expect_caps(d, "GRAY16_LE", 640, 480, 6, "D435 depth");
      g_assert_cmpuint(c.number, ==, 162);
      g_assert_cmpuint(d.number, ==, 170);
      g_assert_cmpint(c.data[0], ==, 0xac);
      g_assert_cmpint(c.data[1], ==, 0x96);
      g_assert_cmpfloat(std::fabs(d.unit - 0.001), <, 1e-9);
      ASSERT_STR_EQ(c.serial, "728612070259");
      g_assert_true(p.wait_eos("c", 10000));
    }
    const std::string synthetic = std::string(dir) + "/synthetic.bag";
    {
      Pipe p("realsensesrc stream=depth playback-file=" + synthetic + sink("d"));
      p.play();
      int n = 0;
      Frame f;
      while (p.try_pull("d", f, 5000)) {
        n++;
        ASSERT_STR_EQ(f.serial, "FAKE0001");
        g_assert_cmpfloat(std::fabs(f.unit - 0.001), <, 1e-9);
      }
      g_print("# synthetic.bag: %d depth frames\n", n);
      g_assert_cmpint(n, >=, 1);
      g_assert_cmpint(n, <=, 20);
    }
    g_print("played\n");
    return;
  }
  g_print("# real librealsense2: %s\n", where.c_str());
  in_subprocess({{"LIVECAST_REALSENSE_LIBRARY", nullptr}}, "*played*");
}

}  // namespace

int main(int argc, char **argv)
{
  /* The fake is loaded by file name only: its directory on LD_LIBRARY_PATH
   * would make the default search find it as if it were installed. */
  if (const char *llp = g_getenv("LD_LIBRARY_PATH")) {
    gchar *fake_dir = g_path_get_dirname(fake_path().c_str());
    std::string kept;
    gchar **dirs = g_strsplit(llp, ":", -1);
    for (gchar **d = dirs; *d; d++)
      if (**d && g_strcmp0(*d, fake_dir) != 0)
        kept += (kept.empty() ? "" : ":") + std::string(*d);
    g_strfreev(dirs);
    g_free(fake_dir);
    setenv("LD_LIBRARY_PATH", kept.c_str(), 1);
  }
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  testutil::add("/realsensesrc/color-and-depth", test_color_and_depth);
  testutil::add("/realsensesrc/formats", test_formats);
  testutil::add("/realsensesrc/no-matching-mode", test_no_matching_mode);
  testutil::add("/realsensesrc/serial", test_serial);
  testutil::add("/realsensesrc/align", test_align);
  testutil::add("/realsensesrc/shared-mode-race", test_shared_mode_race);
  testutil::add("/realsensesrc/slower-stream", test_slower_stream);
  testutil::add("/realsensesrc/depth-unit", test_depth_unit);
  testutil::add("/realsensesrc/stride", test_stride);
  testutil::add("/realsensesrc/timestamp-domains", test_timestamp_domains);
  testutil::add("/realsensesrc/no-device", test_no_device);
  testutil::add("/realsensesrc/unplug", test_unplug);
  testutil::add("/realsensesrc/timeout", test_timeout);
  testutil::add("/realsensesrc/device-error", test_device_error);
  testutil::add("/realsensesrc/stop-while-waiting", test_stop_while_waiting);
  testutil::add("/realsensesrc/two-pipelines", test_two_pipelines);
  testutil::add("/realsensesrc/playback", test_playback);
  testutil::add("/realsensesrc/library/explicit-path-missing", test_library_explicit_missing);
  testutil::add("/realsensesrc/library/from-environment", test_library_from_environment);
  testutil::add("/realsensesrc/library/environment-path-missing", test_library_environment_missing);
  testutil::add("/realsensesrc/library/too-old", test_library_too_old);
  testutil::add("/realsensesrc/library/newer-minor", test_library_newer_minor);
  testutil::add("/realsensesrc/library/not-realsense", test_library_not_realsense);
  testutil::add("/realsensesrc/library/not-installed", test_library_not_installed);
  testutil::add("/realsensesrc/real-recordings", test_real_recordings);
  return testutil::run();
}
