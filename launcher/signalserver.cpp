/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signalserver.h"

#include "signalrelay.h"
#include "streamconfig.h"
#include "protocol/signalmessage.h"
#include "util.h"

#include <glib-unix.h>
#include <libsoup/soup.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace livecast
{

namespace
{

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr guint kDefaultPort = 8081;
/* Messages up to this size are read and answered with an error when they
 * are over kSignalMaxMessageBytes; bigger ones make libsoup close the
 * connection with 1009 (it would have to buffer them whole). */
constexpr guint64 kMaxIncomingPayload = 1024 * 1024;
/* Pings keep NAT and proxy mappings of idle members open. */
constexpr guint kKeepaliveSeconds = 20;
/* How long a stopping server waits for its clients to acknowledge the close. */
constexpr gint64 kShutdownWaitUs = G_USEC_PER_SEC;
/* A WebSocket close reason is at most 123 bytes. */
constexpr std::size_t kMaxCloseReason = 123;

int usage_error(const std::string &message)
{
  std::fprintf(stderr, "livecast signal: %s\n", message.c_str());
  return kExitUsage;
}

std::string clip_reason(std::string reason)
{
  if (reason.size() <= kMaxCloseReason)
    return reason;
  reason.resize(kMaxCloseReason);
  /* Never cut a UTF-8 sequence in half. */
  while (!reason.empty() && !g_utf8_validate(reason.data(), reason.size(), nullptr))
    reason.pop_back();
  return reason;
}

class SignalServer : public SignalRelay::Output
{
 public:
  SignalServer(const SignalRelayLimits &limits, std::vector<BrowserIceServer> ice_servers)
      : server_(soup_server_new("server-header", "livecast-signal", nullptr)), relay_(*this, limits)
  {
    relay_.set_ice_servers(std::move(ice_servers));
    /* No permessage-deflate: libsoup checks the payload limit on the
     * compressed frame, so a small frame could inflate to any size.
     * Signaling messages are small anyway. */
    soup_server_remove_websocket_extension(server_, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
    /* No plain HTTP handler: on "/" libsoup would call it instead of the
     * WebSocket handler. A plain GET gets libsoup's 400 "WebSocket
     * handshake expected". */
    soup_server_add_websocket_handler(server_, "/ws", nullptr, nullptr, on_websocket, this,
                                      nullptr);
    soup_server_add_websocket_handler(server_, "/", nullptr, nullptr, on_websocket, this, nullptr);
  }

  ~SignalServer() override
  {
    if (idle_source_)
      g_source_remove(idle_source_);
    connections_.clear();
    soup_server_disconnect(server_);
    g_object_unref(server_);
  }

  SignalServer(const SignalServer &) = delete;
  SignalServer &operator=(const SignalServer &) = delete;

  /* Returns the bound port, or 0 with @error set. */
  guint listen(const std::string &address, guint port, std::string &error)
  {
    GInetAddress *inet = g_inet_address_new_from_string(address.c_str());
    if (!inet) {
      error = "\"" + address + "\" is not an IP address.";
      return 0;
    }
    GSocketAddress *sockaddr = g_inet_socket_address_new(inet, static_cast<guint16>(port));
    g_object_unref(inet);
    GErrorHolder err;
    const bool ok =
        soup_server_listen(server_, sockaddr, static_cast<SoupServerListenOptions>(0), err.out());
    g_object_unref(sockaddr);
    if (!ok) {
      error =
          "cannot listen on " + address + ":" + std::to_string(port) + ": " + err.message() + ".";
      return 0;
    }
    guint bound = 0;
    GSList *listeners = soup_server_get_listeners(server_);
    for (GSList *l = listeners; l && !bound; l = l->next) {
      GSocketAddress *local = g_socket_get_local_address(G_SOCKET(l->data), nullptr);
      if (local) {
        bound = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
        g_object_unref(local);
      }
    }
    g_slist_free(listeners);
    if (!bound)
      error = "cannot find the port the server listens on.";
    return bound;
  }

  /* Says goodbye to every client and waits, bounded, for the closes. */
  void shutdown()
  {
    for (auto &entry : connections_)
      close(entry.first, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "The signaling server is stopping.");
    const gint64 deadline = g_get_monotonic_time() + kShutdownWaitUs;
    while (open_connections() > 0 && g_get_monotonic_time() < deadline) {
      if (!g_main_context_iteration(nullptr, FALSE))
        g_usleep(10000);
    }
  }

  /* SignalRelay::Output */
  void send(SignalRelay::ClientHandle client, const std::string &text) override
  {
    SoupWebsocketConnection *ws = connection(client);
    if (ws && soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text(ws, text.c_str());
  }

  void close(SignalRelay::ClientHandle client, int code, const std::string &reason) override
  {
    SoupWebsocketConnection *ws = connection(client);
    if (ws && soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(ws, static_cast<gushort>(code), clip_reason(reason).c_str());
  }

 private:
  struct Connection {
    SignalServer *server = nullptr;
    SignalRelay::ClientHandle handle = 0;
    SoupWebsocketConnection *ws = nullptr;

    ~Connection()
    {
      if (ws) {
        g_signal_handlers_disconnect_by_data(ws, this);
        if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
          soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
        g_object_unref(ws);
      }
    }
  };

  SoupWebsocketConnection *connection(SignalRelay::ClientHandle client) const
  {
    auto it = connections_.find(client);
    return it == connections_.end() ? nullptr : it->second->ws;
  }

  std::size_t open_connections() const
  {
    std::size_t n = 0;
    for (const auto &entry : connections_) {
      if (soup_websocket_connection_get_state(entry.second->ws) != SOUP_WEBSOCKET_STATE_CLOSED)
        n++;
    }
    return n;
  }

  static void on_websocket(SoupServer *, SoupServerMessage *, const char *path,
                           SoupWebsocketConnection *ws, gpointer user_data)
  {
    auto *self = static_cast<SignalServer *>(user_data);
    try {
      self->accept(ws, path);
    } catch (const std::exception &e) {
      g_printerr("livecast signal: internal error accepting a connection: %s\n", e.what());
    }
  }

  void accept(SoupWebsocketConnection *ws, const char *path)
  {
    auto conn = std::make_unique<Connection>();
    conn->server = this;
    conn->handle = ++last_handle_;
    conn->ws = static_cast<SoupWebsocketConnection *>(g_object_ref(ws));
    soup_websocket_connection_set_max_incoming_payload_size(ws, kMaxIncomingPayload);
    soup_websocket_connection_set_keepalive_interval(ws, kKeepaliveSeconds);
    g_signal_connect(ws, "message", G_CALLBACK(on_message), conn.get());
    g_signal_connect(ws, "closed", G_CALLBACK(on_closed), conn.get());
    const SignalRelay::ClientHandle handle = conn->handle;
    connections_[handle] = std::move(conn);

    /* "/" is served for clients that cannot choose a path; any other path
     * (the "/" handler matches every path) is refused. */
    if (g_strcmp0(path, "/") != 0 && g_strcmp0(path, "/ws") != 0) {
      close(handle, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
            "Unknown path; the signaling WebSocket is at /ws.");
      return;
    }
    std::string reason;
    if (!relay_.connect(handle, reason))
      close(handle, kCloseServerFull, reason);
  }

  static void on_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer user_data)
  {
    auto *conn = static_cast<Connection *>(user_data);
    try {
      const gint64 now = g_get_monotonic_time();
      if (type != SOUP_WEBSOCKET_DATA_TEXT) {
        conn->server->relay_.receive_binary(conn->handle, now);
        return;
      }
      gsize size = 0;
      const char *data = static_cast<const char *>(g_bytes_get_data(message, &size));
      conn->server->relay_.receive(conn->handle, std::string(data ? data : "", size), now);
    } catch (const std::exception &e) {
      g_printerr("livecast signal: internal error handling a message: %s\n", e.what());
    }
  }

  static void on_closed(SoupWebsocketConnection *, gpointer user_data)
  {
    /* Not here: "closed" can be emitted from inside a send the relay is
     * making while it walks a room. The relay forgets the client from an
     * idle callback instead. */
    auto *conn = static_cast<Connection *>(user_data);
    SignalServer *self = conn->server;
    self->closed_.push_back(conn->handle);
    if (!self->idle_source_)
      self->idle_source_ = g_idle_add(on_idle_forget_closed, self);
  }

  static gboolean on_idle_forget_closed(gpointer user_data)
  {
    auto *self = static_cast<SignalServer *>(user_data);
    self->idle_source_ = 0;
    std::vector<SignalRelay::ClientHandle> closed;
    closed.swap(self->closed_);
    try {
      for (SignalRelay::ClientHandle handle : closed) {
        self->relay_.disconnect(handle);
        self->connections_.erase(handle);
      }
    } catch (const std::exception &e) {
      g_printerr("livecast signal: internal error closing a connection: %s\n", e.what());
    }
    return G_SOURCE_REMOVE;
  }

  SoupServer *server_;
  SignalRelay relay_;
  std::map<SignalRelay::ClientHandle, std::unique_ptr<Connection>> connections_;
  std::vector<SignalRelay::ClientHandle> closed_;
  guint idle_source_ = 0;
  SignalRelay::ClientHandle last_handle_ = 0;
};

gboolean on_stop_signal(gpointer user_data)
{
  g_main_loop_quit(static_cast<GMainLoop *>(user_data));
  return G_SOURCE_CONTINUE;
}

std::string help_description()
{
  return "A WebSocket relay for WebRTC signaling, with rooms. A client's first message is\n"
         "{\"type\":\"join\",\"room\":\"NAME\"}; it gets "
         "{\"type\":\"welcome\",\"id\":…,\"peers\":[…]},\n"
         "and every later message (offer, answer, candidate, bye, error) goes to the other\n"
         "members of the room with \"from\" set, or only to the member named by \"to\".\n"
         "Members leaving are announced as {\"type\":\"leave\",\"from\":…}.\n"
         "\n"
         "Examples:\n"
         "  livecast signal                          ws://127.0.0.1:8081/ws\n"
         "  livecast signal --port 0                 any free port (printed)\n"
         "  livecast signal --bind 0.0.0.0 --port 443\n"
         "  livecast signal --turn turn://USER:PASS@turn.example.org:3478\n"
         "                                           the TURN server goes to clients in welcome\n"
         "\n"
         "Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 cannot listen, 2 wrong usage.";
}

/* Parses a whole number option in [min, max]; false with @error set. */
bool parse_number(const char *name, const gchar *text, guint64 min, guint64 max, guint64 &out,
                  std::string &error)
{
  if (!text)
    return true;
  auto value = parse_unsigned(text, min, max);
  if (!value) {
    error = std::string("--") + name + " must be a whole number from " + std::to_string(min) +
            " to " + std::to_string(max) + ", not \"" + text + "\".";
    return false;
  }
  out = *value;
  return true;
}

}  // namespace

int run_signal_command(int argc, char **argv)
{
  struct Raw {
    gchar *port = nullptr, *bind = nullptr, *members = nullptr, *rooms = nullptr, *rate = nullptr;
    gchar **stun = nullptr, **turn = nullptr;
    ~Raw()
    {
      for (gchar *s : {port, bind, members, rooms, rate})
        g_free(s);
      g_strfreev(stun);
      g_strfreev(turn);
    }
  } raw;
  const GOptionEntry entries[] = {
      {"port", 0, 0, G_OPTION_ARG_STRING, &raw.port, "TCP port (default 8081; 0 picks a free one)",
       "N"},
      {"bind", 0, 0, G_OPTION_ARG_STRING, &raw.bind,
       "Address to listen on (default 127.0.0.1; 0.0.0.0 for every IPv4 interface)", "ADDR"},
      {"max-members", 0, 0, G_OPTION_ARG_STRING, &raw.members, "Members per room (default 16)",
       "N"},
      {"max-rooms", 0, 0, G_OPTION_ARG_STRING, &raw.rooms, "Rooms at once (default 256)", "N"},
      {"stun", 0, 0, G_OPTION_ARG_STRING_ARRAY, &raw.stun,
       "STUN server for the welcome's iceServers, e.g. stun://stun.example.org:3478 (repeatable)",
       "URL"},
      {"turn", 0, 0, G_OPTION_ARG_STRING_ARRAY, &raw.turn,
       "TURN server for the welcome's iceServers, turn://USER:PASS@HOST:PORT (repeatable)", "URL"},
      {"max-rate", 0, 0, G_OPTION_ARG_STRING, &raw.rate,
       "Messages per second per client (default 50, bursts of twice that)", "N"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  g_set_prgname("livecast signal");
  GOptionContextPtr context(g_option_context_new("- WebRTC signaling relay with rooms"));
  g_option_context_add_main_entries(context.get(), entries, nullptr);
  const std::string description = help_description();
  g_option_context_set_description(context.get(), description.c_str());
  GErrorHolder err;
  if (!g_option_context_parse(context.get(), &argc, &argv, err.out()))
    return usage_error(std::string(err.message()) + ".");
  if (argc > 1)
    return usage_error(std::string("unexpected argument \"") + argv[1] + "\"; see --help.");

  std::string error;
  guint64 port = kDefaultPort;
  SignalRelayLimits limits;
  guint64 members = limits.max_members, rooms = limits.max_rooms, rate = limits.messages_per_second;
  if (!parse_number("port", raw.port, 0, 65535, port, error) ||
      !parse_number("max-members", raw.members, 2, 1000, members, error) ||
      !parse_number("max-rooms", raw.rooms, 1, 100000, rooms, error) ||
      !parse_number("max-rate", raw.rate, 1, 10000, rate, error))
    return usage_error(error);
  limits.max_members = members;
  limits.max_rooms = rooms;
  limits.messages_per_second = static_cast<unsigned>(rate);
  limits.burst = 2 * static_cast<unsigned>(rate);
  const std::string bind = raw.bind ? raw.bind : "127.0.0.1";
  std::vector<BrowserIceServer> ice_servers;
  for (gchar **list : {raw.stun, raw.turn}) {
    for (gchar **url = list; url && *url; url++) {
      IceServer server;
      if (!check_ice_server_option(list == raw.turn ? "--turn" : "--stun", *url, server, error))
        return usage_error(error);
      ice_servers.push_back(server.browser());
    }
  }

  /* The status line below is read by scripts: never hold it in a buffer. */
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  GInetAddress *bind_address = g_inet_address_new_from_string(bind.c_str());
  if (!bind_address)
    return usage_error("--bind must be an IP address such as 127.0.0.1, 0.0.0.0 or ::1, not \"" +
                       bind + "\".");
  const bool v6 = g_inet_address_get_family(bind_address) == G_SOCKET_FAMILY_IPV6;
  g_object_unref(bind_address);

  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  /* Before the "listening" line: a script may signal as soon as it reads it. */
  const guint sigint = g_unix_signal_add(SIGINT, on_stop_signal, loop);
  const guint sigterm = g_unix_signal_add(SIGTERM, on_stop_signal, loop);
  int status = kExitOk;
  {
    SignalServer server(limits, std::move(ice_servers));
    const guint bound = server.listen(bind, static_cast<guint>(port), error);
    if (!bound) {
      std::fprintf(stderr, "livecast signal: %s\n", error.c_str());
      status = kExitFailure;
    } else {
      std::printf("livecast signal: listening on ws://%s%s%s:%u/ws\n", v6 ? "[" : "", bind.c_str(),
                  v6 ? "]" : "", bound);
      g_main_loop_run(loop);
      server.shutdown();
      std::printf("livecast signal: stopped\n");
    }
  }
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_main_loop_unref(loop);
  return status;
}

}  // namespace livecast
