/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "relayclient.h"

#include <libsoup/soup.h>

#include <utility>

namespace livecast
{

namespace
{
constexpr int kKeepaliveSeconds = 20;
/* A relay forwards offers and candidates: far below this. */
constexpr gsize kMaxIncomingBytes = 1024 * 1024;

/* What the connect callback gets: the client, if it still exists. */
struct ConnectData {
  RelayClient *client;
  std::weak_ptr<bool> alive;
};
}  // namespace

RelayClient::RelayClient(HttpServer &server, std::string url, Callbacks callbacks)
    : server_(server), url_(std::move(url)), callbacks_(std::move(callbacks))
{
}

RelayClient::~RelayClient()
{
  *alive_ = false;
  if (cancellable_) {
    g_cancellable_cancel(cancellable_);
    g_object_unref(cancellable_);
  }
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

void RelayClient::start()
{
  session_ = soup_session_new();
  connect();
}

void RelayClient::send(const std::string &text)
{
  if (connection_ && soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text(connection_, text.c_str());
}

void RelayClient::connect()
{
  /* libsoup takes the http(s) form of a WebSocket URL. */
  std::string url = url_;
  if (g_str_has_prefix(url.c_str(), "ws://"))
    url = "http://" + url.substr(5);
  else if (g_str_has_prefix(url.c_str(), "wss://"))
    url = "https://" + url.substr(6);
  SoupMessage *msg = soup_message_new("GET", url.c_str());
  if (!msg) {
    callbacks_.on_status(false, "\"" + url_ + "\" is not a ws:// or wss:// URL");
    return;
  }
  if (cancellable_)
    g_object_unref(cancellable_);
  cancellable_ = g_cancellable_new();
  soup_session_websocket_connect_async(session_, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
                                       cancellable_, on_connected, new ConnectData{this, alive_});
  g_object_unref(msg);
}

void RelayClient::on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
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
  RelayClient *self = data->client;
  if (!connection) {
    std::string why = err ? err->message : "unknown error";
    g_clear_error(&err);
    self->schedule_reconnect("could not connect to " + self->url_ + ": " + why);
    return;
  }
  self->connection_ = connection;
  self->backoff_.reset();
  soup_websocket_connection_set_keepalive_interval(connection, kKeepaliveSeconds);
  soup_websocket_connection_set_max_incoming_payload_size(connection, kMaxIncomingBytes);
  g_signal_connect(connection, "message",
                   G_CALLBACK(+[](SoupWebsocketConnection *, gint, GBytes *bytes, gpointer d) {
                     auto *client = static_cast<RelayClient *>(d);
                     gsize size = 0;
                     const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &size));
                     client->callbacks_.on_text(std::string(text ? text : "", size));
                   }),
                   self);
  g_signal_connect(
      connection, "closed", G_CALLBACK(+[](SoupWebsocketConnection *c, gpointer d) {
        static_cast<RelayClient *>(d)->closed(soup_websocket_connection_get_close_code(c));
      }),
      self);
  self->callbacks_.on_status(true, "connected to " + self->url_);
  self->callbacks_.on_open();
}

void RelayClient::closed(gushort code)
{
  g_signal_handlers_disconnect_by_data(connection_, this);
  g_object_unref(connection_);
  connection_ = nullptr;
  callbacks_.on_closed();
  schedule_reconnect("the relay closed the connection (code " + std::to_string(code) + ")");
}

void RelayClient::schedule_reconnect(const std::string &why)
{
  const guint delay = backoff_.next_ms();
  callbacks_.on_status(false,
                       why + "; trying again in " + std::to_string((delay + 500) / 1000) + " s");
  std::weak_ptr<bool> alive = alive_;
  server_.add_timeout(delay, [this, alive]() {
    auto guard = alive.lock();
    if (guard && *guard)
      connect();
  });
}

}  // namespace livecast
