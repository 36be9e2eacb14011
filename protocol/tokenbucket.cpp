/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/tokenbucket.h"

#include <algorithm>

namespace livecast
{

namespace
{
/* One token, in the bucket's units: a rate of N tokens a second is then N
 * units a microsecond. */
constexpr gint64 kUnit = G_USEC_PER_SEC;
}  // namespace

TokenBucket::TokenBucket(unsigned rate, unsigned burst, gint64 step_us)
    : step_us_(step_us > 0 ? step_us : 1),
      per_step_(rate * step_us_),
      capacity_(burst * kUnit),
      level_(burst * kUnit)
{
}

void TokenBucket::set_rate(unsigned rate, unsigned burst, gint64 now_us)
{
  refill(now_us);
  per_step_ = rate * step_us_;
  capacity_ = burst * kUnit;
  level_ = std::min(level_, capacity_);
}

void TokenBucket::refill(gint64 now_us)
{
  if (!started_) {
    started_ = true;
    at_us_ = now_us;
    return;
  }
  if (now_us <= at_us_ || per_step_ == 0)
    return;
  const gint64 steps = (now_us - at_us_) / step_us_;
  if (steps == 0)
    return;
  /* Compared before multiplying: a long pause cannot overflow. Once full,
   * the steps start again from now. */
  if (steps >= (capacity_ - level_ + per_step_ - 1) / per_step_) {
    level_ = capacity_;
    at_us_ = now_us;
  } else {
    level_ += steps * per_step_;
    at_us_ += steps * step_us_;
  }
}

bool TokenBucket::take(gint64 now_us)
{
  refill(now_us);
  if (level_ < kUnit)
    return false;
  level_ -= kUnit;
  return true;
}

gint64 TokenBucket::wait_us(gint64 now_us)
{
  refill(now_us);
  if (level_ >= kUnit)
    return 0;
  if (per_step_ == 0)
    return G_MAXINT64;
  const gint64 steps = (kUnit - level_ + per_step_ - 1) / per_step_;
  return std::max<gint64>(0, at_us_ + steps * step_us_ - now_us);
}

TokenBuckets::TokenBuckets(unsigned rate, unsigned burst, gint64 forget_after_us)
    : rate_(rate), burst_(burst), forget_after_us_(forget_after_us)
{
}

bool TokenBuckets::take(const std::string &key, gint64 now_us)
{
  if (now_us - last_prune_us_ > forget_after_us_) {
    last_prune_us_ = now_us;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (now_us - it->second.last_us() > forget_after_us_)
        it = buckets_.erase(it);
      else
        ++it;
    }
  }
  auto it = buckets_.find(key);
  if (it == buckets_.end())
    it = buckets_.emplace(key, TokenBucket(rate_, burst_)).first;
  return it->second.take(now_us);
}

gint64 TokenBuckets::wait_us(const std::string &key, gint64 now_us)
{
  auto it = buckets_.find(key);
  return it == buckets_.end() ? 0 : it->second.wait_us(now_us);
}

MessageRateLimit::MessageRateLimit(TokenBucket bucket, gint64 close_after_us,
                                   gint64 tell_interval_us)
    : bucket_(bucket), close_after_us_(close_after_us), tell_interval_us_(tell_interval_us)
{
}

RateVerdict MessageRateLimit::admit(gint64 now_us)
{
  if (flooding_ && now_us - last_drop_us_ > kFloodQuietUs)
    flooding_ = false;
  if (bucket_.take(now_us))
    return RateVerdict::Pass;
  last_drop_us_ = now_us;
  if (!flooding_) {
    flooding_ = true;
    flood_since_us_ = now_us;
  }
  if (now_us - flood_since_us_ >= close_after_us_)
    return RateVerdict::Close;
  if (told_ && now_us - told_us_ < tell_interval_us_)
    return RateVerdict::Drop;
  told_ = true;
  told_us_ = now_us;
  return RateVerdict::DropAndTell;
}

}  // namespace livecast
