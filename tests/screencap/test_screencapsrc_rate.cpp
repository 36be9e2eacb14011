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
#include <mutex>
#include <string>
#include <vector>

#include "xvfb.h"

namespace
{

constexpr GstClockTime kWarmup = 1 * GST_SECOND;
constexpr GstClockTime kWindow = 5 * GST_SECOND;
constexpr double kTolerance = 0.03;

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

  const std::string desc = "screencapsrc display=" + x.name() +
                           " show-cursor=false ! video/x-raw,framerate=" + std::to_string(rate) +
                           "/1 ! fakesink name=sink sync=true";
  g_print("# %s, %s screen\n", desc.c_str(), changing ? "changing" : "still");
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch(desc.c_str(), &err);
  g_assert_no_error(err);
  Recorder rec;
  rec.pipeline = pipeline;
  rec.frames.reserve(size_t(rate) * 20);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, record, &rec, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
  GstBus *bus = gst_element_get_bus(pipeline);

  if (set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    g_error("%s: PLAYING failed", desc.c_str());
  /* Until a frame stamped past the window arrives; bounded in wall time. */
  const gint64 t0 = now_ms();
  bool done = false;
  while (!done && now_ms() - t0 < 30000) {
    if (GstMessage *m = gst_bus_timed_pop_filtered(bus, 50 * GST_MSECOND, GST_MESSAGE_ERROR)) {
      GError *e = nullptr;
      gst_message_parse_error(m, &e, nullptr);
      g_error("%s: %s", desc.c_str(), e->message);
    }
    std::lock_guard<std::mutex> guard(rec.lock);
    done = !rec.frames.empty() && GST_CLOCK_TIME_IS_VALID(rec.frames.back().pts) &&
           rec.frames.back().pts >= kWarmup + kWindow;
  }
  const gint64 wall_ms = now_ms() - t0;

  /* The element's own latency, as the sink's upstream query sees it. */
  GstClockTime min_latency = GST_CLOCK_TIME_NONE, max_latency = GST_CLOCK_TIME_NONE;
  gboolean live = FALSE;
  GstQuery *q = gst_query_new_latency();
  GstElement *src = GST_ELEMENT(gst_bin_get_by_name(GST_BIN(pipeline), "screencapsrc0"));
  if (src && gst_element_query(src, q))
    gst_query_parse_latency(q, &live, &min_latency, &max_latency);
  gst_query_unref(q);
  if (src)
    gst_object_unref(src);

  g_assert_cmpint(set_state(pipeline, GST_STATE_NULL), ==, GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  stop_child(painter);
  if (!done)
    g_error("%s: no frame stamped past %.0f s within 30 s (%zu frames in all)", desc.c_str(),
            double(kWarmup + kWindow) / GST_SECOND, rec.frames.size());

  const GstClockTime frame = gst_util_uint64_scale_int(GST_SECOND, 1, rate);
  std::vector<Delivered> in;
  for (const Delivered &d : rec.frames)
    if (GST_CLOCK_TIME_IS_VALID(d.pts) && d.pts >= kWarmup && d.pts < kWarmup + kWindow)
      in.push_back(d);
  const int expected = int(rate * (kWindow / GST_SECOND));
  const int count = int(in.size());
  g_assert_cmpint(count, >, 1);
  int changed = 0, bad_order = 0, outside_slot = 0;
  std::vector<double> late_ms, delay_ms;
  for (size_t i = 0; i < in.size(); i++) {
    const Delivered &d = in[i];
    /* The offset names the frame slot, and the PTS lies in it. */
    if (d.offset != d.pts / frame)
      outside_slot++;
    late_ms.push_back(double(d.pts - std::min(d.pts, d.offset * frame)) / GST_MSECOND);
    if (GST_CLOCK_TIME_IS_VALID(d.arrival))
      delay_ms.push_back((double(d.arrival) - double(d.pts)) / GST_MSECOND);
    if (i > 0) {
      if (d.pts <= in[i - 1].pts || d.offset <= in[i - 1].offset)
        bad_order++;
      if (d.sample != in[i - 1].sample)
        changed++;
    }
  }
  const int slots = int(in.back().offset - in.front().offset + 1);
  const int missing = slots - count;
  const int allowed = int(std::floor(kTolerance * expected));
  g_print(
      "# %d/1, %s screen: %d frames stamped in %.0f s of running time (expected %d, allowed "
      "%d-%d); offsets %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
      ", %d slot(s) missing; %d of %d "
      "frames differ from the one before; %" G_GINT64_FORMAT " ms wall time to %.0f s\n",
      rate, changing ? "changing" : "still", count, double(kWindow) / GST_SECOND, expected,
      expected - allowed, expected + allowed, in.front().offset, in.back().offset, missing, changed,
      count - 1, wall_ms, double(kWarmup + kWindow) / GST_SECOND);
  g_print(
      "# PTS after slot start: median %.2f ms, 99th %.2f, max %.2f; sink pad reached after PTS: "
      "median %.2f ms, 99th %.2f; element latency: %s min %.2f ms, max %s\n",
      percentile(late_ms, 0.5), percentile(late_ms, 0.99), percentile(late_ms, 1.0),
      percentile(delay_ms, 0.5), percentile(delay_ms, 0.99), live ? "live" : "not live",
      GST_CLOCK_TIME_IS_VALID(min_latency) ? double(min_latency) / GST_MSECOND : -1.0,
      GST_CLOCK_TIME_IS_VALID(max_latency)
          ? (std::to_string(max_latency / GST_MSECOND) + " ms").c_str()
          : "none");

  if (bad_order)
    g_error("%d frame(s) whose PTS or offset did not increase", bad_order);
  if (outside_slot)
    g_error("%d frame(s) stamped outside the slot their offset names", outside_slot);
  if (std::abs(count - expected) > allowed)
    g_error("%d/1: %d frames in %.0f s of running time, expected %d +- %d (%.0f %%)", rate, count,
            double(kWindow) / GST_SECOND, expected, allowed, kTolerance * 100);
  if (missing > allowed)
    g_error("%d/1: %d frame slots skipped in %.0f s, at most %d allowed", rate, missing,
            double(kWindow) / GST_SECOND, allowed);
  if (changing && changed < (count - 1) / 2)
    g_error("changing screen: only %d of %d frames differ from the one before", changed, count - 1);
  if (!changing && changed != 0)
    g_error("still screen: %d of %d frames differ from the one before", changed, count - 1);
  /* The frame is grabbed at its slot: the element holds it back for far
   * less than a frame (the old code claimed one whole frame). */
  g_assert_true(live);
  g_assert_cmpuint(min_latency, <, frame);
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
