/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "httpserver.h"

#include <gio/gio.h>
#include <gio/gnetworking.h>
#include <libsoup/soup.h>

#include <memory>

#include <gst/gst.h>

#include "gstrefptr.h"

namespace livecast
{

namespace
{

/* Each /ws socket's kernel send buffer (Linux doubles it for its own
 * bookkeeping): about a second of a 2-4 Mbit/s stream, what a viewer that
 * stops reading may have in flight before its frames are dropped. */
constexpr int kWsSendBufferBytes = 512 * 1024;

/* The socket under a WebSocket's stream: libsoup hands the connection's
 * stream as it is, a GSocketConnection, or a TLS connection (or libsoup's
 * own wrapper) around one. */
GSocket *socket_of(GIOStream *stream)
{
  for (int depth = 0; stream && depth < 4; depth++) {
    if (G_IS_SOCKET_CONNECTION(stream))
      return g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
    GIOStream *base = nullptr;
    for (const char *name : {"base-io-stream", "base-iostream"}) {
      if (g_object_class_find_property(G_OBJECT_GET_CLASS(stream), name)) {
        g_object_get(stream, name, &base, nullptr);
        break;
      }
    }
    if (!base)
      return nullptr;
    /* The wrapper holds its base for as long as we use it. */
    g_object_unref(base);
    stream = base;
  }
  return nullptr;
}

/* One request waiting for its reply: the message is paused until then.
 * Lives on the server thread only. */
struct PendingReply {
  SoupServerMessage *msg = nullptr; /* owned reference */
  gulong finished_id = 0;
  bool paused = false;
  bool replied = false;
  bool finished = false; /* the client went away or the server stopped */

  ~PendingReply()
  {
    if (finished_id)
      g_signal_handler_disconnect(msg, finished_id);
    g_object_unref(msg);
  }
};

void on_message_finished(SoupServerMessage *, gpointer user_data)
{
  static_cast<PendingReply *>(user_data)->finished = true;
}

void send_response(SoupServerMessage *msg, const HttpResponse &response)
{
  soup_server_message_set_status(msg, static_cast<guint>(response.status), nullptr);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
  for (const auto &h : response.headers)
    soup_message_headers_append(headers, h.first.c_str(), h.second.c_str());
  /* libsoup 3.2 (Debian 12) never notices a client closing an idle
   * keep-alive connection (fixed in 3.3: "Don't leak idle connections closed
   * by the client"): each would stay in CLOSE_WAIT with its descriptor.
   * Signaling is a few requests per viewer, so one connection per request
   * costs nothing. */
  if (!soup_message_headers_header_contains(headers, "Connection", "close"))
    soup_message_headers_append(headers, "Connection", "close");
  if (!response.body.empty() || !response.content_type.empty()) {
    soup_server_message_set_response(
        msg, response.content_type.empty() ? nullptr : response.content_type.c_str(),
        SOUP_MEMORY_COPY, response.body.data(), response.body.size());
  }
}

/* Refuses oversized bodies from the headers alone, before reading them. */
void early_handler(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                   gpointer user_data)
{
  const std::size_t max = *static_cast<const std::size_t *>(user_data);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length(headers) > static_cast<goffset>(max)) {
    HttpResponse r = HttpResponse::error(
        413, "The request body is larger than " + std::to_string(max) + " bytes.");
    r.add_header("Access-Control-Allow-Origin", "*");
    r.add_header("Connection", "close");
    send_response(msg, r);
  }
}

HttpRequest request_from(SoupServerMessage *msg, const char *path, GHashTable *query)
{
  HttpRequest request;
  request.method = soup_server_message_get_method(msg);
  {
    GCharPtr decoded(g_uri_unescape_string(path, nullptr));
    request.path = decoded ? decoded.get() : path;
  }
  if (query) {
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, query);
    while (g_hash_table_iter_next(&iter, &key, &value))
      request.query[static_cast<const char *>(key)] = value ? static_cast<const char *>(value) : "";
  }
  soup_message_headers_foreach(
      soup_server_message_get_request_headers(msg),
      [](const char *name, const char *value, gpointer data) {
        auto *headers = static_cast<std::map<std::string, std::string> *>(data);
        GCharPtr lower(g_ascii_strdown(name, -1));
        auto &slot = (*headers)[lower.get()];
        slot = slot.empty() ? value : slot + ", " + value;
      },
      &request.headers);
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  if (body && body->length > 0)
    request.body.assign(body->data, static_cast<std::size_t>(body->length));
  if (const char *host = soup_server_message_get_remote_host(msg))
    request.remote_address = host;
  return request;
}

void request_handler(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
                     gpointer user_data)
{
  /* Already answered by the early handler (413). */
  if (soup_server_message_get_status(msg) != 0)
    return;
  auto *handler = static_cast<HttpServer::Handler *>(user_data);
  HttpRequest request = request_from(msg, path, query);

  auto pending = std::make_shared<PendingReply>();
  pending->msg = SOUP_SERVER_MESSAGE(g_object_ref(msg));
  pending->finished_id =
      g_signal_connect(msg, "finished", G_CALLBACK(on_message_finished), pending.get());

  (*handler)(request, [pending](HttpResponse response) {
    if (pending->replied)
      return;
    pending->replied = true;
    if (pending->finished)
      return;
    send_response(pending->msg, response);
    if (pending->paused)
      soup_server_message_unpause(pending->msg);
  });
  if (!pending->replied) {
    pending->paused = true;
    soup_server_message_pause(msg);
  }
}

}  // namespace

/* libsoup callbacks of the WebSocket path, with access to the server. */
struct WsGlue {
  /* Token, origin and "is it an upgrade at all", answered in plain HTTP. */
  static void early(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user_data)
  {
    auto *server = static_cast<HttpServer *>(user_data);
    if (!server->is_ws_path(path)) {
      early_handler(nullptr, msg, path, query, &server->max_body_size_);
      return;
    }
    if (soup_server_message_get_status(msg) != 0)
      return;
    const HttpRequest request = request_from(msg, path, query);
    HttpResponse refusal = server->ws_check_(request);
    if (refusal.status == 0 && request.header("upgrade").empty())
      refusal = HttpResponse::error(
          426, "This is the WebSocket signaling endpoint; connect with a WebSocket client.");
    if (refusal.status != 0)
      send_response(msg, refusal);
  }

  /* libsoup's handler paths are string prefixes: "/ws" also receives "/wsx" and
   * "/ws/x". Those are ordinary requests; answered here, they never become WebSockets. The
   * WebSocket path itself is left unanswered so that libsoup completes the handshake. */
  static void request(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                      gpointer user_data)
  {
    auto *server = static_cast<HttpServer *>(user_data);
    if (!server->is_ws_path(path))
      request_handler(soup, msg, path, query, &server->handler_);
  }

  static void opened(SoupServer *, SoupServerMessage *msg, const char *path,
                     SoupWebsocketConnection *connection, gpointer user_data)
  {
    auto *server = static_cast<HttpServer *>(user_data);
    GUri *uri = soup_server_message_get_uri(msg);
    GHashTable *query = nullptr;
    if (uri && g_uri_get_query(uri))
      query = soup_form_decode(g_uri_get_query(uri));
    const HttpRequest request = request_from(msg, path, query);
    if (query)
      g_hash_table_unref(query);

    soup_websocket_connection_set_max_incoming_payload_size(connection,
                                                            server->ws_max_message_size_);
    /* Pings keep NATs and proxies from dropping a quiet signaling socket. */
    soup_websocket_connection_set_keepalive_interval(connection, 20);
    WsChannel channel;
    Ref<SoupWebsocketConnection> conn = Ref<SoupWebsocketConnection>::ref(connection);
    channel.send = [conn](const std::string &text) {
      if (soup_websocket_connection_get_state(conn.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text(conn.get(), text.c_str());
    };
    GSocket *socket = socket_of(soup_websocket_connection_get_io_stream(connection));
    Ref<GSocket> sock = socket ? Ref<GSocket>::ref(socket) : Ref<GSocket>();
    if (sock &&
        !g_socket_set_option(sock.get(), SOL_SOCKET, SO_SNDBUF, kWsSendBufferBytes, nullptr))
      GST_WARNING("could not cap a WebSocket's send buffer");
    if (!sock)
      GST_WARNING("no socket under a WebSocket: binary messages cannot be sent");
    channel.send_binary = [conn, sock](const std::string &bytes) {
      if (!sock || soup_websocket_connection_get_state(conn.get()) != SOUP_WEBSOCKET_STATE_OPEN)
        return false;
      /* Not writable: the kernel buffer is full and libsoup would queue
       * this message in memory; the caller drops it instead. */
      if (!(g_socket_condition_check(sock.get(), G_IO_OUT) & G_IO_OUT))
        return false;
      soup_websocket_connection_send_binary(conn.get(), bytes.data(), bytes.size());
      return true;
    };
    channel.close = [conn](int code, const std::string &reason) {
      if (soup_websocket_connection_get_state(conn.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(conn.get(), static_cast<gushort>(code), reason.c_str());
    };
    std::unique_ptr<WsConnection> handler = server->ws_accept_(request, std::move(channel));
    if (!handler) {
      soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                      "Refused.");
      return;
    }
    g_object_ref(connection);
    server->websockets_[connection] = std::move(handler);
    g_signal_connect(connection, "message", G_CALLBACK(message), server);
    g_signal_connect(connection, "closed", G_CALLBACK(closed), server);
  }

  static void message(SoupWebsocketConnection *connection, gint type, GBytes *bytes,
                      gpointer user_data)
  {
    auto *server = static_cast<HttpServer *>(user_data);
    auto it = server->websockets_.find(connection);
    if (it == server->websockets_.end())
      return;
    gsize size = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(bytes, &size));
    if (type != SOUP_WEBSOCKET_DATA_TEXT) {
      /* Treated as text anyway: the protocol reports what is wrong with it. */
      GST_LOG("binary WebSocket message of %" G_GSIZE_FORMAT " bytes", size);
    }
    it->second->on_text(std::string(data ? data : "", size));
  }

  static void closed(SoupWebsocketConnection *connection, gpointer user_data)
  {
    auto *server = static_cast<HttpServer *>(user_data);
    auto it = server->websockets_.find(connection);
    if (it == server->websockets_.end())
      return;
    std::unique_ptr<WsConnection> handler = std::move(it->second);
    server->websockets_.erase(it);
    g_signal_handlers_disconnect_by_data(connection, server);
    handler.reset();
    g_object_unref(connection);
  }

  /* On the server thread, before the server goes. */
  static void close_all(HttpServer *server)
  {
    while (!server->websockets_.empty()) {
      auto it = server->websockets_.begin();
      SoupWebsocketConnection *connection = it->first;
      std::unique_ptr<WsConnection> handler = std::move(it->second);
      server->websockets_.erase(it);
      g_signal_handlers_disconnect_by_data(connection, server);
      handler.reset();
      if (soup_websocket_connection_get_state(connection) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                        "The stream stopped.");
      g_object_unref(connection);
    }
  }
};

void HttpServer::set_tls(std::string certificate_file, std::string key_file)
{
  tls_certificate_file_ = std::move(certificate_file);
  tls_key_file_ = std::move(key_file);
}

void HttpServer::set_websocket(std::string path, std::size_t max_message_size, WsCheck check,
                               WsAccept accept)
{
  ws_path_ = std::move(path);
  ws_max_message_size_ = max_message_size;
  ws_check_ = std::move(check);
  ws_accept_ = std::move(accept);
}

HttpServer::HttpServer() = default;

HttpServer::~HttpServer()
{
  stop();
}

bool HttpServer::start(const std::string &address, int port, std::size_t max_body_size,
                       Handler handler, std::string &error)
{
  stop();
  if (!tls_certificate_file_.empty()) {
    GError *err = nullptr;
    tls_certificate_ = g_tls_certificate_new_from_files(
        tls_certificate_file_.c_str(),
        tls_key_file_.empty() ? tls_certificate_file_.c_str() : tls_key_file_.c_str(), &err);
    if (!tls_certificate_) {
      error = "could not load the TLS certificate \"" + tls_certificate_file_ + "\"" +
              (tls_key_file_.empty() ? std::string(" (with its key in the same file)")
                                     : " and key \"" + tls_key_file_ + "\"") +
              ": " + (err ? err->message : "unknown error");
      g_clear_error(&err);
      return false;
    }
  }
  handler_ = std::move(handler);
  max_body_size_ = max_body_size;
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  {
    std::lock_guard<std::mutex> guard(start_lock_);
    start_done_ = false;
    start_error_.clear();
  }
  accepting_ = true;
  thread_ = std::thread(&HttpServer::thread_main, this, address, port);
  std::unique_lock<std::mutex> guard(start_lock_);
  start_cond_.wait(guard, [this] { return start_done_; });
  if (!start_error_.empty()) {
    error = start_error_;
    guard.unlock();
    stop();
    return false;
  }
  return true;
}

void HttpServer::thread_main(std::string address, int port)
{
  g_main_context_push_thread_default(context_);
  server_ =
      soup_server_new("server-header", "livecast ", "tls-certificate", tls_certificate_, nullptr);
  soup_server_add_early_handler(server_, nullptr, early_handler, &max_body_size_, nullptr);
  soup_server_add_handler(server_, nullptr, request_handler, &handler_, nullptr);
  if (!ws_path_.empty()) {
    soup_server_add_early_handler(server_, ws_path_.c_str(), WsGlue::early, this, nullptr);
    soup_server_add_handler(server_, ws_path_.c_str(), WsGlue::request, this, nullptr);
    soup_server_add_websocket_handler(server_, ws_path_.c_str(), nullptr, nullptr, WsGlue::opened,
                                      this, nullptr);
    /* libsoup checks its size limit on the compressed frame: with
     * permessage-deflate a small frame could inflate to any size. */
    soup_server_remove_websocket_extension(server_, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  }

  std::string error;
  GInetAddress *inet = g_inet_address_new_from_string(address.c_str());
  if (!inet) {
    error = "\"" + address + "\" is not an IP address to bind to";
  } else {
    GSocketAddress *sockaddr = g_inet_socket_address_new(inet, static_cast<guint16>(port));
    GError *err = nullptr;
    const auto options =
        static_cast<SoupServerListenOptions>(tls_certificate_ ? SOUP_SERVER_LISTEN_HTTPS : 0);
    if (!soup_server_listen(server_, sockaddr, options, &err)) {
      error = "could not listen on " + address + ":" + std::to_string(port) + ": " +
              (err ? err->message : "unknown error");
      g_clear_error(&err);
    }
    g_object_unref(sockaddr);
    g_object_unref(inet);
  }
  if (error.empty()) {
    GSList *listeners = soup_server_get_listeners(server_);
    for (GSList *l = listeners; l; l = l->next) {
      GSocketAddress *local = g_socket_get_local_address(G_SOCKET(l->data), nullptr);
      if (local && G_IS_INET_SOCKET_ADDRESS(local))
        bound_port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
      if (local)
        g_object_unref(local);
    }
    g_slist_free(listeners);
    running_ = true;
  }
  {
    std::lock_guard<std::mutex> guard(start_lock_);
    start_error_ = error;
    start_done_ = true;
  }
  start_cond_.notify_all();

  if (error.empty())
    g_main_loop_run(loop_);

  running_ = false;
  if (shutdown_)
    shutdown_();
  WsGlue::close_all(this);
  soup_server_disconnect(server_);
  g_object_unref(server_);
  server_ = nullptr;
  /* Let finalizers of closed connections run before the context goes. */
  while (g_main_context_iteration(context_, FALSE)) {
  }
  g_main_context_pop_thread_default(context_);
}

void HttpServer::stop()
{
  {
    std::lock_guard<std::mutex> guard(context_lock_);
    accepting_ = false;
  }
  if (!thread_.joinable()) {
    if (loop_) {
      g_main_loop_unref(loop_);
      loop_ = nullptr;
    }
    std::lock_guard<std::mutex> guard(context_lock_);
    if (context_) {
      g_main_context_unref(context_);
      context_ = nullptr;
    }
    return;
  }
  g_main_context_invoke(
      context_,
      [](gpointer loop) -> gboolean {
        g_main_loop_quit(static_cast<GMainLoop *>(loop));
        return G_SOURCE_REMOVE;
      },
      loop_);
  thread_.join();
  g_main_loop_unref(loop_);
  loop_ = nullptr;
  GMainContext *context;
  {
    std::lock_guard<std::mutex> guard(context_lock_);
    context = context_;
    context_ = nullptr;
  }
  g_main_context_unref(context);
  bound_port_ = 0;
  g_clear_object(&tls_certificate_);
}

bool HttpServer::in_server_thread() const
{
  return context_ && g_main_context_is_owner(context_);
}

namespace
{
using Callback = std::function<void()>;

gboolean run_once(gpointer data)
{
  (*static_cast<Callback *>(data))();
  return G_SOURCE_REMOVE;
}
gboolean run_repeat(gpointer data)
{
  (*static_cast<Callback *>(data))();
  return G_SOURCE_CONTINUE;
}
void delete_callback(gpointer data)
{
  delete static_cast<Callback *>(data);
}
}  // namespace

void HttpServer::invoke(std::function<void()> fn)
{
  GMainContext *context;
  {
    std::lock_guard<std::mutex> guard(context_lock_);
    if (!context_ || !accepting_)
      return;
    context = g_main_context_ref(context_);
  }
  /* Already on the server thread: run now, outside the lock (fn may invoke again). */
  if (g_main_context_is_owner(context)) {
    g_main_context_unref(context);
    fn();
    return;
  }
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, run_once, new Callback(std::move(fn)), delete_callback);
  g_source_attach(source, context);
  g_source_unref(source);
  g_main_context_unref(context);
}

void HttpServer::add_periodic(guint interval_ms, std::function<void()> fn)
{
  std::lock_guard<std::mutex> guard(context_lock_);
  if (!context_ || !accepting_)
    return;
  GSource *source = g_timeout_source_new(interval_ms);
  g_source_set_callback(source, run_repeat, new Callback(std::move(fn)), delete_callback);
  g_source_attach(source, context_);
  g_source_unref(source);
}

void HttpServer::add_timeout(guint delay_ms, std::function<void()> fn)
{
  std::lock_guard<std::mutex> guard(context_lock_);
  if (!context_ || !accepting_)
    return;
  GSource *source = g_timeout_source_new(delay_ms);
  g_source_set_callback(source, run_once, new Callback(std::move(fn)), delete_callback);
  g_source_attach(source, context_);
  g_source_unref(source);
}

}  // namespace livecast
