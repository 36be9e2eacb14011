/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * protocol/tokenbucket.{h,cpp} on a clock of the test's own: the exact
 * microsecond a token comes back, bursts, long pauses, one bucket per
 * address, and the verdicts of a flood (told once a second, closed after
 * three seconds) as the sink's /ws and `livecast signal` use them.
 */
#include <glib.h>

#include <string>
#include <vector>

#include "testutil.h"

#include "protocol/tokenbucket.h"

using namespace livecast;

namespace
{

constexpr gint64 kSecond = G_USEC_PER_SEC;

void test_bucket_exact()
{
  TokenBucket b(3, 3);
  const gint64 t0 = 100 * kSecond;
  /* Full at first: the burst passes at once. */
  for (int i = 0; i < 3; i++)
    g_assert_true(b.take(t0));
  g_assert_false(b.take(t0));
  /* One token is a third of a second: 333333.33… µs, so 333334 µs. */
  g_assert_cmpint(b.wait_us(t0), ==, 333334);
  g_assert_false(b.take(t0 + 333333));
  g_assert_cmpint(b.wait_us(t0 + 333333), ==, 1);
  g_assert_true(b.take(t0 + 333334));
  /* What is left over (2 millionths) counts towards the next one. */
  g_assert_cmpint(b.wait_us(t0 + 333334), ==, 333333);
  g_assert_true(b.take(t0 + 2 * 333334 - 1));

  /* A long pause fills it to the burst and no more; a huge one does not
   * overflow. */
  g_assert_true(b.take(t0 + 3600 * kSecond));
  g_assert_true(b.take(t0 + 3600 * kSecond));
  g_assert_true(b.take(t0 + 3600 * kSecond));
  g_assert_false(b.take(t0 + 3600 * kSecond));
  g_assert_true(b.take(G_MAXINT64 / 2));
  g_assert_true(b.take(G_MAXINT64 / 2));
  g_assert_true(b.take(G_MAXINT64 / 2));
  g_assert_false(b.take(G_MAXINT64 / 2));
  /* A clock that steps back refills nothing. */
  g_assert_false(b.take(t0));
  g_assert_cmpint(b.wait_us(G_MAXINT64 / 2), ==, 333334);

  /* Rate 0: the burst, then never again. */
  TokenBucket once(0, 1);
  g_assert_true(once.take(0));
  g_assert_false(once.take(kSecond * 1000));
  g_assert_cmpint(once.wait_us(kSecond * 1000), ==, G_MAXINT64);
}

/* A new rate keeps what the bucket holds: set again and again, it never refills by itself. */
void test_bucket_set_rate()
{
  TokenBucket b(10, 10);
  const gint64 t0 = 50 * kSecond;
  for (int i = 0; i < 10; i++)
    g_assert_true(b.take(t0));
  g_assert_false(b.take(t0));
  for (int tick = 1; tick <= 4; tick++)
    b.set_rate(10, 20, t0 + tick * 1000); /* each 1 ms: hardly a token's worth */
  g_assert_false(b.take(t0 + 4000));
  /* The new rate from then on: 40 a second, burst 20 (a quarter second fills 10). */
  b.set_rate(40, 20, t0 + 4000);
  int taken = 0;
  while (b.take(t0 + 4000 + kSecond / 4))
    taken++;
  g_assert_cmpint(taken, ==, 10);
  /* A smaller burst cuts what is kept. */
  b.set_rate(40, 2, t0 + 4000 + 2 * kSecond);
  taken = 0;
  while (b.take(t0 + 4000 + 2 * kSecond))
    taken++;
  g_assert_cmpint(taken, ==, 2);
}

void test_bucket_steady_rate()
{
  /* livecast signal's default: 50 a second in bursts of 100. A message every
   * millisecond for 10 s gets exactly 100 + 50 × 10 through (a sum of 0.05
   * tokens in doubles would have drifted). */
  TokenBucket b(50, 100);
  int passed = 0;
  for (gint64 ms = 0; ms <= 10000; ms++)
    passed += b.take(5 * kSecond + ms * 1000);
  g_assert_cmpint(passed, ==, 600);
}

/* Steps of a second with the burst equal to the rate: a one-second window
 * (the sink's /ws), opened by the first message once the bucket is full. */
void test_bucket_window()
{
  TokenBucket w(50, 50, kSecond);
  const gint64 t0 = 10 * kSecond;
  int passed = 0;
  /* 500 messages spread over the first 0.9 s: 50 read, the rest of that
   * second's dropped (a smooth rate would have let 45 more through). */
  for (int i = 0; i < 500; i++)
    passed += w.take(t0 + i * 1800);
  g_assert_cmpint(passed, ==, 50);
  g_assert_cmpint(w.wait_us(t0 + 900000), ==, 100000);
  g_assert_false(w.take(t0 + kSecond - 1));
  /* A second after the window opened: 50 again. */
  for (int i = 0; i < 50; i++)
    g_assert_true(w.take(t0 + kSecond + i));
  g_assert_false(w.take(t0 + kSecond + 50));
  /* After a quiet spell the next message opens the window: 50 from 5.3 s,
   * none until 6.3 s, though 6 s went by. */
  for (int i = 0; i < 50; i++)
    g_assert_true(w.take(t0 + 5300000));
  g_assert_false(w.take(t0 + 6299999));
  g_assert_cmpint(w.wait_us(t0 + 6299999), ==, 1);
  g_assert_true(w.take(t0 + 6300000));
  /* Whole steps only, but a part of a step is kept: windows follow each
   * other back to back while messages keep coming. */
  TokenBucket half(2, 4, kSecond);
  for (int i = 0; i < 4; i++)
    g_assert_true(half.take(0));
  g_assert_false(half.take(kSecond - 1));
  g_assert_true(half.take(kSecond + kSecond / 2));
  g_assert_true(half.take(kSecond + kSecond / 2));
  g_assert_false(half.take(2 * kSecond - 1));
  g_assert_true(half.take(2 * kSecond));
}

/* From tests/unit/test_httpapi.cpp, where OfferRateLimiter was tested. */
void test_buckets_per_address()
{
  TokenBuckets buckets(3, 3, 10 * kSecond);
  const gint64 t0 = 100 * kSecond;
  for (int i = 0; i < 3; i++)
    g_assert_true(buckets.take("10.0.0.1", t0));
  g_assert_false(buckets.take("10.0.0.1", t0));
  g_assert_cmpint(buckets.wait_us("10.0.0.1", t0), ==, 333334);
  g_assert_cmpint(buckets.wait_us("10.0.0.9", t0), ==, 0);
  /* Another address has its own bucket. */
  g_assert_true(buckets.take("10.0.0.2", t0));
  /* A third of a second refills one. */
  g_assert_true(buckets.take("10.0.0.1", t0 + kSecond / 3 + 1));
  g_assert_false(buckets.take("10.0.0.1", t0 + kSecond / 3 + 2));
  g_assert_cmpuint(buckets.size(), ==, 2);
  /* Quiet addresses are forgotten (not before 10 s). */
  g_assert_true(buckets.take("10.0.0.3", t0 + 10 * kSecond));
  g_assert_cmpuint(buckets.size(), ==, 3);
  g_assert_true(buckets.take("10.0.0.3", t0 + 60 * kSecond));
  g_assert_cmpuint(buckets.size(), ==, 1);
}

/* The verdicts of @n messages at @now. */
std::vector<RateVerdict> send(MessageRateLimit &limit, int n, gint64 now)
{
  std::vector<RateVerdict> out;
  for (int i = 0; i < n; i++)
    out.push_back(limit.admit(now));
  return out;
}

int count(const std::vector<RateVerdict> &verdicts, RateVerdict v)
{
  int n = 0;
  for (RateVerdict x : verdicts)
    n += x == v;
  return n;
}

void test_flood_bursts()
{
  /* The sink's /ws: 50 in each one-second window; 200 messages at the start
   * of each second: 50 read, the sender told once, the rest dropped; the
   * first message dropped 3 s after the flood began closes it. */
  MessageRateLimit limit(TokenBucket(50, 50, kSecond), 3 * kSecond);
  const gint64 t0 = 2 * kSecond;
  for (int second = 0; second < 3; second++) {
    const std::vector<RateVerdict> v = send(limit, 200, t0 + second * kSecond);
    g_assert_cmpint(count(v, RateVerdict::Pass), ==, 50);
    g_assert_true(v[50] == RateVerdict::DropAndTell);
    g_assert_cmpint(count(v, RateVerdict::DropAndTell), ==, 1);
    g_assert_cmpint(count(v, RateVerdict::Drop), ==, 149);
  }
  const std::vector<RateVerdict> last = send(limit, 200, t0 + 3 * kSecond);
  g_assert_cmpint(count(last, RateVerdict::Pass), ==, 50);
  g_assert_true(last[50] == RateVerdict::Close);
}

void test_flood_ends_when_quiet()
{
  MessageRateLimit limit(TokenBucket(10, 10), 3 * kSecond, kSecond);
  const gint64 t0 = kSecond;
  send(limit, 10, t0);
  g_assert_true(limit.admit(t0) == RateVerdict::DropAndTell);
  /* Exactly a second without a drop is not yet quiet: the flood goes on... */
  g_assert_cmpint(count(send(limit, 11, t0 + kSecond), RateVerdict::Pass), ==, 10);
  g_assert_cmpint(count(send(limit, 11, t0 + 2 * kSecond), RateVerdict::Pass), ==, 10);
  /* ...and a drop 3 s after it began closes. */
  g_assert_true(send(limit, 11, t0 + 3 * kSecond).back() == RateVerdict::Close);

  /* More than a second without a drop ends it: the next flood counts its
   * 3 s from its own start. */
  MessageRateLimit calm(TokenBucket(10, 10), 3 * kSecond, kSecond);
  send(calm, 11, t0);
  g_assert_cmpint(count(send(calm, 11, t0 + 2 * kSecond + 1), RateVerdict::Pass), ==, 10);
  g_assert_cmpint(count(send(calm, 11, t0 + 3 * kSecond + 1), RateVerdict::Close), ==, 0);
  g_assert_cmpint(count(send(calm, 11, t0 + 4 * kSecond + 1), RateVerdict::Close), ==, 0);
  g_assert_true(send(calm, 11, t0 + 5 * kSecond + 1).back() == RateVerdict::Close);
  /* Told at most once per interval, across floods too. */
  MessageRateLimit told(TokenBucket(1, 1), 100 * kSecond, 10 * kSecond);
  g_assert_true(told.admit(0) == RateVerdict::Pass);
  g_assert_true(told.admit(1) == RateVerdict::DropAndTell);
  g_assert_true(told.admit(2 * kSecond) == RateVerdict::Pass);
  g_assert_true(told.admit(2 * kSecond + 1) == RateVerdict::Drop);
  g_assert_true(told.admit(10 * kSecond + 1) == RateVerdict::Pass);
  g_assert_true(told.admit(10 * kSecond + 2) == RateVerdict::DropAndTell);
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/tokenbucket/exact", test_bucket_exact);
  g_test_add_func("/tokenbucket/steady-rate", test_bucket_steady_rate);
  g_test_add_func("/tokenbucket/set-rate", test_bucket_set_rate);
  g_test_add_func("/tokenbucket/window", test_bucket_window);
  g_test_add_func("/tokenbucket/per-address", test_buckets_per_address);
  g_test_add_func("/tokenbucket/flood-bursts", test_flood_bursts);
  g_test_add_func("/tokenbucket/flood-ends-when-quiet", test_flood_ends_when_quiet);
  return g_test_run();
}
