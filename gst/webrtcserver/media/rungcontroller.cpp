/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rungcontroller.h"

#include <algorithm>
#include <utility>

namespace livecast
{

RungController::RungController(std::vector<uint64_t> rung_bps, int start, bool can_pad)
    : rung_bps_(std::move(rung_bps)), rung_(0), can_pad_(can_pad)
{
  if (rung_bps_.empty())
    rung_bps_.push_back(UINT64_MAX);
  rung_ = std::clamp(start, 0, static_cast<int>(rung_bps_.size()) - 1);
}

bool RungController::congested(const BandwidthEstimate &e, double loss, int rung) const
{
  if (e.basis == EstimateBasis::Initial)
    return false; /* nothing heard yet */
  if (loss > kLossDown)
    return true;
  return e.delay_bps > 0 && e.probe != ProbeState::Running && e.delay_bps < kFit * rung_bps_[rung];
}

/* Rung @refused did not fit: the back-off before trying it again starts
 * now, and is longer when what got through was far below it. */
void RungController::note_refusal(int64_t now_us, const BandwidthEstimate &e, double loss,
                                  uint64_t sent_bps, int refused)
{
  last_refusal_us_ = now_us;
  const double carried = e.acked_bps > 0 ? static_cast<double>(e.acked_bps)
                                         : static_cast<double>(sent_bps) * (1.0 - loss);
  if (carried < kFar * rung_bps_[refused])
    backoff_us_ = std::max(backoff_us_, kBackoffFarUs);
}

bool RungController::padded_up(int64_t now_us, const BandwidthEstimate &e, uint64_t up,
                               bool backed_off, const std::function<bool(uint64_t)> &wants_probe,
                               Decision &d) const
{
  /* Proven since the viewer last moved down: an older proof is stale. */
  const bool proven = e.probe == ProbeState::Succeeded && e.probe_bps >= up &&
                      e.probe_ended_us > last_down_us_ && e.probe_ended_us > last_failure_us_;
  if (e.delay_bps >= kFit * up) {
    const bool after_failed_try = last_failure_us_ >= 0 && now_us - last_failure_us_ < backoff_us_;
    if (backed_off || (proven && !after_failed_try))
      return true;
  }
  /* Not carried yet, or carried but within a back-off: a probe proves it
   * (the link may have come back since the move down). */
  if (!proven && wants_probe(up)) {
    d.pad = true;
    d.probe_bps = up;
  }
  return false;
}

RungController::Decision RungController::tick(int64_t now_us, const BandwidthEstimate &e,
                                              uint64_t sent_bps,
                                              const std::function<bool(uint64_t)> &wants_probe,
                                              double nack_loss, bool shown)
{
  Decision d;
  const int last = static_cast<int>(rung_bps_.size()) - 1;
  /* With transport-cc, its loss counts every packet within a feedback
   * interval; NACKs then only end a try early. At a low rung a tick holds a
   * few packets, and one NACK for a packet lost long before (or asked for
   * again) reads as 20 % loss: nobody would ever be calm enough to try. */
  const bool twcc = e.delay_bps > 0;
  const double nack = twcc && trial_from_ < 0 ? 0.0 : nack_loss;
  const double loss = std::clamp(std::max(e.loss_fraction, nack), 0.0, 1.0);
  received_bps_ = static_cast<uint64_t>(sent_bps * (1.0 - loss));
  if (last_switch_us_ < 0)
    last_switch_us_ = now_us;
  auto move_to = [&](int rung) {
    rung_ = rung;
    d.changed = true;
    below_since_us_ = -1;
    last_switch_us_ = now_us;
    shown_since_us_ = -1;
  };
  /* A trial: loss (or the estimator) says no at once; kTrialUs says yes. */
  if (trial_from_ >= 0) {
    /* The estimator's verdict counts only on a probe this try started: a
     * failed probe of an earlier try stays in its state and would end
     * every later try at once (a viewer held on the lowest rung for good). */
    if (loss > kLossDown || (trial_probed_ && e.probe == ProbeState::Failed)) {
      const int back = trial_from_;
      trial_from_ = -1;
      last_failure_us_ = now_us;
      note_refusal(now_us, e, loss, sent_bps, rung_);
      move_to(back);
    } else if (now_us - trial_start_us_ >= kTrialUs) {
      trial_from_ = -1;
      backoff_us_ = kBackoffMinUs;
      last_refusal_us_ = -1;    /* the link carries it: the next refusal starts afresh */
      last_switch_us_ = now_us; /* settle on it before the next try */
    }
    d.rung = rung_;
    return d;
  }
  /* After a failed try or a move down, the loss still reported is the
   * higher rung's (the switch waits for a key frame, and the queue at the
   * bottleneck drains): it moves nobody further down. */
  if (!shown)
    shown_since_us_ = -1;
  else if (shown_since_us_ < 0)
    shown_since_us_ = now_us;
  const bool after_try = last_failure_us_ >= 0 && now_us - last_failure_us_ < kAfterFailureUs;
  const bool after_down = last_down_us_ >= 0 && now_us - last_down_us_ < kAfterDownMaxUs &&
                          (shown_since_us_ < 0 || now_us - shown_since_us_ < kAfterDownShownUs);
  const bool after_failure = after_try || after_down;
  if (!after_failure && congested(e, loss, rung_)) {
    if (below_since_us_ < 0)
      below_since_us_ = now_us;
    /* A standing queue that long is no passing burst: down at once. */
    const bool queued = e.queue_us >= kQueueDownUs;
    if ((queued || now_us - below_since_us_ >= kDownAfterUs) && rung_ < last) {
      /* What the link carries: transport-cc's estimate, else what got through. */
      const uint64_t carried = e.delay_bps > 0 ? e.delay_bps : received_bps_;
      int to = rung_ + 1;
      while (to < last && carried < kFit * rung_bps_[to])
        to++;
      /* The link refused this rung as a failed try does: the same back-off
       * before trying it again (no try of 2 Mbit/s on a link that just
       * carried 800 kbit/s). */
      note_refusal(now_us, e, loss, sent_bps, rung_);
      last_down_us_ = now_us;
      move_to(to);
    }
  } else if (!congested(e, loss, rung_)) {
    below_since_us_ = -1;
    const bool backed_off = last_refusal_us_ < 0 || now_us - last_refusal_us_ >= backoff_us_;
    const bool calm = rung_ > 0 && now_us - last_switch_us_ >= kSettleUs && loss <= kCalmLoss &&
                      e.basis != EstimateBasis::Initial && e.probe != ProbeState::Running;
    /* Up one rung, on trial. */
    auto try_up = [&](bool probed) {
      if (last_refusal_us_ >= 0)
        backoff_us_ = std::min(backoff_us_ * 2, kBackoffMaxUs);
      trial_from_ = rung_;
      trial_start_us_ = now_us;
      trial_probed_ = probed;
      move_to(rung_ - 1);
    };
    if (calm && twcc && can_pad_) {
      /* No probe while the link still drains what made the viewer move down:
       * padding there is lost, and the lower rung's first frames with it. */
      const auto no_probe = [](uint64_t) { return false; };
      if (padded_up(now_us, e, rung_bps_[rung_ - 1], backed_off,
                    after_down ? std::function<bool(uint64_t)>(no_probe) : wants_probe, d))
        try_up(false);
    } else if (calm && backed_off) {
      const uint64_t up = rung_bps_[rung_ - 1];
      const bool probe = wants_probe(up);
      /* Without transport-cc nothing but a try tells whether it fits. */
      /* With transport-cc, the estimate says whether the next rung may fit:
       * it fits (kFit), or the estimate is close to the most a lower rung
       * can show (the estimator grows to 1.5 x what gets through, no
       * further, bandwidthestimator.h) and the estimator wants a probe. An
       * estimate held down by recent overuse, or one that never reached
       * that ceiling, means no try. */
      const double ceiling = std::min(kFit * up, kHeadroom * e.acked_bps);
      const bool close = twcc && e.acked_bps > 0 && e.delay_bps >= kClose * ceiling;
      if (!twcc || e.delay_bps >= kFit * up || (probe && close)) {
        try_up(probe);
        d.probe = probe;
        d.probe_bps = up;
      }
    }
  }
  d.rung = rung_;
  return d;
}

}  // namespace livecast
