/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A viewer's SDP offer (POST /whep, POST /offer, the WebSocket's offer):
 * check_offer for each codec and H.264 profile the stream can send, then
 * complete_answer_fmtp on the same text read as an answer. The input is
 * the SDP text itself.
 */
#include <gst/sdp/sdp.h>

#include "fuzz_backend.h"
#include "sdpoffer.h"

using namespace livecast;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
  fuzz::init_gstreamer();
  return 0;
}

static void check_result(const OfferCheck &check, const std::string &sdp)
{
  if (!check.ok) {
    FUZZ_CHECK(check.status >= 400 && check.status < 500);
    FUZZ_CHECK(!check.message.empty());
    return;
  }
  FUZZ_CHECK(check.video.caps);
  FUZZ_CHECK(check.video.payload_type >= 0 && check.video.payload_type <= 127);
  FUZZ_CHECK(check.video.mline < check.video.mids.size());
  if (check.audio.present) {
    FUZZ_CHECK(check.audio.caps);
    FUZZ_CHECK(check.audio.payload_type >= 0 && check.audio.payload_type <= 127);
  }

  /* The answer's fmtp: the offer itself stands in for webrtcbin's answer. */
  GstSDPMessage *answer = nullptr;
  gst_sdp_message_new(&answer);
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8 *>(sdp.data()), sdp.size(),
                                   answer) == GST_SDP_OK) {
    complete_answer_fmtp(answer, check.video);
    gchar *text = gst_sdp_message_as_text(answer);
    g_free(text);
  }
  gst_sdp_message_free(answer);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string sdp(reinterpret_cast<const char *>(data), size);
  static const char *const profiles[] = {"constrained-baseline", "baseline", "main", "high"};
  for (const char *profile : profiles) {
    SentVideo sent;
    sent.codec = VideoCodec::H264;
    sent.h264_profile = profile;
    check_result(check_offer(sdp, sent), sdp);
  }
  for (VideoCodec codec : {VideoCodec::VP8, VideoCodec::VP9}) {
    SentVideo sent;
    sent.codec = codec;
    check_result(check_offer(sdp, sent), sdp);
  }
  return 0;
}
