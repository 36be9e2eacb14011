/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One viewer on the sink's WebSocket (GET /ws): the JSON protocol of
 * protocol/signalmessage.h turned into SessionBackend calls, with trickle ICE both ways
 * and either side offering. No network here: the libsoup glue hands in
 * text messages and sends what this class gives it, so every exchange is
 * unit-tested without sockets.
 *
 *   server: {"type":"welcome","id":…,"iceServers":[…],"iceTransportPolicy":…,
 *            "audio":bool,"talkback":bool}
 *   viewer: {"type":"offer","sdp":…}  -> server: {"type":"answer","sdp":…}
 *   viewer: {"type":"join"}           -> server: {"type":"offer","sdp":…}
 *           then viewer: {"type":"answer","sdp":…}
 *   both:   {"type":"candidate","candidate":{…} | null}
 *   viewer: {"type":"bye"} ends the session (so does closing the socket)
 *   server: {"type":"error","message":…,"status":N} for what it refuses
 */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocol/iceserver.h"
#include "protocol/signalmessage.h"
#include "protocol/tokenbucket.h"
#include "session/session.h"

namespace livecast
{

/* Messages per second a viewer may send before they are refused (a browser
 * sends a few dozen candidates at most). */
constexpr int kWsMaxMessagesPerSecond = 50;
/* Seconds of flooding after which the socket is closed. */
constexpr int kWsFloodSecondsBeforeClose = 3;
/* Candidates kept while our answer is being made. */
constexpr std::size_t kWsMaxPendingCandidates = 64;

struct WsSignalingConfig {
  std::vector<IceServer> ice_servers;
  IceTransportPolicy ice_transport_policy = IceTransportPolicy::All;
  bool audio = false;    /* the stream has audio */
  bool talkback = false; /* viewers may send their microphone */
  /* Whether this viewer's address may start another session now (false:
   * 429, try again in @retry_after_s); unset: always. */
  std::function<bool(int &retry_after_s)> admit;
};

class WsSignalingPeer
{
 public:
  /* Sends one message to the viewer: the /ws socket writes it as it is, the
   * relay router addresses it to the member first. */
  using Send = std::function<void(const SignalMessage &message)>;
  /* Close the socket with a WebSocket close code and reason. */
  using Close = std::function<void(int code, const std::string &reason)>;
  /* Monotonic clock in microseconds (replaceable in tests). */
  using Clock = std::function<gint64()>;

  WsSignalingPeer(SessionBackend &backend, WsSignalingConfig config, Send send, Close close,
                  Clock clock = g_get_monotonic_time);
  /* Ends the viewer's session, if any. */
  ~WsSignalingPeer();
  WsSignalingPeer(const WsSignalingPeer &) = delete;
  WsSignalingPeer &operator=(const WsSignalingPeer &) = delete;

  /* Sends the welcome. */
  void start();
  /* One text message from the viewer. */
  void on_message(const std::string &text);
  /* One message from the viewer that a relay already read (parsed once). */
  void on_message(const SignalMessage &message);

  const std::string &session_id() const { return session_id_; }

 private:
  enum class State { Idle, Creating, AwaitingAnswer, Active };

  void handle(const SignalMessage &message);
  void handle_offer(const SignalMessage &message);
  void handle_join();
  void handle_answer(const SignalMessage &message);
  void handle_candidate(const SignalMessage &message);
  void add_candidate(const SignalCandidate &candidate);
  void flush_pending_candidates();
  void end_session(const char *why);
  /* The stream runs and this address may start another session; else the
   * viewer is told why (503, 429). */
  bool may_start_session(SentVideo &sent);
  void send_error(const std::string &message, int status = 0);
  SessionEvents make_events();
  /* Whether @on_message must drop this message (the viewer was told or
   * closed as kWsMaxMessagesPerSecond says). */
  bool over_rate_limit();

  SessionBackend &backend_;
  WsSignalingConfig config_;
  Send send_;
  Close close_;
  Clock clock_;
  State state_ = State::Idle;
  std::string session_id_;
  std::vector<SignalCandidate> pending_candidates_;
  /* Counts session creations; a result whose count is not the latest was
   * abandoned (bye while it was being made) and is ended on arrival. */
  guint64 creation_ = 0;
  /* Outlives nothing: callbacks the backend holds check it before using this. */
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  /* kWsMaxMessagesPerSecond in each one-second window; told once a second. */
  MessageRateLimit rate_;
};

}  // namespace livecast
