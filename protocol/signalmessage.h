/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The WebSocket signaling protocol (README.md, "WebSocket signaling" and
 * "livecast signal"): one JSON object per message, parsed and validated
 * here into SignalMessage and serialised back. No network: the sink's
 * GET /ws, its client mode and the launcher's relay (`livecast signal`) all
 * speak through this file.
 *
 * Message shapes (members in this order; "from" and "to" may be added to
 * any message, "from" is set by a relay and never trusted from a client):
 *   {"type":"join","room":"…"}                 client: join a room / ask for an offer
 *   {"type":"join","from":"…"}                 relay: a member joined your room
 *   {"type":"welcome","id":"…","room":"…","peers":[…],"iceServers":[…]}  server:
 *                                              your id; from a relay the room and its
 *                                              other members; the ICE servers to use
 *   {"type":"offer","sdp":"v=0…"}  {"type":"answer","sdp":"v=0…"}
 *   {"type":"candidate","candidate":{"candidate":"candidate:…","sdpMid":"0","sdpMLineIndex":0}}
 *   {"type":"candidate","candidate":null}      end of candidates (also accepted:
 *                                              a candidate object with "candidate":"")
 *   {"type":"bye"}                             hang up the peer connection
 *   {"type":"leave"}                           client: leave the room (connection stays)
 *   {"type":"leave","from":"…"}                relay: a member left your room
 *   {"type":"error","message":"One sentence."}
 * Optional members may be null, which means absent. Members this file does
 * not know are allowed and kept in SignalMessage::json, so a relay forwards
 * them untouched (to_forwarded_json).
 */
#pragma once

#include <json-glib/json-glib.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/iceserver.h"
#include "protocol/json.h"

namespace livecast
{

/* Largest message accepted, in bytes of UTF-8 text (a browser offer with
 * audio and video is 4-8 KiB). */
constexpr std::size_t kSignalMaxMessageBytes = 64 * 1024;
/* Deepest nesting of arrays and objects accepted (check_json_text's). */
constexpr int kSignalMaxDepth = kJsonMaxDepth;
/* Longest room name, id, "from" or "to", in bytes. */
constexpr std::size_t kSignalMaxNameBytes = 128;
/* Longest ICE candidate line, in bytes. */
constexpr std::size_t kSignalMaxCandidateBytes = 1024;
/* Longest text of an error message, in bytes. */
constexpr std::size_t kSignalMaxErrorBytes = 1024;

/* One ICE candidate as RTCIceCandidateInit carries it. */
struct SignalCandidate {
  std::string candidate; /* "candidate:…" (no "a="); "" means end of candidates */
  std::string sdp_mid;   /* meaningful when has_sdp_mid */
  bool has_sdp_mid = false;
  int sdp_mline_index = -1;      /* -1 when absent */
  std::string username_fragment; /* "" when absent */

  bool end_of_candidates() const { return candidate.empty(); }
};

struct SignalMessage {
  enum class Type { Join, Welcome, Offer, Answer, Candidate, Bye, Leave, Error, Unknown };

  Type type = Type::Unknown;
  std::string type_name;                         /* as on the wire: "join", "offer", … */
  std::string room;                              /* join (client) */
  std::string id;                                /* welcome: the receiver's own id */
  std::string from;                              /* set by a relay on everything it forwards */
  std::string to;                                /* only this member of the room gets the message */
  std::string sdp;                               /* offer, answer */
  std::string message;                           /* error */
  SignalCandidate candidate;                     /* candidate */
  std::optional<std::vector<std::string>> peers; /* welcome from a relay */
  std::optional<std::vector<BrowserIceServer>> ice_servers; /* welcome */
  /* A server's welcome to its own viewer also says how to connect and what
   * the stream has: */
  std::optional<IceTransportPolicy> ice_transport_policy; /* "iceTransportPolicy" */
  std::optional<bool> audio;                              /* the stream has audio */
  std::optional<bool> talkback;                           /* viewers may send audio */
  int status = 0; /* error: the HTTP status it stands for; 0 when absent */

  /* The object as received (unknown members included); null for messages
   * built in code. */
  std::shared_ptr<JsonNode> json;

  static SignalMessage join(std::string room);
  static SignalMessage joined(std::string from); /* relay: @from joined */
  static SignalMessage welcome(std::string id);
  static SignalMessage offer(std::string sdp);
  static SignalMessage answer(std::string sdp);
  static SignalMessage ice_candidate(SignalCandidate candidate);
  static SignalMessage end_of_candidates();
  static SignalMessage bye();
  static SignalMessage leave();
  static SignalMessage left(std::string from); /* relay: @from left */
  static SignalMessage error(std::string message);
};

/* "join", "welcome", … ; "" for Type::Unknown. */
const char *signal_type_name(SignalMessage::Type type);
/* Type::Unknown for a name that is not part of the protocol. */
SignalMessage::Type signal_type_from_name(const std::string &name);

/* Parses and validates one message. On failure returns false and sets
 * @error to one sentence for the sender, for example
 * "The \"sdp\" member must be a string." @out is reset either way. */
bool parse_signal_message(const std::string &text, SignalMessage &out, std::string &error);

/* The message as JSON text, in the shapes listed above. Members that are
 * empty or absent are left out. */
std::string to_json(const SignalMessage &message);

/* What a relay sends on: the sender's object as received (unknown members
 * kept) with "from" set to @from, replacing any "from" the sender wrote.
 * Messages built in code (no json) are serialised with to_json. */
std::string to_forwarded_json(const SignalMessage &message, const std::string &from);

/* Shorthand for to_json(SignalMessage::error(@message)). */
std::string signal_error_json(const std::string &message);

}  // namespace livecast
