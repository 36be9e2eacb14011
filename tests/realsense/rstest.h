/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers for the realsensesrc tests: pipelines with appsinks, pulled
 * frames copied out with their metadata, errors from the bus, the fake
 * librealsense2's test hooks.
 */
#pragma once

#include <gmodule.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace rstest
{

inline gint64 now_ms()
{
  return g_get_monotonic_time() / 1000;
}

/* The fake library (LIVECAST_FAKE_REALSENSE, set by meson). */
inline std::string fake_path()
{
  const char *p = g_getenv("LIVECAST_FAKE_REALSENSE");
  if (!p)
    g_error("LIVECAST_FAKE_REALSENSE is not set (the path of the built fake librealsense2)");
  return p;
}

/* The fake's test hooks (see tests/fakes/fake_realsense2.cpp). */
struct Fake {
  int (*live_frames)() = nullptr;
  int (*misuse)() = nullptr;
  int (*pipelines_started)() = nullptr;
  int (*streaming)() = nullptr;
  int (*live_objects)(char *, int) = nullptr;
  void (*unplug)(const char *) = nullptr;

  static const Fake &get()
  {
    static Fake f = [] {
      Fake h;
      GModule *m = g_module_open(fake_path().c_str(), G_MODULE_BIND_LOCAL);
      if (!m)
        g_error("cannot open the fake librealsense2: %s", g_module_error());
      g_module_make_resident(m);
      auto sym = [m](const char *name, auto &fn) {
        if (!g_module_symbol(m, name, reinterpret_cast<gpointer *>(&fn)))
          g_error("the fake librealsense2 has no %s", name);
      };
      sym("livecast_fake_rs2_live_frames", h.live_frames);
      sym("livecast_fake_rs2_misuse", h.misuse);
      sym("livecast_fake_rs2_pipelines_started", h.pipelines_started);
      sym("livecast_fake_rs2_streaming", h.streaming);
      sym("livecast_fake_rs2_live_objects", h.live_objects);
      sym("livecast_fake_rs2_unplug", h.unplug);
      return h;
    }();
    return f;
  }
};

/* Sets an environment variable for the scope (only while no pipeline runs). */
class ScopedEnv
{
 public:
  ScopedEnv(const char *name, const char *value) : name_(name)
  {
    const char *old = getenv(name);
    had_ = old != nullptr;
    if (old)
      old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv()
  {
    if (had_)
      setenv(name_.c_str(), old_.c_str(), 1);
    else
      unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv &) = delete;
  ScopedEnv &operator=(const ScopedEnv &) = delete;

 private:
  std::string name_, old_;
  bool had_ = false;
};

/* Runs @fn on a thread; fails the test if it takes over @timeout_ms. */
template <typename T>
T bounded(const char *what, int timeout_ms, std::function<T()> fn)
{
  auto task = std::make_shared<std::packaged_task<T()>>(fn);
  std::future<T> result = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (result.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready)
    g_error("%s did not return within %d ms", what, timeout_ms);
  return result.get();
}

inline GstStateChangeReturn set_state(GstElement *e, GstState s, int timeout_ms = 5000)
{
  gst_object_ref(e);
  return bounded<GstStateChangeReturn>(gst_element_state_get_name(s), timeout_ms, [e, s] {
    const GstStateChangeReturn r = gst_element_set_state(e, s);
    gst_object_unref(e);
    return r;
  });
}

/* A pulled sample, copied out (rows packed) with its metadata. */
struct Frame {
  std::string format;
  int width = 0, height = 0, fps_n = 0, fps_d = 0, pixel = 0; /* bytes per pixel */
  GstClockTime pts = GST_CLOCK_TIME_NONE, duration = GST_CLOCK_TIME_NONE;
  GstClockTime pulled_running = GST_CLOCK_TIME_NONE; /* running time when pulled */
  std::vector<uint8_t> data;
  double unit = 0; /* LivecastDepthMeta, 0 if none */
  bool has_rs_meta = false;
  guint64 number = 0;
  double timestamp = 0;
  std::string serial, stream, domain;

  const uint8_t *at(int x, int y) const { return &data[(size_t(y) * width + x) * pixel]; }
  uint16_t depth(int x, int y) const
  {
    const uint8_t *p = at(x, y);
    return uint16_t(p[0] | p[1] << 8);
  }
};

class Pipe
{
 public:
  explicit Pipe(const std::string &desc) : desc_(desc)
  {
    GError *err = nullptr;
    pipeline_ = gst_parse_launch(desc_.c_str(), &err);
    if (err)
      g_error("%s: %s", desc_.c_str(), err->message);
    bus_ = gst_element_get_bus(pipeline_);
  }
  ~Pipe()
  {
    const gint64 t0 = now_ms();
    set_state(pipeline_, GST_STATE_NULL);
    stop_ms = now_ms() - t0;
    if (error_)
      g_error_free(error_);
    gst_object_unref(bus_);
    gst_object_unref(pipeline_);
  }
  Pipe(const Pipe &) = delete;
  Pipe &operator=(const Pipe &) = delete;

  GstElement *pipeline() const { return pipeline_; }
  GstElement *get(const char *name) const
  {
    GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline_), name);
    if (!e)
      g_error("%s: no element named %s", desc_.c_str(), name);
    gst_object_unref(e); /* the bin keeps it */
    return e;
  }

  void play()
  {
    g_print("# %s\n", desc_.c_str());
    if (set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      g_error("%s: PLAYING failed: %s", desc_.c_str(), error_text(1000).c_str());
  }
  GstStateChangeReturn try_play()
  {
    g_print("# %s\n", desc_.c_str());
    return set_state(pipeline_, GST_STATE_PLAYING);
  }

  Frame pull(const char *sink, int timeout_ms = 3000)
  {
    Frame f;
    if (!try_pull(sink, f, timeout_ms))
      g_error("%s: no frame from %s within %d ms; bus: %s", desc_.c_str(), sink, timeout_ms,
              error_text(0).c_str());
    return f;
  }

  bool try_pull(const char *sink, Frame &f, int timeout_ms)
  {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(get(sink)),
                                                GstClockTime(timeout_ms) * GST_MSECOND);
    if (!s)
      return false;
    GstClock *clock = gst_element_get_clock(pipeline_);
    if (clock) {
      f.pulled_running = gst_clock_get_time(clock) - gst_element_get_base_time(pipeline_);
      gst_object_unref(clock);
    }
    GstVideoInfo info;
    g_assert_true(gst_video_info_from_caps(&info, gst_sample_get_caps(s)));
    f.width = GST_VIDEO_INFO_WIDTH(&info);
    f.height = GST_VIDEO_INFO_HEIGHT(&info);
    f.fps_n = GST_VIDEO_INFO_FPS_N(&info);
    f.fps_d = GST_VIDEO_INFO_FPS_D(&info);
    f.format = gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info));
    f.pixel = GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0);
    GstBuffer *b = gst_sample_get_buffer(s);
    f.pts = GST_BUFFER_PTS(b);
    f.duration = GST_BUFFER_DURATION(b);
    GstVideoFrame vf;
    if (!gst_video_frame_map(&vf, &info, b, GST_MAP_READ))
      g_error("%s: a %s buffer cannot be mapped", desc_.c_str(), f.format.c_str());
    const size_t row = size_t(f.width) * f.pixel;
    f.data.resize(row * f.height);
    for (int y = 0; y < f.height; y++)
      memcpy(&f.data[row * y],
             static_cast<const uint8_t *>(GST_VIDEO_FRAME_PLANE_DATA(&vf, 0)) +
                 size_t(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0),
             row);
    gst_video_frame_unmap(&vf);
    if (GstCustomMeta *m = gst_buffer_get_custom_meta(b, "LivecastDepthMeta")) {
      g_assert_true(gst_structure_get_double(gst_custom_meta_get_structure(m), "unit", &f.unit));
    }
    if (GstCustomMeta *m = gst_buffer_get_custom_meta(b, "LivecastRealsenseMeta")) {
      const GstStructure *st = gst_custom_meta_get_structure(m);
      f.has_rs_meta = true;
      g_assert_true(gst_structure_get_uint64(st, "frame-number", &f.number));
      g_assert_true(gst_structure_get_double(st, "timestamp", &f.timestamp));
      f.serial = gst_structure_get_string(st, "serial");
      f.stream = gst_structure_get_string(st, "stream");
      f.domain = gst_structure_get_string(st, "timestamp-domain");
    }
    gst_sample_unref(s);
    return true;
  }

  /* True when @sink reached EOS within @timeout_ms (no more samples). */
  bool wait_eos(const char *sink, int timeout_ms)
  {
    const gint64 deadline = now_ms() + timeout_ms;
    Frame f;
    while (now_ms() < deadline) {
      if (gst_app_sink_is_eos(GST_APP_SINK(get(sink))))
        return true;
      try_pull(sink, f, 50);
    }
    return gst_app_sink_is_eos(GST_APP_SINK(get(sink)));
  }

  /* The first ERROR within @timeout_ms (caller frees), or nullptr. */
  GError *wait_error(int timeout_ms, std::string *debug = nullptr)
  {
    if (!error_) {
      GstMessage *m = gst_bus_timed_pop_filtered(bus_, GstClockTime(timeout_ms) * GST_MSECOND,
                                                 GST_MESSAGE_ERROR);
      if (m) {
        gchar *dbg = nullptr;
        gst_message_parse_error(m, &error_, &dbg);
        error_debug_ = dbg ? dbg : "";
        g_free(dbg);
        gst_message_unref(m);
      }
    }
    if (debug)
      *debug = error_debug_;
    return std::exchange(error_, nullptr);
  }
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

  static inline gint64 stop_ms = 0; /* how long the last destruction's NULL took */

 private:
  std::string desc_;
  GstElement *pipeline_ = nullptr;
  GstBus *bus_ = nullptr;
  GError *error_ = nullptr;
  std::string error_debug_;
};

/* "realsensesrc stream=... library-path=<fake> <props>" */
inline std::string src(const char *stream, const std::string &props = "")
{
  return std::string("realsensesrc stream=") + stream + " library-path=" + fake_path() +
         (props.empty() ? "" : " " + props);
}

/* "! appsink name=NAME" that keeps every buffer and does not sync. */
inline std::string sink(const char *name)
{
  return std::string(" ! appsink name=") + name + " sync=false max-buffers=0 drop=false";
}

inline void expect_contains(const std::string &text, const std::string &part, const char *what)
{
  if (text.find(part) == std::string::npos)
    g_error("%s: \"%s\" does not contain \"%s\"", what, text.c_str(), part.c_str());
}

}  // namespace rstest
