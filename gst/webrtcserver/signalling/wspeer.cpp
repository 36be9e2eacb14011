/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "wspeer.h"

#include <utility>
#include <vector>

namespace livecast
{

WsSignalingPeer::WsSignalingPeer(SessionBackend &backend, WsSignalingConfig config, Send send,
                                 Close close, Clock clock)
    : backend_(backend),
      config_(std::move(config)),
      send_(std::move(send)),
      close_(std::move(close)),
      clock_(std::move(clock)),
      rate_(TokenBucket(kWsMaxMessagesPerSecond, kWsMaxMessagesPerSecond, G_USEC_PER_SEC),
            kWsFloodSecondsBeforeClose * G_USEC_PER_SEC)
{
}

WsSignalingPeer::~WsSignalingPeer()
{
  *alive_ = false;
  end_session("the WebSocket closed");
}

void WsSignalingPeer::start()
{
  SignalMessage welcome = SignalMessage::welcome(std::string());
  std::vector<BrowserIceServer> servers;
  for (const IceServer &server : config_.ice_servers)
    servers.push_back(server.browser());
  welcome.ice_servers = std::move(servers);
  welcome.ice_transport_policy = config_.ice_transport_policy;
  welcome.audio = config_.audio;
  welcome.talkback = config_.talkback;
  send_(welcome);
}

bool WsSignalingPeer::over_rate_limit()
{
  switch (rate_.admit(clock_())) {
    case RateVerdict::Pass:
      return false;
    case RateVerdict::Drop:
      return true;
    case RateVerdict::DropAndTell:
      send_error("Too many messages: at most " + std::to_string(kWsMaxMessagesPerSecond) +
                     " per second are read; the rest of this second's are dropped.",
                 429);
      return true;
    case RateVerdict::Close:
      close_(1008, "Too many messages for too long.");
      return true;
  }
  return true;
}

void WsSignalingPeer::on_message(const std::string &text)
{
  if (over_rate_limit())
    return;
  SignalMessage message;
  std::string error;
  if (!parse_signal_message(text, message, error)) {
    send_error(error, 400);
    return;
  }
  handle(message);
}

void WsSignalingPeer::on_message(const SignalMessage &message)
{
  if (!over_rate_limit())
    handle(message);
}

void WsSignalingPeer::handle(const SignalMessage &message)
{
  switch (message.type) {
    case SignalMessage::Type::Offer:
      return handle_offer(message);
    case SignalMessage::Type::Join:
      return handle_join();
    case SignalMessage::Type::Media:
      return handle_media();
    case SignalMessage::Type::Answer:
      return handle_answer(message);
    case SignalMessage::Type::Candidate:
      return handle_candidate(message);
    case SignalMessage::Type::Bye:
    case SignalMessage::Type::Leave:
      end_session("the viewer said bye");
      return;
    default:
      send_error("A viewer cannot send \"" + message.type_name +
                     "\" messages; send join, offer, answer, candidate, media or bye.",
                 400);
      return;
  }
}

SessionEvents WsSignalingPeer::make_events()
{
  std::weak_ptr<bool> alive = alive_;
  SessionEvents events;
  events.on_candidate = [this, alive](const LocalCandidate &c) {
    auto guard = alive.lock();
    if (!guard || !*guard)
      return;
    if (c.candidate.empty()) {
      send_(SignalMessage::end_of_candidates());
      return;
    }
    SignalCandidate candidate;
    candidate.candidate = c.candidate;
    candidate.sdp_mid = c.mid;
    candidate.has_sdp_mid = !c.mid.empty();
    candidate.sdp_mline_index = c.mline;
    send_(SignalMessage::ice_candidate(candidate));
  };
  events.on_ended = [this, alive](const std::string &reason) {
    auto guard = alive.lock();
    if (!guard || !*guard)
      return;
    session_id_.clear();
    state_ = State::Idle;
    send_error("The session ended: " + reason + ".");
    send_(SignalMessage::bye());
  };
  return events;
}

void WsSignalingPeer::handle_offer(const SignalMessage &message)
{
  if (state_ != State::Idle) {
    send_error(
        "This connection already has a session; send bye before a new offer "
        "(ICE restarts are not supported).",
        409);
    return;
  }
  /* Malformed is malformed, whether or not the stream runs yet. */
  const ParsedOffer offer = parse_offer(message.sdp);
  const OfferCheck syntax = check_offer(offer, SentVideo{});
  if (!syntax.ok && syntax.status == 400) {
    send_error(syntax.message, 400);
    return;
  }
  SentVideo sent;
  if (!may_start_session(sent))
    return;
  OfferCheck check = check_offer(offer, sent);
  if (!check.ok) {
    send_error(check.message, check.status);
    return;
  }
  state_ = State::Creating;
  std::weak_ptr<bool> alive = alive_;
  SessionBackend &backend = backend_;
  const guint64 creation = ++creation_;
  backend_.create_session(check, make_events(), [this, alive, &backend, creation](SessionResult r) {
    auto guard = alive.lock();
    if (!guard || !*guard || creation != creation_) {
      /* The socket closed, or the viewer said bye,
       * meanwhile: nobody wants this session. */
      if (r.ok)
        backend.end_session(r.id);
      return;
    }
    if (!r.ok) {
      state_ = State::Idle;
      pending_candidates_.clear();
      send_error(r.message, r.status);
      return;
    }
    session_id_ = r.id;
    state_ = State::Active;
    send_(SignalMessage::answer(r.answer_sdp));
    flush_pending_candidates();
  });
}

bool WsSignalingPeer::may_create(const char *busy)
{
  if (state_ != State::Idle) {
    send_error(busy, 409);
    return false;
  }
  SentVideo sent;
  return may_start_session(sent);
}

void WsSignalingPeer::handle_join()
{
  if (!may_create("This connection already has a session; send bye before joining again."))
    return;
  create(
      [this](SessionEvents events, std::function<void(SessionResult)> done) {
        backend_.create_offer_session(std::move(events), OfferOptions(), std::move(done));
      },
      State::AwaitingAnswer,
      [](const SessionResult &r) { return SignalMessage::offer(r.answer_sdp); });
}

void WsSignalingPeer::handle_media()
{
  if (!config_.send_binary) {
    send_error("This connection cannot carry media; connect to the server's own /ws.", 501);
    return;
  }
  if (!may_create("This connection already has a session; send bye before asking for media."))
    return;
  create(
      [this](SessionEvents events, std::function<void(SessionResult)> done) {
        backend_.create_media_session(config_.send_binary, std::move(events), std::move(done));
      },
      State::Active, [](const SessionResult &r) { return SignalMessage::media(r.id); });
}

void WsSignalingPeer::create(
    const std::function<void(SessionEvents, std::function<void(SessionResult)>)> &start, State next,
    std::function<SignalMessage(const SessionResult &)> reply)
{
  state_ = State::Creating;
  std::weak_ptr<bool> alive = alive_;
  SessionBackend &backend = backend_;
  const guint64 creation = ++creation_;
  start(make_events(), [this, alive, &backend, creation, next, reply](SessionResult r) {
    auto guard = alive.lock();
    if (!guard || !*guard || creation != creation_) {
      if (r.ok) /* the socket closed, or bye came, meanwhile */
        backend.end_session(r.id);
      return;
    }
    if (!r.ok) {
      state_ = State::Idle;
      send_error(r.message, r.status);
      return;
    }
    session_id_ = r.id;
    state_ = next;
    send_(reply(r));
  });
}

bool WsSignalingPeer::may_start_session(SentVideo &sent)
{
  if (!backend_.current_video(sent)) {
    send_error("The stream has not started yet; try again in a moment.", 503);
    return false;
  }
  int retry_after = 1;
  if (!config_.admit || config_.admit(retry_after))
    return true;
  send_error("Too many new sessions from your address; try again in " +
                 std::to_string(retry_after) + " s.",
             429);
  return false;
}

void WsSignalingPeer::handle_answer(const SignalMessage &message)
{
  if (state_ != State::AwaitingAnswer) {
    send_error("No offer of ours is waiting for an answer; send join to get one.", 409);
    return;
  }
  std::string error;
  const int status = backend_.apply_answer(session_id_, message.sdp, error);
  if (status) {
    send_error(error, status);
    return;
  }
  state_ = State::Active;
}

void WsSignalingPeer::handle_candidate(const SignalMessage &message)
{
  if (message.candidate.end_of_candidates())
    return; /* webrtcbin needs no end-of-candidates */
  if (state_ == State::Creating) {
    /* Trickled right after the offer, before our answer: kept till then. */
    if (pending_candidates_.size() < kWsMaxPendingCandidates)
      pending_candidates_.push_back(message.candidate);
    else
      send_error("Too many candidates before the answer; the rest are dropped.", 429);
    return;
  }
  if (session_id_.empty()) {
    send_error(
        "A candidate needs a session: send an offer or join first, and candidates after "
        "the answer or offer.",
        409);
    return;
  }
  add_candidate(message.candidate);
}

void WsSignalingPeer::add_candidate(const SignalCandidate &candidate)
{
  /* No ufrag: ICE restarts cannot happen on this channel (a new offer is
   * refused while a session exists). */
  SdpFragment frag;
  frag.ok = true;
  TrickleCandidate c;
  c.candidate = candidate.candidate;
  c.mid = candidate.has_sdp_mid ? candidate.sdp_mid : "";
  c.mline = candidate.sdp_mline_index;
  frag.candidates.push_back(c);
  std::string error;
  const int status = backend_.add_remote_candidates(session_id_, frag, error);
  if (status)
    send_error(error, status);
}

void WsSignalingPeer::flush_pending_candidates()
{
  std::vector<SignalCandidate> pending;
  pending.swap(pending_candidates_);
  for (const SignalCandidate &c : pending)
    add_candidate(c);
}

void WsSignalingPeer::end_session(const char *why)
{
  (void)why;
  if (!session_id_.empty())
    backend_.end_session(session_id_);
  session_id_.clear();
  pending_candidates_.clear();
  /* A session still being created is not wanted any more: its result ends it. */
  if (state_ == State::Creating)
    creation_++;
  state_ = State::Idle;
}

void WsSignalingPeer::send_error(const std::string &message, int status)
{
  SignalMessage error = SignalMessage::error(message);
  error.status = status;
  send_(error);
}

}  // namespace livecast
