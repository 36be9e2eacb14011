/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * WHIP publishing (RFC 9725, whip-url): the sink's one encoding sent to a
 * WHIP endpoint (a media server such as Janus behind simple-whip-server) as
 * one more session of the viewer set, beside the local viewers. The session
 * makes the offer (SessionBackend::create_offer_session, as the relay
 * client's sessions do), the offer is POSTed, the endpoint's answer applied,
 * our candidates trickled with PATCH, and the resource DELETEd at the end.
 *
 * The endpoint's ICE servers (Link rel="ice-server", RFC 9725 section 4.6)
 * must be known before the offer, whose ICE agent gathers (TURN relays
 * too) as soon as it exists: each attempt first asks the endpoint with
 * OPTIONS (simple-whip-server answers it with the same Link headers as its
 * 201), and takes the last 201's when OPTIONS names none. They go to that
 * session only (OfferOptions); viewers keep the element's.
 * When the endpoint refuses, cannot be reached, or the session ends (ICE
 * failed, nothing heard from the server for a while), it publishes again
 * after a back-off (0.5 s doubling to 8 s, network/backoff.h).
 *
 * Everything runs on the sink's server thread; the state is also kept in a
 * WhipStatus that other threads read (/stats, the element's stats).
 */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "network/backoff.h"
#include "network/whipclient.h"
#include "protocol/iceserver.h"
#include "protocol/json.h"
#include "session/session.h"

namespace livecast
{

/* The publish state, for any thread. state: "off" (no whip-url),
 * "connecting" (offer sent), "publishing" (the endpoint answered),
 * "retrying" (waiting to publish again), "waiting" (the stream has not
 * started), "stopped". */
class WhipStatus
{
 public:
  struct Snapshot {
    std::string state = "off";
    std::string url;
    std::string error;                    /* the last failure, "" once publishing */
    std::string session;                  /* the viewer-set session that publishes */
    std::string resource;                 /* the endpoint's Location */
    std::vector<std::string> ice_servers; /* the session's, from the endpoint's Link headers */
    std::string ice_servers_from;         /* "OPTIONS", "201" (an earlier answer), or "" */
    guint64 attempts = 0;
  };
  Snapshot get() const;
  void update(const std::function<void(Snapshot &)> &change);
  /* "whip": {"state":…,"url":…,"error":…,…}, as the key and its object. */
  void write_json(JsonWriter &w) const;

 private:
  mutable std::mutex lock_;
  Snapshot s_;
};

/* Turns one Link header value's ice-server entries into ICE servers:
 * <stun:host:port>; rel="ice-server" and <turn:host:port?transport=udp>;
 * rel="ice-server"; username="u"; credential="p" (RFC 9725 section 4.6).
 * Entries of other relations are skipped; unreadable ones go to @bad. */
void parse_link_ice_servers(const std::string &header, std::vector<IceServer> &out,
                            std::vector<std::string> &bad);

/* Removes a=bundle-only from the sections of @sdp that have it and gives
 * them port 9: webrtcbin's max-bundle offer puts port 0 there (RFC 8843),
 * which Janus 1.1 reads as a refused section (no audio then). */
std::string unbundle_only(const std::string &sdp);

/* The RFC 8840 fragment for @candidates ("" is the end of candidates) of
 * the offer @sdp: its ICE credentials and its first section's mid. */
std::string trickle_fragment(const std::string &sdp, const std::vector<std::string> &candidates);

class WhipPublisher
{
 public:
  /* A failure to warn about (problem), or news to log. */
  using Report = std::function<void(bool problem, const std::string &text)>;
  /* Runs a function on the server thread after a delay (HttpServer::add_timeout). */
  using Timeout = std::function<void(guint delay_ms, std::function<void()> fn)>;

  WhipPublisher(Timeout timeout, SessionBackend &backend, WhipStatus &status, std::string url,
                std::string token, Report report);
  /* On the server thread: ends the session and DELETEs the resource
   * (waiting at most 2 s for the endpoint). */
  ~WhipPublisher();
  WhipPublisher(const WhipPublisher &) = delete;
  WhipPublisher &operator=(const WhipPublisher &) = delete;

  void start();

 private:
  void attempt();
  void on_discovered(unsigned attempt, const WhipReply &reply);
  /* The ICE servers of @reply's Link headers; unreadable ones are reported. */
  std::vector<IceServer> link_ice_servers(const WhipReply &reply);
  void on_offer(unsigned attempt, const SessionResult &r);
  void on_answer(unsigned attempt, const WhipReply &reply);
  void on_candidate(unsigned attempt, const LocalCandidate &c);
  void send_candidates();
  void on_session_ended(unsigned attempt, const std::string &reason);
  /* Ends this attempt's session and resource, then tries again later. */
  void fail(const std::string &why, guint delay_ms = 0);
  void drop_session(bool delete_async);
  void set_state(const char *state, const std::string &error);

  Timeout timeout_;
  SessionBackend &backend_;
  WhipStatus &status_;
  WhipClient client_;
  Report report_;
  Backoff backoff_{500, 8000};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  unsigned attempt_ = 0;               /* callbacks of older attempts are dropped */
  std::string last_problem_;           /* warned once until it changes */
  std::vector<IceServer> ice_servers_; /* the endpoint's, from the last 201 */
  /* The current attempt. */
  std::string session_id_;
  std::string offer_;
  std::string resource_;
  std::string etag_;
  std::vector<IceServer> session_ice_; /* what this attempt's session was given */
  gint64 published_us_ = 0;
  std::vector<std::string> candidates_; /* not yet PATCHed; "" ends them */
  bool patching_ = false;
  bool trickle_refused_ = false;
};

}  // namespace livecast
