/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bandwidth estimate of one viewer, fed from its webrtcbin:
 *  - what we send: a probe where RTP leaves webrtcbin's rtpbin
 *    (send_rtp_src_<session>), after the RTPSession wrote each packet's
 *    transport-wide sequence number (transportcc.h): seq, size, time;
 *  - what the viewer says: the RTPSession's on-feedback-rtcp (transport-cc
 *    FCI, REMB) and on-receiving-rtcp (receiver reports: fraction lost),
 *    and the round trip time the session computed from them.
 * One BandwidthEstimator (bandwidthestimator.h) under a mutex: the probe
 * runs on the streaming thread, the RTCP signals on the thread receiving
 * the viewer's packets, the accessors wherever the owner is.
 *
 * Create it once the viewer's transport is up (ICE connected): the
 * session exists then. It disconnects everything when destroyed.
 */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

#include "bandwidthestimator.h"
#include "gstrefptr.h"

namespace livecast
{

/* Counts for /stats and tests: what reached the estimator. */
struct FeedbackCounts {
  guint64 packets_sent = 0;     /* RTP packets that left rtpbin */
  guint64 bytes_sent = 0;       /* ... their size */
  guint64 packets_with_seq = 0; /* ... carrying a transport-wide sequence number */
  guint64 twcc_feedback = 0;    /* transport-cc FCI parsed */
  guint64 twcc_malformed = 0;   /* ... refused by the parser */
  guint64 remb = 0;
  guint64 receiver_reports = 0; /* report blocks about our SSRCs */
};

class ViewerFeedback
{
 public:
  /* Watches RTP session @session_id (0 with max-bundle) of @webrtcbin.
   * Null and @error when webrtcbin has no such session yet. */
  static std::unique_ptr<ViewerFeedback> watch(GstElement *webrtcbin, guint session_id,
                                               const EstimatorConfig &config, std::string &error);
  ~ViewerFeedback();
  ViewerFeedback(const ViewerFeedback &) = delete;
  ViewerFeedback &operator=(const ViewerFeedback &) = delete;

  /* The estimate now (any thread). Also lets time pass in the estimator
   * and takes the session's round trip time, at most once per 100 ms. */
  BandwidthEstimate estimate();
  FeedbackCounts counts() const;

  /* Probing a higher rate (bandwidthestimator.h), any thread. */
  bool wants_probe(guint64 probe_bps, ProbeKind kind = ProbeKind::Trial);
  void start_probe(guint64 probe_bps, ProbeKind kind = ProbeKind::Trial);
  /* Whether a probe runs, for any thread, valid as long as anyone holds it
   * (the padding that feeds the probe asks it with every packet). */
  std::function<bool()> probe_running() const;

  /* The estimate as one JSON object (for /stats): target, basis, limits,
   * acknowledged bitrate, loss, delay state, probe, counts. */
  std::string stats_json();

  struct State; /* shared with the probe and the signal handlers */

 private:
  ViewerFeedback() = default;
  void poll_rtt(gint64 now_us);

  std::shared_ptr<State> state_;
  Ref<GstPad> rtp_src_;
  gulong probe_id_ = 0;
  Ref<GObject> session_;
  gulong feedback_handler_ = 0, rtcp_handler_ = 0;
  gint64 last_poll_us_ = 0;
};

}  // namespace livecast
