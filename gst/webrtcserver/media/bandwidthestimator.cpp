/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bandwidthestimator.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace livecast
{

namespace
{

constexpr int64_t kSecondUs = 1000000;
/* Sent packets kept for matching feedback. */
constexpr int64_t kHistoryUs = 10 * kSecondUs;
constexpr std::size_t kHistoryPackets = 30000;
/* The acknowledged bitrate is measured over this much of the viewer's clock. */
constexpr int64_t kAckedWindowUs = 500000;
constexpr int64_t kAckedMinSpanUs = 100000;
/* The standing queue is measured against the least transit time this long. */
constexpr int64_t kTransitWindowUs = 10 * kSecondUs;
/* Loss is measured over at least a second and kLossWindowPackets packets
 * of feedback (up to kLossMaxWindowUs), once there are kLossMinPackets. */
constexpr int64_t kLossWindowUs = kSecondUs;
constexpr int64_t kLossMaxWindowUs = 3 * kSecondUs;
constexpr uint64_t kLossWindowPackets = 250;
constexpr uint64_t kLossMinPackets = 20;
constexpr uint64_t kLossClearPackets = 50;
/* Overuse: down to kBeta x acknowledged, at most once per round trip
 * (clamped), unless what gets through halved meanwhile. */
constexpr double kBeta = 0.85;
constexpr int64_t kMinDecreaseGapUs = 10000, kMaxDecreaseGapUs = 200000;
/* Growth caps and rates. */
constexpr double kAckedHeadroom = 1.5;
constexpr double kAckedExtraBps = 10000;
constexpr double kMultiplicativePerSecond = 1.08;
/* Growth far from any known capacity speeds up the longer it goes on
 * unchallenged (+6 %/s per second, up to 32 %/s): after a bottleneck goes
 * away, 8 %/s alone takes ~15 s to climb from 0.7 back to 2 Mbit/s. */
constexpr double kAccelerationPerSecond = 0.06;
constexpr double kMaxMultiplicativePerSecond = 1.32;
constexpr int64_t kCapacityStaleUs = 2 * kSecondUs;
/* Loss thresholds (fractions) and how often the loss limit may move down. */
constexpr double kLossLow = 0.02; /* kLossHigh: in the class */
constexpr int64_t kLossDecreaseGapUs = 300000;
constexpr double kLossCreepPerSecond = 1.02;
/* The 24-bit reference time of transport-cc feedback, in 64 ms units. */
constexpr int64_t kReferenceRange = 1 << 24;
constexpr int64_t kReferenceUnitUs = 64000;

}  // namespace

const char *estimate_basis_name(EstimateBasis b)
{
  switch (b) {
    case EstimateBasis::Delay:
      return "delay";
    case EstimateBasis::Loss:
      return "loss";
    case EstimateBasis::Remb:
      return "remb";
    case EstimateBasis::Probe:
      return "probe";
    case EstimateBasis::Initial:
      break;
  }
  return "initial";
}

BandwidthEstimator::BandwidthEstimator(const EstimatorConfig &config)
    : config_(config),
      delay_bps_(static_cast<double>(config.initial_bps)),
      loss_bps_(static_cast<double>(config.max_bps))
{
}

uint64_t BandwidthEstimator::clamp(double bps) const
{
  return static_cast<uint64_t>(
      std::clamp(bps, static_cast<double>(config_.min_bps), static_cast<double>(config_.max_bps)));
}

/* The sequence number nearest the newest one sent (16 bits wrap every
 * ~65,000 packets: a minute at 8 Mbit/s). */
int64_t BandwidthEstimator::unwrap_sent(uint16_t seq) const
{
  if (last_seq_ < 0)
    return seq;
  int64_t u = (last_seq_ & ~int64_t{0xffff}) | seq;
  if (u - last_seq_ > 0x8000)
    u -= 0x10000;
  else if (last_seq_ - u > 0x8000)
    u += 0x10000;
  return u;
}

int64_t BandwidthEstimator::unwrap_reference(uint32_t reference)
{
  if (reference_ < 0) {
    reference_ = reference;
  } else {
    int64_t diff = (static_cast<int64_t>(reference) - last_reference_raw_) % kReferenceRange;
    if (diff < 0)
      diff += kReferenceRange;
    if (diff >= kReferenceRange / 2)
      diff -= kReferenceRange;
    reference_ += diff;
  }
  last_reference_raw_ = reference;
  return reference_;
}

void BandwidthEstimator::on_packet_sent(uint16_t seq, std::size_t size_bytes, int64_t send_us)
{
  const int64_t u = unwrap_sent(seq);
  last_seq_ = std::max(last_seq_, u);
  sent_[u] = Sent{send_us, size_bytes, false, false};
  last_sent_us_ = send_us;
  while (!sent_.empty() &&
         (sent_.size() > kHistoryPackets || sent_.begin()->second.send_us < send_us - kHistoryUs))
    sent_.erase(sent_.begin());
}

void BandwidthEstimator::on_twcc_feedback(const TwccFeedback &feedback, int64_t now_us)
{
  twcc_seen_ = true;
  last_feedback_us_ = now_us;
  feedback_packets_++;
  /* Arrival times on an unwrapped reference clock. */
  const int64_t offset_us =
      (unwrap_reference(feedback.reference_time) - feedback.reference_time) * kReferenceUnitUs;
  uint64_t lost = 0, received = 0;
  int64_t last_send_us = -1;
  int64_t least_transit_us = INT64_MAX;
  bool known = false;
  for (const TwccPacketReport &r : feedback.packets) {
    const int64_t u = unwrap_sent(r.seq);
    auto it = u <= last_seq_ ? sent_.find(u) : sent_.end();
    if (it == sent_.end())
      continue;
    known = true;
    Sent &s = it->second;
    last_send_us = std::max(last_send_us, s.send_us);
    if (r.received) {
      if (s.received)
        continue; /* reported twice */
      if (!s.reported && s.send_us >= loss_epoch_us_)
        received++;
      s.reported = s.received = true;
      delay_.add_packet(s.send_us, r.arrival_us + offset_us, s.size);
      least_transit_us = std::min(least_transit_us, r.arrival_us + offset_us - s.send_us);
      note_arrival(r.arrival_us + offset_us, s.size);
    } else if (!s.reported) {
      s.reported = true;
      if (s.send_us >= loss_epoch_us_)
        lost++;
    }
  }
  if (!known) {
    feedback_errors_++;
    return;
  }
  account_loss(lost, received, now_us);
  if (least_transit_us != INT64_MAX)
    note_transit(least_transit_us, now_us);
  rate_control(now_us);
  loss_control(now_us);
  judge_probe(last_send_us, delay_.usage() == BandwidthUsage::Overuse, now_us);
}

/* The standing queue: the least transit time (send to arrival, the two
 * clocks' offset included) of this feedback's packets over the least of the
 * last kTransitWindowUs. The least of a feedback is the packet that waited
 * least, so a frame's own burst does not count, a queue that stays does. */
void BandwidthEstimator::note_transit(int64_t least_us, int64_t now_us)
{
  while (!transits_.empty() && transits_.back().second >= least_us)
    transits_.pop_back();
  transits_.emplace_back(now_us, least_us);
  while (transits_.front().first < now_us - kTransitWindowUs)
    transits_.pop_front();
  queue_us_ = least_us - transits_.front().second;
}

void BandwidthEstimator::note_arrival(int64_t arrival_us, std::size_t size)
{
  arrivals_.emplace_back(arrival_us, size);
  newest_arrival_us_ = std::max(newest_arrival_us_, arrival_us);
  while (!arrivals_.empty() && arrivals_.front().first < newest_arrival_us_ - kAckedWindowUs)
    arrivals_.pop_front();
}

uint64_t BandwidthEstimator::acked_bps() const
{
  if (arrivals_.size() < 2)
    return 0;
  int64_t oldest = arrivals_.front().first, newest = oldest;
  uint64_t bytes = 0;
  for (const auto &a : arrivals_) {
    oldest = std::min(oldest, a.first);
    newest = std::max(newest, a.first);
    bytes += a.second;
  }
  const int64_t span = newest - oldest;
  if (span < kAckedMinSpanUs)
    return 0;
  /* A window that is nearly full counts as full: bursts (frames) at its
   * edges would otherwise read as a higher rate. */
  const int64_t window = span > kAckedWindowUs * 8 / 10 ? kAckedWindowUs : span;
  return bytes * 8 * kSecondUs / static_cast<uint64_t>(window);
}

void BandwidthEstimator::account_loss(uint64_t lost, uint64_t received, int64_t now_us)
{
  losses_.push_back({now_us, {lost, received}});
  while (losses_.front().first < now_us - kLossMaxWindowUs)
    losses_.pop_front();
  /* From the newest feedback back: heavy loss counts as soon as it is
   * clearly above kLossHigh (three standard deviations over at least
   * kLossClearPackets: checked on every feedback, so rarely by chance), anything else once
   * the window spans a second and enough packets that a few percent of
   * random loss cannot read as 10 %. */
  uint64_t l = 0, total = 0;
  for (auto it = losses_.rbegin(); it != losses_.rend(); ++it) {
    l += it->second.first;
    total += it->second.first + it->second.second;
    if (total < kLossMinPackets)
      continue;
    const double p = static_cast<double>(l) / total;
    const bool clearly_high =
        total >= kLossClearPackets && p - 3 * std::sqrt(p * (1 - p) / total) > kLossHigh;
    const int64_t span = now_us - it->first;
    const bool full = (span >= kLossWindowUs && total >= kLossWindowPackets) ||
                      span >= kLossMaxWindowUs - kLossWindowUs;
    if (clearly_high || full) {
      loss_fraction_ = p;
      loss_reported_ = loss_fresh_ = true;
      return;
    }
  }
}

void BandwidthEstimator::rate_control(int64_t now_us)
{
  switch (delay_.usage()) {
    case BandwidthUsage::Overuse:
      last_overuse_us_ = now_us;
      decrease(now_us);
      break;
    case BandwidthUsage::Underuse:
      /* The queue drains: wait until it is empty before growing. */
      aimd_ = Aimd::Hold;
      last_increase_us_ = now_us;
      multiplicative_since_us_ = -1;
      break;
    case BandwidthUsage::Normal:
      if (aimd_ != Aimd::Increase) {
        aimd_ = Aimd::Increase;
        last_increase_us_ = now_us;
      }
      increase(now_us);
      break;
  }
}

void BandwidthEstimator::decrease(int64_t now_us)
{
  const double acked = static_cast<double>(acked_bps());
  const int64_t gap = std::clamp(rtt_us_, kMinDecreaseGapUs, kMaxDecreaseGapUs);
  const bool too_soon = last_decrease_us_ >= 0 && now_us - last_decrease_us_ < gap;
  if (too_soon && !(acked > 0 && acked < 0.5 * delay_bps_))
    return;
  const double target = kBeta * (acked > 0 ? acked : delay_bps_);
  if (target < delay_bps_)
    delay_bps_ = static_cast<double>(clamp(target));
  if (acked > 0)
    note_capacity(acked);
  last_decrease_us_ = now_us;
  aimd_ = Aimd::Hold;
  multiplicative_since_us_ = -1;
}

void BandwidthEstimator::increase(int64_t now_us)
{
  const double dt_us =
      std::min<double>(kSecondUs, std::max<int64_t>(0, now_us - last_increase_us_));
  last_increase_us_ = now_us;
  const double bps = delay_bps_;
  double next;
  /* Well past the old capacity, or past it for a while without overuse:
   * the link grew, what was learnt about it no longer holds. */
  if (capacity_ > 0 && bps > capacity_ &&
      (!near_capacity(bps) || now_us - last_decrease_us_ > kCapacityStaleUs))
    capacity_ = -1;
  if (near_capacity(bps)) {
    /* About one packet per response time (a round trip and the feedback
     * interval), so the queue a step creates is seen before the next. */
    const double bits_per_frame = bps / 30;
    const double packets_per_frame = std::ceil(bits_per_frame / (1200 * 8));
    const double packet_bits = bits_per_frame / std::max(1.0, packets_per_frame);
    const double response_us = 100000.0 + rtt_us_;
    next = bps + std::max(1000.0 * dt_us / kSecondUs, packet_bits * dt_us / response_us);
    multiplicative_since_us_ = -1;
  } else {
    if (multiplicative_since_us_ < 0)
      multiplicative_since_us_ = now_us;
    const double growing_s = static_cast<double>(now_us - multiplicative_since_us_) / kSecondUs;
    const double per_second = std::min(
        kMaxMultiplicativePerSecond, kMultiplicativePerSecond + kAccelerationPerSecond * growing_s);
    next = bps * std::pow(per_second, dt_us / kSecondUs);
  }
  const double acked = static_cast<double>(acked_bps());
  if (acked > 0)
    next = std::min(next, std::max(bps, kAckedHeadroom * acked + kAckedExtraBps));
  delay_bps_ = static_cast<double>(clamp(next));
}

/* The link capacity seen at overuse, as a running mean (kbit/s) with a
 * normalised variance: near it, growth is additive. */
void BandwidthEstimator::note_capacity(double bps)
{
  const double kbps = bps / 1000;
  if (capacity_ > 0) {
    const double sigma = std::sqrt(capacity_var_ * capacity_ / 1000) * 1000;
    if (bps < capacity_ - 3 * sigma)
      capacity_ = -1; /* the link shrank: start over */
  }
  if (capacity_ < 0) {
    capacity_ = bps;
    return;
  }
  const double mean = 0.95 * capacity_ / 1000 + 0.05 * kbps;
  const double err = mean - kbps;
  capacity_var_ =
      std::clamp(0.95 * capacity_var_ + 0.05 * err * err / std::max(mean, 1.0), 0.4, 2.5);
  capacity_ = mean * 1000;
}

bool BandwidthEstimator::near_capacity(double bps) const
{
  if (capacity_ <= 0)
    return false;
  const double sigma = std::sqrt(capacity_var_ * capacity_ / 1000) * 1000;
  return std::fabs(bps - capacity_) <= 3 * sigma;
}

void BandwidthEstimator::loss_control(int64_t now_us)
{
  if (!loss_reported_ || !loss_fresh_)
    return;
  if (last_loss_change_us_ < 0)
    last_loss_change_us_ = now_us;
  const int64_t since = now_us - last_loss_change_us_;
  if (loss_fraction_ > kLossHigh) {
    if (since < std::max(kLossDecreaseGapUs, rtt_us_))
      return;
    /* From what got through, not from the limit: a sender that does not
     * slow down keeps the same loss, and the limit must not spiral down;
     * one that does sees it again on what it sends then. */
    const double acked = static_cast<double>(acked_bps());
    const double base = acked > 0           ? acked
                        : reported_bps_ > 0 ? reported_bps_
                                            : static_cast<double>(target_bps());
    loss_bps_ = static_cast<double>(clamp(base * (1 - 0.5 * loss_fraction_)));
    last_loss_change_us_ = now_us;
    /* The next decrease needs loss seen after this one (at the new rate). */
    losses_.clear();
    loss_fresh_ = false;
    loss_epoch_us_ = last_sent_us_;
  } else if (loss_fraction_ < kLossLow) {
    loss_bps_ *= std::pow(kMultiplicativePerSecond, std::min<double>(since, kSecondUs) / kSecondUs);
    loss_bps_ = std::min(loss_bps_, static_cast<double>(config_.max_bps));
    last_loss_change_us_ = now_us;
  } else {
    /* Some loss, not clearly from our rate: creep up, so one unlucky
     * window cannot hold the estimate down for good on a lossy link. */
    loss_bps_ *= std::pow(kLossCreepPerSecond, std::min<double>(since, kSecondUs) / kSecondUs);
    loss_bps_ = std::min(loss_bps_, static_cast<double>(config_.max_bps));
    last_loss_change_us_ = now_us;
  }
}

void BandwidthEstimator::on_remb(uint64_t bps, int64_t)
{
  /* Up to 2^63 can be written: anything above our maximum means no limit. */
  remb_bps_ = static_cast<double>(std::min<uint64_t>(bps, config_.max_bps));
}

void BandwidthEstimator::on_loss_report(double fraction_lost, int64_t now_us, uint64_t received_bps)
{
  if (twcc_seen_)
    return; /* transport-cc counts every packet, a receiver report only samples */
  reported_bps_ = static_cast<double>(received_bps);
  loss_fraction_ = std::clamp(fraction_lost, 0.0, 1.0);
  loss_reported_ = loss_fresh_ = true;
  loss_control(now_us);
}

void BandwidthEstimator::on_rtt(int64_t rtt_us)
{
  if (rtt_us > 0)
    rtt_us_ = rtt_us;
}

void BandwidthEstimator::update(int64_t now_us)
{
  if (twcc_seen_ && last_sent_us_ > last_feedback_us_ &&
      now_us - last_feedback_us_ > kFeedbackTimeoutUs &&
      (last_timeout_us_ < 0 || now_us - last_timeout_us_ >= kFeedbackTimeoutUs)) {
    delay_bps_ = static_cast<double>(clamp(delay_bps_ / 2));
    last_timeout_us_ = now_us;
    aimd_ = Aimd::Hold;
    delay_.reset();
    if (probe_ == ProbeState::Running)
      end_probe(false, now_us);
  }
  probe_timeout(now_us);
}

uint64_t BandwidthEstimator::target_bps() const
{
  return estimate().target_bps;
}

BandwidthEstimate BandwidthEstimator::estimate() const
{
  BandwidthEstimate e;
  double target = static_cast<double>(config_.initial_bps);
  EstimateBasis basis = EstimateBasis::Initial;
  /* The first measurement replaces the initial guess; after that, the
   * smallest limit wins. */
  auto consider = [&](double bps, EstimateBasis b, bool replaces_initial) {
    if ((replaces_initial && basis == EstimateBasis::Initial) || bps < target) {
      target = bps;
      basis = b;
    }
  };
  if (twcc_seen_)
    consider(delay_bps_, EstimateBasis::Delay, true);
  if (remb_bps_ > 0)
    consider(remb_bps_, EstimateBasis::Remb, true);
  if (loss_reported_)
    consider(loss_bps_, EstimateBasis::Loss, false);
  /* A trial sends the probed rate: the estimate must not move it down meanwhile. */
  if (probe_ == ProbeState::Running && probe_kind_ == ProbeKind::Trial && probe_bps_ > target) {
    target = static_cast<double>(probe_bps_);
    basis = EstimateBasis::Probe;
  }
  e.target_bps = clamp(target);
  e.basis = basis;
  e.delay_bps = twcc_seen_ ? static_cast<uint64_t>(delay_bps_) : 0;
  e.loss_bps = static_cast<uint64_t>(loss_bps_);
  e.remb_bps = static_cast<uint64_t>(remb_bps_);
  e.acked_bps = acked_bps();
  e.loss_fraction = loss_fraction_;
  e.usage = delay_.usage();
  e.delay_trend = delay_.trend();
  e.delay_threshold = delay_.threshold();
  e.rtt_us = rtt_us_;
  e.queue_us = queue_us_;
  e.probe = probe_;
  e.probe_bps = probe_bps_;
  e.probe_ended_us = probe_ == ProbeState::Running ? -1 : last_probe_end_us_;
  e.feedback_packets = feedback_packets_;
  e.feedback_errors = feedback_errors_;
  return e;
}

}  // namespace livecast
