/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ICE servers: the one parser of the URLs users give (the sink's stun-server
 * and turn-servers, livecast --stun/--turn, `livecast signal --stun/--turn`),
 * in GStreamer's form, which webrtcbin reads too:
 *
 *   stun://HOST[:PORT]
 *   turn://USER:PASS@HOST[:PORT][?transport=udp|tcp]
 *   turns://USER:PASS@HOST[:PORT][?transport=udp|tcp]
 *
 * and what viewers are told: the browser's form (RTCIceServer, "turn:host:port")
 * and the "iceServers" JSON of /config, the /ws welcome and the relay's welcome.
 */
#pragma once

#include <string>
#include <vector>

#include "protocol/json.h"

namespace livecast
{

/* One entry of RTCConfiguration.iceServers, as browsers take it and as a
 * relay's welcome carries it: {"urls":["turn:host:port?transport=udp"],
 * "username":…,"credential":…}. */
struct BrowserIceServer {
  std::vector<std::string> urls;
  std::string username;   /* "" when absent */
  std::string credential; /* "" when absent */
};

/* One ICE server from a URL in the form above. */
struct IceServer {
  std::string url;        /* as given */
  std::string scheme;     /* stun, turn, turns (lower case) */
  std::string host;       /* a name or an address; IPv6 without its brackets */
  int port = 0;           /* 1-65535; 3478 (5349 for turns) when the URL has none */
  std::string username;   /* TURN only, %-escapes decoded */
  std::string credential; /* TURN only, %-escapes decoded */
  std::string transport;  /* TURN only: "udp", "tcp", or "" */

  bool is_turn() const { return scheme != "stun"; }
  /* "stun:host:port", "turn:[::1]:3478?transport=udp" (RFC 7064/7065). */
  std::string browser_url() const;
  /* The form above, as webrtcbin's stun-server and add-turn-server take it:
   * "stun://host:port", "turn://user:pass@host:port?transport=udp" (user
   * and password %-escaped), whatever form the server came in. */
  std::string gstreamer_url() const;
  BrowserIceServer browser() const;
};

/* Parses one URL of the form above. false with @error set to one sentence
 * naming the URL and the forms, with what was wrong in parentheses, e.g.
 * ICE server "turn://h:3478" is not stun://HOST:PORT, turn://USER:PASS@HOST:PORT
 * or turns://USER:PASS@HOST:PORT (a TURN server needs credentials). */
bool parse_ice_server(const std::string &url, IceServer &out, std::string &error);

/* Writes the RTCConfiguration.iceServers array (the value, after its key):
 * "urls" always an array; "username" and "credential" when set. */
void write_ice_servers(JsonWriter &writer, const std::vector<BrowserIceServer> &servers);
void write_ice_servers(JsonWriter &writer, const std::vector<IceServer> &servers);

/* RTCConfiguration.iceTransportPolicy: which candidates a peer may use. */
enum class IceTransportPolicy { All, Relay };

/* "all" or "relay", as browsers take it. */
const char *ice_transport_policy_name(IceTransportPolicy policy);

}  // namespace livecast
