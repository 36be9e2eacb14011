/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reconnect delays: @first ms doubling to @max ms, plus up to a quarter of
 * jitter so that many clients behind one restarted server do not come back
 * at once. The same rule as the relay client's (signalingclient.cpp), in a
 * form both can use.
 */
#pragma once

#include <glib.h>

#include <algorithm>
#include <random>

namespace livecast
{

class Backoff
{
 public:
  Backoff(guint first_ms, guint max_ms) : first_ms_(first_ms), max_ms_(max_ms) {}

  /* The delay before the next attempt, in ms; each call doubles the base. */
  guint next()
  {
    base_ms_ = base_ms_ ? std::min(base_ms_ * 2, max_ms_) : first_ms_;
    std::uniform_int_distribution<guint> jitter(0, base_ms_ / 4);
    return base_ms_ + jitter(random_);
  }
  /* Connected (and stayed so): the next failure starts from @first again. */
  void reset() { base_ms_ = 0; }

 private:
  guint first_ms_, max_ms_;
  guint base_ms_ = 0;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace livecast
