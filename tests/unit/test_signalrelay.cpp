/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rooms of `livecast signal` without sockets: join and welcome,
 * forwarding with "from", "to", leave announcements, errors that keep the
 * connection, the flood limit and the size limits. The same relay over real
 * WebSockets is tests/launcher/test_signal.py.
 */
#include <glib.h>

#include <deque>
#include <map>
#include <string>

#include "testutil.h"

#include "protocol/signalmessage.h"
#include "signalrelay.h"

using namespace livecast;

namespace
{

const char kSdp[] = "v=0\r\ns=-\r\n";

/* Records what the relay sends, per client. */
class Recorder : public SignalRelay::Output
{
 public:
  std::map<SignalRelay::ClientHandle, std::deque<std::string>> inbox;
  std::map<SignalRelay::ClientHandle, std::pair<int, std::string>> closed;

  void send(SignalRelay::ClientHandle client, const std::string &text) override
  {
    inbox[client].push_back(text);
  }
  void close(SignalRelay::ClientHandle client, int code, const std::string &reason) override
  {
    closed[client] = {code, reason};
  }

  std::size_t pending(SignalRelay::ClientHandle client) { return inbox[client].size(); }

  /* The oldest message to @client, parsed; fails the test if there is none. */
  SignalMessage next(SignalRelay::ClientHandle client)
  {
    auto &q = inbox[client];
    if (q.empty())
      g_error("client %" G_GUINT64_FORMAT " has no message", client);
    std::string text = q.front();
    q.pop_front();
    SignalMessage m;
    std::string error;
    if (!parse_signal_message(text, m, error))
      g_error("the relay sent unparsable %s: %s", text.c_str(), error.c_str());
    return m;
  }
  std::string next_text(SignalRelay::ClientHandle client)
  {
    auto &q = inbox[client];
    g_assert_false(q.empty());
    std::string text = q.front();
    q.pop_front();
    return text;
  }
  std::string next_error(SignalRelay::ClientHandle client)
  {
    SignalMessage m = next(client);
    g_assert_true(m.type == SignalMessage::Type::Error);
    return m.message;
  }
};

struct Fixture {
  Recorder out;
  SignalRelay relay;
  gint64 now = 1000 * G_USEC_PER_SEC;

  explicit Fixture(SignalRelayLimits limits = SignalRelayLimits()) : relay(out, limits) {}

  void connect(SignalRelay::ClientHandle c)
  {
    std::string reason;
    g_assert_true(relay.connect(c, reason));
  }
  void say(SignalRelay::ClientHandle c, const std::string &text) { relay.receive(c, text, now); }
  /* Connects @c, joins @room, returns its welcome. */
  SignalMessage join(SignalRelay::ClientHandle c, const std::string &room)
  {
    connect(c);
    say(c, to_json(SignalMessage::join(room)));
    SignalMessage w = out.next(c);
    g_assert_true(w.type == SignalMessage::Type::Welcome);
    return w;
  }
};

void test_join_and_welcome()
{
  Fixture f;
  SignalMessage wa = f.join(1, "lobby");
  g_assert_cmpuint(wa.id.size(), ==, 16);
  ASSERT_STR_EQ(wa.room, "lobby");
  g_assert_true(wa.peers.has_value());
  g_assert_cmpuint(wa.peers->size(), ==, 0);
  ASSERT_STR_EQ(f.relay.client_id(1), wa.id);

  SignalMessage wb = f.join(2, "lobby");
  g_assert_cmpuint(wb.peers->size(), ==, 1);
  ASSERT_STR_EQ(wb.peers->at(0), wa.id);
  g_assert_true(wa.id != wb.id);
  /* The first member hears of the second, exactly in this shape. */
  ASSERT_STR_EQ(f.out.next_text(1), "{\"type\":\"join\",\"from\":\"" + wb.id + "\"}");

  SignalMessage wc = f.join(3, "lobby");
  g_assert_cmpuint(wc.peers->size(), ==, 2);
  ASSERT_STR_EQ(wc.peers->at(0), wa.id); /* join order */
  ASSERT_STR_EQ(wc.peers->at(1), wb.id);
  f.out.next(1);
  f.out.next(2);

  /* Another room is another world. */
  SignalMessage wd = f.join(4, "other");
  g_assert_cmpuint(wd.peers->size(), ==, 0);
  g_assert_cmpuint(f.out.pending(1) + f.out.pending(2) + f.out.pending(3), ==, 0);
  g_assert_cmpuint(f.relay.room_count(), ==, 2);
}

void test_forwarding_with_from()
{
  Fixture f;
  SignalMessage wa = f.join(1, "r");
  SignalMessage wb = f.join(2, "r");
  SignalMessage wc = f.join(3, "r");
  f.out.inbox.clear();

  /* A forged "from" is replaced; unknown members travel along. */
  f.say(1, std::string("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\ns=-\\r\\n\",\"from\":\"forged\","
                       "\"session\":7}"));
  for (SignalRelay::ClientHandle c : {2, 3}) {
    ASSERT_STR_EQ(f.out.next_text(c),
                  "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\ns=-\\r\\n\","
                  "\"session\":7,\"from\":\"" +
                      wa.id + "\"}");
  }
  g_assert_cmpuint(f.out.pending(1), ==, 0); /* never echoed */

  /* Every forwarded type. */
  SignalCandidate c;
  c.candidate = "candidate:1 1 UDP 1 127.0.0.1 5000 typ host";
  c.sdp_mline_index = 0;
  for (const SignalMessage &m :
       {SignalMessage::answer(kSdp), SignalMessage::ice_candidate(c),
        SignalMessage::end_of_candidates(), SignalMessage::bye(), SignalMessage::error("No.")}) {
    f.say(2, to_json(m));
    for (SignalRelay::ClientHandle to : {1, 3}) {
      SignalMessage got = f.out.next(to);
      g_assert_true(got.type == m.type);
      ASSERT_STR_EQ(got.from, wb.id);
    }
  }
  g_assert_cmpuint(f.out.pending(2), ==, 0);
  (void)wc;
}

void test_to()
{
  Fixture f;
  SignalMessage wa = f.join(1, "r");
  SignalMessage wb = f.join(2, "r");
  SignalMessage wc = f.join(3, "r");
  SignalMessage wx = f.join(4, "elsewhere");
  f.out.inbox.clear();

  SignalMessage offer = SignalMessage::offer(kSdp);
  offer.to = wc.id;
  f.say(1, to_json(offer));
  SignalMessage got = f.out.next(3);
  ASSERT_STR_EQ(got.from, wa.id);
  ASSERT_STR_EQ(got.to, wc.id);
  g_assert_cmpuint(f.out.pending(2), ==, 0);

  /* Unknown, yourself, and a member of another room: all "no such member". */
  for (const std::string &target : {std::string("nobody"), wa.id, wx.id}) {
    offer.to = target;
    f.say(1, to_json(offer));
    const std::string error = f.out.next_error(1);
    g_assert_true(error.find("No other member of room \"r\" has the id \"" + target + "\"") !=
                  std::string::npos);
  }
  g_assert_cmpuint(f.out.pending(2) + f.out.pending(3) + f.out.pending(4), ==, 0);
  (void)wb;
}

void test_leave_and_disconnect()
{
  Fixture f;
  SignalMessage wa = f.join(1, "r");
  SignalMessage wb = f.join(2, "r");
  SignalMessage wc = f.join(3, "r");
  f.out.inbox.clear();

  /* An explicit leave: announced; the connection may join again. */
  f.say(1, "{\"type\":\"leave\"}");
  ASSERT_STR_EQ(f.out.next_text(2), "{\"type\":\"leave\",\"from\":\"" + wa.id + "\"}");
  ASSERT_STR_EQ(f.out.next_text(3), "{\"type\":\"leave\",\"from\":\"" + wa.id + "\"}");
  g_assert_cmpuint(f.out.pending(1), ==, 0);
  f.say(1, "{\"type\":\"bye\"}");
  g_assert_true(f.out.next_error(1).find("Join a room first") != std::string::npos);
  f.say(1, "{\"type\":\"join\",\"room\":\"r\"}");
  SignalMessage again = f.out.next(1);
  ASSERT_STR_EQ(again.id, wa.id); /* the id belongs to the connection */
  g_assert_cmpuint(again.peers->size(), ==, 2);
  f.out.next(2);
  f.out.next(3);

  /* A closed connection: announced the same way. */
  f.relay.disconnect(2);
  ASSERT_STR_EQ(f.out.next_text(1), "{\"type\":\"leave\",\"from\":\"" + wb.id + "\"}");
  ASSERT_STR_EQ(f.out.next_text(3), "{\"type\":\"leave\",\"from\":\"" + wb.id + "\"}");
  g_assert_cmpuint(f.relay.client_count(), ==, 2);

  /* Its id is gone: "to" it is an error now. */
  SignalMessage bye = SignalMessage::bye();
  bye.to = wb.id;
  f.say(1, to_json(bye));
  f.out.next_error(1);

  /* The last one out removes the room. */
  f.relay.disconnect(1);
  f.out.next(3);
  f.relay.disconnect(3);
  g_assert_cmpuint(f.relay.room_count(), ==, 0);
  g_assert_cmpuint(f.relay.client_count(), ==, 0);
  /* Disconnecting twice, or an unknown client, is harmless. */
  f.relay.disconnect(3);
  f.relay.receive(99, "{}", f.now);
  (void)wc;
}

void test_errors_keep_the_connection()
{
  Fixture f;
  f.connect(1);
  const struct {
    std::string text;
    const char *expected;
  } cases[] = {
      {"{\"type\":\"offer\",\"sdp\":\"v=0\"}", "Join a room first"},
      {"{\"type\":\"join\"}", "needs a \"room\""},
      {"not json", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {"{\"type\":\"join\",\"room\":5}", "\"room\" member must be a string"},
      {"{\"type\":\"dance\"}", "Unknown message type \"dance\""},
      {"{\"type\":\"welcome\",\"id\":\"x\"}", "Only the server sends welcome"},
      {"{\"type\":\"leave\"}", "not in a room"},
      {"{\"type\":\"media\"}", "a relay carries only signalling"},
      {"{\"type\":\"offer\",\"sdp\":\"v=0" + std::string(kSignalMaxMessageBytes, 'x') + "\"}",
       "the limit is 65536 bytes"},
  };
  for (const auto &c : cases) {
    f.say(1, c.text);
    const std::string error = f.out.next_error(1);
    if (error.find(c.expected) == std::string::npos)
      g_error("error \"%s\" does not mention \"%s\"", error.c_str(), c.expected);
  }
  f.relay.receive_binary(1, f.now);
  g_assert_true(f.out.next_error(1).find("Binary messages") != std::string::npos);
  g_assert_cmpuint(f.out.closed.size(), ==, 0);

  /* Still a member in good standing. */
  f.say(1, "{\"type\":\"join\",\"room\":\"r\"}");
  g_assert_true(f.out.next(1).type == SignalMessage::Type::Welcome);
  f.say(1, "{\"type\":\"join\",\"room\":\"s\"}");
  g_assert_true(f.out.next_error(1).find("already in room \"r\"") != std::string::npos);
}

void test_room_and_server_limits()
{
  SignalRelayLimits limits;
  limits.max_members = 2;
  limits.max_rooms = 2;
  limits.max_clients = 5;
  Fixture f(limits);
  f.join(1, "a");
  f.join(2, "a");
  f.connect(3);
  f.say(3, "{\"type\":\"join\",\"room\":\"a\"}");
  ASSERT_STR_EQ(f.out.next_error(3), "Room \"a\" is full: it has 2 members.");
  f.join(4, "b");
  f.say(3, "{\"type\":\"join\",\"room\":\"c\"}");
  ASSERT_STR_EQ(f.out.next_error(3), "The server has 2 rooms, its limit; try again later.");
  /* Room b empties and goes away: c fits now. */
  f.relay.disconnect(4);
  f.say(3, "{\"type\":\"join\",\"room\":\"c\"}");
  g_assert_true(f.out.next(3).type == SignalMessage::Type::Welcome);

  f.connect(5);
  f.connect(6);
  std::string reason;
  g_assert_false(f.relay.connect(7, reason));
  ASSERT_STR_EQ(reason, "The server has 5 connections, its limit; try again later.");
}

void test_flood()
{
  SignalRelayLimits limits;
  limits.messages_per_second = 10;
  limits.burst = 20;
  Fixture f(limits);
  f.join(1, "r");
  f.join(2, "r");
  f.out.inbox.clear();

  /* The burst passes (19: the join spent one), then messages are dropped
   * and the sender is told once. */
  for (int i = 0; i < 100; i++)
    f.say(1, "{\"type\":\"bye\"}");
  g_assert_cmpuint(f.out.pending(2), ==, 19);
  g_assert_cmpuint(f.out.pending(1), ==, 1);
  const std::string error = f.out.next_error(1);
  ASSERT_STR_EQ(error,
                "Too many messages: the limit is 10 per second, so messages are dropped until you "
                "slow down.");
  f.out.inbox.clear();

  /* Slowing down under the rate: everything passes, nothing is closed. */
  for (int i = 0; i < 50; i++) {
    f.now += G_USEC_PER_SEC / 8;
    f.say(1, "{\"type\":\"bye\"}");
  }
  g_assert_cmpuint(f.out.pending(2), ==, 50);
  g_assert_cmpuint(f.out.pending(1), ==, 0);
  g_assert_cmpuint(f.out.closed.size(), ==, 0);
  f.out.inbox.clear();

  /* Flooding on for more than 3 s: one error per second, then closed. */
  for (int i = 0; i < 400 && !f.out.closed.count(1); i++) {
    f.now += G_USEC_PER_SEC / 100;
    f.say(1, "{\"type\":\"bye\"}");
  }
  g_assert_true(f.out.closed.count(1));
  g_assert_cmpint(f.out.closed[1].first, ==, kCloseFlood);
  ASSERT_STR_EQ(f.out.closed[1].second,
                "Too many messages per second for too long; the limit is 10.");
  g_assert_cmpuint(f.out.pending(1), >=, 3);
  g_assert_cmpuint(f.out.pending(1), <=, 5);
  /* Nothing more is relayed from a closing client. */
  const std::size_t relayed = f.out.pending(2);
  f.now += 10 * G_USEC_PER_SEC;
  f.say(1, "{\"type\":\"bye\"}");
  g_assert_cmpuint(f.out.pending(2), ==, relayed);
  /* The other member is unaffected. */
  f.say(2, "{\"type\":\"bye\"}");
  g_assert_cmpuint(f.out.pending(1), >=, 4);
}

void test_ice_servers_in_welcome()
{
  Fixture f;
  SignalMessage plain = f.join(1, "r");
  g_assert_false(plain.ice_servers.has_value());
  f.relay.set_ice_servers({{{"stun:h:3478"}, "", ""}, {{"turn:h:3478"}, "u", "p"}});
  f.connect(2);
  f.say(2, "{\"type\":\"join\",\"room\":\"r\"}");
  ASSERT_STR_EQ(f.out.next_text(2),
                "{\"type\":\"welcome\",\"id\":\"" + f.relay.client_id(2) +
                    "\",\"room\":\"r\",\"peers\":[\"" + plain.id +
                    "\"],\"iceServers\":[{\"urls\":[\"stun:h:3478\"]},{\"urls\":[\"turn:h:3478\"],"
                    "\"username\":\"u\",\"credential\":\"p\"}]}");
}

void test_unicode_rooms()
{
  Fixture f;
  SignalMessage w = f.join(1, "Café ☕ 会议");
  ASSERT_STR_EQ(w.room, "Café ☕ 会议");
  SignalMessage w2 = f.join(2, "Café ☕ 会议");
  g_assert_cmpuint(w2.peers->size(), ==, 1);
  /* Room names are compared byte for byte: the decomposed é is another room. */
  SignalMessage w3 = f.join(3, "Cafe\xcc\x81 ☕ 会议");
  g_assert_cmpuint(w3.peers->size(), ==, 0);
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/signalrelay/join-and-welcome", test_join_and_welcome);
  g_test_add_func("/signalrelay/forwarding-with-from", test_forwarding_with_from);
  g_test_add_func("/signalrelay/to", test_to);
  g_test_add_func("/signalrelay/leave-and-disconnect", test_leave_and_disconnect);
  g_test_add_func("/signalrelay/errors-keep-the-connection", test_errors_keep_the_connection);
  g_test_add_func("/signalrelay/limits", test_room_and_server_limits);
  g_test_add_func("/signalrelay/flood", test_flood);
  g_test_add_func("/signalrelay/unicode-rooms", test_unicode_rooms);
  g_test_add_func("/signalrelay/ice-servers-in-welcome", test_ice_servers_in_welcome);
  return g_test_run();
}
