/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Client mode: the room traffic a signaling relay sends to the sink
 * (RelayRouter over a fake backend, one WsSignalingPeer per member), fed a
 * sequence of relay messages with the backend's events in between (see
 * fuzz_script.h; "!x" is the relay going away and coming back). Checked:
 * everything sent is a JSON object with a type and a "to", and when the
 * relay is gone no session is left behind.
 */
#include "fuzz_script.h"
#include "signalling/relayrouter.h"

#include <memory>

using namespace livecast;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
  fuzz::init_gstreamer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string text(reinterpret_cast<const char *>(data), size);
  fuzz::FakeBackend backend;
  gint64 now = G_USEC_PER_SEC;
  std::unique_ptr<RelayRouter> router;
  auto make_router = [&]() {
    router.reset();
    router = std::make_unique<RelayRouter>(backend, WsSignalingConfig(), "lab",
                                           [](const std::string &t) {
                                             fuzz::check_sent(t);
                                             FUZZ_CHECK(t.find("\"to\"") != std::string::npos);
                                           });
    fuzz::check_sent(router->join_message());
  };
  make_router();
  fuzz::run_script(
      text, backend, now, [&](const std::string &line) { router->on_message(line); },
      make_router);
  router.reset();
  backend.run_pending();
  if (!backend.sessions.empty()) {
    fprintf(stderr, "%zu session(s) left after the relay went away, first %s\n",
            backend.sessions.size(), backend.sessions.begin()->first.c_str());
    abort();
  }
  return 0;
}
