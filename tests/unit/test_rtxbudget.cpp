/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * media/rtxbudget.h with a real rtprtxsend: RTP packets paced in real time
 * (200 kbit/s) go in, and what comes out is counted by payload type:
 *  - padding for a probe adds about the asked rate of retransmissions (RTX
 *    payload type, repeats of packets already sent), counted as padding,
 *    not as packets the viewer asked for again; it ends when the probe
 *    does (keep_going) and at its deadline;
 *  - retransmission requests (what rtpsession sends upstream for a NACK)
 *    beyond the budget are dropped, within it answered;
 *  - after forget_sent() (a move down), requests for packets sent before it
 *    are dropped, those for later packets answered.
 */
#include <gst/gst.h>
#include <gst/rtp/rtp.h>

#include <atomic>
#include <memory>

#include "media/rtxbudget.h"

using namespace livecast;

namespace
{

constexpr guint kMediaPt = 96, kRtxPt = 97;
constexpr guint32 kSsrc = 0x1234abcd;
constexpr gsize kPacketBytes = 1000;
constexpr gint64 kPacketGapUs = 40000; /* 25 packets/s of 1,000 bytes: 200 kbit/s */

struct Rig {
  GstElement *pipeline = nullptr;
  GstElement *src = nullptr, *rtx = nullptr;
  std::atomic<guint64> media_bytes{0}, rtx_bytes{0}, rtx_packets{0};
  guint16 seq = 1000;

  Rig()
  {
    pipeline = gst_parse_launch(
        "appsrc name=in format=time is-live=true "
        "caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" "
        "! rtprtxsend name=rtx ! fakesink name=out signal-handoffs=true sync=false async=false",
        nullptr);
    g_assert_nonnull(pipeline);
    src = gst_bin_get_by_name(GST_BIN(pipeline), "in");
    rtx = gst_bin_get_by_name(GST_BIN(pipeline), "rtx");
    GstStructure *map =
        gst_structure_new("application/x-rtp-pt-map", "96", G_TYPE_UINT, kRtxPt, nullptr);
    g_object_set(rtx, "payload-type-map", map, nullptr);
    gst_structure_free(map);
    GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
    g_signal_connect(out, "handoff", G_CALLBACK(on_handoff), this);
    gst_object_unref(out);
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
  }
  ~Rig()
  {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(rtx);
    gst_object_unref(pipeline);
  }

  static void on_handoff(GstElement *, GstBuffer *buffer, GstPad *, gpointer data)
  {
    auto *rig = static_cast<Rig *>(data);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp))
      return;
    const guint pt = gst_rtp_buffer_get_payload_type(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    if (pt == kRtxPt) {
      rig->rtx_bytes += gst_buffer_get_size(buffer);
      rig->rtx_packets++;
    } else {
      rig->media_bytes += gst_buffer_get_size(buffer);
    }
  }

  void push_media()
  {
    GstBuffer *buffer = gst_rtp_buffer_new_allocate(kPacketBytes - 12, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(buffer, GST_MAP_WRITE, &rtp);
    gst_rtp_buffer_set_payload_type(&rtp, kMediaPt);
    gst_rtp_buffer_set_ssrc(&rtp, kSsrc);
    gst_rtp_buffer_set_seq(&rtp, seq++);
    gst_rtp_buffer_set_timestamp(&rtp, seq * 3000u);
    gst_rtp_buffer_unmap(&rtp);
    GstFlowReturn ret;
    g_signal_emit_by_name(src, "push-buffer", buffer, &ret);
    gst_buffer_unref(buffer);
  }

  /* Media for @us in real time, asking for @nacks retransmissions of the
   * packet before the last with each. */
  void run_for(gint64 us, int nacks = 0)
  {
    const gint64 end = g_get_monotonic_time() + us;
    while (g_get_monotonic_time() < end) {
      push_media();
      for (int i = 0; i < nacks; i++) {
        GstPad *pad = gst_element_get_static_pad(rtx, "src");
        gst_pad_send_event(
            pad, gst_event_new_custom(
                     GST_EVENT_CUSTOM_UPSTREAM,
                     gst_structure_new("GstRTPRetransmissionRequest", "seqnum", G_TYPE_UINT,
                                       guint(seq - 2), "ssrc", G_TYPE_UINT, kSsrc, nullptr)));
        gst_object_unref(pad);
      }
      g_usleep(kPacketGapUs);
    }
    g_usleep(100000); /* rtprtxsend pushes retransmissions from its own thread */
  }
};

void test_padding_adds_the_asked_rate()
{
  Rig rig;
  std::unique_ptr<RtxBudget> budget = RtxBudget::attach(rig.pipeline, 100000);
  g_assert_nonnull(budget.get());
  rig.run_for(500000); /* a history to repeat */
  g_assert_cmpuint(rig.rtx_packets, ==, 0);
  const guint64 media_before = rig.media_bytes;
  const gint64 start = g_get_monotonic_time();
  budget->pad(800000, start + 10 * G_USEC_PER_SEC, [] { return true; });
  g_assert_true(budget->padding());
  rig.run_for(2 * G_USEC_PER_SEC);
  const double seconds = (g_get_monotonic_time() - start) / 1e6;
  const double padding_bps = rig.rtx_bytes * 8 / seconds;
  const double media_bps = (rig.media_bytes - media_before) * 8 / seconds;
  g_print(
      "# padding asked 800 kbit/s: %.0f kbit/s of retransmissions beside %.0f kbit/s of "
      "media; %" G_GUINT64_FORMAT " padding packets, %" G_GUINT64_FORMAT " as answers\n",
      padding_bps / 1000, media_bps / 1000, budget->padded(), budget->passed());
  g_assert_cmpfloat(padding_bps, >=, 600000);
  g_assert_cmpfloat(padding_bps, <=, 1000000);
  g_assert_cmpuint(budget->padded(), ==, rig.rtx_packets);
  g_assert_cmpuint(budget->passed(), ==, 0);
  g_assert_cmpuint(budget->dropped(), ==, 0);
}

void test_padding_stops()
{
  Rig rig;
  std::unique_ptr<RtxBudget> budget = RtxBudget::attach(rig.pipeline, 100000);
  rig.run_for(300000);
  /* The probe ended: no padding from the next packet on. */
  auto running = std::make_shared<std::atomic<bool>>(true);
  budget->pad(800000, g_get_monotonic_time() + 10 * G_USEC_PER_SEC,
              [running] { return running->load(); });
  rig.run_for(500000);
  const guint64 while_running = rig.rtx_packets;
  g_assert_cmpuint(while_running, >, 10);
  *running = false;
  rig.run_for(1 * G_USEC_PER_SEC);
  g_assert_cmpuint(rig.rtx_packets, <=, while_running + 1);
  g_assert_false(budget->padding());
  /* The deadline ends it too. */
  budget->pad(800000, g_get_monotonic_time() + 300000, [] { return true; });
  rig.run_for(1 * G_USEC_PER_SEC);
  const guint64 after_deadline = rig.rtx_packets;
  g_assert_cmpuint(after_deadline, >, while_running + 5);
  rig.run_for(500000);
  g_assert_cmpuint(rig.rtx_packets, ==, after_deadline);
}

void test_answers_within_the_budget()
{
  Rig rig;
  /* 96 kbit/s: 10 packets/s of budget after a burst of a key frame's 24;
   * asked for 4 per packet, 100/s. */
  std::unique_ptr<RtxBudget> budget = RtxBudget::attach(rig.pipeline, 96000);
  rig.run_for(2 * G_USEC_PER_SEC, 4);
  g_print("# asked for ~%d retransmissions in 2 s with a budget of 24 + 10/s: %" G_GUINT64_FORMAT
          " answered, %" G_GUINT64_FORMAT " dropped\n",
          4 * 50, budget->passed(), budget->dropped());
  g_assert_cmpuint(budget->passed(), >=, 24);
  g_assert_cmpuint(budget->passed(), <=, 24 + 2 * 10 + 5);
  g_assert_cmpuint(budget->dropped(), >=, 100);
  g_assert_cmpuint(budget->padded(), ==, 0);
}

void test_forget_sent()
{
  Rig rig;
  std::unique_ptr<RtxBudget> budget = RtxBudget::attach(rig.pipeline, 960000);
  rig.run_for(400000);
  const guint16 before = guint16(rig.seq - 3); /* sent before the cut */
  budget->forget_sent();
  rig.run_for(200000);
  const guint16 after = guint16(rig.seq - 2); /* sent after it */
  GstPad *pad = gst_element_get_static_pad(rig.rtx, "src");
  auto ask = [&](guint16 seq) {
    gst_pad_send_event(pad, gst_event_new_custom(
                                GST_EVENT_CUSTOM_UPSTREAM,
                                gst_structure_new("GstRTPRetransmissionRequest", "seqnum",
                                                  G_TYPE_UINT, guint(seq), "ssrc", G_TYPE_UINT,
                                                  kSsrc, nullptr)));
  };
  /* A repair of a packet from before the cut does not go out... */
  ask(before);
  rig.run_for(100000);
  g_assert_cmpuint(rig.rtx_packets, ==, 0);
  g_assert_cmpuint(budget->dropped(), ==, 1);
  /* ... one of a packet after it does, within the budget as before. */
  ask(after);
  rig.run_for(100000);
  g_assert_cmpuint(rig.rtx_packets, ==, 1);
  g_assert_cmpuint(budget->passed(), ==, 1);
  gst_object_unref(pad);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/rtxbudget/padding-adds-the-asked-rate", test_padding_adds_the_asked_rate);
  g_test_add_func("/rtxbudget/padding-stops", test_padding_stops);
  g_test_add_func("/rtxbudget/answers-within-the-budget", test_answers_within_the_budget);
  g_test_add_func("/rtxbudget/forget-sent", test_forget_sent);
  return g_test_run();
}
