/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One viewer on /ws (signalling/wspeer.h), messages in and out, without a
 * socket: welcome, either side offering, trickle both ways, bye, bad input
 * and floods. Sessions come from sessiontable.h.
 */
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <memory>
#include <string>
#include <vector>

#include "testutil.h"

#include "protocol/signalmessage.h"
#include "sessiontable.h"
#include "signalling/wspeer.h"

using namespace livecast;

struct WsHarness {
  SessionTable table;
  std::vector<std::string> sent;
  int closed_code = 0;
  gint64 now = 1000000;
  std::unique_ptr<WsSignalingPeer> peer;

  explicit WsHarness(WsSignalingConfig config = {})
  {
    peer = std::make_unique<WsSignalingPeer>(
        table, std::move(config), [this](const SignalMessage &m) { sent.push_back(to_json(m)); },
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
  h.peer->on_message(
      "{\"type\":\"candidate\",\"candidate\":{\"candidate\":"
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
  const char *bad[] = {"hello",
                       "[]",
                       "{}",
                       "{\"type\":\"offer\",\"sdp\":5}",
                       "{\"type\":\"welcome\"}",
                       "{\"type\":\"offer\",\"sdp\":\"v=0\"}"};
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

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/ws/welcome-offer-answer", test_ws_welcome_offer_answer);
  g_test_add_func("/ws/join-and-end", test_ws_join_and_end);
  g_test_add_func("/ws/bad-input-and-flood", test_ws_bad_input_and_flood);
  g_test_add_func("/ws/bye-while-creating", test_ws_bye_while_creating);
  return g_test_run();
}
