/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "viewerfeedback.h"

#include <gst/rtp/rtp.h>

#include <cinttypes>
#include <cstdio>
#include <algorithm>
#include <mutex>

#include "debugcategory.h"
#include "rtcpfeedback.h"
#include "transportcc.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

struct ViewerFeedback::State {
  std::mutex lock;
  BandwidthEstimator estimator;
  FeedbackCounts counts;
  int ext_id = -1;        /* transport-cc extension id in what we send */
  guint32 video_ssrc = 0; /* the SSRC whose packets carry it (report blocks) */
  /* The report block that started the current loss interval. */
  gint64 rb_time = -1;
  guint32 rb_highest = 0;
  gint32 rb_lost = 0;
  explicit State(const EstimatorConfig &c) : estimator(c) {}
};

namespace
{

/* The extmap-<id> field of @caps naming the transport-cc URI (a string, or
 * an array whose second item is the URI), or -1. */
int caps_transport_cc_id(const GstCaps *caps)
{
  if (!caps || gst_caps_get_size(caps) == 0)
    return -1;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  for (int i = 0; i < gst_structure_n_fields(s); i++) {
    const char *name = gst_structure_nth_field_name(s, i);
    if (!g_str_has_prefix(name, "extmap-"))
      continue;
    const GValue *v = gst_structure_get_value(s, name);
    const char *uri = nullptr;
    if (G_VALUE_HOLDS_STRING(v))
      uri = g_value_get_string(v);
    else if (GST_VALUE_HOLDS_ARRAY(v) && gst_value_array_get_size(v) >= 2 &&
             G_VALUE_HOLDS_STRING(gst_value_array_get_value(v, 1)))
      uri = g_value_get_string(gst_value_array_get_value(v, 1));
    if (g_strcmp0(uri, kTransportCcUri) == 0)
      return atoi(name + 7);
  }
  return -1;
}

void note_sent(ViewerFeedback::State &st, GstBuffer *buf, gint64 now_us)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
    return;
  st.counts.packets_sent++;
  st.counts.bytes_sent += gst_buffer_get_size(buf);
  if (st.ext_id <= 0 && st.video_ssrc == 0)
    st.video_ssrc = gst_rtp_buffer_get_ssrc(&rtp); /* receiver reports only */
  gpointer data = nullptr;
  guint size = 0;
  const bool has_seq =
      st.ext_id > 0 &&
      (gst_rtp_buffer_get_extension_onebyte_header(&rtp, st.ext_id, 0, &data, &size) ||
       gst_rtp_buffer_get_extension_twobytes_header(&rtp, nullptr, st.ext_id, 0, &data, &size)) &&
      size == 2;
  if (has_seq) {
    const auto *b = static_cast<const guint8 *>(data);
    st.counts.packets_with_seq++;
    st.video_ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    /* The RTP packet as it leaves rtpbin (SRTP, UDP and IP add ~40 bytes). */
    st.estimator.on_packet_sent(static_cast<uint16_t>((b[0] << 8) | b[1]), gst_buffer_get_size(buf),
                                now_us);
  }
  gst_rtp_buffer_unmap(&rtp);
}

GstPadProbeReturn on_rtp_out(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto &st = **static_cast<std::shared_ptr<ViewerFeedback::State> *>(data);
  const gint64 now = g_get_monotonic_time();
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps = nullptr;
      gst_event_parse_caps(event, &caps);
      std::lock_guard<std::mutex> guard(st.lock);
      st.ext_id = caps_transport_cc_id(caps);
    }
    return GST_PAD_PROBE_OK;
  }
  std::lock_guard<std::mutex> guard(st.lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    note_sent(st, GST_PAD_PROBE_INFO_BUFFER(info), now);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); i++)
      note_sent(st, gst_buffer_list_get(list, i), now);
  }
  return GST_PAD_PROBE_OK;
}

std::string hex(const guint8 *p, gsize n)
{
  std::string out;
  char b[4];
  for (gsize i = 0; i < n; i++) {
    g_snprintf(b, sizeof b, "%02x", p[i]);
    out += b;
  }
  return out;
}

void on_feedback(GObject *, guint type, guint fbtype, guint, guint, GstBuffer *fci, gpointer data)
{
  auto &st = **static_cast<std::shared_ptr<ViewerFeedback::State> *>(data);
  const bool twcc = type == GST_RTCP_TYPE_RTPFB && fbtype == GST_RTCP_RTPFB_TYPE_TWCC;
  const bool afb = type == GST_RTCP_TYPE_PSFB && fbtype == GST_RTCP_PSFB_TYPE_AFB;
  if (!fci || (!twcc && !afb))
    return;
  GstMapInfo map;
  if (!gst_buffer_map(fci, &map, GST_MAP_READ))
    return;
  const gint64 now = g_get_monotonic_time();
  std::string error;
  if (twcc) {
    if (gst_debug_category_get_threshold(GST_CAT_DEFAULT) >= GST_LEVEL_LOG)
      GST_LOG("transport-cc FCI %s", hex(map.data, map.size).c_str());
    TwccFeedback fb;
    const bool ok = parse_twcc_feedback(map.data, map.size, fb, error);
    std::lock_guard<std::mutex> guard(st.lock);
    if (ok) {
      st.counts.twcc_feedback++;
      st.estimator.on_twcc_feedback(fb, now);
    } else {
      st.counts.twcc_malformed++;
    }
  } else {
    guint64 bps = 0;
    if (parse_remb(map.data, map.size, bps, error)) {
      std::lock_guard<std::mutex> guard(st.lock);
      st.counts.remb++;
      st.estimator.on_remb(bps, now);
    }
  }
  if (!error.empty())
    GST_DEBUG("viewer feedback ignored: %s", error.c_str());
  gst_buffer_unmap(fci, &map);
}

/* Receiver reports: the fraction of our video the viewer lost, from the
 * cumulative counts over at least a second (browsers send a report with
 * every feedback packet; the per-report fraction of a few packets is noise). */
void on_rtcp(GObject *, GstBuffer *buffer, gpointer data)
{
  auto &st = **static_cast<std::shared_ptr<ViewerFeedback::State> *>(data);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  if (!gst_rtcp_buffer_map(buffer, GST_MAP_READ, &rtcp))
    return;
  const gint64 now = g_get_monotonic_time();
  GstRTCPPacket packet;
  for (gboolean more = gst_rtcp_buffer_get_first_packet(&rtcp, &packet); more;
       more = gst_rtcp_packet_move_to_next(&packet)) {
    const GstRTCPType type = gst_rtcp_packet_get_type(&packet);
    if (type != GST_RTCP_TYPE_RR && type != GST_RTCP_TYPE_SR)
      continue;
    for (guint i = 0; i < gst_rtcp_packet_get_rb_count(&packet); i++) {
      guint32 ssrc = 0, highest = 0, jitter = 0, lsr = 0, dlsr = 0;
      guint8 fraction = 0;
      gint32 lost = 0;
      gst_rtcp_packet_get_rb(&packet, i, &ssrc, &fraction, &lost, &highest, &jitter, &lsr, &dlsr);
      (void)fraction;
      std::lock_guard<std::mutex> guard(st.lock);
      if (st.video_ssrc == 0 || ssrc != st.video_ssrc)
        continue;
      st.counts.receiver_reports++;
      if (st.rb_time >= 0 && now - st.rb_time < G_USEC_PER_SEC)
        continue;
      const gint64 expected = static_cast<gint64>(highest - st.rb_highest);
      const gint64 lost_now = static_cast<gint64>(lost) - st.rb_lost;
      if (st.rb_time >= 0 && expected > 0) {
        /* What got through, at the average size of what we send. */
        const double size = st.counts.packets_sent
                                ? static_cast<double>(st.counts.bytes_sent) / st.counts.packets_sent
                                : 0;
        const double received = static_cast<double>(std::max<gint64>(0, expected - lost_now));
        const double bps = received * size * 8 * G_USEC_PER_SEC / (now - st.rb_time);
        st.estimator.on_loss_report(CLAMP(static_cast<double>(lost_now) / expected, 0.0, 1.0), now,
                                    static_cast<uint64_t>(bps));
      }
      st.rb_time = now;
      st.rb_highest = highest;
      st.rb_lost = lost;
    }
  }
  gst_rtcp_buffer_unmap(&rtcp);
}

void free_state(gpointer data, GClosure *)
{
  delete static_cast<std::shared_ptr<ViewerFeedback::State> *>(data);
}

}  // namespace

std::unique_ptr<ViewerFeedback> ViewerFeedback::watch(GstElement *webrtcbin, guint session_id,
                                                      const EstimatorConfig &config,
                                                      std::string &error)
{
  debug_category_init();
  Ref<GstElement> rtpbin =
      Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(webrtcbin), "rtpbin"));
  if (!rtpbin) {
    error = "webrtcbin has no rtpbin";
    return nullptr;
  }
  GObject *session = nullptr;
  g_signal_emit_by_name(rtpbin.get(), "get-internal-session", session_id, &session);
  Ref<GObject> session_ref = Ref<GObject>::adopt(session);
  const std::string pad_name = "send_rtp_src_" + std::to_string(session_id);
  Ref<GstPad> pad = Ref<GstPad>::adopt(gst_element_get_static_pad(rtpbin.get(), pad_name.c_str()));
  if (!session || !pad) {
    error = "webrtcbin has no RTP session " + std::to_string(session_id) + " sending yet";
    return nullptr;
  }
  std::unique_ptr<ViewerFeedback> f(new ViewerFeedback());
  f->state_ = std::make_shared<State>(config);
  Ref<GstCaps> caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad.get()));
  f->state_->ext_id = caps_transport_cc_id(caps.get());
  f->rtp_src_ = pad;
  f->probe_id_ = gst_pad_add_probe(
      pad.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_rtp_out, new std::shared_ptr<State>(f->state_),
      [](gpointer d) { delete static_cast<std::shared_ptr<State> *>(d); });
  f->session_ = session_ref;
  f->feedback_handler_ = g_signal_connect_data(session, "on-feedback-rtcp", G_CALLBACK(on_feedback),
                                               new std::shared_ptr<State>(f->state_), free_state,
                                               static_cast<GConnectFlags>(0));
  f->rtcp_handler_ = g_signal_connect_data(session, "on-receiving-rtcp", G_CALLBACK(on_rtcp),
                                           new std::shared_ptr<State>(f->state_), free_state,
                                           static_cast<GConnectFlags>(0));
  GST_DEBUG_OBJECT(webrtcbin, "watching the feedback of session %u (transport-cc id %d)",
                   session_id, f->state_->ext_id);
  return f;
}

ViewerFeedback::~ViewerFeedback()
{
  if (rtp_src_ && probe_id_)
    gst_pad_remove_probe(rtp_src_.get(), probe_id_);
  if (session_) {
    for (gulong id : {feedback_handler_, rtcp_handler_}) {
      if (id)
        g_signal_handler_disconnect(session_.get(), id);
    }
  }
}

/* The round trip the session measured from the viewer's receiver reports:
 * rb-round-trip (16.16 seconds) of the viewer's source whose last report
 * block was about our video. */
void ViewerFeedback::poll_rtt(gint64 now_us)
{
  if (now_us - last_poll_us_ < 100000)
    return;
  last_poll_us_ = now_us;
  GstStructure *stats = nullptr;
  g_object_get(session_.get(), "stats", &stats, nullptr);
  StructurePtr owner(stats);
  const GValue *sources = stats ? gst_structure_get_value(stats, "source-stats") : nullptr;
  guint32 video_ssrc;
  {
    std::lock_guard<std::mutex> guard(state_->lock);
    video_ssrc = state_->video_ssrc;
  }
  /* RTPSession's statistics are a GValueArray (deprecated in GLib, not in it). */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!sources || !G_VALUE_HOLDS_BOXED(sources) ||
      g_strcmp0(G_VALUE_TYPE_NAME(sources), "GValueArray") != 0)
    return;
  auto *array = static_cast<GValueArray *>(g_value_get_boxed(sources));
  guint rtt16 = 0;
  for (guint i = 0; array && i < array->n_values; i++) {
    const GstStructure *s = gst_value_get_structure(g_value_array_get_nth(array, i));
    gboolean internal = TRUE, have_rb = FALSE;
    guint rt = 0, about = 0;
    if (gst_structure_get_boolean(s, "internal", &internal) && !internal &&
        gst_structure_get_boolean(s, "have-rb", &have_rb) && have_rb &&
        gst_structure_get_uint(s, "rb-ssrc", &about) && about == video_ssrc &&
        gst_structure_get_uint(s, "rb-round-trip", &rt))
      rtt16 = rt;
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  if (rtt16 > 0) {
    std::lock_guard<std::mutex> guard(state_->lock);
    state_->estimator.on_rtt(static_cast<int64_t>(rtt16) * G_USEC_PER_SEC / 65536);
  }
}

BandwidthEstimate ViewerFeedback::estimate()
{
  const gint64 now = g_get_monotonic_time();
  poll_rtt(now); /* takes the session's lock: never under ours */
  std::lock_guard<std::mutex> guard(state_->lock);
  state_->estimator.update(now);
  return state_->estimator.estimate();
}

FeedbackCounts ViewerFeedback::counts() const
{
  std::lock_guard<std::mutex> guard(state_->lock);
  return state_->counts;
}

bool ViewerFeedback::wants_probe(guint64 probe_bps, ProbeKind kind)
{
  std::lock_guard<std::mutex> guard(state_->lock);
  return state_->estimator.wants_probe(probe_bps, g_get_monotonic_time(), kind);
}

void ViewerFeedback::start_probe(guint64 probe_bps, ProbeKind kind)
{
  std::lock_guard<std::mutex> guard(state_->lock);
  state_->estimator.start_probe(probe_bps, g_get_monotonic_time(), kind);
}

std::function<bool()> ViewerFeedback::probe_running() const
{
  std::shared_ptr<State> state = state_;
  return [state]() {
    std::lock_guard<std::mutex> guard(state->lock);
    return state->estimator.probe_state() == ProbeState::Running;
  };
}

std::string ViewerFeedback::stats_json()
{
  const BandwidthEstimate e = estimate();
  const FeedbackCounts c = counts();
  char buf[768];
  g_snprintf(
      buf, sizeof buf,
      "{\"target_bps\":%" G_GUINT64_FORMAT ",\"basis\":\"%s\",\"delay_bps\":%" G_GUINT64_FORMAT
      ",\"loss_bps\":%" G_GUINT64_FORMAT ",\"remb_bps\":%" G_GUINT64_FORMAT
      ",\"acked_bps\":%" G_GUINT64_FORMAT
      ",\"loss\":%.4f,\"delay\":\"%s\",\"trend\":%.2f,\"threshold\":%.2f,\"rtt_ms\":%.1f,"
      "\"probe\":\"%s\",\"probe_bps\":%" G_GUINT64_FORMAT ",\"packets_sent\":%" G_GUINT64_FORMAT
      ",\"bytes_sent\":%" G_GUINT64_FORMAT ",\"packets_with_seq\":%" G_GUINT64_FORMAT
      ",\"twcc_feedback\":%" G_GUINT64_FORMAT ",\"twcc_malformed\":%" G_GUINT64_FORMAT
      ",\"remb\":%" G_GUINT64_FORMAT ",\"receiver_reports\":%" G_GUINT64_FORMAT "}",
      static_cast<guint64>(e.target_bps), estimate_basis_name(e.basis),
      static_cast<guint64>(e.delay_bps), static_cast<guint64>(e.loss_bps),
      static_cast<guint64>(e.remb_bps), static_cast<guint64>(e.acked_bps), e.loss_fraction,
      bandwidth_usage_name(e.usage), e.delay_trend, e.delay_threshold, e.rtt_us / 1000.0,
      probe_state_name(e.probe), static_cast<guint64>(e.probe_bps), c.packets_sent, c.bytes_sent,
      c.packets_with_seq, c.twcc_feedback, c.twcc_malformed, c.remb, c.receiver_reports);
  return buf;
}

}  // namespace livecast
