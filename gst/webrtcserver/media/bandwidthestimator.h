/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One viewer's bandwidth estimate: the bitrate its own link can carry now,
 * from its own feedback. No GStreamer inside and no clock of its own: every
 * input carries its time (microseconds, one monotonic clock), so tests
 * drive it with a simulated link (tests/unit/test_bandwidthestimator.cpp)
 * and viewerfeedback.h feeds it from a viewer's webrtcbin.
 *
 * Three limits, the smallest wins (the shape of Google congestion control,
 * draft-ietf-rmcat-gcc-02):
 *  - delay: transport-cc feedback gives each packet's arrival time;
 *    delaygradient.h tells overuse/normal/underuse from how the queueing
 *    delay trends. Overuse: down to 0.85 x the bitrate the viewer
 *    acknowledged (what got through the bottleneck, so one decrease lands
 *    just below the link, however far above it we were). Normal: up,
 *    multiplicatively far from the last link capacity seen (8 %/s,
 *    faster the longer nothing pushes back, up to 32 %/s; that capacity
 *    is forgotten once exceeded for 2 s without overuse),
 *    additively (about a packet per round trip) near it; never above
 *    1.5 x acknowledged + 10 kbit/s, so an idle stream does not talk its
 *    estimate up. Underuse: hold while the queue drains.
 *  - loss (transport-cc, else receiver reports; only packets sent since
 *    the last loss decrease count): above 10 %, down to what got through
 *    less half the loss fraction; below 2 %, up 8 %/s; between, up 2 %/s.
 *    Random loss of a few percent therefore does not pull it down.
 *  - REMB, when the viewer sends it (viewers without transport-cc).
 * Without any feedback the estimate is the configured initial bitrate.
 *
 * Probing (for a rendition ladder): a viewer on a low rung sends less than
 * its link may carry, and the 1.5 x acknowledged cap keeps the estimate
 * near what it sends. wants_probe() says when moving up to a given rate
 * would be worth a try (the estimate is below it, the link was calm for a
 * while, an earlier failed try is far enough back); start_probe() says the
 * sender moved up. While the probe runs, target_bps() is at least the
 * probed rate (stay on the rung); heavy loss, or overuse while less than
 * 90 % of the probed rate gets through, ends it at once (failed:
 * target_bps() falls back to the estimate from before the probe, whose
 * own excess says nothing about the lower rate); calm feedback for 1.5 s of
 * the probe's packets ends it well (the estimate becomes the probed rate). Failed tries back off 2x
 * each, up to a minute. A padding probe (ProbeKind) does not raise target_bps() (the
 * sender stays where it is), lasts 1 s, succeeds only once 90 % of the probed rate was
 * acknowledged, fails as soon as a standing queue of 50 ms shows (the least transit time of a
 * feedback's packets over the least of the last 10 s), and backs off from 2 s to 8 s only. A
 * failed probe's loss is forgotten: the loss fraction is the one from before it.
 *
 * Not thread-safe: one owner (viewerfeedback.h locks around it).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "delaygradient.h"
#include "rtcpfeedback.h"

namespace livecast
{

struct EstimatorConfig {
  uint64_t initial_bps = 1000000;
  uint64_t min_bps = 50000;
  uint64_t max_bps = 20000000;
};

/* Which limit the target is. */
enum class EstimateBasis { Initial, Delay, Loss, Remb, Probe };
const char *estimate_basis_name(EstimateBasis b);

enum class ProbeState { None, Running, Succeeded, Failed };
const char *probe_state_name(ProbeState p);

/* How a probe sends its extra bytes: by moving the viewer up (a trial of
 * the higher rung's media, key frame included), or as padding beside the
 * rung it stays on (retransmissions of packets it already has,
 * rtxbudget.h): a failed padding probe costs the viewer a little delay,
 * not a freeze, so it may be tried again soon. */
enum class ProbeKind { Trial, Padding };

/* What the estimate is and what it rests on (for /stats and the ladder). */
struct BandwidthEstimate {
  uint64_t target_bps = 0;
  EstimateBasis basis = EstimateBasis::Initial;
  uint64_t delay_bps = 0; /* 0: no transport-cc feedback yet */
  uint64_t loss_bps = 0;
  uint64_t remb_bps = 0;  /* 0: no REMB */
  uint64_t acked_bps = 0; /* what the viewer acknowledged, last 0.5 s */
  double loss_fraction = 0;
  BandwidthUsage usage = BandwidthUsage::Normal;
  double delay_trend = 0, delay_threshold = 0;
  int64_t rtt_us = 0;
  int64_t queue_us = 0; /* the standing queue the last transport-cc feedback showed */
  ProbeState probe = ProbeState::None;
  uint64_t probe_bps = 0;
  int64_t probe_ended_us = -1;   /* when the last probe ended; -1: none did */
  uint64_t feedback_packets = 0; /* transport-cc reports taken */
  uint64_t feedback_errors = 0;  /* reports that named no packet we sent */
};

class BandwidthEstimator
{
 public:
  explicit BandwidthEstimator(const EstimatorConfig &config = EstimatorConfig());

  /* A packet left with transport-cc sequence number @seq. */
  void on_packet_sent(uint16_t seq, std::size_t size_bytes, int64_t send_us);
  /* A parsed transport-cc feedback packet arrived at @now_us. */
  void on_twcc_feedback(const TwccFeedback &feedback, int64_t now_us);
  /* The viewer's REMB (receiver estimated maximum bitrate). */
  void on_remb(uint64_t bps, int64_t now_us);
  /* The fraction lost (0..1) receiver reports give over an interval, for
   * viewers without transport-cc, and what they say got through then
   * (bit/s; 0: unknown). */
  void on_loss_report(double fraction_lost, int64_t now_us, uint64_t received_bps = 0);
  void on_rtt(int64_t rtt_us);
  /* Time passes without feedback: call about every 100 ms. The estimate
   * halves each second in which packets left and no transport-cc feedback
   * came back, once feedback was seen (the link died or is full). */
  void update(int64_t now_us);

  uint64_t target_bps() const;
  BandwidthEstimate estimate() const;

  /* Probing, see above. */
  bool wants_probe(uint64_t probe_bps, int64_t now_us, ProbeKind kind = ProbeKind::Trial) const;
  void start_probe(uint64_t probe_bps, int64_t now_us, ProbeKind kind = ProbeKind::Trial);
  ProbeState probe_state() const { return probe_; }

 private:
  /* Loss above this is the link refusing the rate (both parts use it). */
  static constexpr double kLossHigh = 0.10;
  /* No transport-cc feedback for this long while sending: the link died or is full. */
  static constexpr int64_t kFeedbackTimeoutUs = 1000000;

  struct Sent {
    int64_t send_us = 0;
    std::size_t size = 0;
    bool reported = false; /* received or lost, already counted */
    bool received = false;
  };
  int64_t unwrap_sent(uint16_t seq) const;
  int64_t unwrap_reference(uint32_t reference);
  void account_loss(uint64_t lost, uint64_t received, int64_t now_us);
  void note_arrival(int64_t arrival_us, std::size_t size);
  void note_transit(int64_t least_us, int64_t now_us);
  uint64_t acked_bps() const;
  void rate_control(int64_t now_us);
  void increase(int64_t now_us);
  void decrease(int64_t now_us);
  void loss_control(int64_t now_us);
  void judge_probe(int64_t last_send_us, bool overuse, int64_t now_us);
  void probe_timeout(int64_t now_us);
  void end_probe(bool ok, int64_t now_us);
  void note_capacity(double bps);
  bool near_capacity(double bps) const;
  uint64_t clamp(double bps) const;

  EstimatorConfig config_;
  std::map<int64_t, Sent> sent_; /* by unwrapped sequence number */
  int64_t last_seq_ = -1;
  DelayGradient delay_;
  /* Arrivals of the last 0.5 s (viewer clock) for the acknowledged bitrate. */
  std::deque<std::pair<int64_t, std::size_t>> arrivals_;
  int64_t newest_arrival_us_ = INT64_MIN;
  /* The least transit time of recent feedback (receive time, least), each
   * less than the next: a monotonic queue for a sliding minimum. */
  std::deque<std::pair<int64_t, int64_t>> transits_;
  int64_t queue_us_ = 0;
  int64_t reference_ = -1; /* unwrapped reference time of the last feedback */
  uint32_t last_reference_raw_ = 0;
  /* Loss over the last second of feedback. */
  std::deque<std::pair<int64_t, std::pair<uint64_t, uint64_t>>> losses_;
  double loss_fraction_ = 0;
  bool twcc_seen_ = false;
  int64_t last_feedback_us_ = -1, last_sent_us_ = -1, last_timeout_us_ = -1;

  /* Delay-based control. */
  double delay_bps_;
  enum class Aimd { Hold, Increase, Decrease } aimd_ = Aimd::Increase;
  int64_t last_increase_us_ = -1, last_decrease_us_ = -1, last_overuse_us_ = -1;
  int64_t multiplicative_since_us_ = -1;
  double capacity_ = -1, capacity_var_ = 0.4; /* bps, normalised variance */
  int64_t rtt_us_ = 100000;

  /* Loss-based control. */
  double loss_bps_;
  int64_t last_loss_change_us_ = -1;
  bool loss_reported_ = false;
  bool loss_fresh_ = false; /* loss_fraction_ covers only feedback since the last decrease */
  int64_t loss_epoch_us_ = INT64_MIN; /* loss counts for packets sent since */

  double remb_bps_ = 0;
  double reported_bps_ = 0; /* received, by the receiver reports */
  uint64_t feedback_packets_ = 0, feedback_errors_ = 0;

  /* Probing. */
  ProbeState probe_ = ProbeState::None;
  ProbeKind probe_kind_ = ProbeKind::Trial;
  uint64_t probe_bps_ = 0;
  int64_t probe_start_us_ = -1;
  int64_t last_probe_end_us_ = -1;
  int64_t probe_backoff_us_ = 0;           /* 0: the shortest */
  uint64_t failed_probe_bps_ = UINT64_MAX; /* the last failed probe's rate */
  double before_probe_delay_bps_ = 0, before_probe_loss_bps_ = 0, before_probe_loss_fraction_ = 0;
};

}  // namespace livecast
