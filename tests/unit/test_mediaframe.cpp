/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * protocol/mediaframe.{h,cpp}: the bytes of the binary media messages on
 * /ws (the header, byte by byte, as web/mediasocket.js reads it), what the
 * parser refuses, the H.264 codec string from an SPS, and avc to Annex B.
 */
#include <glib.h>

#include <string>
#include <vector>

#include "protocol/mediaframe.h"

using namespace livecast;

namespace
{

const guint8 *bytes(const std::string &s)
{
  return reinterpret_cast<const guint8 *>(s.data());
}

void test_header_bytes()
{
  MediaFrameHeader h;
  h.kind = MediaKind::Video;
  h.flags = kMediaFlagKey | kMediaFlagDiscont;
  h.timestamp_us = 0x0102030405060708;
  h.duration_us = 33333;
  const guint8 payload[] = {0, 0, 0, 1, 0x65, 0xaa};
  const std::string m = write_media_frame(h, payload, sizeof payload);
  const std::vector<guint8> expected = {1, 2, 3, 0,    1,    2, 3, 4, 5, 6,    7,
                                        8, 0, 0, 0x82, 0x35, 0, 0, 0, 1, 0x65, 0xaa};
  g_assert_cmpmem(m.data(), m.size(), expected.data(), expected.size());

  MediaFrameHeader back;
  std::string error;
  g_assert_true(parse_media_frame(bytes(m), m.size(), back, error));
  g_assert_true(back.kind == MediaKind::Video);
  g_assert_true(back.key());
  g_assert_cmpuint(back.flags, ==, 3);
  g_assert_cmpint(back.timestamp_us, ==, 0x0102030405060708);
  g_assert_cmpuint(back.duration_us, ==, 33333);
}

void test_negative_timestamp()
{
  MediaFrameHeader h;
  h.kind = MediaKind::Audio;
  h.timestamp_us = -20000;
  const std::string m = write_media_frame(h, nullptr, 0);
  g_assert_cmpuint(m.size(), ==, kMediaFrameHeaderBytes);
  MediaFrameHeader back;
  std::string error;
  g_assert_true(parse_media_frame(bytes(m), m.size(), back, error));
  g_assert_true(back.kind == MediaKind::Audio);
  g_assert_false(back.key());
  g_assert_cmpint(back.timestamp_us, ==, -20000);
}

void test_config()
{
  MediaConfig c;
  c.codec = "avc1.42c01f";
  c.width = 1280;
  c.height = 720;
  std::string m = write_media_config(MediaKind::VideoConfig, c);
  g_assert_cmpuint(static_cast<guint8>(m[1]), ==, 1);
  std::string json = m.substr(kMediaFrameHeaderBytes);
  g_assert_cmpstr(json.c_str(), ==, "{\"codec\":\"avc1.42c01f\",\"width\":1280,\"height\":720}");
  MediaConfig a;
  a.codec = "opus";
  a.sample_rate = 48000;
  a.channels = 2;
  m = write_media_config(MediaKind::AudioConfig, a);
  g_assert_cmpuint(static_cast<guint8>(m[1]), ==, 3);
  json = m.substr(kMediaFrameHeaderBytes);
  g_assert_cmpstr(json.c_str(), ==, "{\"codec\":\"opus\",\"sampleRate\":48000,\"channels\":2}");
}

void test_refused()
{
  MediaFrameHeader h;
  const std::string good = write_media_frame(h, nullptr, 0);
  std::string error;
  MediaFrameHeader out;
  g_assert_false(parse_media_frame(bytes(good), 15, out, error));
  g_assert_cmpstr(error.c_str(), ==, "A media message is at least 16 bytes long; this one has 15.");
  std::string bad = good;
  bad[0] = 2;
  g_assert_false(parse_media_frame(bytes(bad), bad.size(), out, error));
  g_assert_cmpstr(error.c_str(), ==, "Unknown media message version 2.");
  for (guint8 kind : {0, 5, 255}) {
    bad = good;
    bad[1] = static_cast<char>(kind);
    g_assert_false(parse_media_frame(bytes(bad), bad.size(), out, error));
  }
  bad = good;
  bad[2] = 4;
  g_assert_false(parse_media_frame(bytes(bad), bad.size(), out, error));
  bad = good;
  bad[3] = 1;
  g_assert_false(parse_media_frame(bytes(bad), bad.size(), out, error));
  g_assert_cmpstr(error.c_str(), ==, "A media message has reserved bits set.");
}

void test_h264_codec_string()
{
  /* x264 at 720p, constrained baseline level 3.1: SPS 67 42 c0 1f … after a
   * 4-byte start code, PPS and IDR follow. */
  const guint8 au[] = {0, 0,    0,    1,    0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0,   0,
                       1, 0x68, 0xce, 0x3c, 0x80, 0,    0,    0,    1,    0x65, 0x88, 0x84};
  std::string codec = h264_codec_string(au, sizeof au);
  g_assert_cmpstr(codec.c_str(), ==, "avc1.42c01f");
  /* High 4.0 behind a 3-byte start code, after an SEI. */
  const guint8 high[] = {0, 0, 1, 0x06, 0x05, 0x01, 0, 0, 1, 0x27, 0x64, 0x00, 0x28, 0xac};
  codec = h264_codec_string(high, sizeof high);
  g_assert_cmpstr(codec.c_str(), ==, "avc1.640028");
  /* A delta frame has no SPS; an SPS cut short has no codec string. */
  const guint8 delta[] = {0, 0, 0, 1, 0x41, 0x9a, 0x00};
  g_assert_true(h264_codec_string(delta, sizeof delta).empty());
  const guint8 cut[] = {0, 0, 1, 0x67, 0x42, 0xc0};
  g_assert_true(h264_codec_string(cut, sizeof cut).empty());
  g_assert_true(h264_codec_string(nullptr, 0).empty());
}

void test_avc_to_annexb()
{
  const guint8 avc[] = {0, 0, 0, 2, 0x67, 0x42, 0, 0, 0, 3, 0x65, 0x88, 0x84};
  const std::string annexb = h264_avc_to_annexb(avc, sizeof avc);
  const std::vector<guint8> expected = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65, 0x88, 0x84};
  g_assert_cmpmem(annexb.data(), annexb.size(), expected.data(), expected.size());
  /* A length past the end, or a length field cut short. */
  const guint8 over[] = {0, 0, 0, 9, 0x65, 0x88};
  g_assert_true(h264_avc_to_annexb(over, sizeof over).empty());
  const guint8 cut[] = {0, 0, 0, 1, 0x65, 0, 0};
  g_assert_true(h264_avc_to_annexb(cut, sizeof cut).empty());
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/mediaframe/header-bytes", test_header_bytes);
  g_test_add_func("/mediaframe/negative-timestamp", test_negative_timestamp);
  g_test_add_func("/mediaframe/config", test_config);
  g_test_add_func("/mediaframe/refused", test_refused);
  g_test_add_func("/mediaframe/h264-codec-string", test_h264_codec_string);
  g_test_add_func("/mediaframe/avc-to-annexb", test_avc_to_annexb);
  return g_test_run();
}
