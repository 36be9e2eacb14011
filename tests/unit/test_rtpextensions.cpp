/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The RTP header extensions of a viewer's video (rtpextensions.h,
 * playoutdelay.h): the bytes the playout-delay extension writes, the
 * packets a real payloader sends with both extensions, which ids an offer
 * leads to, and the a=extmap lines a real webrtcbin answers with. No network.
 */
#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/webrtc/webrtc.h>

#include <string>
#include <vector>

#include "testutil.h"

#include "offers.h"
#include "playoutdelay.h"
#include "rtpextensions.h"
#include "sdpoffer.h"
#include "transportcc.h"

using namespace livecast;

namespace
{

/* Chromium's video extmaps as it offers them (ids as seen in its offers). */
const char kChromiumExtmaps[] =
    "a=extmap:1 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 urn:3gpp:video-orientation\r\n"
    "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n";

/* kChromiumOffer with @extmaps in place of its one toffset extmap. */
std::string offer_with(const std::string &extmaps)
{
  std::string offer = kChromiumOffer;
  const std::string toffset = "a=extmap:1 urn:ietf:params:rtp-hdrext:toffset\r\n";
  offer.replace(offer.find(toffset), toffset.size(), extmaps);
  return offer;
}

std::vector<guint8> written(guint min_ms, guint max_ms)
{
  GstRTPHeaderExtension *ext = playout_delay_extension_new(5, min_ms, max_ms);
  gst_object_ref_sink(ext);
  g_assert_cmpuint(gst_rtp_header_extension_get_id(ext), ==, 5);
  ASSERT_STR_EQ(gst_rtp_header_extension_get_uri(ext), kPlayoutDelayUri);
  GstBuffer *out = gst_rtp_buffer_new_allocate(0, 0, 0);
  std::vector<guint8> data(gst_rtp_header_extension_get_max_size(ext, out), 0xee);
  const gssize n = gst_rtp_header_extension_write(ext, out, GST_RTP_HEADER_EXTENSION_ONE_BYTE, out,
                                                  data.data(), data.size());
  /* Too little room: refused, nothing written past it. */
  guint8 small[2] = {0xee, 0xee};
  g_assert_cmpint(gst_rtp_header_extension_write(ext, out, GST_RTP_HEADER_EXTENSION_ONE_BYTE, out,
                                                 small, sizeof small),
                  <, 0);
  gst_buffer_unref(out);
  gst_object_unref(ext);
  g_assert_cmpint(n, ==, 3);
  data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return data;
}

void assert_bytes(const std::vector<guint8> &got, std::vector<guint8> want)
{
  g_assert_cmpuint(got.size(), ==, want.size());
  for (std::size_t i = 0; i < want.size(); i++)
    g_assert_cmphex(got[i], ==, want[i]);
}

}  // namespace

/* MIN in the first 12 bits, MAX in the last 12, both in 10 ms units. */
static void test_playout_delay_bytes()
{
  assert_bytes(written(0, 0), {0x00, 0x00, 0x00});
  assert_bytes(written(120, 40950), {0x00, 0xcf, 0xff}); /* 12 and 4095 */
  assert_bytes(written(15, 25), {0x00, 0x10, 0x02});     /* rounded down to 10 ms */
  assert_bytes(written(40950, 10), {0xff, 0xf0, 0x01});
  assert_bytes(written(100000, 100000), {0xff, 0xff, 0xff}); /* capped */
}

/* A real payloader with both extensions: every packet carries them with
 * the chosen ids, and its caps name them (what rtpbin and the answer read). */
static void test_payloader_writes_both()
{
  GstHarness *h = gst_harness_new("rtpvrawpay");
  VideoExtensions ext;
  ext.transport_cc_id = 4;
  ext.playout_delay_id = 5;
  ext.playout_delay_ms = 0;
  std::string error;
  g_assert_true(add_extensions(h->element, ext, error));
  g_object_set(h->element, "mtu", 200u, nullptr);
  gst_harness_set_src_caps_str(h,
                               "video/x-raw,format=I420,width=16,height=16,framerate=30/1,"
                               "pixel-aspect-ratio=1/1,colorimetry=bt601");
  GstBuffer *frame = gst_buffer_new_allocate(nullptr, 16 * 16 * 3 / 2, nullptr);
  gst_buffer_memset(frame, 0, 0x80, 16 * 16 * 3 / 2);
  GST_BUFFER_PTS(frame) = 0;
  g_assert_cmpint(gst_harness_push(h, frame), ==, GST_FLOW_OK);
  const guint packets = gst_harness_buffers_in_queue(h);
  g_assert_cmpuint(packets, >=, 2);
  for (guint i = 0; i < packets; i++) {
    GstBuffer *b = gst_harness_pull(h);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    g_assert_true(gst_rtp_buffer_map(b, GST_MAP_READ, &rtp));
    gpointer data = nullptr;
    guint size = 0;
    g_assert_true(gst_rtp_buffer_get_extension_onebyte_header(&rtp, 5, 0, &data, &size));
    g_assert_cmpuint(size, ==, 3);
    assert_bytes(std::vector<guint8>(static_cast<guint8 *>(data), static_cast<guint8 *>(data) + 3),
                 {0x00, 0x00, 0x00});
    g_assert_true(gst_rtp_buffer_get_extension_onebyte_header(&rtp, 4, 0, &data, &size));
    g_assert_cmpuint(size, ==, 2); /* the transport-wide sequence number */
    gst_rtp_buffer_unmap(&rtp);
    gst_buffer_unref(b);
  }
  GstCaps *caps = gst_pad_get_current_caps(h->sinkpad);
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  ASSERT_STR_EQ(gst_structure_get_string(s, "extmap-4"), kTransportCcUri);
  ASSERT_STR_EQ(gst_structure_get_string(s, "extmap-5"), kPlayoutDelayUri);
  gst_caps_unref(caps);
  gst_harness_teardown(h);
}

static void test_ids_from_the_offer()
{
  OfferCheck c = check_offer(offer_with(kChromiumExtmaps), SentVideo{});
  g_assert_true(c.ok);
  g_assert_cmpuint(c.video.extmaps.size(), ==, 11);
  VideoExtensions e = choose_video_extensions(c.video.extmaps, 0);
  g_assert_cmpint(e.transport_cc_id, ==, 4);
  g_assert_cmpint(e.playout_delay_id, ==, 5);
  g_assert_cmpuint(e.playout_delay_ms, ==, 0);
  /* playout-delay=-1: not carried; transport-cc still is. */
  e = choose_video_extensions(c.video.extmaps, -1);
  g_assert_cmpint(e.transport_cc_id, ==, 4);
  g_assert_cmpint(e.playout_delay_id, ==, -1);
  e = choose_video_extensions(c.video.extmaps, 40);
  g_assert_cmpuint(e.playout_delay_ms, ==, 40);

  /* An offer without them (aiortc, libdatachannel): none. */
  c = check_offer(kChromiumOffer, SentVideo{});
  e = choose_video_extensions(c.video.extmaps, 0);
  g_assert_cmpint(e.transport_cc_id, ==, -1);
  g_assert_cmpint(e.playout_delay_id, ==, -1);

  /* Two-byte ids and an id given twice are never used; a direction is read past. */
  c = check_offer(
      offer_with("a=extmap:15 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
                 "a=extmap:3/sendrecv "
                 "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
                 "a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
                 "a=extmap:x urn:broken\r\n"),
      SentVideo{});
  g_assert_true(c.ok);
  g_assert_cmpuint(c.video.extmaps.size(), ==, 3);
  e = choose_video_extensions(c.video.extmaps, 0);
  g_assert_cmpint(e.transport_cc_id, ==, 3);
  g_assert_cmpint(e.playout_delay_id, ==, -1);

  /* Our own offer: fixed, distinct ids. */
  e = choose_video_extensions(our_video_extmaps(), 0);
  g_assert_cmpint(e.transport_cc_id, >, 0);
  g_assert_cmpint(e.playout_delay_id, >, 0);
  g_assert_cmpint(e.transport_cc_id, !=, e.playout_delay_id);
  OfferCheck ours;
  ours.video.extmaps = our_video_extmaps();
  g_assert_cmpint(transport_cc_extension_id(nullptr), ==, -1);
}

namespace
{

GstWebRTCSessionDescription *reply_sdp(GstPromise *p, const char *field)
{
  g_assert_cmpint(gst_promise_wait(p), ==, GST_PROMISE_RESULT_REPLIED);
  const GstStructure *reply = gst_promise_get_reply(p);
  g_assert_true(reply || !field); /* set-remote-description replies nothing when it worked */
  if (reply && gst_structure_has_field(reply, "error")) {
    GError *error = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    g_error("webrtcbin: %s", error ? error->message : "?");
  }
  GstWebRTCSessionDescription *desc = nullptr;
  if (field)
    gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr);
  gst_promise_unref(p);
  return desc;
}

/* webrtcbin's answer to @offer_text with a send-only transceiver whose
 * codec preferences are the offer's caps with @ext, as the viewer's branch
 * sets them (media/viewerbranch.cpp). */
std::string webrtcbin_answer(const std::string &offer_text, const VideoExtensions &ext,
                             guint32 ssrc = 0)
{
  OfferCheck c = check_offer(offer_text, SentVideo{});
  g_assert_true(c.ok);
  GstElement *webrtcbin = gst_element_factory_make("webrtcbin", nullptr);
  g_assert_nonnull(webrtcbin);
  gst_object_ref_sink(webrtcbin);
  /* Closed below READY; no socket is opened before a local description. */
  g_assert_cmpint(gst_element_set_state(webrtcbin, GST_STATE_READY), ==, GST_STATE_CHANGE_SUCCESS);
  Ref<GstCaps> caps = caps_with_extensions(c.video.caps.get(), ext);
  if (ssrc) {
    caps = Ref<GstCaps>::adopt(gst_caps_make_writable(caps.release()));
    gst_caps_set_simple(caps.get(), "ssrc", G_TYPE_UINT, ssrc, nullptr);
  }
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name(webrtcbin, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                        caps.get(), &trans);
  g_assert_nonnull(trans);
  gst_object_unref(trans);
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new_from_text(offer_text.c_str(), &sdp);
  GstWebRTCSessionDescription *offer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  GstPromise *p = gst_promise_new();
  g_signal_emit_by_name(webrtcbin, "set-remote-description", offer, p);
  reply_sdp(p, nullptr);
  gst_webrtc_session_description_free(offer);
  p = gst_promise_new();
  g_signal_emit_by_name(webrtcbin, "create-answer", nullptr, p);
  GstWebRTCSessionDescription *answer = reply_sdp(p, "answer");
  g_assert_nonnull(answer);
  gchar *text = gst_sdp_message_as_text(answer->sdp);
  std::string out = text;
  g_free(text);
  gst_webrtc_session_description_free(answer);
  gst_element_set_state(webrtcbin, GST_STATE_NULL);
  gst_object_unref(webrtcbin);
  return out;
}

int count(const std::string &text, const std::string &what)
{
  int n = 0;
  for (std::size_t pos = 0; (pos = text.find(what, pos)) != std::string::npos; pos += what.size())
    n++;
  return n;
}

}  // namespace

/* The answer names exactly the extensions chosen, with the offer's ids. */
static void test_webrtcbin_answer_has_both_extmaps()
{
  const std::string offer = offer_with(kChromiumExtmaps);
  std::string answer = webrtcbin_answer(
      offer, choose_video_extensions(check_offer(offer, SentVideo{}).video.extmaps, 0));
  g_assert_cmpint(count(answer, "a=extmap:4 " + std::string(kTransportCcUri) + "\r\n"), ==, 1);
  g_assert_cmpint(count(answer, "a=extmap:5 " + std::string(kPlayoutDelayUri) + "\r\n"), ==, 1);
  g_assert_cmpint(count(answer, "a=extmap:"), ==, 2);

  answer = webrtcbin_answer(offer, VideoExtensions{});
  g_assert_cmpint(count(answer, "a=extmap:"), ==, 0); /* what webrtcbin 1.22 does alone */
  g_assert_cmpint(count(answer, "a=ssrc:"), ==, 0);

  /* An SSRC in the codec preferences is answered before any frame
   * (media/viewerbranch.cpp pins it so the answer need not wait). */
  answer = webrtcbin_answer(offer, VideoExtensions{}, 3735928559u);
  g_assert_cmpint(count(answer, "a=ssrc:3735928559 cname:"), ==, 1);
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/rtpextensions/playout-delay-bytes", test_playout_delay_bytes);
  g_test_add_func("/rtpextensions/payloader-writes-both", test_payloader_writes_both);
  g_test_add_func("/rtpextensions/ids-from-the-offer", test_ids_from_the_offer);
  g_test_add_func("/rtpextensions/webrtcbin-answer", test_webrtcbin_answer_has_both_extmaps);
  return g_test_run();
}
