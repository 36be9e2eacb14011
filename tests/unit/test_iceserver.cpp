/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * protocol/iceserver.{h,cpp}: the ICE server URLs users give, parsed into
 * what webrtcbin and the viewers get (the browser's form and the
 * "iceServers" JSON), and a one-sentence error for every malformed one.
 */
#include <glib.h>

#include <string>
#include <vector>

#include "testutil.h"

#include "protocol/iceserver.h"

using namespace livecast;
using testutil::assert_sentence;

namespace
{

IceServer parse_ok(const std::string &url)
{
  IceServer s;
  std::string error;
  if (!parse_ice_server(url, s, error))
    g_error("%s refused: %s", url.c_str(), error.c_str());
  ASSERT_STR_EQ(s.url, url);
  return s;
}

std::string parse_error(const std::string &url)
{
  IceServer s;
  std::string error;
  if (parse_ice_server(url, s, error))
    g_error("\"%s\" accepted as an ICE server", url.c_str());
  assert_sentence(error);
  g_assert_true(error.find("turn://USER:PASS@HOST:PORT") != std::string::npos);
  return error;
}

/* From tests/unit/test_sdpoffer.cpp, where the HTTP API's parser was tested. */
void test_http_api_urls()
{
  IceServer s = parse_ok("stun://stun.example.org:19302");
  ASSERT_STR_EQ(s.browser_url(), "stun:stun.example.org:19302");
  s = parse_ok("turn://user:p%40ss@127.0.0.1:3478?transport=udp");
  ASSERT_STR_EQ(s.username, "user");
  ASSERT_STR_EQ(s.credential, "p@ss");
  ASSERT_STR_EQ(s.browser_url(), "turn:127.0.0.1:3478?transport=udp");
  s = parse_ok("turns://u:p@turn.example.org");
  g_assert_cmpint(s.port, ==, 5349);
  g_assert_true(parse_error("turn://127.0.0.1:3478").find("credentials") != std::string::npos);
  parse_error("http://example.org");
  parse_error("stun://host:99999");
}

/* From tests/unit/test_signalmessage.cpp, where the relay's parser was tested. */
void test_relay_urls()
{
  const struct {
    const char *url, *browser, *username, *credential;
  } good[] = {
      {"stun://127.0.0.1:3478", "stun:127.0.0.1:3478", "", ""},
      {"stun://stun.example.org", "stun:stun.example.org:3478", "", ""},
      {"turn://u:p@127.0.0.1:3478", "turn:127.0.0.1:3478", "u", "p"},
      {"turn://user%40x:p%3Aq@h:1234?transport=tcp", "turn:h:1234?transport=tcp", "user@x", "p:q"},
      {"turns://u:p@turn.example.org", "turns:turn.example.org:5349", "u", "p"},
      {"turn://u:p@[::1]:3478", "turn:[::1]:3478", "u", "p"},
  };
  for (const auto &g : good) {
    const BrowserIceServer server = parse_ok(g.url).browser();
    g_assert_cmpuint(server.urls.size(), ==, 1);
    ASSERT_STR_EQ(server.urls[0], g.browser);
    ASSERT_STR_EQ(server.username, g.username);
    ASSERT_STR_EQ(server.credential, g.credential);
  }
  for (const char *bad : {"", "stun.example.org", "http://h:1", "turn://h:3478", "turn://u@h:3478",
                          "stun://", "turn://u:p@h:99999", "turn://u:p@h:1/path"})
    parse_error(bad);
}

void test_parts()
{
  IceServer s = parse_ok("TURN://alice:s3cret@Turn.Example.org:443/?transport=tcp");
  ASSERT_STR_EQ(s.scheme, "turn");
  ASSERT_STR_EQ(s.host, "Turn.Example.org");
  g_assert_cmpint(s.port, ==, 443);
  ASSERT_STR_EQ(s.username, "alice");
  ASSERT_STR_EQ(s.credential, "s3cret");
  ASSERT_STR_EQ(s.transport, "tcp");
  g_assert_true(s.is_turn());
  ASSERT_STR_EQ(s.browser_url(), "turn:Turn.Example.org:443?transport=tcp");

  s = parse_ok("stun://[2001:db8::1]");
  ASSERT_STR_EQ(s.host, "2001:db8::1");
  g_assert_cmpint(s.port, ==, 3478);
  g_assert_false(s.is_turn());
  ASSERT_STR_EQ(s.browser_url(), "stun:[2001:db8::1]:3478");

  /* STUN needs no credentials: given ones are not handed to viewers. */
  s = parse_ok("stun://u:p@h:1");
  ASSERT_STR_EQ(s.username, "");
  ASSERT_STR_EQ(s.credential, "");
  ASSERT_STR_EQ(s.browser_url(), "stun:h:1");
  /* A password may hold ':' and more; the first ':' ends the user, the last
   * '@' the credentials. Unescaped characters are taken as they are. */
  s = parse_ok("turn://u:a:b!$&'()*+,;=@h");
  ASSERT_STR_EQ(s.credential, "a:b!$&'()*+,;=");
  s = parse_ok("turn://us\"er:p q@x@h");
  ASSERT_STR_EQ(s.username, "us\"er");
  ASSERT_STR_EQ(s.credential, "p q@x");
  /* An empty port is the default one. */
  g_assert_cmpint(parse_ok("turns://u:p@h:").port, ==, 5349);
}

void test_errors()
{
  const struct {
    std::string url;
    const char *expected;
  } cases[] = {
      {"stun:h:3478",
       "ICE server \"stun:h:3478\" is not stun://HOST:PORT, "
       "turn://USER:PASS@HOST:PORT or turns://USER:PASS@HOST:PORT."},
      {"stuns://h", "is not stun://HOST:PORT"},
      {"turn://h", "(a TURN server needs credentials)"},
      {"turn://:p@h", "(a TURN server needs credentials)"},
      {"turn://u:@h", "(a TURN server needs credentials)"},
      {"turn://u:p@", "(no host)"},
      {"stun://h:0", "(the port must be a number from 1 to 65535)"},
      {"stun://h:+1", "(the port must be a number from 1 to 65535)"},
      {"stun://h:1:2", "(the port must be a number from 1 to 65535)"},
      {"stun://h x", "(the host is not a name or an IP address)"},
      {"stun://h%41", "(the host is not a name or an IP address)"},
      {"stun://[::1", "without its \"]\""},
      {"stun://[example.org]", "(the host is not a name or an IP address)"},
      {"stun://[::1]x", "(the host is not a name or an IP address)"},
      {"stun://h#x", "(a \"#\" part)"},
      {"stun://h/x", "(a path after the host)"},
      {"stun://h?transport=udp", "(a STUN server takes no query)"},
      {"turn://u:p@h?transport=sctp", "?transport=udp or ?transport=tcp"},
      {"turn://u:p@h?transport=UDP", "?transport=udp or ?transport=tcp"},
      {"turn://u:p@h?foo=1", "?transport=udp or ?transport=tcp"},
      {"turn://u:p%2@h", "not printable text once %-escapes are decoded"},
      {"turn://u:p%00@h", "not printable text once %-escapes are decoded"},
      {"turn://u:p%0a@h", "not printable text once %-escapes are decoded"},
      {"turn://u:p\t@h", "not printable text once %-escapes are decoded"},
      {"turn://u:p%ff@h", "not printable text once %-escapes are decoded"},
      /* Found by fuzzing: the part after a NUL was dropped, unseen. */
      {std::string("turn://u:\0p@h", 13), "not printable text once %-escapes are decoded"},
  };
  for (const auto &c : cases) {
    const std::string error = parse_error(c.url);
    if (error.find(c.expected) == std::string::npos)
      g_error("%s: \"%s\" does not mention \"%s\"", c.url.c_str(), error.c_str(), c.expected);
  }
  /* The URL is quoted back printable and short. */
  IceServer s;
  std::string error;
  g_assert_false(parse_ice_server("turn://\x01\n" + std::string(300, 'x'), s, error));
  g_assert_true(error.find('\n') == std::string::npos);
  g_assert_cmpuint(error.size(), <, 300);
  g_assert_true(error.find("turn://??xxx") != std::string::npos);
  g_assert_true(error.find(std::string(91, 'x') + "…\"") != std::string::npos);
}

void test_json()
{
  std::vector<IceServer> servers = {parse_ok("stun://127.0.0.1:3478"),
                                    parse_ok("turn://u:p%22@[::1]:3478?transport=udp")};
  JsonWriter w;
  w.begin_object().key("iceServers");
  write_ice_servers(w, servers);
  w.end_object();
  ASSERT_STR_EQ(w.text(),
                "{\"iceServers\":[{\"urls\":[\"stun:127.0.0.1:3478\"]},{\"urls\":[\"turn:[::1]:"
                "3478?transport=udp\"],\"username\":\"u\",\"credential\":\"p\\\"\"}]}");
  /* The browser form as a relay's welcome carries it: several urls, no credentials. */
  JsonWriter b;
  write_ice_servers(b, std::vector<BrowserIceServer>{{{"turn:h:1", "turns:h:2"}, "", ""}});
  ASSERT_STR_EQ(b.text(), "[{\"urls\":[\"turn:h:1\",\"turns:h:2\"]}]");
  JsonWriter none;
  write_ice_servers(none, std::vector<IceServer>{});
  ASSERT_STR_EQ(none.text(), "[]");
}

/* What webrtcbin is given: the same server read back, credentials escaped
 * again, whatever form it came in (a WHIP endpoint's Link header: the
 * browser's form and separate credentials). */
void test_gstreamer_url()
{
  for (const char *url : {"stun://127.0.0.1:3478", "turn://u:p@127.0.0.1:3478?transport=udp",
                          "turns://us%40er:p%3A%20q@[::1]:443?transport=tcp"}) {
    const IceServer s = parse_ok(url);
    ASSERT_STR_EQ(s.gstreamer_url(), url);
    const IceServer again = parse_ok(s.gstreamer_url());
    ASSERT_STR_EQ(again.username, s.username);
    ASSERT_STR_EQ(again.credential, s.credential);
  }
  ASSERT_STR_EQ(parse_ok("stun://u:p@h").gstreamer_url(), "stun://h:3478");
  ASSERT_STR_EQ(parse_ok("TURN://a:b@H:1/").gstreamer_url(), "turn://a:b@H:1");
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/iceserver/http-api-urls", test_http_api_urls);
  g_test_add_func("/iceserver/relay-urls", test_relay_urls);
  g_test_add_func("/iceserver/parts", test_parts);
  g_test_add_func("/iceserver/errors", test_errors);
  g_test_add_func("/iceserver/json", test_json);
  g_test_add_func("/iceserver/gstreamer-url", test_gstreamer_url);
  return g_test_run();
}
