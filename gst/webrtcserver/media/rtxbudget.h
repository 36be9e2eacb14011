/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A viewer's retransmissions held to a budget. webrtcbin's rtprtxsend
 * answers every NACK: on a link already full (1 Mbit/s behind a tbf
 * queue) the lost packets' retransmissions are lost again and asked for
 * again, and the sender ended up sending about 13 Mbit/s into a 1 Mbit/s
 * link (tests/browser/ladder.test.mjs measures it). A token bucket
 * (protocol/tokenbucket.h) per viewer on what leaves rtprtxsend lets RTX
 * packets through at up to a share of the viewer's rung bitrate, and no
 * more than its estimate leaves beside the rung (viewerset.cpp); the rest
 * are dropped, and the viewer asks for a key frame instead (PLI) if it
 * must. The media packets themselves are never touched.
 *
 * The same sender also pads a probe (bandwidthestimator.h,
 * ProbeKind::Padding): for a probe of a higher rung, retransmissions of the
 * packets the viewer was sent last add the difference beside its rung
 * (requested from rtprtxsend as a NACK would, paced by the media packets
 * passing), outside the budget and not counted as packets asked for
 * again. Every one carries a transport-wide sequence number (the RTPSession
 * writes it into RTX packets too), so the viewer's transport-cc feedback
 * tells whether the link carries the higher rate without the viewer ever
 * seeing it: the way Google congestion control probes with RTX.
 */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace livecast
{

class RtxBudget
{
 public:
  /* Watches the rtprtxsend elements of @webrtcbin (null when there is none:
   * the viewer did not negotiate RTX). Start at @bps. */
  static std::unique_ptr<RtxBudget> attach(GstElement *webrtcbin, uint64_t bps);
  ~RtxBudget();
  RtxBudget(const RtxBudget &) = delete;
  RtxBudget &operator=(const RtxBudget &) = delete;

  /* The budget in bit/s of retransmissions (any thread); what is left of
   * the current one is kept, so it may be set at every tick. */
  void set_rate(uint64_t bps);
  /* RTX packets passed and dropped so far (together: what the viewer
   * asked for again), and media packets sent. */
  uint64_t media() const;
  uint64_t passed() const;
  uint64_t dropped() const;

  /* What was sent so far is not worth repairing any more: the viewer moves
   * down to another rung's key frame (its link did not carry what it was
   * sent), and repairs of the old rung would only queue that key frame
   * behind them. Requests for those packets are dropped (counted as
   * dropped); later packets are repaired as before. */
  void forget_sent();

  /* Pads with @extra_bps of retransmissions until @until_us (monotonic
   * time) or until @keep_going (called on the streaming thread) says no. */
  void pad(uint64_t extra_bps, int64_t until_us, std::function<bool()> keep_going);
  void stop_padding();
  bool padding() const;
  /* Padding packets sent so far. */
  uint64_t padded() const;

  struct State;

 private:
  RtxBudget() = default;
  std::shared_ptr<State> state_;
  struct Probe {
    GstPad *pad; /* owned */
    gulong id;
  };
  std::vector<Probe> probes_;
};

}  // namespace livecast
