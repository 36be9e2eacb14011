/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signalingclient.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <utility>

#include "gstrefptr.h"
#include "protocol/signalmessage.h"

GST_DEBUG_CATEGORY_STATIC(webrtcserver_signaling_debug);
#define GST_CAT_DEFAULT webrtcserver_signaling_debug

namespace livecast
{

namespace
{
constexpr guint kFirstBackoffMs = 1000;
constexpr guint kMaxBackoffMs = 30000;
constexpr int kKeepaliveSeconds = 20;

void init_debug_category()
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(webrtcserver_signaling_debug, "webrtcserversignaling", 0,
                            "webrtcserversink client mode (signaling relay)");
    g_once_init_leave(&once, 1);
  }
}

/* What the connect callback gets: the client, if it still exists. */
struct ConnectData {
  SignalingClient *client;
  std::weak_ptr<bool> alive;
};
}  // namespace

std::string address_to(const std::string &json_text, const std::string &member)
{
  JsonParser *parser = json_parser_new();
  std::string out = json_text;
  if (json_parser_load_from_data(parser, json_text.c_str(), static_cast<gssize>(json_text.size()),
                                 nullptr)) {
    JsonNode *root = json_parser_get_root(parser);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
      json_object_set_string_member(json_node_get_object(root), "to", member.c_str());
      out = livecast::json_text(root);
    }
  }
  g_object_unref(parser);
  return out;
}

RelayRouter::RelayRouter(SessionBackend &backend, WsSignalingConfig config, std::string room,
                         Send send)
    : backend_(backend), config_(std::move(config)), room_(std::move(room)), send_(std::move(send))
{
  init_debug_category();
}

RelayRouter::~RelayRouter()
{
  clear();
}

std::string RelayRouter::join_message() const
{
  return to_json(SignalMessage::join(room_));
}

void RelayRouter::clear()
{
  /* Each peer ends its session as it goes. */
  peers_.clear();
}

WsSignalingPeer &RelayRouter::peer_for(const std::string &member)
{
  auto it = peers_.find(member);
  if (it != peers_.end())
    return *it->second;
  Send send = send_;
  auto peer = std::make_unique<WsSignalingPeer>(
      backend_, config_,
      [send, member](const std::string &text) { send(address_to(text, member)); },
      [send, member](int, const std::string &reason) {
        /* A member flooding us cannot close the relay's socket: it is told. */
        send(address_to(signal_error_json(reason), member));
      });
  WsSignalingPeer &ref = *peer;
  peers_[member] = std::move(peer);
  return ref;
}

void RelayRouter::on_message(const std::string &text)
{
  SignalMessage message;
  std::string error;
  if (!parse_signal_message(text, message, error)) {
    /* Never answered: two servers would trade errors forever. */
    GST_WARNING("relay sent a message we cannot read: %s", error.c_str());
    return;
  }
  static const std::string join_text = to_json(SignalMessage::join(std::string()));
  switch (message.type) {
    case SignalMessage::Type::Welcome:
      own_id_ = message.id;
      GST_INFO("joined room \"%s\" as %s", room_.c_str(), own_id_.c_str());
      /* Members already there are viewers waiting: offer to each. */
      if (message.peers) {
        for (const std::string &member : *message.peers)
          peer_for(member).on_message(join_text);
      }
      return;
    case SignalMessage::Type::Join:
      if (message.from.empty() || message.from == own_id_)
        return;
      peers_.erase(message.from); /* joined again: a fresh session */
      peer_for(message.from).on_message(join_text);
      return;
    case SignalMessage::Type::Leave:
      if (peers_.erase(message.from))
        GST_INFO("member %s left the room", message.from.c_str());
      return;
    case SignalMessage::Type::Error:
      if (message.from.empty()) {
        GST_WARNING("the relay reports: %s", message.message.c_str());
        return;
      }
      GST_INFO("member %s reports: %s", message.from.c_str(), message.message.c_str());
      return;
    default:
      if (message.from.empty() || message.from == own_id_) {
        GST_DEBUG("ignoring a \"%s\" message from the relay itself", message.type_name.c_str());
        return;
      }
      peer_for(message.from).on_message(text);
      return;
  }
}

SignalingClient::SignalingClient(HttpServer &server, SessionBackend &backend,
                                 WsSignalingConfig config, std::string url, std::string room,
                                 Status status)
    : server_(server),
      backend_(backend),
      config_(std::move(config)),
      url_(std::move(url)),
      room_(std::move(room)),
      status_(std::move(status))
{
  init_debug_category();
}

SignalingClient::~SignalingClient()
{
  *alive_ = false;
  if (cancellable_) {
    g_cancellable_cancel(cancellable_);
    g_object_unref(cancellable_);
  }
  router_.reset();
  if (connection_) {
    g_signal_handlers_disconnect_by_data(connection_, this);
    if (soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(connection_, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                      "The stream stopped.");
    g_object_unref(connection_);
  }
  if (session_)
    g_object_unref(session_);
}

void SignalingClient::start()
{
  session_ = soup_session_new();
  connect();
}

void SignalingClient::connect()
{
  /* libsoup takes the http(s) form of a WebSocket URL. */
  std::string url = url_;
  if (g_str_has_prefix(url.c_str(), "ws://"))
    url = "http://" + url.substr(5);
  else if (g_str_has_prefix(url.c_str(), "wss://"))
    url = "https://" + url.substr(6);
  SoupMessage *msg = soup_message_new("GET", url.c_str());
  if (!msg) {
    status_(false, "\"" + url_ + "\" is not a ws:// or wss:// URL");
    return;
  }
  if (cancellable_)
    g_object_unref(cancellable_);
  cancellable_ = g_cancellable_new();
  soup_session_websocket_connect_async(session_, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
                                       cancellable_, on_connected, new ConnectData{this, alive_});
  g_object_unref(msg);
}

void SignalingClient::on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
  std::unique_ptr<ConnectData> data(static_cast<ConnectData *>(user_data));
  GError *err = nullptr;
  SoupWebsocketConnection *connection =
      soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &err);
  auto alive = data->alive.lock();
  if (!alive || !*alive) {
    if (connection)
      g_object_unref(connection);
    g_clear_error(&err);
    return;
  }
  SignalingClient *self = data->client;
  if (!connection) {
    std::string why = err ? err->message : "unknown error";
    g_clear_error(&err);
    self->schedule_reconnect("could not connect to " + self->url_ + ": " + why);
    return;
  }
  self->connection_ = connection;
  self->backoff_ms_ = 0;
  soup_websocket_connection_set_keepalive_interval(connection, kKeepaliveSeconds);
  soup_websocket_connection_set_max_incoming_payload_size(connection, 1024 * 1024);
  Ref<SoupWebsocketConnection> conn = Ref<SoupWebsocketConnection>::ref(connection);
  self->router_ = std::make_unique<RelayRouter>(
      self->backend_, self->config_, self->room_, [conn](const std::string &text) {
        if (soup_websocket_connection_get_state(conn.get()) == SOUP_WEBSOCKET_STATE_OPEN)
          soup_websocket_connection_send_text(conn.get(), text.c_str());
      });
  g_signal_connect(connection, "message",
                   G_CALLBACK(+[](SoupWebsocketConnection *, gint, GBytes *bytes, gpointer d) {
                     auto *client = static_cast<SignalingClient *>(d);
                     gsize size = 0;
                     const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &size));
                     if (client->router_)
                       client->router_->on_message(std::string(text ? text : "", size));
                   }),
                   self);
  g_signal_connect(connection, "closed", G_CALLBACK(+[](SoupWebsocketConnection *c, gpointer d) {
                     auto *client = static_cast<SignalingClient *>(d);
                     const gushort code = soup_websocket_connection_get_close_code(c);
                     client->router_.reset(); /* every member's session ends */
                     g_signal_handlers_disconnect_by_data(c, client);
                     g_object_unref(client->connection_);
                     client->connection_ = nullptr;
                     client->schedule_reconnect("the relay closed the connection (code " +
                                                std::to_string(code) + ")");
                   }),
                   self);
  soup_websocket_connection_send_text(connection, self->router_->join_message().c_str());
  self->status_(true, "connected to " + self->url_ + ", room \"" + self->room_ + "\"");
}

void SignalingClient::schedule_reconnect(const std::string &why)
{
  backoff_ms_ = backoff_ms_ ? std::min(backoff_ms_ * 2, kMaxBackoffMs) : kFirstBackoffMs;
  /* Jitter: many senders behind one restarted relay do not come back at once. */
  std::uniform_int_distribution<guint> jitter(0, backoff_ms_ / 4);
  const guint delay = backoff_ms_ + jitter(random_);
  status_(false, why + "; trying again in " + std::to_string((delay + 500) / 1000) + " s");
  std::weak_ptr<bool> alive = alive_;
  server_.add_timeout(delay, [this, alive]() {
    auto guard = alive.lock();
    if (guard && *guard)
      connect();
  });
}

}  // namespace livecast
