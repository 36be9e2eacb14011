/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the viewer set reports: each viewer's statistics read from its
 * webrtcbin, and the /stats JSON (viewers, encoder, rungs, sessions,
 * refusals, recently ended).
 */
#include "viewerset.h"

#include "debugcategory.h"
#include "protocol/json.h"
#include "viewer.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

void ViewerSet::read_stats(Viewer &v)
{
  Guarded run = guarded(v.id);
  const std::string id = v.id;
  std::weak_ptr<ViewerSet> weak = weak_from_this();
  struct Data {
    Guarded run;
    std::weak_ptr<ViewerSet> set;
    std::string id;
  };
  GstPromise *promise = gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer data) {
        auto *d = static_cast<Data *>(data);
        if (gst_promise_wait(p) != GST_PROMISE_RESULT_REPLIED)
          return;
        const GstStructure *reply = gst_promise_get_reply(p);
        if (!reply)
          return;
        guint64 bytes = 0, received = 0;
        gint64 lost = 0;
        double rtt = -1;
        guint pli = 0;
        for (gint i = 0; i < gst_structure_n_fields(reply); i++) {
          const GValue *val =
              gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
          if (!GST_VALUE_HOLDS_STRUCTURE(val))
            continue;
          const GstStructure *s = gst_value_get_structure(val);
          GstWebRTCStatsType type;
          if (!gst_structure_get(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr))
            continue;
          if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
            guint64 b = 0;
            if (gst_structure_get_uint64(s, "bytes-sent", &b))
              bytes += b;
            guint count = 0;
            if (gst_structure_get_uint(s, "pli-count", &count))
              pli += count;
          } else if (type == GST_WEBRTC_STATS_INBOUND_RTP) {
            guint64 b = 0;
            if (gst_structure_get_uint64(s, "bytes-received", &b))
              received += b;
          } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
            gint64 l = 0;
            gint li = 0;
            if (gst_structure_get_int64(s, "packets-lost", &l))
              lost += l;
            else if (gst_structure_get_int(s, "packets-lost", &li))
              lost += li;
            double r = -1;
            if (gst_structure_get_double(s, "round-trip-time", &r) && r >= 0)
              rtt = r;
          }
        }
        std::weak_ptr<ViewerSet> set = d->set;
        std::string id = d->id;
        d->run([set, id, bytes, received, lost, rtt, pli]() {
          std::shared_ptr<ViewerSet> s = set.lock();
          Viewer *v = s ? s->find(id) : nullptr;
          if (!v)
            return;
          v->bytes_received = received;
          const gint64 now = g_get_monotonic_time();
          if (v->bytes_sent_at > 0 && now > v->bytes_sent_at && bytes >= v->bytes_sent)
            v->bitrate = (bytes - v->bytes_sent) * 8.0 * G_USEC_PER_SEC / (now - v->bytes_sent_at);
          v->bytes_sent = bytes;
          v->bytes_sent_at = now;
          v->packets_lost = lost;
          v->pli_count = pli;
          if (rtt >= 0)
            v->rtt = rtt;
        });
      },
      new Data{run, weak, id}, [](gpointer d) { delete static_cast<Data *>(d); });
  g_signal_emit_by_name(v.branch->webrtcbin(), "get-stats", nullptr, promise);
  gst_promise_unref(promise);
}

std::vector<guint> ViewerSet::count_on_rungs(std::size_t rungs, const VideoCodec *codec) const
{
  std::vector<guint> on(rungs, 0);
  for (const auto &entry : viewers_) {
    const Viewer &v = *entry.second;
    const gint rung = v.branch->rung();
    if (v.connected && !v.publisher && (!codec || v.branch->codec() == *codec) && rung >= 0 &&
        static_cast<std::size_t>(rung) < rungs)
      on[rung]++;
  }
  return on;
}

std::vector<guint> ViewerSet::rung_viewers() const
{
  const std::size_t rungs = fanout_.state().rungs.size();
  std::lock_guard<std::mutex> guard(lock_);
  return count_on_rungs(rungs);
}

std::string ViewerSet::stats_json()
{
  const FanoutState state = fanout_.state();
  const FanoutRates rates = fanout_.rates();
  JsonWriter w;
  std::lock_guard<std::mutex> guard(lock_);
  const gint64 now = g_get_monotonic_time();
  w.begin_object();
  w.key("viewers").integer(static_cast<gint64>(watching_locked()));
  w.key("encoder").begin_object();
  w.key("codec").string(state.started ? video_codec_encoding_name(state.video.codec) : "");
  w.key("encodes").boolean(state.encodes);
  w.key("width").integer(state.width);
  w.key("height").integer(state.height);
  w.key("fps").number(rates.fps);
  w.key("bitrate").integer(static_cast<gint64>(rates.bitrate_bps));
  w.key("frames").integer(static_cast<gint64>(rates.frames));
  /* The ladder (one rung without): each rung's codec, size, configured
   * bitrate, what it encodes now, and how many viewers are on it; then the
   * same rungs in VP8 when VP8 is encoded on demand for viewers whose offer
   * has no other codec (mediafanout.h). */
  w.key("ladder").string(state.rungs.size() > 1 ? "on" : "off");
  w.key("vp8OnDemand").boolean(state.video.vp8_on_demand);
  w.key("rungs").begin_array();
  auto write_rungs = [&](VideoCodec codec, const std::vector<RungRate> &rung_rates) {
    const std::vector<guint> on = count_on_rungs(state.rungs.size(), &codec);
    for (std::size_t i = 0; i < state.rungs.size(); i++) {
      const RungSpec &r = state.rungs[i];
      const RungRate rate = i < rung_rates.size() ? rung_rates[i] : RungRate();
      w.begin_object();
      w.key("rung").integer(static_cast<gint64>(i));
      w.key("codec").string(video_codec_encoding_name(codec));
      w.key("width").integer(r.width);
      w.key("height").integer(r.height);
      w.key("halfRate").boolean(r.half_rate);
      w.key("targetBitrate").integer(static_cast<gint64>(r.bitrate_kbps) * 1000);
      w.key("encoding").boolean(rate.encoding);
      w.key("fps").number(rate.fps);
      w.key("bitrate").integer(static_cast<gint64>(rate.bitrate_bps));
      w.key("viewers").integer(on[i]);
      w.end_object();
    }
  };
  write_rungs(state.video.codec, rates.rungs);
  if (state.video.vp8_on_demand)
    write_rungs(VideoCodec::VP8, rates.vp8_rungs);
  w.end_array();
  w.end_object();
  w.key("sessions").begin_array();
  for (const auto &entry : viewers_) {
    const Viewer &v = *entry.second;
    w.begin_object();
    w.key("id").string(v.id);
    w.key("state").string(v.connected ? "connected" : "connecting");
    if (v.publisher)
      w.key("publisher").boolean(true);
    w.key("codec").string(video_codec_encoding_name(v.branch->codec()));
    w.key("ice").string(v.ice_state);
    w.key("age").number((now - v.created_us) / double(G_USEC_PER_SEC));
    w.key("bitrate").integer(static_cast<gint64>(v.bitrate));
    w.key("bytesReceived").integer(static_cast<gint64>(v.bytes_received));
    w.key("packetsLost").integer(v.packets_lost);
    w.key("pliCount").integer(static_cast<gint64>(v.pli_count));
    w.key("rtt");
    if (v.rtt >= 0)
      w.number(v.rtt);
    else
      w.null();
    /* Where it is on the ladder (0: the top; -1 before its first frame)
     * and what it rests on: its own bandwidth estimate. */
    w.key("rung").integer(v.branch->rung());
    w.key("pendingRung").integer(v.branch->pending_rung());
    const ViewerLadder *l = v.ladder.get();
    w.key("rungSwitches").integer(l ? static_cast<gint64>(l->rung_switches()) : 0);
    /* Retransmissions sent and held back by the budget (rtxbudget.h). */
    w.key("rtxSent").integer(l ? static_cast<gint64>(l->rtx_sent()) : 0);
    w.key("rtxDropped").integer(l ? static_cast<gint64>(l->rtx_dropped()) : 0);
    /* Padding probes of the next rung and the retransmissions they sent. */
    w.key("paddingProbes").integer(l ? static_cast<gint64>(l->padding_probes()) : 0);
    w.key("paddingSent").integer(l ? static_cast<gint64>(l->padding_sent()) : 0);
    w.key("estimate");
    if (l) {
      const BandwidthEstimate &e = l->estimate();
      w.begin_object();
      w.key("bitrate").integer(static_cast<gint64>(e.target_bps));
      w.key("basis").string(estimate_basis_name(e.basis));
      w.key("remb").integer(static_cast<gint64>(e.remb_bps));
      w.key("loss").number(e.loss_fraction);
      w.key("probe").string(probe_state_name(e.probe));
      /* transport-cc's delay-based limit (0: no feedback) and what the
       * viewer acknowledged: what the ladder's up-trials are gated on. */
      w.key("delay").integer(static_cast<gint64>(e.delay_bps));
      w.key("acked").integer(static_cast<gint64>(e.acked_bps));
      w.key("sent").integer(static_cast<gint64>(l->sent_bps()));
      if (l->has_controller())
        w.key("received").integer(static_cast<gint64>(l->received_bps()));
      w.end_object();
    } else {
      w.null();
    }
    w.end_object();
  }
  w.end_array();
  /* Viewers that get the stream over their /ws socket (wsmediafeed.h). */
  w.key("webSocketMedia").begin_array();
  for (const WsMediaFeed::ViewerStats &m : media_feed_->stats()) {
    w.begin_object();
    w.key("id").string(m.id);
    w.key("age").number((now - m.created_us) / double(G_USEC_PER_SEC));
    w.key("framesSent").integer(static_cast<gint64>(m.frames_sent));
    w.key("framesDropped").integer(static_cast<gint64>(m.frames_dropped));
    w.key("bytesSent").integer(static_cast<gint64>(m.bytes_sent));
    w.end_object();
  }
  w.end_array();
  /* Viewers turned away so far, by the limit that did it. */
  w.key("refused").begin_object();
  w.key("maxViewers").integer(static_cast<gint64>(refused_max_viewers_.load()));
  w.key("maxPending").integer(static_cast<gint64>(refused_max_pending_.load()));
  w.key("rate").integer(static_cast<gint64>(refused_rate_.load()));
  w.end_object();
  /* The last sessions that ended, newest first, and why. */
  w.key("ended").begin_array();
  for (const auto &e : ended_) {
    w.begin_object();
    w.key("id").string(e.id);
    w.key("reason").string(e.reason);
    w.key("ago").number((now - e.at_us) / double(G_USEC_PER_SEC));
    w.end_object();
  }
  w.end_array();
  if (hooks_.more_stats)
    hooks_.more_stats(w);
  w.end_object();
  return w.text();
}

}  // namespace livecast
