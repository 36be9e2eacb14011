/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Access unit delimiters removed from H.264 access units, byte-stream and
 * avc, everything else kept byte for byte.
 */
#include <gst/gst.h>

#include <string>
#include <vector>

#include "h264aud.h"

using namespace livecast;
using Bytes = std::vector<guint8>;

static GstBuffer *buffer_of(const Bytes &bytes)
{
  GstBuffer *b =
      bytes.empty() ? gst_buffer_new() : gst_buffer_new_memdup(bytes.data(), bytes.size());
  GST_BUFFER_PTS(b) = 42 * GST_MSECOND;
  GST_BUFFER_DURATION(b) = 33 * GST_MSECOND;
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
  return b;
}

static Bytes bytes_of(GstBuffer *b)
{
  Bytes out(gst_buffer_get_size(b));
  if (!out.empty())
    gst_buffer_extract(b, 0, out.data(), out.size());
  return out;
}

/* NAL units (header byte first) as byte-stream with 4- or 3-byte start codes. */
static Bytes byte_stream(const std::vector<Bytes> &nals, bool long_codes = true)
{
  Bytes out;
  for (const Bytes &n : nals) {
    if (long_codes)
      out.push_back(0);
    out.insert(out.end(), {0, 0, 1});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

static Bytes avc(const std::vector<Bytes> &nals)
{
  Bytes out;
  for (const Bytes &n : nals) {
    const guint32 len = static_cast<guint32>(n.size());
    out.insert(out.end(), {guint8(len >> 24), guint8(len >> 16), guint8(len >> 8), guint8(len)});
    out.insert(out.end(), n.begin(), n.end());
  }
  return out;
}

static const Bytes kAud = {0x09, 0xf0};
static const Bytes kSps = {0x67, 0x42, 0xc0, 0x1f, 0x8c, 0x8d, 0x40};
static const Bytes kPps = {0x68, 0xce, 0x3c, 0x80};
static const Bytes kIdr = {0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x00, 0x21, 0x7f};
static const Bytes kSlice = {0x41, 0x9a, 0x00, 0x00, 0x03, 0x01, 0x00};

static void test_byte_stream()
{
  for (bool long_codes : {true, false}) {
    GstBuffer *in = buffer_of(byte_stream({kAud, kSps, kPps, kIdr, kIdr}, long_codes));
    GstBuffer *out = h264_without_aud(in, false);
    g_assert_true(bytes_of(out) == byte_stream({kSps, kPps, kIdr, kIdr}, long_codes));
    g_assert_cmpuint(GST_BUFFER_PTS(out), ==, 42 * GST_MSECOND);
    g_assert_cmpuint(GST_BUFFER_DURATION(out), ==, 33 * GST_MSECOND);
    g_assert_true(GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_DELTA_UNIT));
    gst_buffer_unref(out);
  }
  /* An AUD in the middle and at the end goes too. */
  GstBuffer *out = h264_without_aud(buffer_of(byte_stream({kSlice, kAud, kSlice, kAud})), false);
  g_assert_true(bytes_of(out) == byte_stream({kSlice, kSlice}));
  gst_buffer_unref(out);
}

static void test_avc()
{
  GstBuffer *out = h264_without_aud(buffer_of(avc({kAud, kSps, kPps, kIdr})), true);
  g_assert_true(bytes_of(out) == avc({kSps, kPps, kIdr}));
  gst_buffer_unref(out);
}

static void test_untouched()
{
  /* No AUD: the very same buffer comes back. */
  GstBuffer *in = buffer_of(byte_stream({kSlice, kSlice}));
  g_assert_true(h264_without_aud(in, false) == in);
  gst_buffer_unref(in);
  /* Unreadable input is passed on as it is, never cut. */
  for (const Bytes &bad : {Bytes{}, Bytes{0x09, 0xf0}, Bytes{0, 0, 1}, Bytes{0, 0, 0, 9, 0x09}}) {
    GstBuffer *b = buffer_of(bad);
    g_assert_true(h264_without_aud(b, true) == b);
    g_assert_true(bytes_of(b) == bad);
    gst_buffer_unref(b);
  }
  GstBuffer *truncated = buffer_of(avc({kAud, kIdr}));
  gst_buffer_resize(truncated, 0, gst_buffer_get_size(truncated) - 2);
  g_assert_true(h264_without_aud(truncated, true) == truncated);
  gst_buffer_unref(truncated);
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/h264aud/byte-stream", test_byte_stream);
  g_test_add_func("/h264aud/avc", test_avc);
  g_test_add_func("/h264aud/untouched", test_untouched);
  return g_test_run();
}
