/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reconnection delays for a client whose server went away: 1 s doubling to
 * 30 s (or other bounds), with up to a quarter more of random jitter so many
 * clients behind one restarted server do not come back at the same instant.
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
  static constexpr guint kFirstMs = 1000;
  static constexpr guint kMaxMs = 30000;

  Backoff() = default;
  /* Other bounds: the WHIP publisher comes back within seconds of its
   * server (signalling/whippublisher.h). */
  Backoff(guint first_ms, guint max_ms) : first_ms_(first_ms), max_ms_(max_ms) {}

  /* The delay before the next attempt, in milliseconds. */
  guint next_ms()
  {
    step_ms_ = step_ms_ ? std::min(step_ms_ * 2, max_ms_) : first_ms_;
    std::uniform_int_distribution<guint> jitter(0, step_ms_ / 4);
    return step_ms_ + jitter(random_);
  }
  /* A connection succeeded: the next failure starts again at kFirstMs. */
  void reset() { step_ms_ = 0; }

 private:
  guint first_ms_ = kFirstMs, max_ms_ = kMaxMs;
  guint step_ms_ = 0;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace livecast
