/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The delay side of a viewer's bandwidth estimate (bandwidthestimator.h):
 * is the queue on the path to the viewer growing (overuse), steady
 * (normal) or draining (underuse)?
 *
 * Packets sent within a short burst form a group (a video frame leaves in
 * one burst). For two consecutive groups, (arrival delta) - (send delta)
 * is how much the path's queue grew between them. Those variations are
 * accumulated, smoothed, and a least-squares line over the recent groups
 * gives the trend (ms of queueing delay per ms). The trend, scaled, is
 * compared with a threshold that adapts to the link's own jitter, so a
 * jittery but uncongested link does not read as overuse for long.
 * The shape follows the Google congestion control draft
 * (draft-ietf-rmcat-gcc-02, sections 5.2-5.4).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace livecast
{

enum class BandwidthUsage { Normal, Overuse, Underuse };
const char *bandwidth_usage_name(BandwidthUsage u);

class DelayGradient
{
 public:
  /* One received packet, in send order: our send time and the viewer's
   * arrival time (its clock), microseconds. */
  void add_packet(int64_t send_us, int64_t arrival_us, std::size_t size_bytes);

  BandwidthUsage usage() const { return usage_; }
  /* The scaled trend and the threshold it is compared with (ms), for /stats. */
  double trend() const { return modified_trend_; }
  double threshold() const { return threshold_; }
  /* Forgets the groups (after a long gap in feedback, deltas mean nothing). */
  void reset();

 private:
  struct Group {
    int64_t first_send_us = 0;
    int64_t last_send_us = 0;
    int64_t last_arrival_us = 0;
    std::size_t bytes = 0;
    bool valid = false;
  };
  void group_done(const Group &prev, const Group &cur);
  void update_trend(double delay_variation_ms, int64_t arrival_us);
  void detect(int64_t arrival_us);
  void adapt_threshold(double abs_trend, int64_t arrival_us);

  Group current_, previous_;
  /* Trend line: (arrival ms since the first group, smoothed accumulated delay ms). */
  std::deque<std::pair<double, double>> points_;
  int64_t first_arrival_us_ = -1;
  double accumulated_ms_ = 0;
  double smoothed_ms_ = 0;
  int deltas_ = 0;
  double modified_trend_ = 0;
  double previous_trend_ = 0;
  double threshold_ = 12.5;
  int64_t last_threshold_update_us_ = -1;
  int64_t last_detect_us_ = -1;
  double overuse_ms_ = 0;
  int overuse_count_ = 0;
  BandwidthUsage usage_ = BandwidthUsage::Normal;
};

}  // namespace livecast
