/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ICE server URLs as the user gives them (stun-server and turn-servers
 * properties, livecast --stun/--turn, `livecast signal --stun/--turn`):
 * parse_ice_server (protocol/iceserver.h), then what viewers are told. The
 * input is the URL.
 */
#include "fuzz_backend.h"
#include "protocol/iceserver.h"

using namespace livecast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string url(reinterpret_cast<const char *>(data), size);
  IceServer server;
  std::string error;
  if (!parse_ice_server(url, server, error)) {
    /* One printable line that says which forms are meant. */
    FUZZ_CHECK(!error.empty() && error.back() == '.');
    FUZZ_CHECK(g_utf8_validate(error.c_str(), static_cast<gssize>(error.size()), nullptr));
    FUZZ_CHECK(error.find('\n') == std::string::npos);
    FUZZ_CHECK(error.find("turn://USER:PASS@HOST:PORT") != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(!server.host.empty());
  FUZZ_CHECK(server.port > 0 && server.port <= 65535);
  FUZZ_CHECK(server.scheme == "stun" || server.scheme == "turn" || server.scheme == "turns");
  FUZZ_CHECK(server.is_turn() == (!server.username.empty() && !server.credential.empty()));
  /* What viewers get reads back as JSON, credentials as they were decoded. */
  JsonWriter w;
  write_ice_servers(w, std::vector<IceServer>{server});
  JsonNodePtr root(json_from_string(w.text().c_str(), nullptr));
  FUZZ_CHECK(root && JSON_NODE_HOLDS_ARRAY(root.get()));
  JsonObject *entry = json_array_get_object_element(json_node_get_array(root.get()), 0);
  FUZZ_CHECK(server.browser_url() ==
             json_array_get_string_element(json_object_get_array_member(entry, "urls"), 0));
  if (server.is_turn())
    FUZZ_CHECK(server.credential == json_object_get_string_member(entry, "credential"));
  /* The browser form parses again as the same server once given its "//". */
  const std::string again_url = server.scheme + "://" + (server.is_turn() ? "u:p@" : "") +
                                server.browser_url().substr(server.scheme.size() + 1);
  IceServer again;
  FUZZ_CHECK(parse_ice_server(again_url, again, error));
  FUZZ_CHECK(again.browser_url() == server.browser_url());
  return 0;
}
