/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One WebSocket signaling message (the sink's /ws, its client mode, the
 * launcher's relay): parse_signal_message, then the round trips a relay
 * and a server rely on: to_json and to_forwarded_json of what was read
 * must read back as the same message. The input is the message text.
 */
#include "fuzz_backend.h"
#include "protocol/signalmessage.h"

#include <cstring>

using namespace livecast;

namespace
{

void check_same(const SignalMessage &a, const SignalMessage &b, bool same_from)
{
  FUZZ_CHECK(a.type == b.type);
  FUZZ_CHECK(a.type_name == b.type_name);
  FUZZ_CHECK(a.room == b.room);
  FUZZ_CHECK(a.id == b.id);
  if (same_from)
    FUZZ_CHECK(a.from == b.from);
  FUZZ_CHECK(a.to == b.to);
  FUZZ_CHECK(a.sdp == b.sdp);
  FUZZ_CHECK(a.message == b.message);
  FUZZ_CHECK(a.candidate.candidate == b.candidate.candidate);
  FUZZ_CHECK(a.candidate.has_sdp_mid == b.candidate.has_sdp_mid);
  if (a.candidate.has_sdp_mid)
    FUZZ_CHECK(a.candidate.sdp_mid == b.candidate.sdp_mid);
  FUZZ_CHECK(a.candidate.sdp_mline_index == b.candidate.sdp_mline_index);
  FUZZ_CHECK(a.candidate.username_fragment == b.candidate.username_fragment);
  FUZZ_CHECK(a.peers.has_value() == b.peers.has_value());
  if (a.peers)
    FUZZ_CHECK(*a.peers == *b.peers);
  FUZZ_CHECK(a.ice_servers.has_value() == b.ice_servers.has_value());
  if (a.ice_servers) {
    FUZZ_CHECK(a.ice_servers->size() == b.ice_servers->size());
    for (std::size_t i = 0; i < a.ice_servers->size(); i++) {
      FUZZ_CHECK((*a.ice_servers)[i].urls == (*b.ice_servers)[i].urls);
      FUZZ_CHECK((*a.ice_servers)[i].username == (*b.ice_servers)[i].username);
      FUZZ_CHECK((*a.ice_servers)[i].credential == (*b.ice_servers)[i].credential);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
  fuzz::init_gstreamer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string text(reinterpret_cast<const char *>(data), size);
  SignalMessage message;
  std::string error;
  if (!parse_signal_message(text, message, error)) {
    /* One sentence the sender can read, sent back as JSON text. */
    FUZZ_CHECK(!error.empty());
    FUZZ_CHECK(g_utf8_validate(error.c_str(), static_cast<gssize>(error.size()), nullptr));
    const std::string reply = signal_error_json(error);
    SignalMessage back;
    std::string error2;
    FUZZ_CHECK(parse_signal_message(reply, back, error2));
    FUZZ_CHECK(back.type == SignalMessage::Type::Error);
    FUZZ_CHECK(back.message == error || error.size() > kSignalMaxErrorBytes);
    return 0;
  }
  FUZZ_CHECK(message.type != SignalMessage::Type::Unknown);

  /* What a server writes from a message it read reads back the same. */
  const std::string json = to_json(message);
  SignalMessage again;
  if (!parse_signal_message(json, again, error)) {
    fprintf(stderr, "to_json gave a message that does not read back: %s\n%s\n", error.c_str(),
            json.c_str());
    abort();
  }
  check_same(message, again, true);

  /* What a relay forwards reads back the same, "from" set by the relay. */
  const std::string forwarded = to_forwarded_json(message, "relay-id");
  SignalMessage received;
  if (!parse_signal_message(forwarded, received, error)) {
    fprintf(stderr, "to_forwarded_json gave a message that does not read back: %s\n%s\n",
            error.c_str(), forwarded.c_str());
    abort();
  }
  check_same(message, received, false);
  FUZZ_CHECK(received.from == "relay-id");
  /* Members the relay does not know arrive as they were sent. */
  FUZZ_CHECK(message.json && received.json);
  JsonObject *sent_members = json_node_get_object(message.json.get());
  JsonObject *received_members = json_node_get_object(received.json.get());
  JsonObjectIter iter;
  const gchar *name = nullptr;
  JsonNode *value = nullptr;
  json_object_iter_init(&iter, sent_members);
  while (json_object_iter_next(&iter, &name, &value)) {
    if (std::strcmp(name, "from") == 0)
      continue;
    JsonNode *arrived = json_object_get_member(received_members, name);
    FUZZ_CHECK(arrived != nullptr);
    FUZZ_CHECK(json_node_equal(value, arrived));
  }

  /* A message built in code (no json) forwards through to_json. */
  SignalMessage built = message;
  built.json.reset();
  SignalMessage rebuilt;
  FUZZ_CHECK(parse_signal_message(to_forwarded_json(built, "x"), rebuilt, error));
  check_same(message, rebuilt, false);
  return 0;
}
