/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HTTP requests, responses and WebSocket channels as plain values, so the
 * signalling front ends are written and unit-tested without a socket and the
 * libsoup server (httpserver.h) knows nothing of what they mean
 * (ARCHITECTURE.md, Network).
 */
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace livecast
{

struct HttpRequest {
  std::string method;
  std::string path; /* decoded, without the query string */
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers; /* names in lower case */
  std::string body;
  std::string remote_address; /* the client's IP address, "" if unknown */

  /* Header value ("" when absent); @name in lower case. */
  const std::string &header(const std::string &name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;

  void add_header(std::string name, std::string value)
  {
    headers.emplace_back(std::move(name), std::move(value));
  }
  /* First value of header @name (case-insensitive), "" if absent. */
  std::string header(const std::string &name) const;

  /* @status with @message as its plain-text body (one readable sentence). */
  static HttpResponse error(int status, std::string message);
};

using HttpReply = std::function<void(HttpResponse)>;

/* What a WebSocket's handler can do with its socket. */
struct WsChannel {
  std::function<void(const std::string &text)> send;
  std::function<void(int code, const std::string &reason)> close;
};

/* The handler of one WebSocket: gets its text messages, and is destroyed
 * (on the server thread) when the socket closes or the server stops. */
class WsConnection
{
 public:
  virtual ~WsConnection() = default;
  virtual void on_text(const std::string &text) = 0;
};

/* The media type of a Content-Type value, lower case, without parameters. */
std::string media_type(const std::string &content_type);

}  // namespace livecast
