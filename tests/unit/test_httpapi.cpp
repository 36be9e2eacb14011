/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP signaling API, request in, response out, without sockets: every
 * route, status and header, and the checks before a /ws upgrade. Media
 * sessions come from sessiontable.h; the same API over real sockets with
 * real peers is tested in tests/integration.
 */
#include <gst/gst.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "testutil.h"

#include "sessiontable.h"
#include "signalling/httpapi.h"

using namespace livecast;

namespace
{

HttpRequest request(const std::string &method, const std::string &path,
                    const std::string &type = "", const std::string &body = "",
                    std::map<std::string, std::string> headers = {})
{
  HttpRequest r;
  r.method = method;
  r.path = path;
  r.headers = std::move(headers);
  if (!type.empty())
    r.headers["content-type"] = type;
  r.body = body;
  return r;
}

HttpResponse call(HttpApi &api, const HttpRequest &req)
{
  HttpResponse out;
  bool replied = false;
  api.handle(req, [&](HttpResponse r) {
    out = std::move(r);
    replied = true;
  });
  g_assert_true(replied);
  return out;
}

/* Every error has a one-sentence body. */
void assert_error(const HttpResponse &r, int status, const char *contains = nullptr)
{
  if (r.status != status)
    g_error("expected %d, got %d: %s", status, r.status, r.body.c_str());
  g_assert_true(g_str_has_prefix(r.content_type.c_str(), "text/plain"));
  g_assert_cmpuint(r.body.size(), >, 10);
  g_assert_true(r.body.find(".\n") != std::string::npos);
  if (contains && r.body.find(contains) == std::string::npos)
    g_error("body \"%s\" lacks \"%s\"", r.body.c_str(), contains);
}

HttpApiConfig config_with_servers()
{
  HttpApiConfig config;
  IceServer stun, turn;
  std::string error;
  parse_ice_server("stun://127.0.0.1:3478", stun, error);
  parse_ice_server("turn://user:pass@127.0.0.1:3478?transport=udp", turn, error);
  config.ice_servers = {stun, turn};
  return config;
}

void test_whep_post_created()
{
  SessionTable table;
  HttpApi api(table, config_with_servers());
  HttpResponse r = call(api, request("POST", "/whep", "application/sdp", kChromiumOffer));
  g_assert_cmpint(r.status, ==, 201);
  ASSERT_STR_EQ(r.content_type, "application/sdp");
  g_assert_true(r.body.find("answer-for-pt:102") != std::string::npos);
  ASSERT_STR_EQ(r.header("Location"), "/whep/session1");
  ASSERT_STR_EQ(r.header("ETag"), "\"etag-session1\"");
  ASSERT_STR_EQ(r.header("Accept-Patch"), "application/trickle-ice-sdpfrag");
  int links = 0;
  for (const auto &h : r.headers) {
    if (h.first != "Link")
      continue;
    links++;
    if (h.second.find("turn:") != std::string::npos) {
      ASSERT_STR_EQ(h.second,
                    "<turn:127.0.0.1:3478?transport=udp>; rel=\"ice-server\"; "
                    "username=\"user\"; credential=\"pass\"; credential-type=\"password\"");
    } else {
      ASSERT_STR_EQ(h.second, "<stun:127.0.0.1:3478>; rel=\"ice-server\"");
    }
  }
  g_assert_cmpint(links, ==, 2);
  /* CORS: readable from any origin, WHEP headers exposed. */
  ASSERT_STR_EQ(r.header("Access-Control-Allow-Origin"), "*");
  const std::string exposed = r.header("Access-Control-Expose-Headers");
  for (const char *h : {"Location", "Link", "ETag"})
    g_assert_true(exposed.find(h) != std::string::npos);
}

void test_whep_post_errors()
{
  SessionTable table;
  HttpApiConfig config;
  config.max_body_size = 16 * 1024;
  HttpApi api(table, config);
  assert_error(call(api, request("POST", "/whep", "text/plain", kChromiumOffer)), 415,
               "application/sdp");
  assert_error(call(api, request("POST", "/whep", "", kChromiumOffer)), 415);
  assert_error(call(api, request("POST", "/whep", "application/sdp", "nonsense")), 400);
  assert_error(call(api, request("POST", "/whep", "application/sdp", "")), 400);
  assert_error(call(api, request("POST", "/whep", "application/sdp", std::string(20000, 'v'))),
               413);
  assert_error(call(api, request("POST", "/whep", "application/sdp", kVp8OnlyOffer)), 406, "H264");
  /* Found by fuzzing: an fmtp name that is not UTF-8 made GStreamer warn
   * while the offer's caps were read. */
  std::string not_utf8 = kChromiumOffer;
  not_utf8.replace(not_utf8.find("profile-level-id=42e01f"), 8, "profile\xff");
  assert_error(call(api, request("POST", "/whep", "application/sdp", not_utf8)), 400, "UTF-8");
  table.started = false;
  HttpResponse r = call(api, request("POST", "/whep", "application/sdp", kChromiumOffer));
  assert_error(r, 503);
  ASSERT_STR_EQ(r.header("Retry-After"), "1");
  table.started = true;
  table.refuse_status = 503;
  r = call(api, request("POST", "/whep", "application/sdp", kChromiumOffer));
  assert_error(r, 503);
  ASSERT_STR_EQ(r.header("Retry-After"), "10");
  /* Errors are readable cross-origin too. */
  ASSERT_STR_EQ(r.header("Access-Control-Allow-Origin"), "*");
  assert_error(call(api, request("GET", "/whep")), 405);
  ASSERT_STR_EQ(call(api, request("PUT", "/whep")).header("Allow"), "POST, OPTIONS");
}

void test_token()
{
  SessionTable table;
  HttpApiConfig config;
  config.token = "s3cret";
  HttpApi api(table, config);
  HttpResponse r = call(api, request("POST", "/whep", "application/sdp", kChromiumOffer));
  assert_error(r, 401, "token");
  ASSERT_STR_EQ(r.header("WWW-Authenticate"), "Bearer");
  assert_error(call(api, request("POST", "/whep", "application/sdp", kChromiumOffer,
                                 {{"authorization", "Bearer wrong"}})),
               401, "wrong");
  assert_error(call(api, request("POST", "/offer", "application/sdp", kChromiumOffer,
                                 {{"authorization", "Basic s3cret"}})),
               401);
  assert_error(call(api, request("GET", "/stats")), 401);
  assert_error(call(api, request("GET", "/config")), 401);
  assert_error(call(api, request("DELETE", "/whep/session1")), 401);
  r = call(api, request("POST", "/whep", "application/sdp", kChromiumOffer,
                        {{"authorization", "Bearer s3cret"}}));
  g_assert_cmpint(r.status, ==, 201);
  /* The page itself is not secret. */
  g_assert_cmpint(call(api, request("GET", "/")).status, ==, 200);
  /* Preflight never needs the token (browsers send none). */
  g_assert_cmpint(call(api, request("OPTIONS", "/whep")).status, ==, 204);
}

void test_patch_and_delete()
{
  SessionTable table;
  HttpApi api(table, HttpApiConfig());
  call(api, request("POST", "/whep", "application/sdp", kChromiumOffer));
  const std::string frag =
      "a=ice-ufrag:Kx3d\r\na=ice-pwd:5l6Fj1sPq7gWwqPuY7lqAW3z\r\na=mid:0\r\n"
      "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n";
  HttpResponse r = call(api, request("PATCH", "/whep/session1", "application/trickle-ice-sdpfrag",
                                     frag, {{"if-match", "\"etag-session1\""}}));
  g_assert_cmpint(r.status, ==, 204);
  g_assert_cmpuint(table.trickled.size(), ==, 1);
  g_assert_cmpuint(table.trickled[0].candidates.size(), ==, 1);
  assert_error(call(api, request("PATCH", "/whep/session1", "application/trickle-ice-sdpfrag", frag,
                                 {{"if-match", "\"other\""}})),
               412);
  assert_error(call(api, request("PATCH", "/whep/session1", "application/sdp", frag)), 415);
  assert_error(
      call(api, request("PATCH", "/whep/session1", "application/trickle-ice-sdpfrag", "garbage")),
      400);
  assert_error(call(api, request("PATCH", "/whep/session1", "application/trickle-ice-sdpfrag",
                                 "a=ice-ufrag:NEW1\r\na=ice-pwd:newpasswordnewpassword12\r\n")),
               422, "ICE restart");
  assert_error(call(api, request("PATCH", "/whep/nosuch", "application/trickle-ice-sdpfrag", frag)),
               404);
  assert_error(call(api, request("GET", "/whep/session1")), 405);
  g_assert_cmpint(call(api, request("DELETE", "/whep/session1")).status, ==, 200);
  assert_error(call(api, request("DELETE", "/whep/session1")), 404);
}

void test_offer_forms()
{
  SessionTable table;
  HttpApi api(table, HttpApiConfig());
  HttpResponse r = call(api, request("POST", "/offer", "application/sdp", kChromiumOffer));
  g_assert_cmpint(r.status, ==, 200);
  ASSERT_STR_EQ(r.content_type, "application/sdp");

  r = call(api, request("POST", "/offer", "application/json", offer_json()));
  g_assert_cmpint(r.status, ==, 200);
  ASSERT_STR_EQ(r.content_type, "application/json");
  JsonParser *parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.body.c_str(), -1, nullptr));
  JsonObject *obj = json_node_get_object(json_parser_get_root(parser));
  ASSERT_STR_EQ(json_object_get_string_member(obj, "type"), "answer");
  g_assert_true(g_str_has_prefix(json_object_get_string_member(obj, "sdp"), "v=0"));
  g_object_unref(parser);

  assert_error(call(api, request("POST", "/offer", "application/json", "{not json")), 400, "JSON");
  assert_error(call(api, request("POST", "/offer", "application/json", "[1,2]")), 400);
  assert_error(call(api, request("POST", "/offer", "application/json",
                                 "{\"type\":\"answer\",\"sdp\":\"v=0\"}")),
               400, "offer");
  assert_error(call(api, request("POST", "/offer", "application/json", "{\"type\":\"offer\"}")),
               400, "sdp");
  assert_error(call(api, request("POST", "/offer", "text/plain", "x")), 415);
}

void test_preflight()
{
  SessionTable table;
  HttpApi api(table, HttpApiConfig());
  HttpResponse r =
      call(api, request("OPTIONS", "/whep", "", "",
                        {{"origin", "null"}, {"access-control-request-method", "POST"}}));
  g_assert_cmpint(r.status, ==, 204);
  ASSERT_STR_EQ(r.header("Access-Control-Allow-Origin"), "*");
  g_assert_true(r.header("Access-Control-Allow-Methods").find("PATCH") != std::string::npos);
  g_assert_true(r.header("Access-Control-Allow-Headers").find("Authorization") !=
                std::string::npos);
  ASSERT_STR_EQ(r.header("Accept-Post"), "application/sdp");
  r = call(api, request("OPTIONS", "/whep/session9"));
  ASSERT_STR_EQ(r.header("Accept-Patch"), "application/trickle-ice-sdpfrag");
}

void test_cors_origin_list()
{
  SessionTable table;
  HttpApiConfig config;
  config.cors_origin = "https://a.example, https://b.example";
  HttpApi api(table, config);
  HttpResponse r = call(api, request("GET", "/config", "", "", {{"origin", "https://b.example"}}));
  ASSERT_STR_EQ(r.header("Access-Control-Allow-Origin"), "https://b.example");
  ASSERT_STR_EQ(r.header("Vary"), "Origin");
  r = call(api, request("GET", "/config", "", "", {{"origin", "https://evil.example"}}));
  ASSERT_STR_EQ(r.header("Access-Control-Allow-Origin"), "");
}

void test_config_and_stats()
{
  SessionTable table;
  HttpApiConfig config = config_with_servers();
  config.ice_transport_policy = IceTransportPolicy::Relay;
  HttpApi api(table, config);
  HttpResponse r = call(api, request("GET", "/config"));
  g_assert_cmpint(r.status, ==, 200);
  ASSERT_STR_EQ(r.content_type, "application/json");
  JsonParser *parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.body.c_str(), -1, nullptr));
  JsonObject *obj = json_node_get_object(json_parser_get_root(parser));
  JsonArray *servers = json_object_get_array_member(obj, "iceServers");
  g_assert_cmpuint(json_array_get_length(servers), ==, 2);
  JsonObject *turn = json_array_get_object_element(servers, 1);
  ASSERT_STR_EQ(json_object_get_string_member(turn, "username"), "user");
  ASSERT_STR_EQ(json_object_get_string_member(turn, "credential"), "pass");
  ASSERT_STR_EQ(json_array_get_string_element(json_object_get_array_member(turn, "urls"), 0),
                "turn:127.0.0.1:3478?transport=udp");
  ASSERT_STR_EQ(json_object_get_string_member(obj, "iceTransportPolicy"), "relay");
  g_object_unref(parser);

  call(api, request("POST", "/whep", "application/sdp", kChromiumOffer));
  r = call(api, request("GET", "/stats"));
  g_assert_cmpint(r.status, ==, 200);
  ASSERT_STR_EQ(r.body, "{\"viewers\":1}");
  assert_error(call(api, request("POST", "/stats")), 405);
}

void test_static_files()
{
  SessionTable table;
  HttpApi api(table, HttpApiConfig());
  HttpResponse r = call(api, request("GET", "/"));
  g_assert_cmpint(r.status, ==, 200);
  ASSERT_STR_EQ(r.content_type, "text/html; charset=utf-8");
  g_assert_true(r.body.find("<html") != std::string::npos ||
                r.body.find("<!doctype") != std::string::npos ||
                r.body.find("<!DOCTYPE") != std::string::npos);
  r = call(api, request("GET", "/livecast-client.js"));
  g_assert_cmpint(r.status, ==, 200);
  ASSERT_STR_EQ(r.content_type, "text/javascript; charset=utf-8");
  g_assert_cmpint(call(api, request("GET", "/embed.html")).status, ==, 200);
  assert_error(call(api, request("GET", "/../../etc/passwd")), 404);
  assert_error(call(api, request("GET", "/nope.html")), 404);
  assert_error(call(api, request("GET", "/.hidden")), 404);
  assert_error(call(api, request("DELETE", "/index.html")), 405);

  /* web-root serves a directory instead. */
  GError *err = nullptr;
  gchar *dir = g_dir_make_tmp("livecast-web-XXXXXX", &err);
  g_assert_no_error(err);
  gchar *file = g_build_filename(dir, "index.html", nullptr);
  g_file_set_contents(file, "<html>custom</html>", -1, nullptr);
  HttpApiConfig config;
  config.web_root = dir;
  HttpApi custom(table, config);
  r = call(custom, request("GET", "/"));
  g_assert_cmpint(r.status, ==, 200);
  ASSERT_STR_EQ(r.body, "<html>custom</html>");
  assert_error(call(custom, request("GET", "/livecast-client.js")), 404);
  g_unlink(file);
  g_rmdir(dir);
  g_free(file);
  g_free(dir);
}

}  // namespace

/* ---- GET /ws: token and origin before the upgrade ---- */

static void test_ws_check()
{
  SessionTable table;
  HttpApiConfig config;
  config.token = "s3cret";
  config.cors_origin = "https://app.example";
  HttpApi api(table, config);
  HttpRequest r = request("GET", "/ws", "", "", {{"host", "127.0.0.1:8080"}});
  g_assert_cmpint(api.check_websocket(r).status, ==, 401);
  r.query["token"] = "wrong";
  g_assert_cmpint(api.check_websocket(r).status, ==, 401);
  r.query["token"] = "s3cret";
  g_assert_cmpint(api.check_websocket(r).status, ==, 0);
  r.headers["origin"] = "https://evil.example";
  HttpResponse refused = api.check_websocket(r);
  g_assert_cmpint(refused.status, ==, 403);
  g_assert_true(refused.body.find("evil.example") != std::string::npos);
  r.headers["origin"] = "https://app.example";
  g_assert_cmpint(api.check_websocket(r).status, ==, 0);
  r.headers["origin"] = "http://127.0.0.1:8080"; /* the server's own page */
  g_assert_cmpint(api.check_websocket(r).status, ==, 0);
  r.query.clear();
  r.headers["authorization"] = "Bearer s3cret";
  g_assert_cmpint(api.check_websocket(r).status, ==, 0);
}

/* ---- limits: new sessions per client address ---- */

static void test_offer_rate_limit_http_and_ws()
{
  SessionTable table;
  HttpApiConfig config;
  config.max_offers_per_second = 2;
  HttpApi api(table, config);
  HttpRequest r = request("POST", "/whep", "application/sdp", kChromiumOffer);
  r.remote_address = "192.0.2.7";
  g_assert_cmpint(call(api, r).status, ==, 201);
  g_assert_cmpint(call(api, r).status, ==, 201);
  HttpResponse refused = call(api, r);
  g_assert_cmpint(refused.status, ==, 429);
  ASSERT_STR_EQ(refused.header("Retry-After"), "1");
  g_assert_true(refused.body.find("at most 2 a second") != std::string::npos);
  /* The plain /offer form shares the budget; another address does not. */
  HttpRequest plain = request("POST", "/offer", "application/sdp", kChromiumOffer);
  plain.remote_address = "192.0.2.7";
  g_assert_cmpint(call(api, plain).status, ==, 429);
  plain.remote_address = "192.0.2.8";
  g_assert_cmpint(call(api, plain).status, ==, 200);
  /* So does /ws, through its admit hook. */
  std::vector<std::string> sent;
  HttpRequest upgrade = request("GET", "/ws");
  upgrade.remote_address = "192.0.2.7";
  std::unique_ptr<WsConnection> ws =
      api.accept_websocket(upgrade, WsChannel{[&sent](const std::string &t) { sent.push_back(t); },
                                              [](int, const std::string &) {}});
  ws->on_text("{\"type\":\"join\"}");
  g_assert_true(sent.back().find("\"status\":429") != std::string::npos);

  /* 0: no limit (the per-address buckets are tests/unit/test_tokenbucket.cpp's). */
  HttpApiConfig unlimited_config;
  unlimited_config.max_offers_per_second = 0;
  HttpApi unlimited(table, unlimited_config);
  for (int i = 0; i < 1000; i++)
    g_assert_cmpint(call(unlimited, r).status, ==, 201);
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/httpapi/whep-post-created", test_whep_post_created);
  g_test_add_func("/httpapi/whep-post-errors", test_whep_post_errors);
  g_test_add_func("/httpapi/token", test_token);
  g_test_add_func("/httpapi/patch-and-delete", test_patch_and_delete);
  g_test_add_func("/httpapi/offer-forms", test_offer_forms);
  g_test_add_func("/httpapi/preflight", test_preflight);
  g_test_add_func("/httpapi/cors-origin-list", test_cors_origin_list);
  g_test_add_func("/httpapi/config-and-stats", test_config_and_stats);
  g_test_add_func("/httpapi/static-files", test_static_files);
  g_test_add_func("/httpapi/ws-check", test_ws_check);
  g_test_add_func("/limits/offer-rate-http-and-ws", test_offer_rate_limit_http_and_ws);
  return g_test_run();
}
