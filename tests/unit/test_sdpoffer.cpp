/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Offer checking and trickle fragments: no network.
 */
#include <gst/gst.h>

#include <string>

#include "testutil.h"

#include "signalling/httpapi.h"
#include "offers.h"
#include "sdpoffer.h"

using namespace livecast;

static std::string replace_all(std::string s, const std::string &from, const std::string &to)
{
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

static void test_chromium_h264_picks_constrained_baseline()
{
  OfferCheck c = check_offer(kChromiumOffer, SentVideo{VideoCodec::H264, "constrained-baseline"});
  g_assert_true(c.ok);
  /* 102: constrained baseline, packetization-mode 1 (not 105, mode 0; not 108, high). */
  g_assert_cmpint(c.video.payload_type, ==, 102);
  g_assert_cmpuint(c.video.mline, ==, 0);
  ASSERT_STR_EQ(c.video.mid, "0");
  ASSERT_STR_EQ(c.video.ice_ufrag, "Kx3d");
  const GstStructure *s = gst_caps_get_structure(c.video.caps.get(), 0);
  ASSERT_STR_EQ(gst_structure_get_string(s, "encoding-name"), "H264");
  ASSERT_STR_EQ(c.video.profile_level_id, "42e01f");
  ASSERT_STR_EQ(gst_structure_get_string(s, "packetization-mode"), "1");
  /* Profile and level are the encoder's, not pinned in the caps. */
  g_assert_false(gst_structure_has_field(s, "profile-level-id"));
  g_assert_false(gst_structure_has_field(s, "profile"));
  gint pt = 0;
  g_assert_true(gst_structure_get_int(s, "payload", &pt));
  g_assert_cmpint(pt, ==, 102);
}

static void test_answer_gets_profile_level_id()
{
  OfferCheck c = check_offer(kChromiumOffer, SentVideo{VideoCodec::H264, "constrained-baseline"});
  GstSDPMessage *answer = nullptr;
  gst_sdp_message_new_from_text(
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n"
      "a=fmtp:102 packetization-mode=1;level-asymmetry-allowed=1\r\n",
      &answer);
  complete_answer_fmtp(answer, c.video);
  ASSERT_STR_EQ(gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(answer, 0), "fmtp"),
                "102 packetization-mode=1;level-asymmetry-allowed=1;profile-level-id=42e01f");
  /* Already there: kept once, not added twice. */
  complete_answer_fmtp(answer, c.video);
  g_assert_cmpuint(gst_sdp_media_attributes_len(gst_sdp_message_get_media(answer, 0)), ==, 2);
  ASSERT_STR_EQ(gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(answer, 0), "fmtp"),
                "102 packetization-mode=1;level-asymmetry-allowed=1;profile-level-id=42e01f");
  gst_sdp_message_free(answer);
  /* The SPS's own value (what webrtcbin writes once the payloader has caps)
   * gives way to the offer's. */
  gst_sdp_message_new_from_text(
      "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 102\r\n"
      "a=fmtp:102 packetization-mode=1;profile-level-id=42c01f;level-asymmetry-allowed=1\r\n",
      &answer);
  complete_answer_fmtp(answer, c.video);
  ASSERT_STR_EQ(gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(answer, 0), "fmtp"),
                "102 packetization-mode=1;level-asymmetry-allowed=1;profile-level-id=42e01f");
  gst_sdp_message_free(answer);
}

static void test_chromium_vp8_and_vp9()
{
  OfferCheck vp8 = check_offer(kChromiumOffer, SentVideo{VideoCodec::VP8, ""});
  g_assert_true(vp8.ok);
  g_assert_cmpint(vp8.video.payload_type, ==, 96);
  OfferCheck vp9 = check_offer(kChromiumOffer, SentVideo{VideoCodec::VP9, ""});
  g_assert_true(vp9.ok);
  g_assert_cmpint(vp9.video.payload_type, ==, 98); /* profile 0, not 100 (profile 2) */
}

static void test_h264_matches_the_stream_profile()
{
  /* webrtcbin pairs H.264 by exact profile: each stream gets its own payload type. */
  g_assert_cmpint(
      check_offer(kChromiumOffer, SentVideo{VideoCodec::H264, "baseline"}).video.payload_type, ==,
      103);
  g_assert_cmpint(
      check_offer(kChromiumOffer, SentVideo{VideoCodec::H264, "high"}).video.payload_type, ==, 108);
  OfferCheck main = check_offer(kChromiumOffer, SentVideo{VideoCodec::H264, "main"});
  g_assert_false(main.ok);
  g_assert_cmpint(main.status, ==, 406);
  g_assert_true(main.message.find("main profile") != std::string::npos);
  /* Constrained baseline only in packetization-mode 0: refused. */
  std::string offer = replace_all(kChromiumOffer, "packetization-mode=1;profile-level-id=42e01f",
                                  "packetization-mode=0;profile-level-id=42e01f");
  g_assert_false(check_offer(offer, SentVideo{VideoCodec::H264, "constrained-baseline"}).ok);
}

static void test_second_section_and_session_credentials()
{
  OfferCheck c = check_offer(kVp8OnlyOffer, SentVideo{VideoCodec::VP8, ""});
  g_assert_true(c.ok);
  g_assert_cmpuint(c.video.mline, ==, 1);
  ASSERT_STR_EQ(c.video.mid, "v");
  g_assert_cmpint(c.video.payload_type, ==, 120);
  g_assert_cmpuint(c.video.mids.size(), ==, 2);
  ASSERT_STR_EQ(c.video.ice_pwd, "0123456789abcdefghijklmn");
  /* The audio section before it: Opus, the viewer only receives. */
  g_assert_true(c.audio.present);
  g_assert_cmpuint(c.audio.mline, ==, 0);
  ASSERT_STR_EQ(c.audio.mid, "a");
  g_assert_cmpint(c.audio.payload_type, ==, 111);
  g_assert_true(c.audio.viewer_receives);
  g_assert_false(c.audio.viewer_sends);
  const GstStructure *s = gst_caps_get_structure(c.audio.caps.get(), 0);
  ASSERT_STR_EQ(std::string(gst_structure_get_string(s, "encoding-name")), "OPUS");
  /* A microphone offered (sendrecv): talkback. */
  OfferCheck mic =
      check_offer(replace_all(kVp8OnlyOffer, "a=mid:a\r\na=recvonly", "a=mid:a\r\na=sendrecv"),
                  SentVideo{VideoCodec::VP8, ""});
  g_assert_true(mic.audio.viewer_receives);
  g_assert_true(mic.audio.viewer_sends);
  /* No Opus: no audio. */
  OfferCheck no_opus = check_offer(replace_all(kVp8OnlyOffer, "opus/48000/2", "PCMU/8000"),
                                   SentVideo{VideoCodec::VP8, ""});
  g_assert_true(no_opus.ok);
  g_assert_false(no_opus.audio.present);
}

static void test_no_common_codec_is_406()
{
  OfferCheck c = check_offer(kVp8OnlyOffer, SentVideo{VideoCodec::H264, "constrained-baseline"});
  g_assert_false(c.ok);
  g_assert_cmpint(c.status, ==, 406);
  g_assert_true(c.message.find("H264") != std::string::npos);
}

/* The H.264 stream of raw input may send VP8 to an offer without H.264;
 * an offer that has H.264 gets H.264 even when it prefers VP8 (Chromium
 * lists VP8 first): one encoding for as many viewers as possible. */
static void test_vp8_on_demand()
{
  SentVideo sent{VideoCodec::H264, "constrained-baseline"};
  sent.encoded_here = true;
  sent.vp8_on_demand = true;
  OfferCheck vp8 = check_offer(kVp8OnlyOffer, sent);
  g_assert_true(vp8.ok);
  g_assert_true(vp8.video.codec == VideoCodec::VP8);
  g_assert_cmpint(vp8.video.payload_type, ==, 120);
  ASSERT_STR_EQ(
      gst_structure_get_string(gst_caps_get_structure(vp8.video.caps.get(), 0), "encoding-name"),
      "VP8");
  g_assert_true(vp8.video.profile_level_id.empty());
  OfferCheck both = check_offer(kChromiumOffer, sent);
  g_assert_true(both.ok);
  g_assert_true(both.video.codec == VideoCodec::H264);
  g_assert_cmpint(both.video.payload_type, ==, 102);
  /* Neither H.264 nor VP8: both named in the refusal. */
  OfferCheck vp9 = check_offer(replace_all(kVp8OnlyOffer, "VP8/90000", "VP9/90000"), sent);
  g_assert_cmpint(vp9.status, ==, 406);
  g_assert_true(vp9.message.find("H264") != std::string::npos);
  g_assert_true(vp9.message.find("or VP8") != std::string::npos);
  /* Passed-through input: VP8 is not offered on demand, and the refusal says why. */
  SentVideo passed{VideoCodec::H264, "constrained-baseline"};
  OfferCheck refused = check_offer(kVp8OnlyOffer, passed);
  g_assert_cmpint(refused.status, ==, 406);
  g_assert_true(refused.message.find("no raw video to encode VP8 from") != std::string::npos);
}

static void test_refused_offers_are_400()
{
  struct {
    std::string sdp;
    const char *expect;
  } const cases[] = {
      {"", "empty"},
      {"hello world", "v=0"},
      {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", "no media"},
      {replace_all(kChromiumOffer, "a=ice-ufrag:Kx3d\r\n", ""), "ICE credentials"},
      {replace_all(kChromiumOffer, "a=fingerprint:", "a=xfingerprint:"), "fingerprint"},
      {replace_all(kVp8OnlyOffer, "m=video 9 UDP/TLS/RTP/SAVPF 120",
                   "m=text 9 UDP/TLS/RTP/SAVPF 120"),
       "no video"},
  };
  for (const auto &c : cases) {
    OfferCheck r = check_offer(c.sdp, SentVideo{VideoCodec::VP8, ""});
    g_assert_false(r.ok);
    g_assert_cmpint(r.status, ==, 400);
    if (r.message.find(c.expect) == std::string::npos)
      g_error("message \"%s\" lacks \"%s\"", r.message.c_str(), c.expect);
  }
}

static void test_sendonly_video_cannot_receive()
{
  std::string offer = replace_all(kChromiumOffer, "a=recvonly", "a=sendonly");
  OfferCheck r = check_offer(offer, SentVideo{VideoCodec::H264, "constrained-baseline"});
  g_assert_false(r.ok);
  g_assert_cmpint(r.status, ==, 406);
}

static void test_sdp_fragment()
{
  SdpFragment f = parse_sdp_fragment(
      "a=ice-ufrag:Kx3d\r\na=ice-pwd:5l6Fj1sPq7gWwqPuY7lqAW3z\r\nm=video 9 RTP/AVP 0\r\na=mid:0\r\n"
      "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n"
      "a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active\r\n"
      "a=end-of-candidates\r\n");
  g_assert_true(f.ok);
  ASSERT_STR_EQ(f.ice_ufrag, "Kx3d");
  g_assert_cmpuint(f.candidates.size(), ==, 2);
  ASSERT_STR_EQ(f.candidates[0].mid, "0");
  g_assert_cmpint(f.candidates[0].mline, ==, 0);
  ASSERT_STR_EQ(f.candidates[1].candidate,
                "candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active");
  g_assert_true(f.end_of_candidates);

  g_assert_false(parse_sdp_fragment("").ok);
  g_assert_false(parse_sdp_fragment("not sdp at all").ok);
  g_assert_false(parse_sdp_fragment("a=candidate:1 1 udp\r\n").ok);
}

static void test_secrets_and_media_types()
{
  g_assert_true(secrets_equal("s3cret", "s3cret"));
  g_assert_false(secrets_equal("s3cre", "s3cret"));
  g_assert_false(secrets_equal("s3cretx", "s3cret"));
  g_assert_false(secrets_equal("", "s3cret"));
  ASSERT_STR_EQ(media_type("Application/SDP; charset=utf-8"), "application/sdp");
  ASSERT_STR_EQ(media_type(""), "");
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/sdpoffer/chromium-h264", test_chromium_h264_picks_constrained_baseline);
  g_test_add_func("/sdpoffer/answer-profile-level-id", test_answer_gets_profile_level_id);
  g_test_add_func("/sdpoffer/chromium-vp8-vp9", test_chromium_vp8_and_vp9);
  g_test_add_func("/sdpoffer/h264-profile", test_h264_matches_the_stream_profile);
  g_test_add_func("/sdpoffer/second-section", test_second_section_and_session_credentials);
  g_test_add_func("/sdpoffer/no-common-codec", test_no_common_codec_is_406);
  g_test_add_func("/sdpoffer/vp8-on-demand", test_vp8_on_demand);
  g_test_add_func("/sdpoffer/refused", test_refused_offers_are_400);
  g_test_add_func("/sdpoffer/sendonly", test_sendonly_video_cannot_receive);
  g_test_add_func("/sdpoffer/fragment", test_sdp_fragment);
  g_test_add_func("/sdpoffer/secrets", test_secrets_and_media_types);
  return g_test_run();
}
