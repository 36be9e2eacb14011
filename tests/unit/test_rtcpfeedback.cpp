/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Transport-cc feedback FCI (rtcpfeedback.h): vectors built by hand from
 * draft-holmer-rmcat-transport-wide-cc-extensions-01, section 3.1, and
 * ones Chromium sent (twccvectors.h), and malformed
 * input refused with a reason.
 */
#include <glib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "rtcpfeedback.h"
#include "twccvectors.h"

using namespace livecast;
using Bytes = std::vector<uint8_t>;

static TwccFeedback parse_ok(const Bytes &b)
{
  TwccFeedback fb;
  std::string error;
  if (!parse_twcc_feedback(b.data(), b.size(), fb, error))
    g_error("refused: %s", error.c_str());
  g_assert_true(error.empty());
  g_assert_cmpuint(fb.packets.size(), ==, fb.status_count);
  return fb;
}

static std::string parse_error(const Bytes &b)
{
  TwccFeedback fb;
  std::string error;
  g_assert_false(parse_twcc_feedback(b.data(), b.size(), fb, error));
  g_assert_true(error.find("malformed transport-cc feedback: ") == 0);
  return error;
}

/* base 100, 4 packets, reference 1 (64 ms), count 7; one 2-bit status
 * vector (small, large, not received, small); deltas +1 ms, -1 ms, +2 ms;
 * two bytes of padding. */
static const Bytes kTwoBit = {0x00, 0x64, 0x00, 0x04, 0x00, 0x00, 0x01, 0x07,
                              0xd8, 0x40, 0x04, 0xff, 0xfc, 0x08, 0x00, 0x00};

static void test_two_bit_vector()
{
  TwccFeedback fb = parse_ok(kTwoBit);
  g_assert_cmpuint(fb.base_seq, ==, 100);
  g_assert_cmpuint(fb.reference_time, ==, 1);
  g_assert_cmpuint(fb.feedback_count, ==, 7);
  const struct {
    uint16_t seq;
    bool received;
    int64_t arrival;
  } want[] = {{100, true, 65000}, {101, true, 64000}, {102, false, 0}, {103, true, 66000}};
  for (std::size_t i = 0; i < 4; i++) {
    g_assert_cmpuint(fb.packets[i].seq, ==, want[i].seq);
    g_assert_cmpint(fb.packets[i].received, ==, want[i].received);
    if (want[i].received)
      g_assert_cmpint(fb.packets[i].arrival_us, ==, want[i].arrival);
  }
}

/* A run of three "small delta" packets across the sequence number wrap. */
static void test_run_length_wraps()
{
  TwccFeedback fb = parse_ok(
      {0xff, 0xfe, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x20, 0x03, 0x01, 0x02, 0x03, 0x00});
  g_assert_cmpuint(fb.packets[0].seq, ==, 65534);
  g_assert_cmpuint(fb.packets[1].seq, ==, 65535);
  g_assert_cmpuint(fb.packets[2].seq, ==, 0);
  g_assert_cmpint(fb.packets[0].arrival_us, ==, 250);
  g_assert_cmpint(fb.packets[1].arrival_us, ==, 750);
  g_assert_cmpint(fb.packets[2].arrival_us, ==, 1500);
}

/* 14 one-bit statuses 1 0 1 1 0 0 0 0 0 0 0 0 0 1, reference time at its
 * largest (2^24 - 1). */
static void test_one_bit_vector()
{
  TwccFeedback fb = parse_ok(
      {0x00, 0x0a, 0x00, 0x0e, 0xff, 0xff, 0xff, 0x01, 0xac, 0x01, 0x04, 0x04, 0x04, 0x04});
  g_assert_cmpuint(fb.reference_time, ==, 0xffffff);
  std::vector<int> received;
  for (const auto &p : fb.packets) {
    if (p.received)
      received.push_back(p.seq - 10);
  }
  g_assert_cmpuint(received.size(), ==, 4);
  g_assert_cmpint(received[0], ==, 0);
  g_assert_cmpint(received[1], ==, 2);
  g_assert_cmpint(received[2], ==, 3);
  g_assert_cmpint(received[3], ==, 13);
  g_assert_cmpint(fb.packets[13].arrival_us, ==, int64_t{0xffffff} * 64000 + 4000);
}

/* 10,000 packets lost: two run-length chunks (8191 + 1809), no deltas. A
 * run longer than the count is cut at the count. */
static void test_long_runs()
{
  TwccFeedback fb =
      parse_ok({0x12, 0x34, 0x27, 0x10, 0x00, 0x00, 0x05, 0x00, 0x1f, 0xff, 0x07, 0x11});
  g_assert_cmpuint(fb.packets.size(), ==, 10000);
  for (const auto &p : fb.packets)
    g_assert_false(p.received);
  g_assert_cmpuint(fb.packets[9999].seq, ==, static_cast<uint16_t>(0x1234 + 9999));
  TwccFeedback cut = parse_ok({0, 1, 0, 2, 0, 0, 0, 0, 0x3f, 0xff, 9, 9});
  g_assert_cmpuint(cut.packets.size(), ==, 2);
  g_assert_cmpint(cut.packets[1].arrival_us, ==, 18 * 250);
}

static void test_malformed()
{
  Bytes b = kTwoBit;
  parse_error(Bytes(b.begin(), b.begin() + 7)); /* short header */
  parse_error({0, 1, 0, 0, 0, 0, 0, 0});        /* no packet */
  parse_error({0, 1, 0, 9, 0, 0, 0, 0});        /* no chunk */
  parse_error({0, 1, 0, 9, 0, 0, 0, 0, 0xd8});  /* half a chunk */
  for (std::size_t cut = 10; cut < 14; cut++)
    parse_error(Bytes(b.begin(), b.begin() + cut)); /* deltas cut short */
  /* Reserved status 3: in a run, in a 2-bit vector. */
  g_assert_true(parse_error({0, 1, 0, 1, 0, 0, 0, 0, 0x60, 0x01, 0, 0}).find("reserved") !=
                std::string::npos);
  parse_error({0, 1, 0, 1, 0, 0, 0, 0, 0xf0, 0x00, 0, 0});
  /* More than padding after the deltas. */
  Bytes trailing = kTwoBit;
  trailing.insert(trailing.end(), {0, 0});
  parse_error(trailing);
  parse_error({});
  TwccFeedback fb;
  std::string error;
  g_assert_false(parse_twcc_feedback(nullptr, 10, fb, error));
}

/* What Chromium sent (captured by tests/browser/bandwidth.test.mjs through
 * viewerfeedback.cpp's log): every one parses to the base, count and
 * number of received packets decoded by hand, with arrivals within a
 * second of each other. */
static void test_chromium_vectors()
{
  g_assert_cmpuint(G_N_ELEMENTS(kChromiumTwcc), >=, 3);
  for (const auto &v : kChromiumTwcc) {
    TwccFeedback fb = parse_ok(Bytes(v.bytes, v.bytes + v.size));
    g_assert_cmpuint(fb.base_seq, ==, v.base_seq);
    g_assert_cmpuint(fb.status_count, ==, v.status_count);
    std::size_t received = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (const auto &p : fb.packets) {
      received += p.received;
      if (p.received) {
        first = std::min(first, p.arrival_us);
        last = std::max(last, p.arrival_us);
      }
    }
    g_assert_cmpuint(received, ==, v.received);
    g_assert_cmpint(last - first, <, 1000000);
  }
}

/* REMB: mantissa x 2^exponent; not a REMB, or cut short, refused. */
static void test_remb()
{
  uint64_t bps = 0;
  std::string error;
  /* exponent 2, mantissa 0x21b2c (138,028): 552,112 bit/s; one SSRC. */
  const Bytes remb = {'R', 'E', 'M', 'B', 1, 0x0a, 0x1b, 0x2c, 0x11, 0x22, 0x33, 0x44};
  g_assert_true(parse_remb(remb.data(), remb.size(), bps, error));
  g_assert_cmpuint(bps, ==, 552112);
  /* The largest exponent is "no limit", not an overflow. */
  const Bytes huge = {'R', 'E', 'M', 'B', 0, 0xff, 0xff, 0xff};
  g_assert_true(parse_remb(huge.data(), huge.size(), bps, error));
  g_assert_cmpuint(bps, ==, UINT64_MAX);
  const Bytes not_remb = {'R', 'E', 'M', 'X', 0, 0, 0, 1};
  g_assert_false(parse_remb(not_remb.data(), not_remb.size(), bps, error));
  g_assert_true(error.find("REMB") != std::string::npos);
  const Bytes missing_ssrc = {'R', 'E', 'M', 'B', 2, 0, 0, 1, 0, 0, 0, 1};
  g_assert_false(parse_remb(missing_ssrc.data(), missing_ssrc.size(), bps, error));
  g_assert_false(parse_remb(remb.data(), 7, bps, error));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/rtcpfeedback/two-bit-vector", test_two_bit_vector);
  g_test_add_func("/rtcpfeedback/run-length-wraps", test_run_length_wraps);
  g_test_add_func("/rtcpfeedback/one-bit-vector", test_one_bit_vector);
  g_test_add_func("/rtcpfeedback/long-runs", test_long_runs);
  g_test_add_func("/rtcpfeedback/malformed", test_malformed);
  g_test_add_func("/rtcpfeedback/chromium", test_chromium_vectors);
  g_test_add_func("/rtcpfeedback/remb", test_remb);
  return g_test_run();
}
