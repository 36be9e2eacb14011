/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One viewer on the sink's /ws (WsSignalingPeer over a fake backend), fed a
 * sequence of messages with the backend's own events in between (see
 * fuzz_script.h). Checked: everything sent is a JSON object with a type,
 * and once the connection is gone and the backend is done, no session is
 * left behind (a leaked session is a webrtcbin streaming to nobody).
 */
#include "fuzz_script.h"
#include "signalling/wspeer.h"

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
  bool closed = false;
  std::unique_ptr<WsSignalingPeer> peer;
  auto make_peer = [&]() {
    peer.reset();
    closed = false;
    WsSignalingConfig config;
    IceServer turn;
    std::string error;
    parse_ice_server("turn://u:p@127.0.0.1:3478?transport=udp", turn, error);
    config.ice_servers.push_back(turn);
    config.talkback = true;
    peer = std::make_unique<WsSignalingPeer>(
        backend, config, [](const SignalMessage &m) { fuzz::check_sent(to_json(m)); },
        [&closed](int code, const std::string &reason) {
          FUZZ_CHECK(code >= 1000 && code < 5000);
          FUZZ_CHECK(!reason.empty());
          closed = true;
        },
        [&now]() { return now; });
    peer->start();
  };
  make_peer();
  fuzz::run_script(
      text, backend, now,
      [&](const std::string &line) {
        if (!closed) /* the server closed it: nothing more arrives */
          peer->on_message(line);
      },
      make_peer);
  /* The socket closes; whatever the element still had to answer arrives. */
  peer.reset();
  backend.run_pending();
  if (!backend.sessions.empty()) {
    fprintf(stderr, "%zu session(s) left after the WebSocket closed, first %s\n",
            backend.sessions.size(), backend.sessions.begin()->first.c_str());
    abort();
  }
  return 0;
}
