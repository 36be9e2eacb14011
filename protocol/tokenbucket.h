/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Rate limits, on a clock the caller passes in (monotonic microseconds, so
 * tests drive them exactly):
 *  - TokenBucket: a steady rate with bursts;
 *  - TokenBuckets: one bucket per key (a client's address), quiet keys
 *    forgotten (the HTTP API's max-offers-per-second, README.md "Safe
 *    defaults and limits");
 *  - MessageRateLimit: a bucket plus what a flood costs the sender: dropped
 *    messages, one notice a second, then closed (the sink's /ws and
 *    `livecast signal`'s --max-rate, README.md).
 */
#pragma once

#include <glib.h>

#include <map>
#include <string>

namespace livecast
{

/* @rate tokens a second, at most @burst kept; starts full, and its clock
 * starts at the first call. Tokens come back in whole steps of @step_us:
 * 1 µs is a smooth rate; G_USEC_PER_SEC with @burst == @rate is a
 * one-second window (@rate messages, then none until a second after the
 * window opened; a window opens with the first message once the bucket is
 * full again). Counted in millionths of a token, so whole microseconds
 * refill whole units: the arithmetic is exact. */
class TokenBucket
{
 public:
  TokenBucket(unsigned rate, unsigned burst, gint64 step_us = 1);

  /* Takes a token at @now_us if there is one. */
  bool take(gint64 now_us);
  /* A new @rate and @burst from @now_us on, keeping the tokens it has
   * (at most the new @burst): changed often, it never refills by itself. */
  void set_rate(unsigned rate, unsigned burst, gint64 now_us);
  /* Microseconds from @now_us until a token is there (0: now). */
  gint64 wait_us(gint64 now_us);
  /* When it was last used (refilled), for forgetting idle buckets. */
  gint64 last_us() const { return at_us_; }

 private:
  void refill(gint64 now_us);

  gint64 step_us_;
  gint64 per_step_; /* millionths of a token a step */
  gint64 capacity_; /* millionths of a token */
  gint64 level_;    /* millionths of a token */
  gint64 at_us_ = 0;
  bool started_ = false;
};

/* A TokenBucket per key, each made full on first use. Keys unused for
 * @forget_after_us are dropped (looked for at most that often), so the map
 * holds only recent clients; forgetting a bucket changes nothing when
 * @forget_after_us is at least the time it takes to fill (@burst / @rate s). */
class TokenBuckets
{
 public:
  TokenBuckets(unsigned rate, unsigned burst, gint64 forget_after_us);

  bool take(const std::string &key, gint64 now_us);
  /* Microseconds until @key has a token (0: now, or an unknown key). */
  gint64 wait_us(const std::string &key, gint64 now_us);
  std::size_t size() const { return buckets_.size(); }

 private:
  unsigned rate_, burst_;
  gint64 forget_after_us_;
  gint64 last_prune_us_ = 0;
  std::map<std::string, TokenBucket> buckets_;
};

/* What to do with one message of a sender held to a MessageRateLimit. */
enum class RateVerdict {
  Pass,        /* read it */
  Drop,        /* over the rate: drop it */
  DropAndTell, /* drop it, and tell the sender it is over the rate */
  Close,       /* over the rate for too long: close the connection */
};

/* A sender's messages held to a TokenBucket. A flood starts with the first
 * message dropped and ends once no message was dropped for more than a
 * second (kFloodQuietUs); during one the sender is told at most once per
 * @tell_interval_us, and a message dropped @close_after_us or more after the
 * flood started closes the connection. */
class MessageRateLimit
{
 public:
  static constexpr gint64 kFloodQuietUs = G_USEC_PER_SEC;

  MessageRateLimit(TokenBucket bucket, gint64 close_after_us,
                   gint64 tell_interval_us = G_USEC_PER_SEC);

  RateVerdict admit(gint64 now_us);

 private:
  TokenBucket bucket_;
  gint64 close_after_us_;
  gint64 tell_interval_us_;
  bool flooding_ = false;
  gint64 flood_since_us_ = 0;
  gint64 last_drop_us_ = 0;
  bool told_ = false;
  gint64 told_us_ = 0;
};

}  // namespace livecast
