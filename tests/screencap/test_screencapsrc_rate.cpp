/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * screencapsrc keeps its frame rate into a sink that syncs to the clock,
 * as every real pipeline's sink does (here fakesink sync=true, the sink of
 * fpsdisplaysink): 60 and 120 frames a second on a still screen and on a
 * changing one (screen_painter, SCREEN_PAINTER=path), each on a private
 * Xvfb (xvfb.h).
 *
 * Frames are counted by what the element stamped, not by when this process
 * got to look: a pad probe in the streaming thread records each buffer's
 * PTS and offset (the number of its frame slot), and the count is the
 * frames whose PTS falls in 5 s of running time. Within 3 % of the rate,
 * and the slots in between missing no more than that. Load on the machine
 * that delays this process's own threads does not change the count; only
 * slots the element really missed do.
 */
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "xvfb.h"

namespace
{

constexpr GstClockTime kWarmup = 1 * GST_SECOND;
constexpr GstClockTime kWindow = 5 * GST_SECOND;
constexpr double kTolerance = 0.03;
/* Measuring windows tried, one after the other, before giving up. */
constexpr int kMaxWindows = 4;

/* What the sink got: one entry per buffer, in the streaming thread. */
struct Delivered {
  GstClockTime pts;
  guint64 offset;
  GstClockTime arrival; /* running time when it reached the sink pad */
  guint64 sample;       /* hash of every 61st byte: did the picture change? */
};

struct Recorder {
  std::mutex lock;
  std::vector<Delivered> frames;
  GstElement *pipeline = nullptr;
};

guint64 sample_hash(GstBuffer *buffer)
{
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return 0;
  guint64 h = 1469598103934665603ull; /* FNV-1a */
  for (gsize i = 0; i < map.size; i += 61)
    h = (h ^ map.data[i]) * 1099511628211ull;
  gst_buffer_unmap(buffer, &map);
  return h;
}

GstPadProbeReturn record(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *rec = static_cast<Recorder *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  GstClockTime arrival = GST_CLOCK_TIME_NONE;
  if (GstClock *clock = gst_element_get_clock(rec->pipeline)) {
    arrival = gst_clock_get_time(clock) - gst_element_get_base_time(rec->pipeline);
    gst_object_unref(clock);
  }
  const Delivered d = {GST_BUFFER_PTS(buffer), GST_BUFFER_OFFSET(buffer), arrival,
                       sample_hash(buffer)};
  std::lock_guard<std::mutex> guard(rec->lock);
  rec->frames.push_back(d);
  return GST_PAD_PROBE_OK;
}

double percentile(std::vector<double> v, double p)
{
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

/* A running screen_painter: a still screen is one tick of it, then nothing. */
GPid start_painter(const Xvfb &x, const char *rate, const char *seconds)
{
  const char *path = g_getenv("SCREEN_PAINTER");
  if (!path)
    g_error("SCREEN_PAINTER is not set (the path of the built screen_painter)");
  const char *argv[] = {path,     "--display", x.name().c_str(), "--rate", rate,
                        "--mode", "box",       "--seconds",      seconds,  nullptr};
  GPid pid = 0;
  int out = -1;
  GError *err = nullptr;
  g_spawn_async_with_pipes(nullptr, (gchar **)argv, nullptr, G_SPAWN_DO_NOT_REAP_CHILD,
                           die_with_parent, nullptr, &pid, nullptr, &out, nullptr, &err);
  g_assert_no_error(err);
  std::string buf, line;
  if (!read_line(out, buf, line, 10000) || line != "ready")
    g_error("screen_painter did not start on %s", x.name().c_str());
  close(out);
  return pid;
}

/* A bare thread of this process waking at the element's frame slots, on
 * the same clock and the same way (a single-shot clock wait), and doing
 * nothing else. A slot it did not run in is one this machine gave no
 * thread of ours: a measuring window counts only if it missed none. */
class Canary
{
 public:
  Canary(GstClock *clock, GstClockTime base_time, GstClockTime frame)
      : clock_(GST_CLOCK(gst_object_ref(clock))), base_time_(base_time), frame_(frame)
  {
    thread_ = std::thread([this] { run(); });
  }
  ~Canary()
  {
    {
      std::lock_guard<std::mutex> guard(lock_);
      stop_ = true;
      if (id_)
        gst_clock_id_unschedule(id_);
    }
    thread_.join();
    gst_object_unref(clock_);
  }
  Canary(const Canary &) = delete;
  Canary &operator=(const Canary &) = delete;

  /* Running time up to which it has looked. */
  GstClockTime reached()
  {
    std::lock_guard<std::mutex> guard(lock_);
    return next_ * frame_;
  }
  /* Slots starting in [@from, @to) it did not run in. */
  int missed(GstClockTime from, GstClockTime to)
  {
    std::lock_guard<std::mutex> guard(lock_);
    return int(std::count_if(missed_.begin(), missed_.end(), [&](guint64 slot) {
      return slot * frame_ >= from && slot * frame_ < to;
    }));
  }

 private:
  GstClockTime running_now() { return gst_clock_get_time(clock_) - base_time_; }
  void run()
  {
    guint64 next = running_now() / frame_ + 1;
    for (;;) {
      GstClockID id = gst_clock_new_single_shot_id(clock_, base_time_ + next * frame_);
      {
        std::lock_guard<std::mutex> guard(lock_);
        if (stop_) {
          gst_clock_id_unref(id);
          return;
        }
        id_ = id;
      }
      const GstClockReturn ret = gst_clock_id_wait(id, nullptr);
      const guint64 slot = running_now() / frame_;
      std::lock_guard<std::mutex> guard(lock_);
      id_ = nullptr;
      gst_clock_id_unref(id);
      if (ret == GST_CLOCK_UNSCHEDULED)
        return;
      for (guint64 s = next; s < slot; s++)
        missed_.push_back(s);
      next = std::max(next, slot) + 1;
      next_ = next;
    }
  }

  GstClock *clock_;
  const GstClockTime base_time_, frame_;
  std::thread thread_;
  std::mutex lock_;
  GstClockID id_ = nullptr;
  bool stop_ = false;
  guint64 next_ = 0; /* slots before it looked at */
  std::vector<guint64> missed_;
};

/* The element's frames stamped in one window of running time. */
struct WindowStats {
  int count = 0, missing = 0, changed = 0, bad_order = 0, outside_slot = 0;
  guint64 first = 0, last = 0;
  std::vector<double> late_ms, delay_ms;
};

WindowStats window_stats(const std::vector<Delivered> &frames, GstClockTime from, GstClockTime to,
                         GstClockTime frame)
{
  WindowStats w;
  const Delivered *prev = nullptr;
  for (const Delivered &d : frames) {
    if (!GST_CLOCK_TIME_IS_VALID(d.pts) || d.pts < from || d.pts >= to)
      continue;
    /* The offset names the frame slot, and the PTS lies in it. */
    if (d.offset != d.pts / frame)
      w.outside_slot++;
    w.late_ms.push_back(double(d.pts - std::min(d.pts, d.offset * frame)) / GST_MSECOND);
    if (GST_CLOCK_TIME_IS_VALID(d.arrival))
      w.delay_ms.push_back((double(d.arrival) - double(d.pts)) / GST_MSECOND);
    if (prev) {
      if (d.pts <= prev->pts || d.offset <= prev->offset)
        w.bad_order++;
      if (d.sample != prev->sample)
        w.changed++;
    } else {
      w.first = d.offset;
    }
    w.last = d.offset;
    w.count++;
    prev = &d;
  }
  w.missing = w.count ? int(w.last - w.first + 1) - w.count : 0;
  return w;
}

void check_rate(int rate, bool changing)
{
  Xvfb x;
  /* The painter ticks twice per frame slot, so every frame sees a change. */
  const std::string painter_rate = std::to_string(2 * rate);
  GPid painter = start_painter(x, painter_rate.c_str(), changing ? "60" : "0.001");
  if (!changing) {
    stop_child(painter);
    painter = 0;
  }

  const std::string desc = "screencapsrc name=src display=" + x.name() +
                           " show-cursor=false ! video/x-raw,framerate=" + std::to_string(rate) +
                           "/1 ! fakesink name=sink sync=true";
  g_print("# %s, %s screen\n", desc.c_str(), changing ? "changing" : "still");
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch(desc.c_str(), &err);
  g_assert_no_error(err);
  Recorder rec;
  rec.pipeline = pipeline;
  rec.frames.reserve(size_t(rate) * 30);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, record, &rec, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
  GstBus *bus = gst_element_get_bus(pipeline);

  if (set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    g_error("%s: PLAYING failed", desc.c_str());
  const GstClockTime frame = gst_util_uint64_scale_int(GST_SECOND, 1, rate);
  GstClock *clock = gst_element_get_clock(pipeline);
  g_assert_nonnull(clock);
  auto canary = std::make_unique<Canary>(clock, gst_element_get_base_time(pipeline), frame);
  gst_object_unref(clock);

  /* Windows one after the other until one the machine did not spoil. */
  const int expected = int(rate * (kWindow / GST_SECOND));
  const int allowed = int(std::floor(kTolerance * expected));
  int valid = -1;
  std::vector<int> canary_missed;
  for (int w = 0; w < kMaxWindows && valid < 0; w++) {
    const GstClockTime from = kWarmup + w * kWindow, to = from + kWindow;
    const gint64 deadline = now_ms() + gint64((kWindow + 10 * GST_SECOND) / GST_MSECOND);
    bool reached = false;
    while (!reached && now_ms() < deadline) {
      if (GstMessage *m = gst_bus_timed_pop_filtered(bus, 50 * GST_MSECOND, GST_MESSAGE_ERROR)) {
        GError *e = nullptr;
        gst_message_parse_error(m, &e, nullptr);
        g_error("%s: %s", desc.c_str(), e->message);
      }
      std::lock_guard<std::mutex> guard(rec.lock);
      reached = !rec.frames.empty() && GST_CLOCK_TIME_IS_VALID(rec.frames.back().pts) &&
                rec.frames.back().pts >= to && canary->reached() >= to;
    }
    if (!reached)
      g_error("%s: no frame stamped past %.0f s in time (%zu frames in all)", desc.c_str(),
              double(to) / GST_SECOND, rec.frames.size());
    canary_missed.push_back(canary->missed(from, to));
    std::lock_guard<std::mutex> guard(rec.lock);
    const WindowStats s = window_stats(rec.frames, from, to, frame);
    g_print(
        "# window %.0f-%.0f s: %d frames, %d slot(s) missing; a bare thread missed %d slot(s)%s\n",
        double(from) / GST_SECOND, double(to) / GST_SECOND, s.count, s.missing,
        canary_missed.back(),
        canary_missed.back() ? ": the machine was too busy, next window" : "");
    if (canary_missed.back() == 0)
      valid = w;
  }
  canary.reset();

  /* The element's own latency, as the sink's upstream query sees it. */
  GstClockTime min_latency = GST_CLOCK_TIME_NONE, max_latency = GST_CLOCK_TIME_NONE;
  gboolean live = FALSE;
  GstQuery *q = gst_query_new_latency();
  GstElement *src = GST_ELEMENT(gst_bin_get_by_name(GST_BIN(pipeline), "src"));
  if (src && gst_element_query(src, q))
    gst_query_parse_latency(q, &live, &min_latency, &max_latency);
  gst_query_unref(q);
  if (src)
    gst_object_unref(src);

  g_assert_cmpint(set_state(pipeline, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  stop_child(painter);

  if (valid < 0) {
    std::string counts;
    for (int m : canary_missed)
      counts += (counts.empty() ? "" : ", ") + std::to_string(m);
    const std::string why = "in each of " + std::to_string(kMaxWindows) +
                            " windows of 5 s a bare thread missed frame slots (" + counts + " of " +
                            std::to_string(expected) + "): this machine is too busy to measure " +
                            std::to_string(rate) + " frames a second";
    g_print("# %s\n", why.c_str());
    g_test_skip(why.c_str());
    return;
  }

  const GstClockTime from = kWarmup + valid * kWindow, to = from + kWindow;
  const WindowStats w = window_stats(rec.frames, from, to, frame);
  g_assert_cmpint(w.count, >, 1);
  g_print(
      "# %d/1, %s screen: %d frames stamped in %.0f-%.0f s of running time (expected %d, allowed "
      "%d-%d); offsets %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
      ", %d slot(s) missing; %d of %d "
      "frames differ from the one before\n",
      rate, changing ? "changing" : "still", w.count, double(from) / GST_SECOND,
      double(to) / GST_SECOND, expected, expected - allowed, expected + allowed, w.first, w.last,
      w.missing, w.changed, w.count - 1);
  g_print(
      "# PTS after slot start: median %.2f ms, 99th %.2f, max %.2f; sink pad reached after PTS: "
      "median %.2f ms, 99th %.2f; element latency: %s min %.2f ms, max %s\n",
      percentile(w.late_ms, 0.5), percentile(w.late_ms, 0.99), percentile(w.late_ms, 1.0),
      percentile(w.delay_ms, 0.5), percentile(w.delay_ms, 0.99), live ? "live" : "not live",
      GST_CLOCK_TIME_IS_VALID(min_latency) ? double(min_latency) / GST_MSECOND : -1.0,
      GST_CLOCK_TIME_IS_VALID(max_latency)
          ? (std::to_string(max_latency / GST_MSECOND) + " ms").c_str()
          : "none");

  if (w.bad_order)
    g_error("%d frame(s) whose PTS or offset did not increase", w.bad_order);
  if (w.outside_slot)
    g_error("%d frame(s) stamped outside the slot their offset names", w.outside_slot);
  if (std::abs(w.count - expected) > allowed)
    g_error("%d/1: %d frames in %.0f s of running time, expected %d +- %d (%.0f %%)", rate, w.count,
            double(kWindow) / GST_SECOND, expected, allowed, kTolerance * 100);
  if (w.missing > allowed)
    g_error("%d/1: %d frame slots skipped in %.0f s, at most %d allowed", rate, w.missing,
            double(kWindow) / GST_SECOND, allowed);
  if (changing && w.changed < (w.count - 1) / 2)
    g_error("changing screen: only %d of %d frames differ from the one before", w.changed,
            w.count - 1);
  if (!changing && w.changed != 0)
    g_error("still screen: %d of %d frames differ from the one before", w.changed, w.count - 1);
  /* The frame is grabbed at its slot: the element claims the time a grab
   * takes, not a whole frame as the old code did. The grab is timed on this
   * machine while other tests run, so it is held to a 60 fps frame at every
   * rate: at 120 fps a loaded machine's grab of 9 ms is a true measurement. */
  g_assert_true(live);
  g_assert_cmpuint(min_latency, <, GST_SECOND / 60);
}

void test_60_still()
{
  check_rate(60, false);
}

void test_60_changing()
{
  check_rate(60, true);
}

void test_120_still()
{
  check_rate(120, false);
}

void test_120_changing()
{
  check_rate(120, true);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/screencapsrc-rate/60-still", test_60_still);
  g_test_add_func("/screencapsrc-rate/60-changing", test_60_changing);
  g_test_add_func("/screencapsrc-rate/120-still", test_120_still);
  g_test_add_func("/screencapsrc-rate/120-changing", test_120_changing);
  return g_test_run();
}
