/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rooms of `livecast signal` (SignalRelay) with four clients. One line
 * per step: "<n><message>" is client n (0-3) sending a text message, and
 *   !c<n> client n connects      !d<n> client n disconnects
 *   !b<n> client n sends binary  !t one second passes  !T a millisecond passes
 * Checked: the relay only writes to connected clients, what it writes is a
 * JSON object with a type, and when everyone has gone there is no room and
 * no client left.
 */
#include "fuzz_script.h"
#include "signalrelay.h"

#include <set>

using namespace livecast;

namespace
{
class Output : public SignalRelay::Output
{
 public:
  std::set<SignalRelay::ClientHandle> connected;
  void send(SignalRelay::ClientHandle client, const std::string &text) override
  {
    FUZZ_CHECK(connected.count(client));
    fuzz::check_sent(text);
  }
  void close(SignalRelay::ClientHandle client, int code, const std::string &reason) override
  {
    FUZZ_CHECK(connected.count(client));
    FUZZ_CHECK(code >= 1000 && code < 5000 && !reason.empty());
  }
};
}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
  fuzz::init_gstreamer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string text(reinterpret_cast<const char *>(data), size);
  Output output;
  SignalRelayLimits limits;
  limits.max_clients = 3;
  limits.max_rooms = 2;
  limits.max_members = 2;
  SignalRelay relay(output, limits);
  BrowserIceServer stun;
  stun.urls = {"stun:127.0.0.1:3478"};
  relay.set_ice_servers({stun});
  gint64 now = G_USEC_PER_SEC;

  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty())
      continue;
    if (line[0] == '!' && line.size() >= 2) {
      const SignalRelay::ClientHandle n = line.size() > 2 ? (line[2] & 3) + 1 : 1;
      switch (line[1]) {
        case 'c': {
          std::string reason;
          if (!output.connected.count(n)) {
            if (relay.connect(n, reason))
              output.connected.insert(n);
            else
              FUZZ_CHECK(!reason.empty());
          }
          break;
        }
        case 'd':
          relay.disconnect(n);
          output.connected.erase(n);
          break;
        case 'b':
          relay.receive_binary(n, now);
          break;
        case 't':
          now += G_USEC_PER_SEC;
          break;
        case 'T':
          now += 1000;
          break;
        default:
          break;
      }
      continue;
    }
    const SignalRelay::ClientHandle n = (line[0] & 3) + 1;
    relay.receive(n, line.substr(1), now);
  }
  for (SignalRelay::ClientHandle n = 1; n <= 4; n++) {
    relay.disconnect(n);
    output.connected.erase(n);
  }
  FUZZ_CHECK(relay.client_count() == 0);
  FUZZ_CHECK(relay.room_count() == 0);
  return 0;
}
