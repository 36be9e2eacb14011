/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP signaling API of webrtcserversink (WHEP, POST /offer, /config,
 * /stats, the viewer page), independent of the HTTP server library: requests
 * and responses are plain values, sessions are created through the
 * SessionBackend interface. The libsoup glue lives in httpserver.cpp, the
 * media side in gstwebrtcserversink.cpp; this file is all protocol.
 */
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sdpoffer.h"

namespace livecast
{

struct HttpRequest {
  std::string method;
  std::string path; /* decoded, without the query string */
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers; /* names in lower case */
  std::string body;

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

  static HttpResponse error(int status, std::string message);
};

using HttpReply = std::function<void(HttpResponse)>;

struct IceServer {
  std::string url;    /* as configured: stun://host:port, turn://user:pass@host:port */
  std::string scheme; /* stun, turn, turns */
  std::string host;
  int port = 0;
  std::string username;
  std::string credential;
  std::string transport; /* "udp"/"tcp" from ?transport=, or "" */

  /* The URI form browsers use: "stun:host:port", "turn:host:port?transport=udp". */
  std::string browser_url() const;
};

/* Parses GStreamer's ICE server URL form; false (and @error set) when malformed. */
bool parse_ice_server(const std::string &url, IceServer &out, std::string &error);

enum class IceTransportPolicy { All, Relay };

/* What a created viewer session reports back. */
struct SessionResult {
  bool ok = false;
  int status = 0;      /* HTTP status when !ok */
  std::string message; /* one sentence when !ok */
  int retry_after = 0; /* seconds, for 503 */
  std::string id;
  std::string etag;
  std::string answer_sdp;
};

/* Implemented by the element: the media and session side. All calls happen
 * on the server thread; @done is called exactly once, on the server thread,
 * possibly later (the answer waits for ICE gathering). */
class SessionBackend
{
 public:
  virtual ~SessionBackend() = default;

  /* What the stream sends now; false when the stream has not started (no
   * caps yet), so offers cannot be checked. */
  virtual bool current_video(SentVideo &sent) = 0;
  virtual void create_session(const std::string &offer_sdp, const OfferCheck &offer,
                              std::function<void(SessionResult)> done) = 0;
  /* 0 on success, else an HTTP status (404 unknown session, 400, 422 ICE restart). */
  virtual int add_remote_candidates(const std::string &id, const SdpFragment &frag,
                                    std::string &message) = 0;
  /* The session's ETag, or "" if there is no such session. */
  virtual std::string session_etag(const std::string &id) = 0;
  /* false when there is no such session. */
  virtual bool end_session(const std::string &id) = 0;
  virtual std::string stats_json() = 0;
};

struct HttpApiConfig {
  std::string token; /* empty: no authentication */
  std::string cors_origin = "*";
  std::size_t max_body_size = 64 * 1024;
  std::vector<IceServer> ice_servers;
  IceTransportPolicy ice_transport_policy = IceTransportPolicy::All;
  std::string web_root; /* empty: the page compiled into the plugin */
};

class HttpApi
{
 public:
  HttpApi(SessionBackend &backend, HttpApiConfig config);

  /* Handles one request; @reply is called exactly once, maybe later. */
  void handle(const HttpRequest &request, HttpReply reply);

  const HttpApiConfig &config() const { return config_; }

  /* The JSON body of GET /config. */
  std::string config_json() const;

 private:
  void handle_whep_post(const HttpRequest &request, HttpReply reply);
  void handle_offer_post(const HttpRequest &request, HttpReply reply);
  HttpResponse handle_whep_patch(const HttpRequest &request, const std::string &id);
  HttpResponse handle_whep_delete(const std::string &id);
  HttpResponse handle_static(const HttpRequest &request);
  bool authorized(const HttpRequest &request) const;
  HttpResponse unauthorized_response(const HttpRequest &request) const;
  void add_cors_headers(const HttpRequest &request, HttpResponse &response) const;
  /* Validates token, content type and size of an offer; fills @error when refused. */
  bool check_offer_request(const HttpRequest &request, const std::vector<std::string> &types,
                           HttpResponse &error) const;

  SessionBackend &backend_;
  HttpApiConfig config_;
};

/* Constant-time comparison of two secrets. */
bool secrets_equal(const std::string &a, const std::string &b);

/* The media type of a Content-Type value, lower case, without parameters. */
std::string media_type(const std::string &content_type);

}  // namespace livecast
