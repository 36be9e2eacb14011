/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP signaling API, request in, response out, without sockets: every
 * route, status and header. Media sessions come from a small in-memory
 * session table here; the same API over real sockets with real peers is
 * tested in tests/integration.
 */
#include <gst/gst.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <functional>
#include <map>
#include <memory>
#include <vector>
#include <string>

#include "testutil.h"

#include "httpapi.h"
#include "signalingclient.h"
#include "wssignaling.h"
#include "offers.h"

using namespace livecast;

namespace
{

/* Sessions kept in a map; answers are the offer's own text with a=sendonly,
 * enough for the HTTP layer, which never reads the answer. */
class SessionTable : public SessionBackend
{
 public:
  bool started = true;
  VideoCodec codec = VideoCodec::H264;
  std::map<std::string, std::string> etags;
  std::vector<SdpFragment> trickled;
  int next = 1;
  int refuse_status = 0;
  SessionEvents events;           /* of the last session created */
  bool deferred = false;          /* answers wait for run_pending() */
  std::vector<std::function<void()>> pending;
  std::vector<std::string> answers; /* applied with apply_answer */

  bool current_video(SentVideo &sent) override
  {
    sent.codec = codec;
    return started;
  }
  void create_session(const std::string &offer, const OfferCheck &checked, SessionEvents ev,
                      std::function<void(SessionResult)> done) override
  {
    events = ev;
    SessionResult r;
    if (refuse_status) {
      r.status = refuse_status;
      r.message = "Too many viewers.";
      r.retry_after = 10;
      return done(r);
    }
    r.ok = true;
    r.id = "session" + std::to_string(next++);
    r.etag = "etag-" + r.id;
    r.answer_sdp = "v=0\r\nanswer-for-pt:" + std::to_string(checked.video.payload_type) + "\r\n";
    etags[r.id] = r.etag;
    if (deferred)
      pending.push_back([done, r]() { done(r); });
    else
      done(r);
  }
  void create_offer_session(SessionEvents ev, std::function<void(SessionResult)> done) override
  {
    events = ev;
    SessionResult r;
    r.ok = true;
    r.id = "session" + std::to_string(next++);
    r.etag = "etag-" + r.id;
    r.answer_sdp = "v=0\r\nserver-offer\r\n";
    etags[r.id] = r.etag;
    done(r);
  }
  int apply_answer(const std::string &id, const std::string &sdp, std::string &message) override
  {
    if (!etags.count(id)) {
      message = "no session";
      return 404;
    }
    answers.push_back(sdp);
    return 0;
  }
  int add_remote_candidates(const std::string &id, const SdpFragment &frag,
                            std::string &message) override
  {
    if (!etags.count(id)) {
      message = "no session";
      return 404;
    }
    if (frag.ice_ufrag != "" && frag.ice_ufrag != "Kx3d") {
      message = "ICE restarts are not supported.";
      return 422;
    }
    trickled.push_back(frag);
    return 0;
  }
  std::string session_etag(const std::string &id) override
  {
    return etags.count(id) ? etags[id] : "";
  }
  bool end_session(const std::string &id) override { return etags.erase(id) > 0; }
  std::string stats_json() override { return "{\"viewers\":" + std::to_string(etags.size()) + "}"; }
};

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

  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "offer");
  json_builder_set_member_name(b, "sdp");
  json_builder_add_string_value(b, kChromiumOffer);
  json_builder_end_object(b);
  JsonGenerator *gen = json_generator_new();
  JsonNode *root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  gchar *body = json_generator_to_data(gen, nullptr);
  r = call(api, request("POST", "/offer", "application/json", body));
  g_free(body);
  json_node_unref(root);
  g_object_unref(gen);
  g_object_unref(b);
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

/* ---- GET /ws: the WebSocket protocol, messages in and out ---- */

struct WsHarness {
  SessionTable table;
  std::vector<std::string> sent;
  int closed_code = 0;
  gint64 now = 1000000;
  std::unique_ptr<WsSignalingPeer> peer;

  explicit WsHarness(WsSignalingConfig config = {})
  {
    peer = std::make_unique<WsSignalingPeer>(
        table, std::move(config), [this](const std::string &t) { sent.push_back(t); },
        [this](int code, const std::string &) { closed_code = code; }, [this] { return now; });
    peer->start();
  }
  /* Member @name of sent message @i as a string ("" if absent). */
  std::string member(std::size_t i, const char *name)
  {
    g_assert_cmpuint(i, <, sent.size());
    JsonNode *root = json_from_string(sent[i].c_str(), nullptr);
    g_assert_nonnull(root);
    JsonObject *o = json_node_get_object(root);
    std::string out;
    if (json_object_has_member(o, name)) {
      JsonNode *m = json_object_get_member(o, name);
      if (JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_STRING)
        out = json_node_get_string(m);
      else if (JSON_NODE_HOLDS_VALUE(m))
        out = std::to_string(json_node_get_int(m));
      else
        out = "<" + std::string(json_node_type_name(m)) + ">";
    }
    json_node_unref(root);
    return out;
  }
};

static std::string offer_json()
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "offer");
  json_builder_set_member_name(b, "sdp");
  json_builder_add_string_value(b, kChromiumOffer);
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  gchar *text = json_to_string(root, FALSE);
  std::string out = text;
  g_free(text);
  json_node_unref(root);
  g_object_unref(b);
  return out;
}

static void test_ws_welcome_offer_answer()
{
  WsSignalingConfig config;
  IceServer turn;
  std::string error;
  g_assert_true(parse_ice_server("turn://u:p@127.0.0.1:3478", turn, error));
  config.ice_servers.push_back(turn);
  config.talkback = true;
  WsHarness h(config);
  ASSERT_STR_EQ(h.member(0, "type"), "welcome");
  ASSERT_STR_EQ(h.member(0, "iceTransportPolicy"), "all");
  g_assert_true(h.sent[0].find("\"turn:127.0.0.1:3478") != std::string::npos);
  g_assert_true(h.sent[0].find("\"talkback\":true") != std::string::npos);

  h.peer->on_message(offer_json());
  g_assert_cmpuint(h.sent.size(), ==, 2);
  ASSERT_STR_EQ(h.member(1, "type"), "answer");
  ASSERT_STR_EQ(h.member(1, "sdp"), "v=0\r\nanswer-for-pt:102\r\n");
  ASSERT_STR_EQ(h.peer->session_id(), "session1");

  /* Our candidates go out as they come; the end as null. */
  LocalCandidate c;
  c.candidate = "candidate:1 1 UDP 2015363327 127.0.0.1 48826 typ host";
  c.mid = "0";
  c.mline = 0;
  h.table.events.on_candidate(c);
  ASSERT_STR_EQ(h.member(2, "type"), "candidate");
  g_assert_true(h.sent[2].find("\"sdpMid\":\"0\"") != std::string::npos);
  h.table.events.on_candidate(LocalCandidate{});
  ASSERT_STR_EQ(h.member(3, "candidate"), "<NULL>");

  /* Theirs reach the backend. */
  h.peer->on_message("{\"type\":\"candidate\",\"candidate\":{\"candidate\":"
                     "\"candidate:2 1 udp 1 127.0.0.1 9 typ host\",\"sdpMid\":\"0\","
                     "\"sdpMLineIndex\":0}}");
  g_assert_cmpuint(h.table.trickled.size(), ==, 1);
  ASSERT_STR_EQ(h.table.trickled[0].candidates[0].mid, "0");

  /* A second offer on the same socket: refused, the session stays. */
  h.peer->on_message(offer_json());
  ASSERT_STR_EQ(h.member(h.sent.size() - 1, "status"), "409");
  g_assert_cmpuint(h.table.etags.size(), ==, 1);

  /* bye ends it; so would closing the socket. */
  h.peer->on_message("{\"type\":\"bye\"}");
  g_assert_cmpuint(h.table.etags.size(), ==, 0);
}

static void test_ws_join_and_end()
{
  WsHarness h;
  h.peer->on_message("{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}");
  ASSERT_STR_EQ(h.member(1, "type"), "error");
  ASSERT_STR_EQ(h.member(1, "status"), "409");

  h.peer->on_message("{\"type\":\"join\",\"room\":\"any\"}");
  ASSERT_STR_EQ(h.member(2, "type"), "offer");
  ASSERT_STR_EQ(h.member(2, "sdp"), "v=0\r\nserver-offer\r\n");
  h.peer->on_message("{\"type\":\"answer\",\"sdp\":\"v=0\\r\\nmy-answer\\r\\n\"}");
  g_assert_cmpuint(h.table.answers.size(), ==, 1);
  ASSERT_STR_EQ(h.table.answers[0], "v=0\r\nmy-answer\r\n");
  /* Only one answer. */
  h.peer->on_message("{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}");
  ASSERT_STR_EQ(h.member(h.sent.size() - 1, "status"), "409");

  /* The server ends the session: the viewer is told, and may start again. */
  const std::size_t before = h.sent.size();
  h.table.events.on_ended("ICE failed");
  ASSERT_STR_EQ(h.member(before, "type"), "error");
  g_assert_true(h.member(before, "message").find("ICE failed") != std::string::npos);
  ASSERT_STR_EQ(h.member(before + 1, "type"), "bye");
  h.peer->on_message("{\"type\":\"join\"}");
  ASSERT_STR_EQ(h.member(h.sent.size() - 1, "type"), "offer");

  /* Destroying the peer (socket closed) ends its session. */
  g_assert_cmpuint(h.table.etags.size(), ==, 2);
  h.peer.reset();
  g_assert_cmpuint(h.table.etags.size(), ==, 1);
}

static void test_ws_bad_input_and_flood()
{
  WsHarness h;
  const char *bad[] = {"hello", "[]", "{}", "{\"type\":\"offer\",\"sdp\":5}",
                       "{\"type\":\"welcome\"}", "{\"type\":\"offer\",\"sdp\":\"v=0\"}"};
  for (const char *text : bad) {
    const std::size_t before = h.sent.size();
    h.peer->on_message(text);
    g_assert_cmpuint(h.sent.size(), ==, before + 1);
    ASSERT_STR_EQ(h.member(before, "type"), "error");
    g_assert_cmpuint(h.member(before, "message").size(), >, 10);
  }
  /* The stream not started yet: 503. */
  h.table.started = false;
  h.peer->on_message(offer_json());
  ASSERT_STR_EQ(h.member(h.sent.size() - 1, "status"), "503");
  h.table.started = true;

  /* A flood: 50 messages a second are read, then one 429 for the rest of
   * that second; three seconds of it close the socket (1008). */
  h.now += 2 * G_USEC_PER_SEC;
  const std::size_t before = h.sent.size();
  for (int i = 0; i < 200; i++)
    h.peer->on_message("{}");
  g_assert_cmpuint(h.sent.size(), ==, before + kWsMaxMessagesPerSecond + 1);
  ASSERT_STR_EQ(h.member(h.sent.size() - 1, "status"), "429");
  g_assert_cmpint(h.closed_code, ==, 0);
  for (int second = 1; second <= 3 && !h.closed_code; second++) {
    h.now += G_USEC_PER_SEC;
    for (int i = 0; i < 200; i++)
      h.peer->on_message("{}");
  }
  g_assert_cmpint(h.closed_code, ==, 1008);
}

/* Found by fuzzing: a viewer that says bye while its answer is being made,
 * then offers again, got two sessions and the first streamed to nobody. */
static void test_ws_bye_while_creating()
{
  WsHarness h;
  h.table.deferred = true;
  h.peer->on_message(offer_json());
  h.peer->on_message("{\"type\":\"bye\"}");
  h.peer->on_message(offer_json());
  std::vector<std::function<void()>> pending;
  pending.swap(h.table.pending);
  for (auto &f : pending)
    f();
  /* Only the second offer's session is left, and it is the viewer's. */
  g_assert_cmpuint(h.table.etags.size(), ==, 1);
  ASSERT_STR_EQ(h.peer->session_id(), "session2");
  g_assert_true(h.table.etags.count("session2"));
  h.peer.reset();
  g_assert_cmpuint(h.table.etags.size(), ==, 0);
}

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

/* ---- client mode: a relay's room, one session per member ---- */

static std::string json_member(const std::string &text, const char *name)
{
  JsonNode *root = json_from_string(text.c_str(), nullptr);
  g_assert_nonnull(root);
  JsonObject *o = json_node_get_object(root);
  std::string out = json_object_has_member(o, name) && JSON_NODE_HOLDS_VALUE(
                                                           json_object_get_member(o, name))
                        ? json_object_get_string_member(o, name)
                        : "";
  json_node_unref(root);
  return out;
}

static void test_relay_router()
{
  SessionTable table;
  std::vector<std::string> sent;
  RelayRouter router(table, {}, "lab", [&sent](const std::string &t) { sent.push_back(t); });
  ASSERT_STR_EQ(json_member(router.join_message(), "type"), "join");
  ASSERT_STR_EQ(json_member(router.join_message(), "room"), "lab");

  /* Members already in the room get our offer, addressed to each. */
  router.on_message("{\"type\":\"welcome\",\"id\":\"me\",\"peers\":[\"a\",\"b\"]}");
  ASSERT_STR_EQ(router.own_id(), "me");
  g_assert_cmpuint(sent.size(), ==, 2);
  ASSERT_STR_EQ(json_member(sent[0], "type"), "offer");
  ASSERT_STR_EQ(json_member(sent[0], "to"), "a");
  ASSERT_STR_EQ(json_member(sent[1], "to"), "b");
  g_assert_cmpuint(table.etags.size(), ==, 2);

  /* A's answer reaches A's session only. */
  router.on_message("{\"type\":\"answer\",\"sdp\":\"v=0\\r\\nfrom-a\\r\\n\",\"from\":\"a\"}");
  g_assert_cmpuint(table.answers.size(), ==, 1);
  ASSERT_STR_EQ(table.answers[0], "v=0\r\nfrom-a\r\n");

  /* A newcomer gets an offer; one that offers gets an answer. */
  router.on_message("{\"type\":\"join\",\"from\":\"c\"}");
  ASSERT_STR_EQ(json_member(sent.back(), "to"), "c");
  ASSERT_STR_EQ(json_member(sent.back(), "type"), "offer");
  std::string offer = offer_json();
  offer.insert(1, "\"from\":\"d\",");
  router.on_message(offer);
  ASSERT_STR_EQ(json_member(sent.back(), "type"), "answer");
  ASSERT_STR_EQ(json_member(sent.back(), "to"), "d");
  g_assert_cmpuint(router.members(), ==, 4);

  /* Our own echo and the relay's own messages are not viewers. */
  const std::size_t before = sent.size();
  router.on_message("{\"type\":\"join\",\"from\":\"me\"}");
  router.on_message("{\"type\":\"bye\"}");
  router.on_message("not json");
  g_assert_cmpuint(sent.size(), ==, before);

  /* A member leaving ends its session; the relay going away ends all. */
  router.on_message("{\"type\":\"leave\",\"from\":\"a\"}");
  g_assert_cmpuint(router.members(), ==, 3);
  g_assert_cmpuint(table.etags.size(), ==, 3);
  router.clear();
  g_assert_cmpuint(table.etags.size(), ==, 0);

  ASSERT_STR_EQ(json_member(address_to("{\"type\":\"bye\"}", "x"), "to"), "x");
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
  std::unique_ptr<WsConnection> ws = api.accept_websocket(
      upgrade, WsChannel{[&sent](const std::string &t) { sent.push_back(t); },
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
  g_test_add_func("/ws/welcome-offer-answer", test_ws_welcome_offer_answer);
  g_test_add_func("/ws/join-and-end", test_ws_join_and_end);
  g_test_add_func("/ws/bad-input-and-flood", test_ws_bad_input_and_flood);
  g_test_add_func("/ws/bye-while-creating", test_ws_bye_while_creating);
  g_test_add_func("/ws/check", test_ws_check);
  g_test_add_func("/ws/relay-router", test_relay_router);
  g_test_add_func("/limits/offer-rate-http-and-ws", test_offer_rate_limit_http_and_ws);
  return g_test_run();
}
