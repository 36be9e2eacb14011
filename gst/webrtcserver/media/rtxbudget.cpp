/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rtxbudget.h"

#include <gst/rtp/rtp.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "debugcategory.h"
#include "protocol/tokenbucket.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* Packets are counted, not bytes: a retransmission is a full packet. */
constexpr uint64_t kPacketBits = 1200 * 8;
constexpr unsigned kMinPacketsPerSecond = 5;
constexpr unsigned kKeyFramePackets = 24;
/* Padding repeats the packets sent last: these many (under a second of a
 * low rung, all of them still in rtprtxsend's history of 100). */
constexpr std::size_t kPadFrom = 48;
/* Credit for padding accrues between media packets; after a longer pause
 * (no media) it restarts instead of bursting. */
constexpr int64_t kPadMaxGapUs = 100000;
/* A cut (forget_sent) lapses this many packets later: no request for an
 * older packet comes then, and half the 16-bit range is where comparing
 * sequence numbers would turn around. */
constexpr guint16 kCutLapsePackets = 0x4000;

std::vector<GstElement *> rtx_senders(GstElement *webrtcbin)
{
  std::vector<GstElement *> out;
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(webrtcbin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory *f = gst_element_get_factory(e);
    if (f && g_str_equal(GST_OBJECT_NAME(f), "rtprtxsend"))
      out.push_back(e);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return out;
}

/* The RTX payload types rtprtxsend maps the media to ("96" -> 97, ...):
 * RTX payload type -> media payload type. */
std::map<guint, guint> rtx_payload_types(GstElement *rtxsend)
{
  std::map<guint, guint> pts;
  GstStructure *map = nullptr;
  g_object_get(rtxsend, "payload-type-map", &map, nullptr);
  if (!map)
    return pts;
  for (gint i = 0; i < gst_structure_n_fields(map); i++) {
    const char *media = gst_structure_nth_field_name(map, i);
    const GValue *v = gst_structure_get_value(map, media);
    const guint media_pt = static_cast<guint>(g_ascii_strtoull(media, nullptr, 10));
    if (G_VALUE_HOLDS_UINT(v))
      pts[g_value_get_uint(v)] = media_pt;
    else if (G_VALUE_HOLDS_INT(v))
      pts[static_cast<guint>(g_value_get_int(v))] = media_pt;
  }
  gst_structure_free(map);
  return pts;
}

}  // namespace

struct RtxBudget::State {
  std::mutex lock;
  TokenBucket bucket{kMinPacketsPerSecond, kKeyFramePackets};
  std::map<guint, guint> rtx_pts; /* RTX payload type -> media payload type */
  /* By media payload type: the last sequence number sent, and the first
   * whose repairs still go out (forget_sent). */
  std::map<guint, guint16> last_seq, cut;
  std::atomic<uint64_t> passed{0}, dropped{0}, media{0}, padded{0};

  /* Padding (under lock). */
  struct Sent {
    guint32 ssrc;
    guint16 seq;
    std::size_t size;
  };
  std::deque<Sent> recent; /* media packets that went into rtprtxsend, newest last */
  std::size_t cursor = 0;  /* the next of them to repeat, counted from the newest */
  uint64_t pad_bps = 0;
  int64_t pad_until_us = 0, last_media_us = 0;
  double credit_bytes = 0;
  std::function<bool()> keep_going;
  uint64_t pad_expected = 0; /* padding requested, not yet seen leaving */

  /* A media packet is about to enter rtprtxsend: what to repeat now. */
  std::vector<Sent> on_media(GstBuffer *buffer, int64_t now_us)
  {
    std::vector<Sent> repeat;
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp))
      return repeat;
    const Sent sent{gst_rtp_buffer_get_ssrc(&rtp), gst_rtp_buffer_get_seq(&rtp),
                    gst_buffer_get_size(buffer)};
    const guint pt = gst_rtp_buffer_get_payload_type(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    std::function<bool()> ask;
    {
      std::lock_guard<std::mutex> guard(lock);
      last_seq[pt] = sent.seq;
      auto c = cut.find(pt);
      if (c != cut.end() && guint16(sent.seq - c->second) >= kCutLapsePackets)
        cut.erase(c);
      const int64_t gap = now_us - last_media_us;
      last_media_us = now_us;
      if (pad_bps > 0 && (now_us >= pad_until_us || !keep_going))
        stop_locked();
      if (pad_bps > 0) {
        credit_bytes = gap > kPadMaxGapUs ? 0 : credit_bytes + pad_bps * gap / 8e6;
        ask = keep_going;
      }
    }
    /* Outside the lock: it takes the estimator's. */
    if (ask && !ask()) {
      stop();
      ask = nullptr;
    }
    std::lock_guard<std::mutex> guard(lock);
    while (ask && pad_bps > 0 && !recent.empty() && credit_bytes > 0) {
      if (cursor >= recent.size())
        cursor = 0;
      const Sent &s = recent[recent.size() - 1 - cursor++];
      credit_bytes -= static_cast<double>(s.size);
      repeat.push_back(s);
      pad_expected++;
    }
    recent.push_back(sent);
    if (recent.size() > kPadFrom)
      recent.pop_front();
    return repeat;
  }

  void stop()
  {
    std::lock_guard<std::mutex> guard(lock);
    stop_locked();
  }

  /* Padding ends (at its deadline, with its probe, or when told); lock held. */
  void stop_locked()
  {
    pad_bps = 0;
    keep_going = nullptr;
    credit_bytes = 0;
  }

  /* true: let @buffer through. */
  bool admit(GstBuffer *buffer)
  {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp))
      return true;
    const guint pt = gst_rtp_buffer_get_payload_type(&rtp);
    /* An RTX packet's payload begins with the original sequence number (RFC 4588). */
    const bool has_osn = gst_rtp_buffer_get_payload_len(&rtp) >= 2;
    /* Byte by byte: the payload follows a 12-byte header plus CSRCs and
     * extensions, so it has no alignment (GST_READ_UINT16_BE loads a guint16). */
    const guint8 *payload = static_cast<const guint8 *>(gst_rtp_buffer_get_payload(&rtp));
    const guint16 osn = has_osn ? guint16((payload[0] << 8) | payload[1]) : 0;
    gst_rtp_buffer_unmap(&rtp);
    std::lock_guard<std::mutex> guard(lock);
    auto media_pt = rtx_pts.find(pt);
    if (media_pt == rtx_pts.end()) {
      media++;
      return true;
    }
    /* rtprtxsend answers requests in order: the next ones are the padding. */
    if (pad_expected > 0) {
      pad_expected--;
      padded++;
      return true;
    }
    auto c = cut.find(media_pt->second);
    if (has_osn && c != cut.end() && gint16(osn - c->second) < 0) {
      dropped++;
      return false;
    }
    if (bucket.take(g_get_monotonic_time())) {
      passed++;
      return true;
    }
    dropped++;
    return false;
  }
};

static GstPadProbeReturn on_rtx_output(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  RtxBudget::State *state = static_cast<std::shared_ptr<RtxBudget::State> *>(data)->get();
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
    return state->admit(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
  bool all = true;
  for (guint i = 0; i < gst_buffer_list_length(list) && all; i++)
    all = state->admit(gst_buffer_list_get(list, i));
  if (all)
    return GST_PAD_PROBE_OK;
  /* Rare (rtprtxsend pushes single buffers): keep the list's media only. */
  list = gst_buffer_list_make_writable(list);
  for (guint i = gst_buffer_list_length(list); i-- > 0;) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    GstBuffer *b = gst_buffer_list_get(list, i);
    if (gst_rtp_buffer_map(b, GST_MAP_READ, &rtp)) {
      const guint pt = gst_rtp_buffer_get_payload_type(&rtp);
      gst_rtp_buffer_unmap(&rtp);
      std::lock_guard<std::mutex> guard(state->lock);
      if (state->rtx_pts.count(pt))
        gst_buffer_list_remove(list, i, 1);
    }
  }
  GST_PAD_PROBE_INFO_DATA(info) = list;
  return GST_PAD_PROBE_OK;
}

namespace
{

/* What the padding probe on one rtprtxsend's input needs. */
struct PadTap {
  std::shared_ptr<RtxBudget::State> state;
  GstPad *rtx_src; /* owned: where retransmission requests go in */
};

void request_repeats(const PadTap &tap, const std::vector<RtxBudget::State::Sent> &repeat)
{
  for (const auto &s : repeat) {
    GstStructure *request = gst_structure_new("GstRTPRetransmissionRequest", "seqnum", G_TYPE_UINT,
                                              guint(s.seq), "ssrc", G_TYPE_UINT, s.ssrc, nullptr);
    gst_pad_send_event(tap.rtx_src, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, request));
  }
}

GstPadProbeReturn on_media_input(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  const PadTap &tap = *static_cast<PadTap *>(data);
  const int64_t now = g_get_monotonic_time();
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    request_repeats(tap, tap.state->on_media(GST_PAD_PROBE_INFO_BUFFER(info), now));
  } else {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); i++)
      request_repeats(tap, tap.state->on_media(gst_buffer_list_get(list, i), now));
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

std::unique_ptr<RtxBudget> RtxBudget::attach(GstElement *webrtcbin, uint64_t bps)
{
  const std::vector<GstElement *> senders = rtx_senders(webrtcbin);
  if (senders.empty())
    return nullptr;
  std::unique_ptr<RtxBudget> b(new RtxBudget());
  b->state_ = std::make_shared<State>();
  for (GstElement *s : senders) {
    const std::map<guint, guint> pts = rtx_payload_types(s);
    b->state_->rtx_pts.insert(pts.begin(), pts.end());
  }
  b->set_rate(bps);
  for (GstElement *s : senders) {
    GstPad *src = gst_element_get_static_pad(s, "src");
    if (!src)
      continue;
    const gulong id = gst_pad_add_probe(
        src,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        on_rtx_output, new std::shared_ptr<State>(b->state_),
        [](gpointer d) { delete static_cast<std::shared_ptr<State> *>(d); });
    b->probes_.push_back(Probe{src, id});
    GstPad *sink = gst_element_get_static_pad(s, "sink");
    if (!sink)
      continue;
    const gulong pad_id = gst_pad_add_probe(
        sink,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        on_media_input, new PadTap{b->state_, GST_PAD(gst_object_ref(src))}, [](gpointer d) {
          auto *tap = static_cast<PadTap *>(d);
          gst_object_unref(tap->rtx_src);
          delete tap;
        });
    b->probes_.push_back(Probe{sink, pad_id});
  }
  return b;
}

RtxBudget::~RtxBudget()
{
  for (const Probe &p : probes_) {
    gst_pad_remove_probe(p.pad, p.id);
    gst_object_unref(p.pad);
  }
}

void RtxBudget::set_rate(uint64_t bps)
{
  const unsigned per_second =
      std::max<unsigned>(kMinPacketsPerSecond, static_cast<unsigned>(bps / kPacketBits));
  std::lock_guard<std::mutex> guard(state_->lock);
  /* Half a second of budget, and at least a low rung's key frame, may go at
   * once: a move down comes after loss, and the lower rung's first key
   * frame meets the queue the higher rung overfilled. */
  state_->bucket.set_rate(per_second, std::max(kKeyFramePackets, per_second / 2),
                          g_get_monotonic_time());
}

void RtxBudget::pad(uint64_t extra_bps, int64_t until_us, std::function<bool()> keep_going)
{
  std::lock_guard<std::mutex> guard(state_->lock);
  state_->pad_bps = extra_bps;
  state_->pad_until_us = until_us;
  state_->keep_going = std::move(keep_going);
  state_->credit_bytes = 0;
  state_->pad_expected = 0;
}

void RtxBudget::forget_sent()
{
  std::lock_guard<std::mutex> guard(state_->lock);
  for (const auto &last : state_->last_seq)
    state_->cut[last.first] = guint16(last.second + 1);
}

void RtxBudget::stop_padding()
{
  state_->stop();
}

bool RtxBudget::padding() const
{
  std::lock_guard<std::mutex> guard(state_->lock);
  return state_->pad_bps > 0;
}

uint64_t RtxBudget::padded() const
{
  return state_->padded;
}

uint64_t RtxBudget::passed() const
{
  return state_->passed;
}

uint64_t RtxBudget::media() const
{
  return state_->media;
}

uint64_t RtxBudget::dropped() const
{
  return state_->dropped;
}

}  // namespace livecast
