/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The offer/answer exchange of one viewer's webrtcbin: either we answer
 * the viewer's offer (set-remote-description, create-answer,
 * set-local-description) or we offer and apply its answer; then trickle
 * ICE both ways. It reports back by callback and knows nothing of HTTP,
 * WebSockets or the other viewers. Every webrtcbin callback is handed to
 * the loop thread through a Guarded runner, so nothing here runs once the
 * viewer is gone.
 */
#pragma once

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <functional>
#include <string>
#include <vector>

#include "eventloop.h"
#include "sdpoffer.h"
#include "session/session.h"

namespace livecast
{

class Negotiation
{
 public:
  struct Callbacks {
    /* Our answer (or our offer): the SDP, or a failure with an HTTP status
     * and one sentence. Called once. */
    std::function<void(bool ok, int status, const std::string &sdp_or_message)> on_local_sdp;
    /* Trickle ICE: every local candidate after the local SDP is out. Unset:
     * the answer waits for ICE gathering (at most kGatheringTimeoutMs) and
     * carries the candidates itself. */
    std::function<void(const LocalCandidate &)> on_candidate;
    std::function<void(GstWebRTCICEConnectionState)> on_ice_state;
    std::function<void(GstWebRTCPeerConnectionState)> on_connection_state;
    /* A later failure (the viewer's answer refused): the viewer ends. */
    std::function<void(const std::string &reason)> on_failed;
  };

  /* Watches @webrtcbin (held by the viewer's branch) for the viewer @video. */
  Negotiation(GstElement *webrtcbin, OfferedVideo video, EventLoop &loop, Guarded run,
              Callbacks callbacks);
  Negotiation(const Negotiation &) = delete;
  Negotiation &operator=(const Negotiation &) = delete;

  /* Answers @offer (taken), or, with null, makes our offer. */
  void start(GstWebRTCSessionDescription *offer);
  bool we_offer() const { return we_offer_; }

  /* The viewer's answer to our offer, parsed. 0, or an HTTP status (409 not
   * waiting for one) with @message. */
  int apply_answer(GstSDPMessage *answer, std::string &message);
  /* Candidates of a trickle-ICE fragment. 0, or 422 for an ICE restart. */
  int add_remote_candidates(const SdpFragment &fragment, std::string &message);

  /* What our own offer proposes: @sent's codec with fixed payload types
   * (96 video, 111 Opus), in the shape check_offer() gives for a viewer's. */
  static OfferCheck our_offer(const SentVideo &sent, bool audio_input, bool talkback);

 private:
  static GstPromise *promise(Negotiation *self, void (Negotiation::*step)(GstPromise *));
  void on_remote_set(GstPromise *p);
  void on_answer_created(GstPromise *p);
  void on_offer_created(GstPromise *p);
  void on_local_set(GstPromise *p);
  void on_answer_applied(GstPromise *p);
  void gathering_changed();
  void local_candidate(LocalCandidate c);
  void finish();
  void fail(int status, const std::string &message);
  template <typename F>
  void connect(const char *signal, F callback);

  GstElement *webrtcbin_;
  OfferedVideo video_;
  EventLoop &loop_;
  Guarded run_;
  Callbacks callbacks_;
  bool we_offer_ = false;
  bool local_ready_ = false; /* set-local-description done */
  bool gathering_done_ = false;
  bool local_sdp_sent_ = false;                  /* trickled candidates may follow it */
  bool answer_applied_ = false;                  /* the viewer's answer to our offer */
  std::vector<LocalCandidate> early_candidates_; /* found before that */
  std::vector<std::string> local_mids_;          /* mid of each m-line we sent */
};

}  // namespace livecast
