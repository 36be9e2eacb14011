/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ICE server URLs as the user gives them (stun-server and turn-servers
 * properties, livecast --stun/--turn, `livecast signal --stun/--turn`):
 * parse_ice_server and signal_ice_server_from_url. The input is the URL.
 */
#include "fuzz_backend.h"
#include "httpapi.h"
#include "protocol/signalmessage.h"

using namespace livecast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string url(reinterpret_cast<const char *>(data), size);
  IceServer server;
  std::string error;
  if (parse_ice_server(url, server, error)) {
    FUZZ_CHECK(!server.host.empty());
    FUZZ_CHECK(server.port > 0 && server.port <= 65535);
    FUZZ_CHECK(server.scheme == "stun" || server.scheme == "turn" || server.scheme == "turns");
    (void)server.browser_url();
  } else {
    FUZZ_CHECK(!error.empty());
  }
  SignalIceServer signal;
  if (signal_ice_server_from_url(url, signal, error))
    FUZZ_CHECK(signal.urls.size() == 1);
  return 0;
}
