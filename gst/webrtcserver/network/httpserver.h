/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A libsoup 3 HTTP server running in its own thread with its own
 * GMainContext (as webrtcbin runs its own), so network I/O never touches a
 * streaming thread or the application's main loop. Requests are handed to a
 * handler as plain HttpRequest values; replies may come later (the message
 * is paused meanwhile).
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "httpmessage.h"

typedef struct _SoupServer SoupServer;
typedef struct _SoupWebsocketConnection SoupWebsocketConnection;

namespace livecast
{

class HttpServer
{
 public:
  using Handler = std::function<void(const HttpRequest &, HttpReply)>;
  /* Decides on an upgrade request before the handshake: a response with
   * status 0 lets it through, anything else is sent instead. */
  using WsCheck = std::function<HttpResponse(const HttpRequest &)>;
  using WsAccept =
      std::function<std::unique_ptr<WsConnection>(const HttpRequest &, WsChannel channel)>;

  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer &) = delete;
  HttpServer &operator=(const HttpServer &) = delete;

  /* Starts the server thread and listens on @address:@port (0: any free
   * port). Returns once listening, or false with @error set. Bodies larger
   * than @max_body_size are refused with 413 before they are read. */
  bool start(const std::string &address, int port, std::size_t max_body_size, Handler handler,
             std::string &error);
  /* Serves HTTPS and WSS with this certificate and key (PEM files), loaded
   * by start(). Set before start(); empty paths mean plain HTTP. */
  void set_tls(std::string certificate_file, std::string key_file);
  bool tls() const { return !tls_certificate_file_.empty(); }
  /* Serves WebSockets at @path (set before start()). Messages larger than
   * @max_message_size close the socket (1009); smaller ones go to the handler. */
  void set_websocket(std::string path, std::size_t max_message_size, WsCheck check,
                     WsAccept accept);
  /* Runs @fn on the server thread when it stops, before its context goes
   * (for objects living on that thread). Set before start(). */
  void on_shutdown(std::function<void()> fn) { shutdown_ = std::move(fn); }
  /* Stops listening, closes connections and joins the thread. Idempotent. */
  void stop();

  bool running() const { return running_; }
  int bound_port() const { return bound_port_; }

  /* Runs @fn on the server thread (at once if called from it). */
  void invoke(std::function<void()> fn);
  /* Calls @fn on the server thread every @interval_ms until stop(). */
  void add_periodic(guint interval_ms, std::function<void()> fn);
  /* Calls @fn once on the server thread after @delay_ms (not after stop()). */
  void add_timeout(guint delay_ms, std::function<void()> fn);
  bool in_server_thread() const;

 private:
  void thread_main(std::string address, int port);
  bool is_ws_path(const char *path) const { return path && ws_path_ == path; }

  /* Guards context_ and accepting_ against invoke() from other threads
   * (webrtcbin's) racing with stop(). */
  std::mutex context_lock_;
  bool accepting_ = false;
  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  SoupServer *server_ = nullptr;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<int> bound_port_{0};
  std::size_t max_body_size_ = 0;
  Handler handler_;
  std::string tls_certificate_file_, tls_key_file_;
  GTlsCertificate *tls_certificate_ = nullptr; /* loaded by start() */
  std::function<void()> shutdown_;
  std::string ws_path_;
  std::size_t ws_max_message_size_ = 0;
  WsCheck ws_check_;
  WsAccept ws_accept_;
  /* Open WebSockets and their handlers; server thread only. */
  std::map<SoupWebsocketConnection *, std::unique_ptr<WsConnection>> websockets_;

  friend struct WsGlue;

  /* start() waits on this for the thread to report listening or failure. */
  std::mutex start_lock_;
  std::condition_variable start_cond_;
  bool start_done_ = false;
  std::string start_error_;
};

}  // namespace livecast
