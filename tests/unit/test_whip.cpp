/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * WHIP publishing's pieces without a media server: the Link header's ICE
 * servers, the offer as Janus takes it and the trickle fragment
 * (signalling/whippublisher.h), and WhipClient against a
 * libsoup server of the test's own on loopback: what is sent (method,
 * Content-Type, bearer token, If-Match, body) and what is read back
 * (OPTIONS and 201 Link headers, a relative Location made absolute, ETag, refusals with their
 * status and body, Retry-After, no answer at all); and WhipPublisher over
 * that server and an in-memory backend (sessiontable.h): where each offer's
 * ICE servers come from (OPTIONS, else the last 201) and that its session is
 * a publisher.
 */
#include <libsoup/soup.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "sessiontable.h"
#include "testutil.h"

#include "network/whipclient.h"
#include "signalling/whippublisher.h"

using namespace livecast;

namespace
{

void test_link_ice_servers()
{
  std::vector<IceServer> servers;
  std::vector<std::string> bad;
  parse_link_ice_servers(
      "<stun:stun.example.net:3479>; rel=\"ice-server\", "
      "<turn:turn.example.net?transport=udp>; rel=\"ice-server\"; username=\"u:1\"; "
      "credential=\"p@ss, word\"; credential-type=\"password\", "
      "</whip/resource/x>; rel=\"self\", <turn:nocreds.example.net>; rel=ice-server",
      servers, bad);
  g_assert_cmpuint(servers.size(), ==, 2);
  ASSERT_STR_EQ(servers[0].scheme, "stun");
  ASSERT_STR_EQ(servers[0].host, "stun.example.net");
  g_assert_cmpint(servers[0].port, ==, 3479);
  ASSERT_STR_EQ(servers[1].scheme, "turn");
  ASSERT_STR_EQ(servers[1].host, "turn.example.net");
  g_assert_cmpint(servers[1].port, ==, 3478);
  ASSERT_STR_EQ(servers[1].transport, "udp");
  /* Quoted commas and the userinfo's ":" and "@" survive. */
  ASSERT_STR_EQ(servers[1].username, "u:1");
  ASSERT_STR_EQ(servers[1].credential, "p@ss, word");
  ASSERT_STR_EQ(servers[1].url, "turn:turn.example.net?transport=udp");
  /* A TURN server without credentials cannot be used: said, not dropped silently. */
  g_assert_cmpuint(bad.size(), ==, 1);
  g_assert_true(bad[0].find("turn:nocreds.example.net") != std::string::npos);
}

void test_quote_body()
{
  ASSERT_STR_EQ(quote_body("Unauthorized"), "Unauthorized");
  ASSERT_STR_EQ(quote_body("  Endpoint in use \r\nmore"), "Endpoint in use");
  ASSERT_STR_EQ(quote_body("<!DOCTYPE html><html>…"), "");
  ASSERT_STR_EQ(quote_body(""), "");
  g_assert_cmpuint(quote_body(std::string(500, 'x')).size(), ==, 200);
}

const char *const kOffer =
    "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:UFRAG\r\n"
    "a=ice-pwd:PASSWORD\r\na=mid:video0\r\na=sendonly\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\n"
    "a=ice-ufrag:UFRAG\r\na=ice-pwd:PASSWORD\r\na=mid:audio1\r\na=sendonly\r\n";

void test_unbundle_only()
{
  const std::string out = unbundle_only(kOffer);
  g_assert_true(out.find("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n") != std::string::npos);
  g_assert_true(out.find("bundle-only") == std::string::npos);
  g_assert_true(out.find("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n") != std::string::npos);
  /* Everything else as it was, CRLF throughout. */
  g_assert_cmpuint(out.size(), ==, strlen(kOffer) - strlen("a=bundle-only\r\n"));
  for (std::size_t i = out.find('\n'); i != std::string::npos; i = out.find('\n', i + 1))
    g_assert_cmpint(out[i - 1], ==, '\r');
}

void test_trickle_fragment()
{
  ASSERT_STR_EQ(
      trickle_fragment(kOffer, {"candidate:1 1 UDP 2015363327 10.0.0.5 40000 typ host", ""}),
      "a=ice-ufrag:UFRAG\r\na=ice-pwd:PASSWORD\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\n"
      "a=mid:video0\r\na=candidate:1 1 UDP 2015363327 10.0.0.5 40000 typ host\r\n"
      "a=end-of-candidates\r\n");
}

/* ---- WhipClient against a server of the test's own ------------------------------------- */

struct Seen {
  std::string method, path, content_type, authorization, if_match, body;
};

struct Server {
  SoupServer *server = nullptr;
  GMainLoop *loop = nullptr;
  GThread *thread = nullptr;
  gint ready = FALSE;
  std::string base; /* http://127.0.0.1:PORT */
  std::vector<Seen> seen;
  /* What the endpoint answers next. */
  guint status = 201;
  std::string body = "v=0\r\nanswer";
  std::vector<std::pair<std::string, std::string>> headers;
  /* OPTIONS, when set: its own status and headers (an empty body). */
  guint options_status = 0;
  std::vector<std::pair<std::string, std::string>> options_headers;
};

void handle(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer data)
{
  auto *s = static_cast<Server *>(data);
  SoupMessageHeaders *in = soup_server_message_get_request_headers(msg);
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  auto header = [in](const char *name) {
    const char *v = soup_message_headers_get_one(in, name);
    return std::string(v ? v : "");
  };
  s->seen.push_back({soup_server_message_get_method(msg), path, header("Content-Type"),
                     header("Authorization"), header("If-Match"),
                     std::string(body->data ? body->data : "", body->length)});
  SoupMessageHeaders *out = soup_server_message_get_response_headers(msg);
  if (s->options_status && s->seen.back().method == "OPTIONS") {
    for (const auto &h : s->options_headers)
      soup_message_headers_append(out, h.first.c_str(), h.second.c_str());
    soup_server_message_set_status(msg, s->options_status, nullptr);
    return;
  }
  for (const auto &h : s->headers)
    soup_message_headers_append(out, h.first.c_str(), h.second.c_str());
  soup_server_message_set_status(msg, s->status, nullptr);
  soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, s->body.data(),
                                   s->body.size());
}

/* The server runs on a thread of its own: remove_sync() blocks the test's. */
void start(Server &s)
{
  s.ready = false;
  s.thread = g_thread_new(
      "whip-server",
      +[](gpointer data) -> gpointer {
        auto *srv = static_cast<Server *>(data);
        GMainContext *ctx = g_main_context_new();
        g_main_context_push_thread_default(ctx);
        srv->loop = g_main_loop_new(ctx, FALSE);
        srv->server = soup_server_new(nullptr, nullptr);
        soup_server_add_handler(srv->server, nullptr, handle, srv, nullptr);
        GError *err = nullptr;
        g_assert_true(soup_server_listen_local(srv->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &err));
        GSList *uris = soup_server_get_uris(srv->server);
        srv->base =
            "http://127.0.0.1:" + std::to_string(g_uri_get_port(static_cast<GUri *>(uris->data)));
        g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
        g_atomic_int_set(&srv->ready, TRUE);
        g_main_loop_run(srv->loop);
        g_object_unref(srv->server);
        g_main_loop_unref(srv->loop);
        g_main_context_pop_thread_default(ctx);
        g_main_context_unref(ctx);
        return nullptr;
      },
      &s);
  while (!g_atomic_int_get(&s.ready))
    g_usleep(1000);
}

void stop(Server &s)
{
  g_main_loop_quit(s.loop);
  g_thread_join(s.thread);
}

WhipReply wait_reply(const std::function<void(WhipClient::Done)> &call)
{
  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  WhipReply out;
  bool done = false;
  call([&](const WhipReply &r) {
    out = r;
    done = true;
    g_main_loop_quit(loop);
  });
  if (!done)
    g_main_loop_run(loop);
  g_main_loop_unref(loop);
  return out;
}

void test_client()
{
  Server s;
  start(s);
  WhipClient client(s.base + "/whip/endpoint/x", "secret");

  /* 201: a relative Location made absolute, ETag, Link. */
  s.headers = {{"Location", "../resource/abc"},
               {"ETag", "\"e1\""},
               {"Link", "<stun:10.0.0.1:3478>; rel=\"ice-server\""}};
  WhipReply r = wait_reply([&](WhipClient::Done d) { client.publish("v=0\r\noffer", d); });
  g_assert_true(r.ok);
  g_assert_cmpint(r.status, ==, 201);
  ASSERT_STR_EQ(r.resource, s.base + "/whip/resource/abc");
  ASSERT_STR_EQ(r.etag, "\"e1\"");
  ASSERT_STR_EQ(r.body, "v=0\r\nanswer");
  g_assert_cmpuint(r.links.size(), ==, 1);
  ASSERT_STR_EQ(r.links[0], "<stun:10.0.0.1:3478>; rel=\"ice-server\"");
  ASSERT_STR_EQ(s.seen.back().method, "POST");
  ASSERT_STR_EQ(s.seen.back().path, "/whip/endpoint/x");
  ASSERT_STR_EQ(s.seen.back().content_type, "application/sdp");
  ASSERT_STR_EQ(s.seen.back().authorization, "Bearer secret");
  ASSERT_STR_EQ(s.seen.back().body, "v=0\r\noffer");

  /* OPTIONS before an offer: the endpoint's Link headers, with the token. */
  s.status = 204;
  s.body.clear();
  s.headers = {{"Link",
                "<turn:10.0.0.2:3478?transport=udp>; rel=\"ice-server\"; "
                "username=\"u\"; credential=\"p\""}};
  r = wait_reply([&](WhipClient::Done d) { client.discover(d); });
  g_assert_true(r.ok);
  g_assert_cmpint(r.status, ==, 204);
  g_assert_cmpuint(r.links.size(), ==, 1);
  ASSERT_STR_EQ(s.seen.back().method, "OPTIONS");
  ASSERT_STR_EQ(s.seen.back().path, "/whip/endpoint/x");
  ASSERT_STR_EQ(s.seen.back().authorization, "Bearer secret");
  /* An endpoint that does not answer OPTIONS. */
  s.status = 405;
  s.headers.clear();
  r = wait_reply([&](WhipClient::Done d) { client.discover(d); });
  g_assert_false(r.ok);
  g_assert_cmpint(r.status, ==, 405);
  g_assert_cmpuint(r.links.size(), ==, 0);

  /* PATCH with If-Match; DELETE. */
  s.status = 204;
  s.body.clear();
  s.headers.clear();
  r = wait_reply([&](WhipClient::Done d) {
    client.trickle(s.base + "/whip/resource/abc", "\"e1\"", "a=end-of-candidates\r\n", d);
  });
  g_assert_true(r.ok);
  ASSERT_STR_EQ(s.seen.back().method, "PATCH");
  ASSERT_STR_EQ(s.seen.back().content_type, "application/trickle-ice-sdpfrag");
  ASSERT_STR_EQ(s.seen.back().if_match, "\"e1\"");
  s.status = 200;
  r = client.remove_sync(s.base + "/whip/resource/abc", 2);
  g_assert_true(r.ok);
  ASSERT_STR_EQ(s.seen.back().method, "DELETE");
  ASSERT_STR_EQ(s.seen.back().authorization, "Bearer secret");

  /* Refusals say what the endpoint answered. */
  s.status = 401;
  s.body = "Invalid token\n";
  r = wait_reply([&](WhipClient::Done d) { client.publish("v=0\r\n", d); });
  g_assert_false(r.ok);
  g_assert_cmpint(r.status, ==, 401);
  ASSERT_STR_EQ(r.error,
                "POST " + s.base + "/whip/endpoint/x answered 401 Unauthorized: \"Invalid token\"");
  s.status = 503;
  s.body = "busy";
  s.headers = {{"Retry-After", "7"}};
  r = wait_reply([&](WhipClient::Done d) { client.publish("v=0\r\n", d); });
  g_assert_cmpint(r.status, ==, 503);
  g_assert_cmpint(r.retry_after, ==, 7);
  /* 201 without a Location is no success. */
  s.status = 201;
  s.body = "v=0\r\n";
  s.headers.clear();
  r = wait_reply([&](WhipClient::Done d) { client.publish("v=0\r\n", d); });
  g_assert_false(r.ok);
  g_assert_true(r.error.find("without a Location") != std::string::npos);

  /* Nobody there. */
  const std::string gone = s.base;
  stop(s);
  WhipClient nobody(gone + "/whip/endpoint/x", "");
  r = wait_reply([&](WhipClient::Done d) { nobody.publish("v=0\r\n", d); });
  g_assert_false(r.ok);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(r.error.find("got no answer") != std::string::npos);
  /* Not an http URL. */
  WhipClient wrong("ws://host/whip", "");
  r = wait_reply([&](WhipClient::Done d) { wrong.publish("v=0\r\n", d); });
  g_assert_false(r.ok);
  g_assert_true(r.error.find("is not an http:// or https:// URL") != std::string::npos);
}

/* Runs the default main context until @done() or 5 s have passed. */
bool iterate_until(const std::function<bool()> &done)
{
  const gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (!done() && g_get_monotonic_time() < until)
    if (!g_main_context_iteration(nullptr, FALSE))
      g_usleep(1000);
  return done();
}

/* WhipPublisher learns the endpoint's ICE servers before each offer: from
 * OPTIONS when it names them, else from the last 201; each session gets them
 * in OfferOptions, and is a publisher. */
void test_publisher_ice_servers()
{
  Server s;
  start(s);
  s.options_status = 405; /* an endpoint that does not answer OPTIONS */
  s.headers = {{"Location", "/whip/resource/r1"},
               {"Link",
                "<turn:10.0.0.40:3478?transport=udp>; rel=\"ice-server\"; "
                "username=\"u\"; credential=\"p@ss\""}};
  std::vector<OfferOptions> offered;
  struct Recording : SessionTable {
    std::vector<OfferOptions> *offered;
    void create_offer_session(SessionEvents ev, const OfferOptions &options,
                              std::function<void(SessionResult)> done) override
    {
      offered->push_back(options);
      SessionTable::create_offer_session(std::move(ev), options, std::move(done));
    }
  } table;
  table.offered = &offered;
  WhipStatus status;
  std::vector<std::string> reports;
  auto timeout = [](guint ms, std::function<void()> fn) {
    auto *f = new std::function<void()>(std::move(fn));
    g_timeout_add_full(
        G_PRIORITY_DEFAULT, ms,
        +[](gpointer data) -> gboolean {
          (*static_cast<std::function<void()> *>(data))();
          return G_SOURCE_REMOVE;
        },
        f, +[](gpointer data) { delete static_cast<std::function<void()> *>(data); });
  };
  {
    WhipPublisher publisher(timeout, table, status, s.base + "/whip/endpoint/x", "secret",
                            [&](bool, const std::string &text) { reports.push_back(text); });
    publisher.start();
    /* First attempt: OPTIONS refused, nothing known yet. */
    g_assert_true(iterate_until([&] { return status.get().state == "publishing"; }));
    g_assert_cmpuint(offered.size(), ==, 1);
    g_assert_true(offered[0].publisher);
    g_assert_cmpuint(offered[0].ice_servers.size(), ==, 0);
    ASSERT_STR_EQ(s.seen[0].method, "OPTIONS");
    ASSERT_STR_EQ(s.seen[0].authorization, "Bearer secret");
    ASSERT_STR_EQ(s.seen[1].method, "POST");
    /* The 201 named a TURN server the offer was made without: said. */
    bool said = false;
    for (const std::string &r : reports)
      said =
          said || r.find("names ICE servers that the offer was made without") != std::string::npos;
    g_assert_true(said);

    /* The session ends: the next attempt takes the 201's TURN server. */
    table.events.on_ended("ICE failed");
    g_assert_true(iterate_until([&] { return offered.size() == 2; }));
    g_assert_cmpuint(offered[1].ice_servers.size(), ==, 1);
    ASSERT_STR_EQ(offered[1].ice_servers[0].gstreamer_url(),
                  "turn://u:p%40ss@10.0.0.40:3478?transport=udp");
    ASSERT_STR_EQ(status.get().ice_servers_from, "201");
    g_assert_true(iterate_until([&] { return status.get().state == "publishing"; }));

    /* An endpoint that answers OPTIONS: its servers win. */
    s.options_status = 204;
    s.options_headers = {{"Link", "<stun:10.0.0.41:3479>; rel=\"ice-server\""}};
    table.events.on_ended("ICE failed");
    g_assert_true(iterate_until([&] { return offered.size() == 3; }));
    g_assert_cmpuint(offered[2].ice_servers.size(), ==, 1);
    ASSERT_STR_EQ(offered[2].ice_servers[0].gstreamer_url(), "stun://10.0.0.41:3479");
    ASSERT_STR_EQ(status.get().ice_servers_from, "OPTIONS");
    g_assert_true(offered[2].publisher);
  }
  stop(s);
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/whip/link-ice-servers", test_link_ice_servers);
  g_test_add_func("/whip/quote-body", test_quote_body);
  g_test_add_func("/whip/unbundle-only", test_unbundle_only);
  g_test_add_func("/whip/trickle-fragment", test_trickle_fragment);
  g_test_add_func("/whip/client", test_client);
  g_test_add_func("/whip/publisher-ice-servers", test_publisher_ice_servers);
  return g_test_run();
}
