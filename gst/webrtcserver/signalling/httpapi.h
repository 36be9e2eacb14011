/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP signaling API of webrtcserversink (WHEP, POST /offer, /config,
 * /stats, the viewer page), independent of the HTTP server library: requests
 * and responses are plain values, sessions are created through the
 * SessionBackend interface (ARCHITECTURE.md, Signalling). The libsoup glue
 * lives in network/httpserver.cpp, the media side in media/viewerset.cpp.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol/iceserver.h"
#include "protocol/tokenbucket.h"
#include "sdpoffer.h"
#include "network/httpmessage.h"
#include "session/session.h"

namespace livecast
{

struct HttpApiConfig {
  std::string token;                   /* empty: no authentication */
  unsigned max_offers_per_second = 10; /* per client address, WHEP, /offer and /ws; 0: none */
  std::string cors_origin = "*";
  std::size_t max_body_size = 64 * 1024;
  std::vector<IceServer> ice_servers;
  IceTransportPolicy ice_transport_policy = IceTransportPolicy::All;
  std::string web_root;  /* empty: the page compiled into the plugin */
  bool audio = false;    /* the stream has audio (told to the page) */
  bool talkback = false; /* viewers may send their microphone */
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

  /* GET /ws before the handshake: token (Authorization header or ?token=,
   * as browsers cannot set headers on a WebSocket) and Origin. Status 0
   * when the upgrade may go ahead, else the refusal to send. */
  HttpResponse check_websocket(const HttpRequest &request) const;
  /* The handler of an accepted /ws socket. */
  std::unique_ptr<WsConnection> accept_websocket(const HttpRequest &request, WsChannel channel);

 private:
  void handle_whep_post(const HttpRequest &request, HttpReply reply);
  void handle_offer_post(const HttpRequest &request, HttpReply reply);
  HttpResponse handle_whep_patch(const HttpRequest &request, const std::string &id);
  HttpResponse handle_whep_delete(const std::string &id);
  HttpResponse handle_static(const HttpRequest &request);
  bool authorized(const HttpRequest &request) const;
  /* Whether @origin is in the cors-origin list (or the list is "*"). */
  bool origin_listed(const std::string &origin) const;
  HttpResponse unauthorized_response(const HttpRequest &request) const;
  void add_cors_headers(const HttpRequest &request, HttpResponse &response) const;
  /* Validates token, content type and size of an offer; fills @error when refused. */
  bool check_offer_request(const HttpRequest &request, const std::vector<std::string> &types,
                           HttpResponse &error) const;

  /* Whether the stream runs (fills @sent); else @error: 400 for a
   * malformed @offer, 503 otherwise. */
  bool stream_started(SentVideo &sent, const ParsedOffer &offer, HttpResponse &error);
  /* The offer text @sdp parsed once and checked against what the stream
   * sends (@check, ok), else the refusal in @error (400, 406, 503). */
  bool checked_offer(const std::string &sdp, OfferCheck &check, HttpResponse &error);
  /* Admits a new session from @request's address (429 in @error if not). */
  bool admit_session(const HttpRequest &request, HttpResponse &error);
  /* max-offers-per-second for @address; when refused, @retry_after_s says
   * when to try again. */
  bool admit_address(const std::string &address, int &retry_after_s);

  SessionBackend &backend_;
  HttpApiConfig config_;
  /* New sessions per client address: max-offers-per-second, bursts of as many. */
  TokenBuckets offer_buckets_;
};

/* Constant-time comparison of two secrets. */
bool secrets_equal(const std::string &a, const std::string &b);

}  // namespace livecast
