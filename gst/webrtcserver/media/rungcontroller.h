/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Which rung of the ladder (ladder.h) one viewer gets, from its own
 * feedback (bandwidthestimator.h), decided every tick (250 ms):
 *  - down within about a second of congestion: once the viewer's link has
 *    been congested for kDownAfterUs (at once when a standing queue of
 *    kQueueDownUs shows), to the best rung that what got
 *    through (sent x (1 - loss)) carries at kFit (the lowest when none
 *    does). Congested: receiver reports or NACKs (see tick) lose more
 *    than kLossDown, or,
 *    with transport-cc, the delay-based estimate is below kFit x the
 *    rung's bitrate;
 *  - up only as a trial: once the link was calm (at most kCalmLoss) for
 *    kSettleUs since the last switch, after the back-off of refusals (a
 *    failed trial, or a move down: the link refused that rung), and, with
 *    transport-cc, the delay-based estimate already carries the next rung
 *    or is close (kClose) to the most a lower rung lets it show (1.5 x
 *    what gets through) and the estimator wants a probe at the next rung's
 *    bitrate, the viewer moves up and a probe starts. For kTrialUs the
 *    new rung is on trial: loss above kLossDown (receiver reports, or
 *    NACKs for that share of the packets sent since the last tick) or the
 *    estimator failing the probe sends the viewer back at once. For
 *    kAfterFailureUs after a failed try, or kAfterDownShownUs after a
 *    move down once the lower rung is shown (at most kAfterDownMaxUs),
 *    the loss the higher rung caused moves nobody further down. Refusals back off 2x
 *    each, kBackoffMinUs to kBackoffMaxUs, and at least kBackoffFarUs when
 *    what got through was below kFar x the refused rung (a 1 Mbit/s link
 *    and a 2 Mbit/s rung: each try costs the viewer a freeze,
 *    tests/browser/ladder.test.mjs);
 *  - with padding (transport-cc and RTX negotiated: rtxbudget.h), the
 *    viewer is never tried on a rung its link has not shown it carries:
 *    instead of a try, a padding probe at the next rung's bitrate beside
 *    the rung it is on (Decision::pad), and a move up once the
 *    delay-based estimate carries the next rung. A probe that proved it
 *    (the estimator's probe succeeded at that rate) moves the viewer up
 *    even within the back-off of a move down (the link changed since),
 *    not within that of a failed try (what the probe saw was not enough).
 *    No padding probe in the hold after a move down (below) either;
 *  - REMB (the browser's own estimate, what Chromium sends without
 *    transport-cc) is not used: Chromium without a send-time header
 *    extension reported 349-639 kbit/s while an unshaped link carried our
 *    2 Mbit/s without loss, and dipped at key frames, moving a fast viewer
 *    down for nothing (tests/browser/ladder.test.mjs).
 * Pure: time and the estimate come in, the rung goes out; tests/unit/
 * test_rungcontroller.cpp drives it with synthetic estimates.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "bandwidthestimator.h"

namespace livecast
{

class RungController
{
 public:
  /* @rung_bps: each rung's bitrate, rung 0 (the best) first; @start: the
   * rung a new viewer gets; @can_pad: padding probes are possible (see above). */
  RungController(std::vector<uint64_t> rung_bps, int start, bool can_pad = false);

  struct Decision {
    int rung = 0;         /* where the viewer should be */
    bool changed = false; /* ... and it is not the last decision */
    bool probe = false;   /* moving up: start a probe at probe_bps */
    bool pad = false;     /* staying: start a padding probe at probe_bps */
    uint64_t probe_bps = 0;
  };

  /* One tick at @now_us: @e the viewer's estimate, @sent_bps what we sent
   * it over the last second or so, @wants_probe the estimator's answer
   * whether a probe at a rate is worth a try, @nack_loss the share of the
   * packets sent since the last tick the viewer asked again for (NACKs
   * come within a round trip, receiver reports once in a while), taken as
   * loss too. @shown: the viewer is shown the rung decided last (a switch
   * waits for the rung's next key frame). */
  Decision tick(int64_t now_us, const BandwidthEstimate &e, uint64_t sent_bps,
                const std::function<bool(uint64_t)> &wants_probe, double nack_loss = 0,
                bool shown = true);

  int rung() const { return rung_; }
  /* What got through at the last tick (for /stats). */
  uint64_t received_bps() const { return received_bps_; }

  /* Below this share of a rung's bitrate the rung is too much. */
  static constexpr double kFit = 0.85;
  static constexpr double kLossDown = 0.10;
  static constexpr int64_t kAfterFailureUs = 2000000;
  /* After a move down, the same hold counts from when the lower rung is
   * shown, for at most this long: until then the viewer still gets the
   * higher rung. */
  static constexpr int64_t kAfterDownMaxUs = 5000000;
  /* ... and this long once shown: transport-cc's loss is measured over up
   * to 250 packets (bandwidthestimator.cpp), 3 s at 667 kbit/s. */
  static constexpr int64_t kAfterDownShownUs = 3000000;
  /* That long below before going down: one REMB or report interval; at
   * once when transport-cc shows a standing queue of kQueueDownUs. */
  static constexpr int64_t kDownAfterUs = 500000;
  static constexpr int64_t kQueueDownUs = 150000;
  /* No trial sooner than this after a switch: the new rung settles. */
  static constexpr int64_t kSettleUs = 2000000;
  static constexpr int64_t kTrialUs = 3000000;
  /* Up only when the last report saw at most this loss. */
  static constexpr double kCalmLoss = 0.02;
  static constexpr int64_t kBackoffMinUs = 6000000;
  static constexpr int64_t kBackoffMaxUs = 20000000;
  static constexpr double kFar = 0.6;
  static constexpr int64_t kBackoffFarUs = 10000000;
  /* The estimator's growth limit over what gets through, and how close to it is close. */
  static constexpr double kHeadroom = 1.5;
  static constexpr double kClose = 0.9;

 private:
  bool congested(const BandwidthEstimate &e, double loss, int rung) const;
  void note_refusal(int64_t now_us, const BandwidthEstimate &e, double loss, uint64_t sent_bps,
                    int refused);

  /* Padding: whether to move up now (true) or start a padding probe (d.pad). */
  bool padded_up(int64_t now_us, const BandwidthEstimate &e, uint64_t up, bool backed_off,
                 const std::function<bool(uint64_t)> &wants_probe, Decision &d) const;

  std::vector<uint64_t> rung_bps_;
  int rung_;
  bool can_pad_;
  int64_t below_since_us_ = -1;
  int64_t last_switch_us_ = -1;
  uint64_t received_bps_ = 0;
  int trial_from_ = -1; /* the rung a trial started from; -1: none */
  int64_t trial_start_us_ = -1;
  bool trial_probed_ = false; /* the trial started a probe */
  int64_t backoff_us_ = kBackoffMinUs;
  int64_t last_failure_us_ = -1; /* the last failed trial */
  int64_t last_refusal_us_ = -1; /* ... or move down */
  int64_t last_down_us_ = -1;    /* the last move down */
  int64_t shown_since_us_ = -1;  /* the decided rung shown since; -1: not yet */
};

}  // namespace livecast
