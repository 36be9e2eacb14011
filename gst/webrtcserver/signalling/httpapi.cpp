/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "httpapi.h"
#include "protocol/iceserver.h"
#include "protocol/json.h"
#include "wspeer.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstring>

namespace livecast
{

namespace
{

/* Addresses quiet this long are forgotten (their bucket is full again by then). */
constexpr gint64 kForgetAddressUs = 10 * G_USEC_PER_SEC;
const char kWebResourcePrefix[] = "/org/livecast/web/";

const char *content_type_for(const std::string &path)
{
  struct {
    const char *ext;
    const char *type;
  } const types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto &t : types) {
    if (g_str_has_suffix(path.c_str(), t.ext))
      return t.type;
  }
  return "application/octet-stream";
}

HttpResponse json_response(int status, std::string body)
{
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.add_header("Cache-Control", "no-store");
  return r;
}

/* Quoted-string for a Link header parameter. */
std::string quoted(const std::string &s)
{
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

bool secrets_equal(const std::string &a, const std::string &b)
{
  /* Time depends only on the length of @b (the secret we hold). */
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < b.size(); i++) {
    const unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= ca ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

HttpApi::HttpApi(SessionBackend &backend, HttpApiConfig config)
    : backend_(backend),
      config_(std::move(config)),
      offer_buckets_(config_.max_offers_per_second, config_.max_offers_per_second, kForgetAddressUs)
{
}

bool HttpApi::authorized(const HttpRequest &request) const
{
  if (config_.token.empty())
    return true;
  const std::string &auth = request.header("authorization");
  static const char prefix[] = "bearer ";
  if (auth.size() <= sizeof(prefix) - 1 ||
      g_ascii_strncasecmp(auth.c_str(), prefix, sizeof(prefix) - 1) != 0)
    return false;
  return secrets_equal(auth.substr(sizeof(prefix) - 1), config_.token);
}

HttpResponse HttpApi::unauthorized_response(const HttpRequest &request) const
{
  HttpResponse r = HttpResponse::error(
      401, request.header("authorization").empty()
               ? "This stream needs a token: send \"Authorization: Bearer <token>\"."
               : "The token is wrong; ask whoever runs the stream for the right one.");
  r.add_header("WWW-Authenticate", "Bearer");
  return r;
}

bool HttpApi::origin_listed(const std::string &origin) const
{
  if (config_.cors_origin == "*")
    return true;
  std::size_t pos = 0;
  const std::string &list = config_.cors_origin;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    std::string item =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!origin.empty() && item == origin)
      return true;
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return false;
}

bool HttpApi::stream_started(SentVideo &sent, const ParsedOffer &offer, HttpResponse &error)
{
  if (backend_.current_video(sent))
    return true;
  /* A malformed offer is refused as such even before the stream starts:
   * trying again later would not help it. */
  OfferCheck syntax = check_offer(offer, SentVideo{});
  if (!syntax.ok && syntax.status == 400) {
    error = HttpResponse::error(400, syntax.message);
    return false;
  }
  error = HttpResponse::error(503, "The stream has not started yet; try again shortly.");
  error.add_header("Retry-After", "1");
  return false;
}

bool HttpApi::admit_address(const std::string &address, int &retry_after_s)
{
  const gint64 now = g_get_monotonic_time();
  if (config_.max_offers_per_second == 0 || offer_buckets_.take(address, now))
    return true;
  const gint64 wait_us = offer_buckets_.wait_us(address, now);
  retry_after_s =
      static_cast<int>(std::max<gint64>(1, (wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
  backend_.session_rate_limited();
  return false;
}

bool HttpApi::admit_session(const HttpRequest &request, HttpResponse &error)
{
  int retry_after = 1;
  if (admit_address(request.remote_address, retry_after))
    return true;
  error = HttpResponse::error(429, "Too many new sessions from your address (at most " +
                                       std::to_string(config_.max_offers_per_second) +
                                       " a second); try again in a second.");
  error.add_header("Retry-After", std::to_string(retry_after));
  return false;
}

HttpResponse HttpApi::check_websocket(const HttpRequest &request) const
{
  if (!config_.token.empty()) {
    auto it = request.query.find("token");
    const bool by_query = it != request.query.end() && secrets_equal(it->second, config_.token);
    if (!by_query && !authorized(request)) {
      HttpResponse r = HttpResponse::error(
          401, request.header("authorization").empty() && it == request.query.end()
                   ? "This stream needs a token: connect to /ws?token=<token>."
                   : "The token is wrong; ask whoever runs the stream for the right one.");
      return r;
    }
  }
  /* Any page may open a WebSocket (CORS does not apply), so the Origin is
   * checked here against the same list; the server's own page always passes. */
  const std::string &origin = request.header("origin");
  if (!origin.empty() && !origin_listed(origin)) {
    const std::string &host = request.header("host");
    if (origin != "http://" + host && origin != "https://" + host)
      return HttpResponse::error(
          403, "Pages from " + origin + " may not use this stream (see cors-origin).");
  }
  return HttpResponse{0, {}, {}, {}};
}

namespace
{
class WsPeerConnection : public WsConnection
{
 public:
  WsPeerConnection(SessionBackend &backend, WsSignalingConfig config, WsChannel channel)
      : peer_(
            backend, std::move(config),
            [send = channel.send](const SignalMessage &message) { send(to_json(message)); },
            channel.close)
  {
    peer_.start();
  }
  void on_text(const std::string &text) override { peer_.on_message(text); }

 private:
  WsSignalingPeer peer_;
};
}  // namespace

std::unique_ptr<WsConnection> HttpApi::accept_websocket(const HttpRequest &request,
                                                        WsChannel channel)
{
  WsSignalingConfig config;
  const std::string address = request.remote_address;
  config.admit = [this, address](int &retry_after_s) {
    return admit_address(address, retry_after_s);
  };
  config.ice_servers = config_.ice_servers;
  config.ice_transport_policy = config_.ice_transport_policy;
  config.audio = config_.audio;
  config.talkback = config_.talkback;
  config.send_binary = channel.send_binary;
  return std::make_unique<WsPeerConnection>(backend_, std::move(config), std::move(channel));
}

void HttpApi::add_cors_headers(const HttpRequest &request, HttpResponse &response) const
{
  if (config_.cors_origin.empty())
    return;
  std::string allow;
  if (config_.cors_origin == "*") {
    allow = "*";
  } else {
    /* A comma-separated list: echo the request's origin when it is listed. */
    const std::string &origin = request.header("origin");
    if (origin_listed(origin))
      allow = origin;
    response.add_header("Vary", "Origin");
    if (allow.empty())
      return;
  }
  response.add_header("Access-Control-Allow-Origin", allow);
  response.add_header("Access-Control-Expose-Headers",
                      "Location, Link, ETag, Accept-Patch, Accept-Post, Retry-After");
}

std::string HttpApi::config_json() const
{
  JsonWriter w;
  w.begin_object();
  w.key("iceServers");
  write_ice_servers(w, config_.ice_servers);
  w.key("iceTransportPolicy").string(ice_transport_policy_name(config_.ice_transport_policy));
  w.key("auth").boolean(!config_.token.empty());
  w.key("whep").string("/whep");
  w.key("ws").string("/ws");
  w.key("audio").boolean(config_.audio);
  w.key("talkback").boolean(config_.talkback);
  w.end_object();
  return w.text();
}

bool HttpApi::check_offer_request(const HttpRequest &request, const std::vector<std::string> &types,
                                  HttpResponse &error) const
{
  if (!authorized(request)) {
    error = unauthorized_response(request);
    return false;
  }
  const std::string type = media_type(request.header("content-type"));
  if (std::find(types.begin(), types.end(), type) == types.end()) {
    std::string list;
    for (const auto &t : types)
      list += (list.empty() ? "" : " or ") + t;
    error = HttpResponse::error(415, "Content-Type must be " + list + ", not \"" +
                                         (type.empty() ? "(none)" : type) + "\".");
    error.add_header("Accept-Post", types.front());
    return false;
  }
  if (request.body.size() > config_.max_body_size) {
    error = HttpResponse::error(413, "The request body is larger than " +
                                         std::to_string(config_.max_body_size) + " bytes.");
    return false;
  }
  return true;
}

void HttpApi::handle(const HttpRequest &request, HttpReply reply)
{
  /* Every answer carries the CORS headers, so a page on another origin (or
   * file://) can read errors too. */
  auto finish = [this, request, reply](HttpResponse response) {
    add_cors_headers(request, response);
    reply(std::move(response));
  };

  const std::string &path = request.path;
  const std::string &method = request.method;

  if (method == "OPTIONS") {
    HttpResponse r;
    r.status = 204;
    r.add_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS");
    r.add_header("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    r.add_header("Access-Control-Max-Age", "600");
    if (path == "/whep" || path == "/offer")
      r.add_header("Accept-Post", "application/sdp");
    if (path.rfind("/whep/", 0) == 0)
      r.add_header("Accept-Patch", "application/trickle-ice-sdpfrag");
    finish(std::move(r));
    return;
  }

  auto method_not_allowed = [&](const char *allow) {
    HttpResponse r = HttpResponse::error(
        405, "Method " + method + " is not allowed on " + path + "; allowed: " + allow + ".");
    r.add_header("Allow", allow);
    finish(std::move(r));
  };
  auto unauthorized = [&]() { finish(unauthorized_response(request)); };

  if (path == "/whep") {
    if (method != "POST")
      return method_not_allowed("POST, OPTIONS");
    handle_whep_post(request, finish);
    return;
  }
  if (path.rfind("/whep/", 0) == 0) {
    const std::string id = path.substr(6);
    if (method != "PATCH" && method != "DELETE")
      return method_not_allowed("PATCH, DELETE, OPTIONS");
    if (!authorized(request))
      return unauthorized();
    finish(method == "PATCH" ? handle_whep_patch(request, id) : handle_whep_delete(id));
    return;
  }
  if (path == "/offer") {
    if (method != "POST")
      return method_not_allowed("POST, OPTIONS");
    handle_offer_post(request, finish);
    return;
  }
  if (path == "/config" || path == "/stats") {
    if (method != "GET" && method != "HEAD")
      return method_not_allowed("GET, HEAD");
    if (!authorized(request))
      return unauthorized();
    finish(json_response(200, path == "/config" ? config_json() : backend_.stats_json()));
    return;
  }
  if (method != "GET" && method != "HEAD")
    return method_not_allowed("GET, HEAD");
  finish(handle_static(request));
}

namespace
{
/* A session the backend refused, as the viewer hears it. */
HttpResponse session_refused(const SessionResult &result)
{
  HttpResponse r = HttpResponse::error(result.status, result.message);
  if (result.retry_after > 0)
    r.add_header("Retry-After", std::to_string(result.retry_after));
  return r;
}
}  // namespace

bool HttpApi::checked_offer(const std::string &sdp, OfferCheck &check, HttpResponse &error)
{
  SentVideo sent;
  const ParsedOffer offer = parse_offer(sdp);
  if (!stream_started(sent, offer, error))
    return false;
  check = check_offer(offer, sent);
  if (!check.ok)
    error = HttpResponse::error(check.status, check.message);
  return check.ok;
}

void HttpApi::handle_whep_post(const HttpRequest &request, HttpReply reply)
{
  HttpResponse error;
  if (!check_offer_request(request, {"application/sdp"}, error) || !admit_session(request, error))
    return reply(std::move(error));

  OfferCheck check;
  if (!checked_offer(request.body, check, error))
    return reply(std::move(error));

  std::vector<IceServer> servers = config_.ice_servers;
  backend_.create_session(check, {}, [reply, servers](SessionResult result) {
    if (!result.ok)
      return reply(session_refused(result));
    HttpResponse r;
    r.status = 201;
    r.content_type = "application/sdp";
    r.body = result.answer_sdp;
    r.add_header("Location", "/whep/" + result.id);
    r.add_header("ETag", "\"" + result.etag + "\"");
    r.add_header("Accept-Patch", "application/trickle-ice-sdpfrag");
    for (const auto &s : servers) {
      std::string link = "<" + s.browser_url() + ">; rel=\"ice-server\"";
      if (!s.username.empty())
        link += "; username=" + quoted(s.username) + "; credential=" + quoted(s.credential) +
                "; credential-type=\"password\"";
      r.add_header("Link", link);
    }
    reply(std::move(r));
  });
}

void HttpApi::handle_offer_post(const HttpRequest &request, HttpReply reply)
{
  HttpResponse error;
  if (!check_offer_request(request, {"application/sdp", "application/json"}, error) ||
      !admit_session(request, error))
    return reply(std::move(error));

  const bool json = media_type(request.header("content-type")) == "application/json";
  std::string sdp = request.body;
  if (json) {
    std::string bad_text;
    if (!check_json_text(request.body, bad_text))
      return reply(HttpResponse::error(400, "The body is not accepted: " + bad_text));
    JsonParser *parser = json_parser_new();
    GError *err = nullptr;
    bool parsed = json_parser_load_from_data(parser, request.body.data(),
                                             static_cast<gssize>(request.body.size()), &err);
    GErrorPtr err_owner(err);
    JsonNode *root = parsed ? json_parser_get_root(parser) : nullptr;
    std::string problem;
    if (!parsed) {
      problem = std::string("The body is not valid JSON: ") + (err ? err->message : "?") + ".";
    } else if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
      problem = "The JSON body must be an object {\"type\":\"offer\",\"sdp\":\"...\"}.";
    } else {
      JsonObject *obj = json_node_get_object(root);
      JsonNode *type = json_object_get_member(obj, "type");
      JsonNode *sdp_node = json_object_get_member(obj, "sdp");
      if (!type || json_node_get_value_type(type) != G_TYPE_STRING ||
          g_strcmp0(json_node_get_string(type), "offer") != 0)
        problem = "The JSON body needs \"type\": \"offer\".";
      else if (!sdp_node || json_node_get_value_type(sdp_node) != G_TYPE_STRING)
        problem = "The JSON body needs \"sdp\" as a string.";
      else
        sdp = json_node_get_string(sdp_node);
    }
    g_object_unref(parser);
    if (!problem.empty())
      return reply(HttpResponse::error(400, problem));
  }

  OfferCheck check;
  if (!checked_offer(sdp, check, error))
    return reply(std::move(error));

  backend_.create_session(check, {}, [reply, json](SessionResult result) {
    if (!result.ok)
      return reply(session_refused(result));
    HttpResponse r;
    r.status = 200;
    r.add_header("Location", "/whep/" + result.id);
    if (!json) {
      r.content_type = "application/sdp";
      r.body = result.answer_sdp;
      return reply(std::move(r));
    }
    JsonWriter w;
    w.begin_object();
    w.key("type").string("answer").key("sdp").string(result.answer_sdp);
    w.key("id").string(result.id).end_object();
    r.content_type = "application/json";
    r.body = w.text();
    reply(std::move(r));
  });
}

HttpResponse HttpApi::handle_whep_patch(const HttpRequest &request, const std::string &id)
{
  const std::string etag = backend_.session_etag(id);
  if (etag.empty())
    return HttpResponse::error(404, "There is no viewer session \"" + id + "\".");
  const std::string type = media_type(request.header("content-type"));
  if (type != "application/trickle-ice-sdpfrag") {
    HttpResponse r =
        HttpResponse::error(415, "Content-Type must be application/trickle-ice-sdpfrag, not \"" +
                                     (type.empty() ? "(none)" : type) + "\".");
    r.add_header("Accept-Patch", "application/trickle-ice-sdpfrag");
    return r;
  }
  if (request.body.size() > config_.max_body_size)
    return HttpResponse::error(413, "The request body is larger than " +
                                        std::to_string(config_.max_body_size) + " bytes.");
  const std::string &if_match = request.header("if-match");
  if (!if_match.empty() && if_match != "*" && if_match != "\"" + etag + "\"")
    return HttpResponse::error(412, "If-Match does not match this session's ETag.");
  SdpFragment frag = parse_sdp_fragment(request.body);
  if (!frag.ok)
    return HttpResponse::error(400, frag.error);
  std::string message;
  const int status = backend_.add_remote_candidates(id, frag, message);
  if (status != 0)
    return HttpResponse::error(status, message);
  HttpResponse r;
  r.status = 204;
  r.add_header("ETag", "\"" + etag + "\"");
  return r;
}

HttpResponse HttpApi::handle_whep_delete(const std::string &id)
{
  if (!backend_.end_session(id))
    return HttpResponse::error(404, "There is no viewer session \"" + id + "\".");
  HttpResponse r = HttpResponse::error(200, "Viewer session ended.");
  return r;
}

HttpResponse HttpApi::handle_static(const HttpRequest &request)
{
  std::string path = request.path;
  if (path.empty() || path == "/")
    path = "/index.html";
  /* Only plain file names below the web root: no traversal, no hidden files. */
  const std::string name = path.substr(1);
  const bool safe = !name.empty() && name.find("..") == std::string::npos &&
                    name.find('\\') == std::string::npos && name[0] != '.' &&
                    name.find("/.") == std::string::npos;
  if (!safe)
    return HttpResponse::error(404, "There is nothing at " + request.path + ".");

  HttpResponse r;
  if (!config_.web_root.empty()) {
    GCharPtr file(g_build_filename(config_.web_root.c_str(), name.c_str(), nullptr));
    gchar *contents = nullptr;
    gsize length = 0;
    if (!g_file_test(file.get(), G_FILE_TEST_IS_REGULAR) ||
        !g_file_get_contents(file.get(), &contents, &length, nullptr))
      return HttpResponse::error(404, "There is nothing at " + request.path + ".");
    r.body.assign(contents, length);
    g_free(contents);
  } else {
    const std::string resource = kWebResourcePrefix + name;
    GBytes *bytes =
        g_resources_lookup_data(resource.c_str(), G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
    if (!bytes)
      return HttpResponse::error(404, "There is nothing at " + request.path + ".");
    gsize length = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(bytes, &length));
    r.body.assign(data ? data : "", length);
    g_bytes_unref(bytes);
  }
  r.status = 200;
  r.content_type = content_type_for(name);
  r.add_header("Cache-Control", "no-cache");
  r.add_header("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace livecast
