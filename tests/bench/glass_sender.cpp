/* livecast benchmarks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * glass_sender: the livecast sender with its insides timed, for the
 * glass-to-glass benchmark (bench_glass.mjs).
 *
 *   glass_sender PIPELINE [--set NAME.PROPERTY=VALUE]...
 *
 * PIPELINE is what `livecast --print-pipeline` prints (screencapsrc !
 * ... ! webrtcserversink name=sink ...), run in this process as gst-launch-1.0
 * would, with pad probes that note the wall-clock time (µs) at which each
 * frame passes each stage. The frame's painted time is read from the
 * captured picture (clockcode.h), so the page's reading of the same frame
 * lines up with these. Stages, by the names webrtcserversink gives its
 * elements (gst/webrtcserver/media/mediafanout.cpp, viewerbranch.cpp):
 *   pts      the frame's PTS as a wall-clock time (the grab's start)
 *   src      screencapsrc pushes it
 *   endsink  it reaches the end sink (first branch of the input tee)
 *   valve    the input tee hands it to the encoding branch (after the end sink returned)
 *   conv     it leaves the encoder queue (videoconvert's input)
 *   enc_in   the encoder's input
 *   enc_out  the encoder's output
 *   tee      the viewers' tee (after the parser)
 *   pay_in   the payloader's input (after the viewer's queue)
 *   pay0/pay1  first and last RTP packet of the frame out of the payloader
 *   net0/net1  first and last (S)RTP packet of the frame into nicesink
 * Options:
 *   --set NAME.PROPERTY=VALUE  set a property of an element the sink makes,
 *       when it is made (e.g. encoder.threads=1, end-sink.processing-deadline=0)
 *   (events: "viewer added", webrtcbin's ice-gathering-state, ice-connection-state
 *   and connection-state, "payloader caps", "key-unit-request" reaching the encoder)
 * Prints "port N" once serving, "latency MIN MAX" once the pipeline has
 * one, "event {json}" for each viewer state change, and on SIGINT/SIGTERM
 * one "frame {json}" line per frame, then exits 0. Run inside tests/netns-run.sh.
 */
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <glib-unix.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "clockcode.h"

namespace
{

struct Frame {
  guint64 painted = 0; /* ms modulo 2^40; 0: unread */
  bool key = false;
  std::map<std::string, gint64> at; /* stage -> wall µs */
};

struct State {
  std::mutex lock;
  std::map<GstClockTime, Frame> frames;   /* by PTS */
  std::map<guint32, GstClockTime> by_rtp; /* RTP timestamp -> PTS */
  std::vector<std::pair<std::string, std::string>> settings;
  GstElement *pipeline = nullptr;
  gint64 wall_minus_clock = 0; /* µs */
  GstVideoInfo info;
  bool have_info = false;
} state;

gint64 now_us()
{
  return g_get_real_time();
}

/* An encoder may shift timestamps: x264enc makes room for DTS before PTS
 * (gst_video_encoder_set_min_pts), adding 1000 hours minus the first
 * input's PTS to every one. The shift is the first output's PTS minus the
 * first input's (no reordering in these encoders); what comes out of the
 * encoder is put back on the input's time line before it is noted. */
std::atomic<GstClockTime> first_in{GST_CLOCK_TIME_NONE};
std::atomic<gint64> shift{G_MININT64};

GstClockTime input_pts(GstClockTime pts)
{
  const gint64 s = shift;
  return GST_CLOCK_TIME_IS_VALID(pts) && s != G_MININT64 ? pts - s : GST_CLOCK_TIME_NONE;
}

void note(GstClockTime pts, const char *stage, gint64 t, bool first = true)
{
  if (!GST_CLOCK_TIME_IS_VALID(pts))
    return;
  std::lock_guard<std::mutex> guard(state.lock);
  auto &at = state.frames[pts].at;
  if (first)
    at.emplace(stage, t);
  else
    at[stage] = t;
}

void event_line(const char *what, const char *value)
{
  std::printf("event {\"t\":%" G_GINT64_FORMAT ",\"what\":\"%s\",\"value\":\"%s\"}\n", now_us(),
              what, value);
  std::fflush(stdout);
}

/* A stage probe: notes the time each buffer (or each buffer of a list) passes. */
GstPadProbeReturn on_stage(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  const char *stage = static_cast<const char *>(data);
  const gint64 t = now_us();
  const bool encoded = !strcmp(stage, "tee") || !strcmp(stage, "pay_in");
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    if (gst_buffer_list_length(list) > 0)
      pts = GST_BUFFER_PTS(gst_buffer_list_get(list, 0));
  }
  if (!strcmp(stage, "enc_in") && GST_CLOCK_TIME_IS_VALID(pts) &&
      !GST_CLOCK_TIME_IS_VALID(first_in))
    first_in = pts;
  note(encoded ? input_pts(pts) : pts, stage, t);
  return GST_PAD_PROBE_OK;
}

void probe(GstElement *element, const char *pad_name, const char *stage,
           GstPadProbeCallback callback = on_stage)
{
  GstPad *pad = gst_element_get_static_pad(element, pad_name);
  if (!pad)
    return;
  gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      callback, const_cast<char *>(stage), nullptr);
  gst_object_unref(pad);
}

/* screencapsrc's output: the painted time, the PTS as wall-clock time. */
GstPadProbeReturn on_captured(GstPad *pad, GstPadProbeInfo *info, gpointer)
{
  const gint64 t = now_us();
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (!state.have_info) {
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (caps && gst_video_info_from_caps(&state.info, caps))
      state.have_info = true;
    if (caps)
      gst_caps_unref(caps);
  }
  guint64 painted = 0;
  GstMapInfo map;
  if (state.have_info && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    painted = clockcode_read(map.data, GST_VIDEO_INFO_PLANE_STRIDE(&state.info, 0));
    gst_buffer_unmap(buffer, &map);
  }
  const GstClockTime base = gst_element_get_base_time(state.pipeline);
  std::lock_guard<std::mutex> guard(state.lock);
  Frame &f = state.frames[pts];
  f.painted = painted;
  f.at["src"] = t;
  if (GST_CLOCK_TIME_IS_VALID(pts))
    f.at["pts"] = static_cast<gint64>((pts + base) / GST_USECOND) + state.wall_minus_clock;
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn on_encoded(GstPad *, GstPadProbeInfo *info, gpointer)
{
  const gint64 t = now_us();
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (shift == G_MININT64 && GST_CLOCK_TIME_IS_VALID(first_in) && GST_BUFFER_PTS_IS_VALID(buffer))
    shift = static_cast<gint64>(GST_BUFFER_PTS(buffer) - first_in);
  const GstClockTime pts = input_pts(GST_BUFFER_PTS(buffer));
  note(pts, "enc_out", t);
  if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT) && GST_CLOCK_TIME_IS_VALID(pts)) {
    std::lock_guard<std::mutex> guard(state.lock);
    state.frames[pts].key = true;
  }
  return GST_PAD_PROBE_OK;
}

/* The key frame requests that reach the encoder (viewer joined, PLI). */
GstPadProbeReturn on_encoder_event(GstPad *, GstPadProbeInfo *info, gpointer)
{
  if (gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info)))
    event_line("key-unit-request", "encoder");
  return GST_PAD_PROBE_OK;
}

void note_packet(GstBuffer *buffer, const char *first, const char *last, bool from_payloader)
{
  const gint64 t = now_us();
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return;
  bool rtp =
      map.size >= 12 && (map.data[0] >> 6) == 2 && !(map.data[1] >= 192 && map.data[1] <= 223);
  const guint32 ts = rtp ? GST_READ_UINT32_BE(map.data + 4) : 0;
  gst_buffer_unmap(buffer, &map);
  if (!rtp)
    return;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  {
    std::lock_guard<std::mutex> guard(state.lock);
    if (from_payloader) {
      pts = input_pts(GST_BUFFER_PTS(buffer));
      state.by_rtp[ts] = pts;
    } else {
      auto it = state.by_rtp.find(ts);
      if (it != state.by_rtp.end())
        pts = it->second;
    }
  }
  note(pts, first, t, true);
  note(pts, last, t, false);
}

GstPadProbeReturn on_payloaded(GstPad *, GstPadProbeInfo *info, gpointer)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    note_packet(GST_PAD_PROBE_INFO_BUFFER(info), "pay0", "pay1", true);
  } else {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); i++)
      note_packet(gst_buffer_list_get(list, i), "pay0", "pay1", true);
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn on_network(GstPad *, GstPadProbeInfo *info, gpointer)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    note_packet(GST_PAD_PROBE_INFO_BUFFER(info), "net0", "net1", false);
  } else {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); i++)
      note_packet(gst_buffer_list_get(list, i), "net0", "net1", false);
  }
  return GST_PAD_PROBE_OK;
}

void on_webrtc_state(GObject *webrtcbin, GParamSpec *pspec, gpointer)
{
  gint value = 0;
  g_object_get(webrtcbin, pspec->name, &value, nullptr);
  GEnumValue *v = g_enum_get_value(G_PARAM_SPEC_ENUM(pspec)->enum_class, value);
  event_line(pspec->name, v ? v->value_nick : "?");
}

void on_element_added(GstBin *, GstBin *, GstElement *element, gpointer)
{
  const char *name = GST_ELEMENT_NAME(element);
  GstElementFactory *factory = gst_element_get_factory(element);
  const char *kind = factory ? GST_OBJECT_NAME(factory) : "";
  for (const auto &[target, assignment] : state.settings) {
    if (target == name) {
      const auto eq = assignment.find('=');
      gst_util_set_object_arg(G_OBJECT(element), assignment.substr(0, eq).c_str(),
                              assignment.substr(eq + 1).c_str());
      std::fprintf(stderr, "glass_sender: %s.%s\n", name, assignment.c_str());
    }
  }
  if (g_str_equal(kind, "screencapsrc"))
    probe(element, "src", "src", on_captured);
  else if (g_str_equal(name, "end-sink"))
    probe(element, "sink", "endsink");
  else if (g_str_equal(name, "valve"))
    probe(element, "sink", "valve");
  else if (g_str_equal(name, "convert"))
    probe(element, "sink", "conv");
  else if (g_str_equal(name, "tee"))
    probe(element, "sink", "tee");
  else if (g_str_equal(name, "encoder")) {
    probe(element, "sink", "enc_in");
    probe(element, "src", "enc_out", on_encoded);
    GstPad *src = gst_element_get_static_pad(element, "src");
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_encoder_event, nullptr, nullptr);
    gst_object_unref(src);
  } else if (g_str_equal(name, "pay")) {
    probe(element, "sink", "pay_in");
    probe(element, "src", "pay", on_payloaded);
    GstPad *src = gst_element_get_static_pad(element, "src");
    gst_pad_add_probe(
        src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [](GstPad *, GstPadProbeInfo *info, gpointer) {
          if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_CAPS)
            return GST_PAD_PROBE_OK;
          event_line("payloader", "caps");
          return GST_PAD_PROBE_REMOVE;
        },
        nullptr, nullptr);
    gst_object_unref(src);
  } else if (g_str_equal(kind, "nicesink")) {
    probe(element, "sink", "net", on_network);
  } else if (g_str_equal(kind, "webrtcbin")) {
    event_line("viewer", "added");
    for (const char *prop : {"ice-connection-state", "connection-state", "ice-gathering-state"})
      g_signal_connect(element, (std::string("notify::") + prop).c_str(),
                       G_CALLBACK(on_webrtc_state), nullptr);
  }
}

void dump_frames()
{
  std::lock_guard<std::mutex> guard(state.lock);
  for (const auto &[pts, f] : state.frames) {
    if (!f.painted)
      continue;
    std::string line = "frame {\"painted\":" + std::to_string(f.painted) +
                       ",\"key\":" + (f.key ? "true" : "false");
    for (const auto &[stage, t] : f.at)
      line += ",\"" + stage + "\":" + std::to_string(t);
    std::printf("%s}\n", line.c_str());
  }
  std::fflush(stdout);
}

gboolean on_quit(gpointer loop)
{
  g_main_loop_quit(static_cast<GMainLoop *>(loop));
  return G_SOURCE_REMOVE;
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  std::string description;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (arg == "--set" && i + 1 < argc) {
      const std::string v = argv[++i];
      const auto dot = v.find('.');
      if (dot == std::string::npos || v.find('=') == std::string::npos) {
        std::fprintf(stderr, "glass_sender: --set wants NAME.PROPERTY=VALUE, not %s\n", v.c_str());
        return 2;
      }
      state.settings.emplace_back(v.substr(0, dot), v.substr(dot + 1));
    } else if (description.empty()) {
      description = arg;
    } else {
      std::fprintf(stderr, "usage: glass_sender PIPELINE [--set NAME.PROPERTY=VALUE]...\n");
      return 2;
    }
  }
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  if (!pipeline) {
    std::fprintf(stderr, "glass_sender: %s\n", error ? error->message : "bad pipeline");
    return 1;
  }
  state.pipeline = pipeline;
  GstClock *clock = gst_system_clock_obtain();
  state.wall_minus_clock = now_us() - static_cast<gint64>(gst_clock_get_time(clock) / GST_USECOND);
  gst_pipeline_use_clock(GST_PIPELINE(pipeline), clock);
  gst_object_unref(clock);
  g_signal_connect(pipeline, "deep-element-added", G_CALLBACK(on_element_added), nullptr);
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    on_element_added(nullptr, nullptr, GST_ELEMENT(g_value_get_object(&item)), nullptr);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);

  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  g_unix_signal_add(SIGINT, on_quit, loop);
  g_unix_signal_add(SIGTERM, on_quit, loop);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_add_watch(
      bus,
      [](GstBus *, GstMessage *message, gpointer data) -> gboolean {
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
          GError *err = nullptr;
          gst_message_parse_error(message, &err, nullptr);
          std::fprintf(stderr, "glass_sender: %s\n", err->message);
          g_error_free(err);
          g_main_loop_quit(static_cast<GMainLoop *>(data));
        } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_LATENCY) {
          gst_bin_recalculate_latency(GST_BIN(state.pipeline));
        } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ASYNC_DONE) {
          GstQuery *q = gst_query_new_latency();
          if (gst_element_query(state.pipeline, q)) {
            gboolean live;
            GstClockTime min, max;
            gst_query_parse_latency(q, &live, &min, &max);
            std::printf("latency %.3f %.3f\n", min / 1e6,
                        GST_CLOCK_TIME_IS_VALID(max) ? max / 1e6 : -1.0);
            std::fflush(stdout);
          }
          gst_query_unref(q);
        }
        return G_SOURCE_CONTINUE;
      },
      loop);
  gst_object_unref(bus);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::fprintf(stderr, "glass_sender: the pipeline did not start\n");
    return 1;
  }
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  g_timeout_add(
      50,
      [](gpointer data) -> gboolean {
        gint port = 0;
        g_object_get(data, "bound-port", &port, nullptr);
        if (port <= 0)
          return G_SOURCE_CONTINUE;
        std::printf("port %d\n", port);
        std::fflush(stdout);
        return G_SOURCE_REMOVE;
      },
      sink);
  g_main_loop_run(loop);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  dump_frames();
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  g_main_loop_unref(loop);
  return 0;
}
