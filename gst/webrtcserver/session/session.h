/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The session contract between webrtcserversink's signalling front ends
 * (WHEP and POST /offer, the WebSocket peer, the relay router) and its
 * media side (the viewer set), as gst-plugins-rs writes each signaller
 * against one interface. Front ends create, feed and end sessions through
 * SessionBackend and learn what happens through SessionEvents; neither side
 * knows how the other is built (ARCHITECTURE.md, "Sessions").
 */
#pragma once

#include <glib.h>

#include <functional>
#include <string>
#include <vector>

#include "protocol/iceserver.h"
#include "sdpoffer.h"

namespace livecast
{

/* One local ICE candidate of a session, for trickle ICE. */
struct LocalCandidate {
  std::string candidate; /* "candidate:…"; "" marks the end of candidates */
  std::string mid;
  int mline = -1;
};

/* How a session reports to its signaling channel after it was created.
 * Both are called on the server thread. */
struct SessionEvents {
  /* Trickle ICE: every local candidate once the answer (or offer) is out.
   * Unset: the answer waits for ICE gathering and holds the candidates. */
  std::function<void(const LocalCandidate &)> on_candidate;
  /* The session ended on the server's side (ICE failure, timeout, the
   * stream stopped); not called when the channel itself ended it. */
  std::function<void(const std::string &reason)> on_ended;
  /* A connected session from which nothing (RTCP, DTLS) arrives for this
   * long has vanished and ends; 0: the media side's default (8 s, for
   * browsers, which send RTCP about every second but may be throttled). */
  gint64 silence_timeout_us = 0;
};

/* What a session made from our offer (create_offer_session) needs beyond
 * the stream. */
struct OfferOptions {
  /* ICE servers for this session only, beside the element's (stun-server,
   * turn-servers), which viewers keep: a STUN server here takes the place
   * of stun-server (webrtcbin has one), TURN servers are added. A WHIP
   * endpoint names them in its Link headers (RFC 9725, section 4.6). */
  std::vector<IceServer> ice_servers;
  /* A publication to a media server (WHIP), not a viewer: left out of the
   * viewer count (the element's viewers, /stats "viewers", max-viewers,
   * max-pending) and of viewer-added / viewer-ended; /stats lists it
   * among the sessions with "publisher": true. */
  bool publisher = false;
};

/* What a created viewer session reports back. */
struct SessionResult {
  bool ok = false;
  int status = 0;      /* HTTP status when !ok */
  std::string message; /* one sentence when !ok */
  int retry_after = 0; /* seconds, for 503 */
  std::string id;
  std::string etag;
  std::string answer_sdp; /* the local description: our answer, or our offer */
};

/* Implemented by the element: the media and session side. All calls happen
 * on the server thread; @done is called exactly once, on the server thread,
 * possibly later (the answer waits for ICE gathering). */
class SessionBackend
{
 public:
  virtual ~SessionBackend() = default;

  /* What the stream sends now; false when the stream has not started (no
   * caps yet), so offers cannot be checked. */
  virtual bool current_video(SentVideo &sent) = 0;
  /* A session answering @offer, checked (ok) against current_video(); the
   * offer carries its parsed SDP (OfferCheck::sdp). */
  virtual void create_session(const OfferCheck &offer, SessionEvents events,
                              std::function<void(SessionResult)> done) = 0;
  /* The server offers: a session with what the stream sends (and, with
   * talkback, a microphone it would take); @done gets the offer. */
  virtual void create_offer_session(SessionEvents events, const OfferOptions &options,
                                    std::function<void(SessionResult)> done) = 0;
  /* Applies the viewer's answer to our offer. 0 on success, else an HTTP
   * status (404 no such session, 400 malformed, 409 not waiting for an
   * answer) with @message. A later failure ends the session (on_ended). */
  virtual int apply_answer(const std::string &id, const std::string &answer_sdp,
                           std::string &message) = 0;
  /* 0 on success, else an HTTP status (404 unknown session, 400, 422 ICE restart). */
  virtual int add_remote_candidates(const std::string &id, const SdpFragment &frag,
                                    std::string &message) = 0;
  /* The session's ETag, or "" if there is no such session. */
  virtual std::string session_etag(const std::string &id) = 0;
  /* false when there is no such session. */
  virtual bool end_session(const std::string &id) = 0;
  virtual std::string stats_json() = 0;
  /* Media over the signalling socket itself (protocol/mediaframe.h): a
   * session that sends the shared encoding's access units to @send_binary,
   * which returns false while the socket cannot take more (the frame is
   * dropped, and the next sent is a key frame). Admitted and counted as
   * viewers are; ended by end_session() or on_ended. @done as above, with
   * the id (no SDP). Servers without it refuse with 501. */
  virtual void create_media_session(std::function<bool(const std::string &)> send_binary,
                                    SessionEvents events, std::function<void(SessionResult)> done)
  {
    (void)send_binary;
    (void)events;
    SessionResult r;
    r.status = 501;
    r.message = "This server does not send media over the WebSocket.";
    done(r);
  }
  /* A new session from one address was refused by max-offers-per-second
   * (429), for the element's count of viewers turned away. */
  virtual void session_rate_limited() {}
};

}  // namespace livecast
