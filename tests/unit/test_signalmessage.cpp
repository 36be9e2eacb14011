/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * protocol/signalmessage.{h,cpp}, the WebSocket signaling protocol, without
 * sockets: exact shapes out, round trips, and a readable one-sentence error
 * for every kind of bad input.
 */
#include <glib.h>

#include <string>
#include <vector>

#include "testutil.h"

#include "protocol/signalmessage.h"

using namespace livecast;
using testutil::assert_sentence;

namespace
{

const char kSdp[] = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const char kCandidateLine[] = "candidate:1 1 UDP 2122260223 127.0.0.1 54321 typ host";

SignalMessage parse_ok(const std::string &text)
{
  SignalMessage m;
  std::string error;
  if (!parse_signal_message(text, m, error))
    g_error("parse of %s failed: %s", text.c_str(), error.c_str());
  return m;
}

std::string parse_error(const std::string &text)
{
  SignalMessage m;
  std::string error;
  if (parse_signal_message(text, m, error))
    g_error("parse of %.200s succeeded, expected an error", text.c_str());
  g_assert_true(m.type == SignalMessage::Type::Unknown);
  return error;
}

void test_shapes()
{
  ASSERT_STR_EQ(to_json(SignalMessage::join("lobby")), "{\"type\":\"join\",\"room\":\"lobby\"}");
  ASSERT_STR_EQ(to_json(SignalMessage::joined("p1")), "{\"type\":\"join\",\"from\":\"p1\"}");
  ASSERT_STR_EQ(to_json(SignalMessage::offer("v=0\r\n")),
                "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}");
  ASSERT_STR_EQ(to_json(SignalMessage::answer("v=0\r\n")),
                "{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}");
  ASSERT_STR_EQ(to_json(SignalMessage::bye()), "{\"type\":\"bye\"}");
  ASSERT_STR_EQ(to_json(SignalMessage::leave()), "{\"type\":\"leave\"}");
  ASSERT_STR_EQ(to_json(SignalMessage::left("p2")), "{\"type\":\"leave\",\"from\":\"p2\"}");
  ASSERT_STR_EQ(to_json(SignalMessage::error("No such room.")),
                "{\"type\":\"error\",\"message\":\"No such room.\"}");
  ASSERT_STR_EQ(signal_error_json("Bad."), "{\"type\":\"error\",\"message\":\"Bad.\"}");

  SignalCandidate c;
  c.candidate = kCandidateLine;
  c.sdp_mid = "0";
  c.has_sdp_mid = true;
  c.sdp_mline_index = 0;
  ASSERT_STR_EQ(to_json(SignalMessage::ice_candidate(c)),
                std::string("{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"") +
                    kCandidateLine + "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}");
  ASSERT_STR_EQ(to_json(SignalMessage::end_of_candidates()),
                "{\"type\":\"candidate\",\"candidate\":null}");

  SignalMessage w = SignalMessage::welcome("a1");
  ASSERT_STR_EQ(to_json(w), "{\"type\":\"welcome\",\"id\":\"a1\"}");
  w.room = "lobby";
  w.peers = std::vector<std::string>{"b2", "c3"};
  ASSERT_STR_EQ(to_json(w),
                "{\"type\":\"welcome\",\"id\":\"a1\",\"room\":\"lobby\",\"peers\":[\"b2\","
                "\"c3\"]}");
  w.room.clear();
  w.peers.reset();
  w.ice_servers = std::vector<BrowserIceServer>{
      {{"stun:127.0.0.1:3478"}, "", ""},
      {{"turn:127.0.0.1:3478?transport=udp"}, "u", "p"},
  };
  ASSERT_STR_EQ(to_json(w),
                "{\"type\":\"welcome\",\"id\":\"a1\",\"iceServers\":[{\"urls\":[\"stun:127.0.0.1:"
                "3478\"]},{\"urls\":[\"turn:127.0.0.1:3478?transport=udp\"],\"username\":\"u\","
                "\"credential\":\"p\"}]}");
  w.ice_servers = std::vector<BrowserIceServer>{};
  ASSERT_STR_EQ(to_json(w), "{\"type\":\"welcome\",\"id\":\"a1\",\"iceServers\":[]}");

  SignalMessage targeted = SignalMessage::offer("v=0");
  targeted.from = "p1";
  targeted.to = "p2";
  ASSERT_STR_EQ(to_json(targeted),
                "{\"type\":\"offer\",\"sdp\":\"v=0\",\"from\":\"p1\",\"to\":\"p2\"}");
}

void test_round_trips()
{
  std::vector<SignalMessage> messages;
  messages.push_back(SignalMessage::join("lobby"));
  messages.push_back(SignalMessage::joined("x"));
  messages.push_back(SignalMessage::offer(kSdp));
  messages.push_back(SignalMessage::answer(kSdp));
  messages.push_back(SignalMessage::bye());
  messages.push_back(SignalMessage::leave());
  messages.push_back(SignalMessage::left("y"));
  messages.push_back(SignalMessage::error("Something was wrong."));
  messages.push_back(SignalMessage::end_of_candidates());
  SignalCandidate c;
  c.candidate = kCandidateLine;
  c.sdp_mline_index = 1;
  c.username_fragment = "abcd";
  messages.push_back(SignalMessage::ice_candidate(c));
  SignalMessage w = SignalMessage::welcome("me");
  w.room = "lobby";
  w.peers = std::vector<std::string>{"you", "them"};
  w.ice_servers = std::vector<BrowserIceServer>{{{"turn:h:1", "turns:h:2"}, "u", "p"}};
  messages.push_back(w);
  SignalMessage to = SignalMessage::answer(kSdp);
  to.to = "peer-7";
  messages.push_back(to);

  for (const SignalMessage &m : messages) {
    const std::string text = to_json(m);
    SignalMessage back = parse_ok(text);
    g_assert_true(back.type == m.type);
    ASSERT_STR_EQ(back.type_name, signal_type_name(m.type));
    ASSERT_STR_EQ(back.room, m.room);
    ASSERT_STR_EQ(back.id, m.id);
    ASSERT_STR_EQ(back.from, m.from);
    ASSERT_STR_EQ(back.to, m.to);
    ASSERT_STR_EQ(back.sdp, m.sdp);
    ASSERT_STR_EQ(back.message, m.message);
    ASSERT_STR_EQ(back.candidate.candidate, m.candidate.candidate);
    ASSERT_STR_EQ(back.candidate.sdp_mid, m.candidate.sdp_mid);
    g_assert_cmpint(back.candidate.has_sdp_mid, ==, m.candidate.has_sdp_mid);
    g_assert_cmpint(back.candidate.sdp_mline_index, ==, m.candidate.sdp_mline_index);
    ASSERT_STR_EQ(back.candidate.username_fragment, m.candidate.username_fragment);
    g_assert_true(back.peers == m.peers);
    g_assert_cmpint(back.ice_servers.has_value(), ==, m.ice_servers.has_value());
    if (m.ice_servers) {
      g_assert_cmpuint(back.ice_servers->size(), ==, m.ice_servers->size());
      for (std::size_t i = 0; i < m.ice_servers->size(); i++) {
        g_assert_true((*back.ice_servers)[i].urls == (*m.ice_servers)[i].urls);
        ASSERT_STR_EQ((*back.ice_servers)[i].username, (*m.ice_servers)[i].username);
        ASSERT_STR_EQ((*back.ice_servers)[i].credential, (*m.ice_servers)[i].credential);
      }
    }
    /* And out again, byte for byte. */
    ASSERT_STR_EQ(to_json(back), text);
  }
}

void test_browser_forms()
{
  /* What a page writes with JSON.stringify({type, candidate: e.candidate}). */
  SignalMessage m = parse_ok(
      std::string("{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"") + kCandidateLine +
      "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,\"usernameFragment\":\"u1\"}}");
  g_assert_true(m.type == SignalMessage::Type::Candidate);
  ASSERT_STR_EQ(m.candidate.candidate, kCandidateLine);
  ASSERT_STR_EQ(m.candidate.sdp_mid, "0");
  g_assert_cmpint(m.candidate.sdp_mline_index, ==, 0);
  ASSERT_STR_EQ(m.candidate.username_fragment, "u1");
  g_assert_false(m.candidate.end_of_candidates());

  /* End of candidates, both forms. */
  m = parse_ok("{\"type\":\"candidate\",\"candidate\":null}");
  g_assert_true(m.candidate.end_of_candidates());
  g_assert_false(m.candidate.has_sdp_mid);
  g_assert_cmpint(m.candidate.sdp_mline_index, ==, -1);
  m = parse_ok(
      "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\",\"sdpMid\":\"0\","
      "\"sdpMLineIndex\":0}}");
  g_assert_true(m.candidate.end_of_candidates());
  ASSERT_STR_EQ(m.candidate.sdp_mid, "0");
  m = parse_ok("{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"\"}}");
  g_assert_true(m.candidate.end_of_candidates());

  /* Optional members may be null; sdpMid alone or sdpMLineIndex alone is enough. */
  m = parse_ok(std::string("{\"type\":\"candidate\",\"to\":null,\"candidate\":{\"candidate\":\"") +
               kCandidateLine +
               "\",\"sdpMid\":null,\"sdpMLineIndex\":2,\"usernameFragment\":null}}");
  g_assert_false(m.candidate.has_sdp_mid);
  g_assert_cmpint(m.candidate.sdp_mline_index, ==, 2);
  ASSERT_STR_EQ(m.to, "");

  /* RTCSessionDescription.toJSON() plus extra members: accepted, extras kept. */
  m = parse_ok(std::string("{\"type\":\"offer\",\"sdp\":\"") + "v=0\\r\\n" +
               "\",\"to\":\"b\",\"app\":{\"x\":[1,2]}}");
  ASSERT_STR_EQ(m.sdp, "v=0\r\n");
  ASSERT_STR_EQ(m.to, "b");
  g_assert_nonnull(m.json.get());

  /* A join with no room is valid protocol (the sink's /ws needs none). */
  m = parse_ok("{\"type\":\"join\"}");
  g_assert_true(m.type == SignalMessage::Type::Join);
  ASSERT_STR_EQ(m.room, "");

  /* Welcome with urls as a plain string, the other form browsers accept. */
  m = parse_ok("{\"type\":\"welcome\",\"id\":\"a\",\"iceServers\":[{\"urls\":\"stun:h:1\"}]}");
  g_assert_cmpuint(m.ice_servers->size(), ==, 1);
  ASSERT_STR_EQ((*m.ice_servers)[0].urls.at(0), "stun:h:1");
  g_assert_false(m.peers.has_value());

  /* A server's welcome to its own /ws viewer: no id, how to connect, what
   * the stream has; written and read back member for member. */
  SignalMessage own = SignalMessage::welcome(std::string());
  own.ice_servers = std::vector<BrowserIceServer>{};
  own.ice_transport_policy = IceTransportPolicy::Relay;
  own.audio = true;
  own.talkback = false;
  ASSERT_STR_EQ(to_json(own),
                "{\"type\":\"welcome\",\"iceServers\":[],"
                "\"iceTransportPolicy\":\"relay\",\"audio\":true,\"talkback\":false}");
  m = parse_ok(to_json(own));
  g_assert_true(m.ice_transport_policy == IceTransportPolicy::Relay);
  g_assert_true(m.audio.value_or(false));
  g_assert_false(m.talkback.value_or(true));
  ASSERT_STR_EQ(m.id, "");

  /* An error may say which HTTP status it stands for. */
  SignalMessage refused = SignalMessage::error("Too many viewers.");
  refused.status = 503;
  ASSERT_STR_EQ(to_json(refused),
                "{\"type\":\"error\",\"message\":\"Too many viewers.\",\"status\":503}");
  g_assert_cmpint(parse_ok(to_json(refused)).status, ==, 503);

  /* Whitespace around the object is fine. */
  m = parse_ok("  \n{ \"type\" : \"bye\" }\n");
  g_assert_true(m.type == SignalMessage::Type::Bye);
}

void test_forwarded()
{
  SignalMessage m = parse_ok(
      "{\"type\":\"offer\",\"sdp\":\"v=0\",\"to\":\"b\",\"from\":\"spoofed\","
      "\"app\":{\"x\":[1,2]},\"n\":3}");
  ASSERT_STR_EQ(to_forwarded_json(m, "a"),
                "{\"type\":\"offer\",\"sdp\":\"v=0\",\"to\":\"b\",\"app\":{\"x\":[1,2]},\"n\":3,"
                "\"from\":\"a\"}");
  /* The parsed message itself is untouched. */
  ASSERT_STR_EQ(m.from, "spoofed");
  JsonObject *obj = json_node_get_object(m.json.get());
  ASSERT_STR_EQ(json_object_get_string_member(obj, "from"), "spoofed");

  /* Numbers arrive as JSON that reads back as the same value (json-glib's
   * generator wrote 1e270 as "1e+270.0"); the 64-bit limits pass. */
  m = parse_ok(
      "{\"type\":\"bye\",\"a\":1e270,\"b\":-0.0,\"c\":9223372036854775807,"
      "\"d\":-9223372036854775808,\"e\":0.1,\"f\":2.5E-3,\"g\":[true,false,null],"
      "\"h\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u00e9\\ud83c\\udfa5\"}");
  ASSERT_STR_EQ(to_forwarded_json(m, "a"),
                "{\"type\":\"bye\",\"a\":1e+270,\"b\":-0.0,\"c\":9223372036854775807,"
                "\"d\":-9223372036854775808,\"e\":0.1,\"f\":0.0025,\"g\":[true,false,null],"
                "\"h\":\"q\\\"\\\\/\\u0008\\u000c\\n\\r\\t\\u0001é🎥\",\"from\":\"a\"}");
  SignalMessage again = parse_ok(to_forwarded_json(m, "a"));
  JsonObject *sent = json_node_get_object(m.json.get());
  JsonObject *arrived = json_node_get_object(again.json.get());
  for (const char *name : {"a", "b", "c", "d", "e", "f", "g", "h"})
    g_assert_true(
        json_node_equal(json_object_get_member(sent, name), json_object_get_member(arrived, name)));

  /* Built in code: serialised with "from". */
  ASSERT_STR_EQ(to_forwarded_json(SignalMessage::bye(), "z"), "{\"type\":\"bye\",\"from\":\"z\"}");
}

void test_unicode()
{
  const std::string room = "Sälchen 会议室 🎥";
  SignalMessage m = parse_ok(to_json(SignalMessage::join(room)));
  ASSERT_STR_EQ(m.room, room);
  /* Escaped forms decode to the same text, surrogate pairs included. */
  m = parse_ok(
      "{\"type\":\"join\",\"room\":\"S\\u00e4lchen \\u4f1a\\u8bae\\u5ba4 "
      "\\ud83c\\udfa5\"}");
  ASSERT_STR_EQ(m.room, room);
  m = parse_ok(to_json(SignalMessage::error("Ünïcødé ✓.")));
  ASSERT_STR_EQ(m.message, "Ünïcødé ✓.");
  ASSERT_STR_EQ(to_forwarded_json(m, "ü"),
                "{\"type\":\"error\",\"message\":\"Ünïcødé ✓.\","
                "\"from\":\"ü\"}");
}

struct BadInput {
  const char *what;
  std::string text;
  const char *expected; /* a piece the error must contain */
};

void test_errors()
{
  const std::string line = kCandidateLine;
  const std::vector<BadInput> cases = {
      {"empty", "", "empty"},
      {"blank", "  \n", "empty"},
      {"not JSON", "hello", "not valid JSON"},
      {"truncated", "{\"type\":\"offer\"", "not valid JSON"},
      {"trailing garbage", "{\"type\":\"bye\"} x", "not valid JSON"},
      /* Found by fuzzing: json-glib took the last of several values (and
       * leaked the others), and a relay forwarded 1e400 as "inf". */
      {"two objects", "{\"type\":\"offer\",\"sdp\":\"v=0\"}{\"type\":\"bye\"}", "not valid JSON"},
      {"number then object", "2{\"type\":\"bye\"}", "not valid JSON"},
      {"string then object", "\"x\" {\"type\":\"bye\"}", "not valid JSON"},
      {"infinite number", "{\"type\":\"bye\",\"n\":1e400}", "too large"},
      {"infinite nested", "{\"type\":\"bye\",\"x\":[{\"n\":-1e999}]}", "too large"},
      /* Found by fuzzing: json-glib reads more than JSON, and some of it came
       * out as bytes that are not UTF-8 (octal escapes, lone surrogates) or
       * as numbers wrapped around (whole numbers beyond 64 bits). */
      {"octal escape", "{\"type\":\"join\",\"room\":\"\\666\"}",
       "escape JSON does not allow in a string (\\6)"},
      {"octal escape in a name", "{\"type\\666\":\"bye\"}", "escape JSON does not allow"},
      {"x escape", "{\"type\":\"join\",\"room\":\"\\x41\"}",
       "escape JSON does not allow in a string (\\x)"},
      {"short u escape", "{\"type\":\"join\",\"room\":\"\\u12\"}", "four hex digits"},
      {"lone low surrogate", "{\"type\":\"join\",\"room\":\"\\udc00\"}", "lone low surrogate"},
      {"lone high surrogate", "{\"type\":\"join\",\"room\":\"\\ud83cx\"}", "without its low half"},
      {"high then high", "{\"type\":\"join\",\"room\":\"\\ud83c\\ud83c\"}", "without its low half"},
      {"raw control character", "{\"type\":\"join\",\"room\":\"a\x01b\"}", "control character"},
      {"raw newline", "{\"type\":\"join\",\"room\":\"a\nb\"}", "control character"},
      {"comment", "{\"type\":\"bye\"/* x */}", "unexpected \"/\" at byte 13"},
      {"single quotes", "{'type':'bye'}", "unexpected \"'\" at byte 1"},
      {"hex number", "{\"type\":\"bye\",\"n\":0x10}", "number JSON does not allow (0x10)"},
      {"octal number", "{\"type\":\"bye\",\"n\":010}", "number JSON does not allow (010)"},
      {"fraction without digits", "{\"type\":\"bye\",\"n\":1.}", "number JSON does not allow"},
      {"exponent without digits", "{\"type\":\"bye\",\"n\":1e+}", "number JSON does not allow"},
      {"lone minus", "{\"type\":\"bye\",\"n\":-}", "number JSON does not allow"},
      {"whole number too big", "{\"type\":\"bye\",\"n\":9223372036854775808}", "64-bit range"},
      {"whole number too small", "{\"type\":\"bye\",\"n\":-9223372036854775809}", "64-bit range"},
      {"whole number far too big", "{\"type\":\"bye\",\"n\":99999999999999999999999}",
       "64-bit range"},
      {"no-break space between members", "{\"type\":\"bye\"\xc2\xa0}",
       "unexpected character at byte 13"},
      {"invalid UTF-8", std::string("{\"type\":\"join\",\"room\":\"\xff\xfe\"}"), "UTF-8"},
      {"NUL byte", std::string("{\"type\":\"bye\"}\0", 15), "UTF-8"},
      {"array", "[1,2]", "JSON object"},
      {"string", "\"offer\"", "JSON object"},
      {"number", "42", "JSON object"},
      {"null", "null", "JSON object"},
      {"no type", "{\"sdp\":\"v=0\"}", "no \"type\""},
      {"type number", "{\"type\":1}", "\"type\" member must be a string"},
      {"type null", "{\"type\":null}", "\"type\" member must be a string"},
      {"type object", "{\"type\":{}}", "\"type\" member must be a string"},
      {"unknown type", "{\"type\":\"hello\"}", "Unknown message type \"hello\""},
      {"type case", "{\"type\":\"Offer\",\"sdp\":\"v=0\"}", "Unknown message type \"Offer\""},
      {"offer without sdp", "{\"type\":\"offer\"}", "An offer needs a string member \"sdp\""},
      {"answer without sdp", "{\"type\":\"answer\"}", "An answer needs a string member \"sdp\""},
      {"sdp number", "{\"type\":\"offer\",\"sdp\":5}", "\"sdp\" member must be a string"},
      {"sdp object", "{\"type\":\"answer\",\"sdp\":{\"type\":\"answer\"}}",
       "\"sdp\" member must be a string"},
      {"sdp not SDP", "{\"type\":\"offer\",\"sdp\":\"hello\"}", "starting with \"v=0\""},
      {"sdp empty", "{\"type\":\"offer\",\"sdp\":\"\"}", "starting with \"v=0\""},
      {"no candidate", "{\"type\":\"candidate\"}", "needs a \"candidate\" member"},
      {"candidate string", "{\"type\":\"candidate\",\"candidate\":\"" + line + "\"}",
       "must be an object"},
      {"candidate array", "{\"type\":\"candidate\",\"candidate\":[]}", "must be an object"},
      {"candidate line missing", "{\"type\":\"candidate\",\"candidate\":{\"sdpMid\":\"0\"}}",
       "needs a \"candidate\" string"},
      {"candidate line number", "{\"type\":\"candidate\",\"candidate\":{\"candidate\":1}}",
       "needs a \"candidate\" string"},
      {"candidate line wrong",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"a=candidate:1\",\"sdpMid\":\"0\"}}",
       "starting with \"candidate:\""},
      {"candidate line two lines",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"candidate:1\\r\\nx\",\"sdpMid\":"
       "\"0\"}}",
       "one line"},
      {"candidate too long",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"candidate:" +
           std::string(2000, '1') + "\",\"sdpMid\":\"0\"}}",
       "longer than 1024 bytes"},
      {"candidate without media",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"" + line + "\"}}",
       "\"sdpMid\" or \"sdpMLineIndex\""},
      {"sdpMid number",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"" + line + "\",\"sdpMid\":0}}",
       "\"sdpMid\" member must be a string"},
      {"sdpMLineIndex string",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"" + line +
           "\",\"sdpMLineIndex\":\"0\"}}",
       "\"sdpMLineIndex\" member must be a whole number"},
      {"sdpMLineIndex negative",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"" + line +
           "\",\"sdpMLineIndex\":-1}}",
       "\"sdpMLineIndex\" member must be a whole number"},
      {"sdpMLineIndex fraction",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"" + line +
           "\",\"sdpMLineIndex\":0.5}}",
       "\"sdpMLineIndex\" member must be a whole number"},
      {"usernameFragment number",
       "{\"type\":\"candidate\",\"candidate\":{\"candidate\":\"" + line +
           "\",\"sdpMid\":\"0\",\"usernameFragment\":7}}",
       "\"usernameFragment\" member must be a string"},
      {"room number", "{\"type\":\"join\",\"room\":7}", "\"room\" member must be a string"},
      {"room empty", "{\"type\":\"join\",\"room\":\"\"}", "\"room\" member must be 1 to 128 bytes"},
      {"room too long", "{\"type\":\"join\",\"room\":\"" + std::string(129, 'r') + "\"}",
       "\"room\" member must be 1 to 128 bytes"},
      {"room control", "{\"type\":\"join\",\"room\":\"a\\u0001b\"}", "without control characters"},
      {"escaped NUL", "{\"type\":\"offer\",\"sdp\":\"v=0\\u0000x\"}", "NUL character"},
      {"to number", "{\"type\":\"bye\",\"to\":3}", "\"to\" member must be a string"},
      {"to empty", "{\"type\":\"bye\",\"to\":\"\"}", "\"to\" member must be 1 to 128 bytes"},
      {"from array", "{\"type\":\"bye\",\"from\":[]}", "\"from\" member must be a string"},
      {"welcome empty id", "{\"type\":\"welcome\",\"id\":\"\"}",
       "\"id\" member must be 1 to 128 bytes"},
      {"welcome audio string", "{\"type\":\"welcome\",\"audio\":\"yes\"}",
       "\"audio\" member must be true or false"},
      {"welcome policy", "{\"type\":\"welcome\",\"iceTransportPolicy\":\"none\"}",
       "must be \"all\" or \"relay\""},
      {"error status text", "{\"type\":\"error\",\"message\":\"x\",\"status\":\"400\"}",
       "\"status\" member must be an HTTP status code"},
      {"error status range", "{\"type\":\"error\",\"message\":\"x\",\"status\":99}",
       "\"status\" member must be an HTTP status code"},
      {"welcome peers", "{\"type\":\"welcome\",\"id\":\"a\",\"peers\":[1]}",
       "\"peers\" member must be an array of id strings"},
      {"welcome iceServers object", "{\"type\":\"welcome\",\"id\":\"a\",\"iceServers\":{}}",
       "\"iceServers\" member must be an array"},
      {"welcome iceServers no urls", "{\"type\":\"welcome\",\"id\":\"a\",\"iceServers\":[{}]}",
       "needs \"urls\""},
      {"welcome iceServers urls numbers",
       "{\"type\":\"welcome\",\"id\":\"a\",\"iceServers\":[{\"urls\":[1]}]}",
       "\"urls\" must be a string or an array of strings"},
      {"error without message", "{\"type\":\"error\"}",
       "An error message needs a string member \"message\""},
      {"error message too long",
       "{\"type\":\"error\",\"message\":\"" + std::string(kSignalMaxErrorBytes + 1, 'e') + "\"}",
       "longer than 1024 bytes"},
      {"too deep", std::string(100, '[') + std::string(100, ']'), "deeper than 32 levels"},
      {"too deep in a member",
       "{\"type\":\"bye\",\"x\":" + std::string(40, '[') + std::string(40, ']') + "}",
       "deeper than 32 levels"},
      {"huge",
       "{\"type\":\"offer\",\"sdp\":\"v=0" + std::string(kSignalMaxMessageBytes, 'x') + "\"}",
       "the limit is 65536 bytes"},
  };
  for (const BadInput &c : cases) {
    const std::string error = parse_error(c.text);
    if (error.find(c.expected) == std::string::npos)
      g_error("%s: error \"%s\" does not mention \"%s\"", c.what, error.c_str(), c.expected);
    assert_sentence(error);
    g_test_message("%s: %s", c.what, error.c_str());
  }
}

void test_limits_edges()
{
  /* Brackets inside strings do not count towards the depth. */
  SignalMessage m = parse_ok("{\"type\":\"join\",\"room\":\"" + std::string(100, '[') + "\"}");
  ASSERT_STR_EQ(m.room, std::string(100, '['));
  /* Exactly the limits: accepted. */
  parse_ok("{\"type\":\"bye\",\"x\":" + std::string(kSignalMaxDepth - 1, '[') +
           std::string(kSignalMaxDepth - 1, ']') + "}");
  parse_ok("{\"type\":\"join\",\"room\":\"" + std::string(kSignalMaxNameBytes, 'r') + "\"}");
  std::string prefix = "{\"type\":\"offer\",\"sdp\":\"v=0";
  std::string suffix = "\"}";
  std::string exact =
      prefix + std::string(kSignalMaxMessageBytes - prefix.size() - suffix.size(), 'x') + suffix;
  g_assert_cmpuint(exact.size(), ==, kSignalMaxMessageBytes);
  parse_ok(exact);
  /* A megabyte is refused by its size before any parsing. */
  std::string error = parse_error(std::string(1 << 20, '['));
  g_assert_true(error.find("1048576 bytes") != std::string::npos);
}

void test_type_names()
{
  g_assert_true(signal_type_from_name("candidate") == SignalMessage::Type::Candidate);
  g_assert_true(signal_type_from_name("peer-left") == SignalMessage::Type::Unknown);
  ASSERT_STR_EQ(signal_type_name(SignalMessage::Type::Leave), "leave");
  ASSERT_STR_EQ(signal_type_name(SignalMessage::Type::Unknown), "");
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/signalmessage/shapes", test_shapes);
  g_test_add_func("/signalmessage/round-trips", test_round_trips);
  g_test_add_func("/signalmessage/browser-forms", test_browser_forms);
  g_test_add_func("/signalmessage/forwarded", test_forwarded);
  g_test_add_func("/signalmessage/unicode", test_unicode);
  g_test_add_func("/signalmessage/errors", test_errors);
  g_test_add_func("/signalmessage/limits", test_limits_edges);
  g_test_add_func("/signalmessage/type-names", test_type_names);
  return g_test_run();
}
