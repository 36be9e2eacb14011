/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A WebSocket out to a signalling relay that comes back by itself: text in,
 * text out, and a reconnect with back-off (backoff.h) whenever the relay is
 * unreachable or closes. It knows nothing of what the text means; the
 * element pairs it with signalling/relayrouter.h (ARCHITECTURE.md, Network).
 * Lives on the server thread of the HttpServer it is given.
 */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

#include "backoff.h"
#include "httpserver.h"

typedef struct _SoupSession SoupSession;

namespace livecast
{

class RelayClient
{
 public:
  struct Callbacks {
    /* Connected: the place to send a first message. */
    std::function<void()> on_open;
    /* One text message from the relay. */
    std::function<void(const std::string &text)> on_text;
    /* The connection is gone (a reconnect is scheduled). */
    std::function<void()> on_closed;
    /* The state for logs and warnings: connected, or why not and when the
     * next attempt is. */
    std::function<void(bool connected, const std::string &detail)> on_status;
  };

  RelayClient(HttpServer &server, std::string url, Callbacks callbacks);
  /* On the server thread. Closes the socket ("going away"). */
  ~RelayClient();
  RelayClient(const RelayClient &) = delete;
  RelayClient &operator=(const RelayClient &) = delete;

  /* Connects now; call on the server thread. */
  void start();
  /* Sends @text if connected; dropped otherwise (the relay forgets a closed
   * socket's room anyway). */
  void send(const std::string &text);
  const std::string &url() const { return url_; }

 private:
  void connect();
  void schedule_reconnect(const std::string &why);
  void closed(gushort code);
  static void on_connected(GObject *source, GAsyncResult *result, gpointer user_data);

  HttpServer &server_;
  std::string url_;
  Callbacks callbacks_;
  SoupSession *session_ = nullptr;
  GCancellable *cancellable_ = nullptr;
  SoupWebsocketConnection *connection_ = nullptr;
  Backoff backoff_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace livecast
