/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Client mode's room (signalling/relayrouter.h) without a socket: one
 * session per member, messages addressed to each, leaving and the relay
 * going away ending sessions. Sessions come from sessiontable.h.
 */
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <string>
#include <vector>

#include "testutil.h"

#include "sessiontable.h"
#include "signalling/relayrouter.h"

using namespace livecast;

static std::string json_member(const std::string &text, const char *name)
{
  JsonNode *root = json_from_string(text.c_str(), nullptr);
  g_assert_nonnull(root);
  JsonObject *o = json_node_get_object(root);
  std::string out =
      json_object_has_member(o, name) && JSON_NODE_HOLDS_VALUE(json_object_get_member(o, name))
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
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/relayrouter/members", test_relay_router);
  return g_test_run();
}
