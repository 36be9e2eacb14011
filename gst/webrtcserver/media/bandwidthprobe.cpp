/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The probing part of BandwidthEstimator (bandwidthestimator.h): when a
 * viewer on a low rung should try the next one, and how the try went.
 */
#include <algorithm>

#include "bandwidthestimator.h"

namespace livecast
{

namespace
{

constexpr int64_t kSecondUs = 1000000;
/* Probing: calm before a try, the stretch of sent packets a try is judged
 * on, how long to wait for its feedback, and the back-off after failures. */
constexpr int64_t kProbeCalmUs = 2 * kSecondUs;
constexpr int64_t kProbeUs = 1500000;
constexpr int64_t kProbeGraceUs = 2 * kSecondUs;
constexpr double kProbeCarried = 0.9;
constexpr int64_t kProbeBackoffMinUs = 3 * kSecondUs;
constexpr int64_t kProbeBackoffMaxUs = 60 * kSecondUs;
/* Padding probes: shorter (the excess queues at the bottleneck until the
 * overuse is seen), and cheap enough to repeat within seconds. */
constexpr int64_t kPaddingProbeUs = 1 * kSecondUs;
constexpr int64_t kPaddingBackoffMinUs = 2 * kSecondUs;
constexpr int64_t kPaddingBackoffMaxUs = 8 * kSecondUs;
/* A standing queue this long ends a padding probe as refused; no probe
 * starts over one of kProbeQueueMaxUs. */
constexpr int64_t kPaddingQueueUs = 50000;
constexpr int64_t kProbeQueueMaxUs = kPaddingQueueUs / 2;

int64_t probe_duration(ProbeKind kind)
{
  return kind == ProbeKind::Padding ? kPaddingProbeUs : kProbeUs;
}
}  // namespace

const char *probe_state_name(ProbeState p)
{
  switch (p) {
    case ProbeState::Running:
      return "running";
    case ProbeState::Succeeded:
      return "succeeded";
    case ProbeState::Failed:
      return "failed";
    case ProbeState::None:
      break;
  }
  return "none";
}

bool BandwidthEstimator::wants_probe(uint64_t probe_bps, int64_t now_us, ProbeKind kind) const
{
  /* A trial above the estimate only; padding also proves a rate the estimate already
   * claims (the ladder wants the link's word before it moves a viewer up). */
  if (probe_ == ProbeState::Running || probe_bps > config_.max_bps ||
      (kind == ProbeKind::Trial && probe_bps <= target_bps()))
    return false;
  const bool calm = last_overuse_us_ < 0 || now_us - last_overuse_us_ >= kProbeCalmUs;
  /* The back-off is for trying the failed rate (or more) again. */
  const int64_t least = kind == ProbeKind::Padding ? kPaddingBackoffMinUs : kProbeBackoffMinUs;
  const int64_t most = kind == ProbeKind::Padding ? kPaddingBackoffMaxUs : kProbeBackoffMaxUs;
  const int64_t backoff =
      probe_bps >= failed_probe_bps_ ? std::clamp(probe_backoff_us_, least, most) : least;
  const bool backed_off = last_probe_end_us_ < 0 || now_us - last_probe_end_us_ >= backoff;
  const bool feedback =
      (twcc_seen_ && now_us - last_feedback_us_ < kFeedbackTimeoutUs) || remb_bps_ > 0;
  /* A standing queue (the link still drains what it could not carry) would
   * end a padding probe at once, and make a trial's key frame late. */
  const bool drained = queue_us_ < kProbeQueueMaxUs;
  return calm && backed_off && feedback && drained && loss_fraction_ <= kLossHigh;
}

void BandwidthEstimator::probe_timeout(int64_t now_us)
{
  if (probe_ == ProbeState::Running &&
      now_us - probe_start_us_ > probe_duration(probe_kind_) + kProbeGraceUs) {
    /* Without transport-cc the loss reports are all there is to judge by. */
    end_probe(!twcc_seen_ && loss_fraction_ <= kLossHigh, now_us);
  }
}

void BandwidthEstimator::start_probe(uint64_t probe_bps, int64_t now_us, ProbeKind kind)
{
  probe_ = ProbeState::Running;
  probe_kind_ = kind;
  probe_bps_ = probe_bps;
  probe_start_us_ = now_us;
  before_probe_delay_bps_ = delay_bps_;
  before_probe_loss_bps_ = loss_bps_;
  before_probe_loss_fraction_ = loss_fraction_;
}

void BandwidthEstimator::judge_probe(int64_t last_send_us, bool overuse, int64_t now_us)
{
  if (probe_ != ProbeState::Running)
    return;
  /* Overuse while what got through matches the probed rate is a burst (a
   * trial's key frame, a frame and its padding), not the link refusing the
   * rate. */
  const bool refused = overuse && acked_bps() < kProbeCarried * probe_bps_;
  /* Padding proves a rate only when it got through: the rung it pads may send
   * less than its bitrate, and the bottleneck's own burst can hide the
   * queue for a while. */
  const bool carried =
      probe_kind_ != ProbeKind::Padding || acked_bps() >= kProbeCarried * probe_bps_;
  /* Padding that builds a standing queue is refused before the overuse
   * detector's trend is sure, and before the queue overflows: the bottleneck
   * drops the rung's packets with the padding's (a 1 s probe at 2 Mbit/s on
   * an 800 kbit/s link lost 40 % of them, tests/browser/ladder.test.mjs). */
  const bool queued = probe_kind_ == ProbeKind::Padding && queue_us_ > kPaddingQueueUs;
  if (refused || queued || (loss_fresh_ && loss_fraction_ > kLossHigh))
    end_probe(false, now_us);
  else if (last_send_us >= probe_start_us_ + probe_duration(probe_kind_) && carried)
    end_probe(true, now_us);
}

void BandwidthEstimator::end_probe(bool ok, int64_t now_us)
{
  probe_ = ok ? ProbeState::Succeeded : ProbeState::Failed;
  last_probe_end_us_ = now_us;
  if (ok) {
    delay_bps_ = std::max(delay_bps_, static_cast<double>(probe_bps_));
    loss_bps_ = std::max(loss_bps_, static_cast<double>(probe_bps_));
    probe_backoff_us_ = kProbeBackoffMinUs;
    failed_probe_bps_ = UINT64_MAX;
  } else {
    /* What the probe's own excess did to the estimate is not news about
     * the rate before it: back to that, and its losses do not count. */
    delay_bps_ = std::max(delay_bps_, before_probe_delay_bps_);
    loss_bps_ = std::max(loss_bps_, before_probe_loss_bps_);
    losses_.clear();
    loss_fresh_ = false;
    loss_fraction_ = before_probe_loss_fraction_;
    loss_epoch_us_ = last_sent_us_;
    probe_backoff_us_ =
        probe_bps_ >= failed_probe_bps_
            ? std::min(std::max(probe_backoff_us_, kProbeBackoffMinUs) * 2, kProbeBackoffMaxUs)
            : kProbeBackoffMinUs * 2;
    failed_probe_bps_ = probe_bps_;
  }
}

}  // namespace livecast
