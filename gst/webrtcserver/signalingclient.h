/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Client mode: the sink connects out to a signaling relay (`livecast
 * signal`, or any relay speaking protocol/signalmessage.h with rooms), joins a room and
 * serves every viewer there, so a sender behind NAT needs no open port.
 *
 * Each member of the room is one viewer with its own WsSignalingPeer, as
 * if it had come to our own /ws: a member that joins gets our offer, a
 * member that sends an offer gets our answer; messages go out with "to"
 * set to that member, and its "leave" (or "bye") ends its session. When the
 * relay goes away every session ends and the client reconnects with
 * back-off (1 s doubling to 30 s, with jitter).
 *
 * The relay traffic is split from the socket by RelayRouter (no network,
 * unit-tested); SignalingClient owns the libsoup WebSocket and runs on the
 * sink's server thread.
 */
#pragma once

#include <glib.h>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "httpapi.h"
#include "httpserver.h"
#include "wssignaling.h"

typedef struct _SoupSession SoupSession;

namespace livecast
{

/* The room's traffic, one WsSignalingPeer per member. */
class RelayRouter
{
 public:
  using Send = std::function<void(const std::string &text)>;

  RelayRouter(SessionBackend &backend, WsSignalingConfig config, std::string room, Send send);
  ~RelayRouter();

  /* The join message to send once connected. */
  std::string join_message() const;
  /* One message from the relay. */
  void on_message(const std::string &text);
  /* Ends every member's session (the relay went away). */
  void clear();

  const std::string &own_id() const { return own_id_; }
  std::size_t members() const { return peers_.size(); }

 private:
  WsSignalingPeer &peer_for(const std::string &member);

  SessionBackend &backend_;
  WsSignalingConfig config_;
  std::string room_;
  Send send_;
  std::string own_id_; /* from the relay's welcome */
  std::map<std::string, std::unique_ptr<WsSignalingPeer>> peers_;
};

/* Adds "to": @member to a JSON object text. */
std::string address_to(const std::string &json_text, const std::string &member);

class SignalingClient
{
 public:
  /* Reports the state for logs and warnings: "connected", or why not. */
  using Status = std::function<void(bool connected, const std::string &detail)>;

  SignalingClient(HttpServer &server, SessionBackend &backend, WsSignalingConfig config,
                  std::string url, std::string room, Status status);
  /* On the server thread. */
  ~SignalingClient();

  /* Connects now; call on the server thread. */
  void start();

 private:
  void connect();
  void schedule_reconnect(const std::string &why);
  static void on_connected(GObject *source, GAsyncResult *result, gpointer user_data);

  HttpServer &server_;
  SessionBackend &backend_;
  WsSignalingConfig config_;
  std::string url_;
  std::string room_;
  Status status_;
  SoupSession *session_ = nullptr;
  GCancellable *cancellable_ = nullptr;
  SoupWebsocketConnection *connection_ = nullptr;
  std::unique_ptr<RelayRouter> router_;
  guint backoff_ms_ = 0;
  std::mt19937 random_{std::random_device{}()};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace livecast
