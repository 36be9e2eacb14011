/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One connected viewer's bandwidth and place on the ladder: its own
 * estimate (viewerfeedback.h), its RungController (rungcontroller.h) and
 * its retransmission budget and padding (rtxbudget.h), stepped by ViewerSet
 * every tick. Each tick reads the estimate and carries out the
 * controller's decision: the RTX budget for the rung, a padding probe, a
 * move to another rung (on the way down the bottleneck drains first and
 * the old rung's losses are not repaired: rungswitch.h). Without a ladder
 * (one rung) only the estimate is kept, for /stats.
 *
 * Loop thread only (viewerset.cpp).
 */
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>
#include <vector>

#include "bandwidthestimator.h"
#include "ladder.h"

namespace livecast
{

class RtxBudget;
class RungController;
class ViewerBranch;
class ViewerFeedback;

class ViewerLadder
{
 public:
  /* Starts watching @branch's webrtcbin (ICE is connected) for the ladder
   * @rungs (the top first; empty: the stream has none). Null and @error
   * when there is no feedback to estimate from. @element and @id are for
   * the log. */
  static std::unique_ptr<ViewerLadder> watch(GstElement *element, const std::string &id,
                                             ViewerBranch &branch,
                                             const std::vector<RungSpec> &rungs,
                                             std::string &error);
  ~ViewerLadder();
  ViewerLadder(const ViewerLadder &) = delete;
  ViewerLadder &operator=(const ViewerLadder &) = delete;

  /* One tick at @now_us (monotonic): true when the viewer was moved to
   * another rung. */
  bool tick(gint64 now_us);

  /* For /stats: the estimate at the last tick, what was sent to the viewer
   * and what got through (bit/s, about the last second), the switches and
   * padding probes so far, the budget's retransmissions (0 without RTX). */
  const BandwidthEstimate &estimate() const { return estimate_; }
  double sent_bps() const { return sent_bps_; }
  bool has_controller() const { return controller_ != nullptr; }
  uint64_t received_bps() const;
  guint64 rung_switches() const { return rung_switches_; }
  guint64 padding_probes() const { return padding_probes_; }
  guint64 rtx_sent() const;
  guint64 rtx_dropped() const;
  guint64 padding_sent() const;

 private:
  ViewerLadder(GstElement *element, const std::string &id, ViewerBranch &branch);
  void measure_sent(gint64 now_us);
  double nack_loss();
  void set_rtx_budget(int rung);
  void start_padding(gint64 now_us, int rung, uint64_t probe_bps);

  GstElement *element_; /* not owned: the sink, for the log */
  std::string id_;
  ViewerBranch &branch_;
  std::unique_ptr<ViewerFeedback> feedback_;
  std::unique_ptr<RungController> controller_; /* null: no ladder */
  std::unique_ptr<RtxBudget> rtx_;             /* null: no ladder, or no RTX negotiated */
  std::vector<uint64_t> rung_bps_;
  BandwidthEstimate estimate_;
  guint64 sent_bytes_mark_ = 0; /* the feedback's bytes_sent at sent_mark_us_ */
  gint64 sent_mark_us_ = 0;
  double sent_bps_ = 0;
  guint64 rung_switches_ = 0, padding_probes_ = 0;
  guint64 rtx_asked_mark_ = 0, media_mark_ = 0; /* the RTX budget's counts at the last tick */
};

}  // namespace livecast
