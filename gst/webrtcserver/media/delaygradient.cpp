/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "delaygradient.h"

#include <algorithm>
#include <cmath>

namespace livecast
{

namespace
{

/* Packets sent within this of a group's first one belong to it. */
constexpr int64_t kBurstUs = 5000;
/* Groups in the trend line, and how strongly the accumulated delay is smoothed. */
constexpr std::size_t kWindow = 20;
constexpr double kSmoothing = 0.9;
/* The trend is scaled by min(deltas, kMaxDeltas) * kGain before the comparison. */
constexpr int kMaxDeltas = 60;
constexpr double kGain = 4.0;
/* The threshold (ms) moves toward |trend| at these rates per ms, slower up than down. */
constexpr double kThresholdUp = 0.0087;
constexpr double kThresholdDown = 0.039;
constexpr double kThresholdMin = 6.0;
constexpr double kThresholdMax = 600.0;
/* A spike this far above the threshold does not drag the threshold along. */
constexpr double kThresholdIgnore = 15.0;
/* Overuse must last this long (ms), over at least two groups. */
constexpr double kOveruseMs = 10.0;
/* Two groups further apart than this on either clock: start over. */
constexpr int64_t kMaxGroupGapUs = 3 * 1000 * 1000;

}  // namespace

const char *bandwidth_usage_name(BandwidthUsage u)
{
  switch (u) {
    case BandwidthUsage::Overuse:
      return "overuse";
    case BandwidthUsage::Underuse:
      return "underuse";
    case BandwidthUsage::Normal:
      break;
  }
  return "normal";
}

void DelayGradient::reset()
{
  const double threshold = threshold_;
  *this = DelayGradient();
  threshold_ = threshold; /* what the link's jitter taught us still holds */
}

void DelayGradient::add_packet(int64_t send_us, int64_t arrival_us, std::size_t size_bytes)
{
  if (!current_.valid) {
    current_ = Group{send_us, send_us, arrival_us, size_bytes, true};
    return;
  }
  if (send_us < current_.first_send_us || arrival_us < current_.last_arrival_us)
    return; /* reordered: the groups are built in send order */
  const bool same_burst = send_us - current_.first_send_us <= kBurstUs;
  /* Packets that queued behind the group and arrived right after it, with
   * less spacing than they were sent with, are the same burst too. */
  const int64_t arrival_delta = arrival_us - current_.last_arrival_us;
  const int64_t send_delta = send_us - current_.last_send_us;
  const bool queued_burst = arrival_delta < kBurstUs && arrival_delta - send_delta < 0;
  if (same_burst || queued_burst) {
    current_.last_send_us = std::max(current_.last_send_us, send_us);
    current_.last_arrival_us = arrival_us;
    current_.bytes += size_bytes;
    return;
  }
  if (previous_.valid)
    group_done(previous_, current_);
  previous_ = current_;
  current_ = Group{send_us, send_us, arrival_us, size_bytes, true};
}

void DelayGradient::group_done(const Group &prev, const Group &cur)
{
  const int64_t send_delta = cur.last_send_us - prev.last_send_us;
  const int64_t arrival_delta = cur.last_arrival_us - prev.last_arrival_us;
  if (send_delta > kMaxGroupGapUs || arrival_delta > kMaxGroupGapUs || arrival_delta < 0) {
    /* A pause in the stream or the viewer's clock jumped. */
    const Group keep = cur;
    reset();
    previous_ = keep;
    return;
  }
  update_trend((arrival_delta - send_delta) / 1000.0, cur.last_arrival_us);
}

void DelayGradient::update_trend(double delay_variation_ms, int64_t arrival_us)
{
  if (first_arrival_us_ < 0)
    first_arrival_us_ = arrival_us;
  deltas_ = std::min(deltas_ + 1, 1000);
  accumulated_ms_ += delay_variation_ms;
  smoothed_ms_ = kSmoothing * smoothed_ms_ + (1 - kSmoothing) * accumulated_ms_;
  points_.emplace_back((arrival_us - first_arrival_us_) / 1000.0, smoothed_ms_);
  if (points_.size() > kWindow)
    points_.pop_front();
  if (points_.size() == kWindow) {
    double mean_x = 0, mean_y = 0;
    for (const auto &p : points_) {
      mean_x += p.first;
      mean_y += p.second;
    }
    mean_x /= points_.size();
    mean_y /= points_.size();
    double num = 0, den = 0;
    for (const auto &p : points_) {
      num += (p.first - mean_x) * (p.second - mean_y);
      den += (p.first - mean_x) * (p.first - mean_x);
    }
    const double slope = den > 0 ? num / den : 0;
    modified_trend_ = std::min(deltas_, kMaxDeltas) * slope * kGain;
  }
  detect(arrival_us);
}

void DelayGradient::detect(int64_t arrival_us)
{
  const double since_ms =
      last_detect_us_ < 0 ? 0 : std::max<int64_t>(0, arrival_us - last_detect_us_) / 1000.0;
  last_detect_us_ = arrival_us;
  if (deltas_ < 2 || points_.size() < kWindow) {
    usage_ = BandwidthUsage::Normal;
    return;
  }
  if (modified_trend_ > threshold_) {
    overuse_ms_ += overuse_count_ == 0 ? since_ms / 2 : since_ms;
    overuse_count_++;
    if (overuse_ms_ > kOveruseMs && overuse_count_ > 1 && modified_trend_ >= previous_trend_) {
      overuse_ms_ = 0;
      overuse_count_ = 0;
      usage_ = BandwidthUsage::Overuse;
    }
  } else {
    overuse_ms_ = 0;
    overuse_count_ = 0;
    usage_ = modified_trend_ < -threshold_ ? BandwidthUsage::Underuse : BandwidthUsage::Normal;
  }
  previous_trend_ = modified_trend_;
  adapt_threshold(std::fabs(modified_trend_), arrival_us);
}

void DelayGradient::adapt_threshold(double abs_trend, int64_t arrival_us)
{
  if (last_threshold_update_us_ < 0)
    last_threshold_update_us_ = arrival_us;
  if (abs_trend > threshold_ + kThresholdIgnore) {
    last_threshold_update_us_ = arrival_us;
    return;
  }
  const double k = abs_trend < threshold_ ? kThresholdDown : kThresholdUp;
  const double dt_ms = std::min<double>(
      100.0, std::max<int64_t>(0, arrival_us - last_threshold_update_us_) / 1000.0);
  threshold_ += k * (abs_trend - threshold_) * dt_ms;
  threshold_ = std::clamp(threshold_, kThresholdMin, kThresholdMax);
  last_threshold_update_us_ = arrival_us;
}

}  // namespace livecast
