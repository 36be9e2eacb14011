/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rooms of `livecast signal`, without the network: clients connect,
 * send text, disconnect; the relay answers through the Output interface.
 * signalserver.cpp ties it to libsoup's WebSocket server; the unit test
 * drives it directly.
 *
 * Rules (see README.md, "livecast signal"):
 *  - a client's first message is {"type":"join","room":"…"}; it gets
 *    {"type":"welcome","id":"…","room":"…","peers":[ids of the others],"iceServers":[…]}
 *    ("iceServers" only when the relay was given some) and the others
 *    get {"type":"join","from":id};
 *  - offer, answer, candidate, bye and error go to every other member, or only
 *    to "to", with "from" set to the sender's id (unknown members kept);
 *  - {"type":"leave"} or a closed connection: the others get {"type":"leave","from":id};
 *  - anything wrong gets {"type":"error","message":"…"}; the connection stays,
 *    except for a flood that goes on (closed with 1008 and a reason).
 */
#pragma once

#include <glib.h>

#include "protocol/signalmessage.h"
#include "protocol/tokenbucket.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace livecast
{

struct SignalRelayLimits {
  std::size_t max_clients = 1024; /* connections at once */
  std::size_t max_rooms = 256;
  std::size_t max_members = 16; /* per room */
  /* Token bucket per client: a steady rate and a burst (a browser trickles
   * a dozen candidates at once). */
  unsigned messages_per_second = 50;
  unsigned burst = 100;
  /* A client still over the rate this long after it was first told is closed. */
  gint64 flood_close_after_us = 3 * G_USEC_PER_SEC;
  /* At most one "too many messages" error per client in this time. */
  gint64 flood_error_interval_us = G_USEC_PER_SEC;
};

/* WebSocket close codes the relay uses (RFC 6455). */
constexpr int kCloseFlood = 1008;      /* policy violation */
constexpr int kCloseServerFull = 1013; /* try again later */

class SignalRelay
{
 public:
  using ClientHandle = std::uint64_t;

  class Output
  {
   public:
    virtual ~Output() = default;
    virtual void send(ClientHandle client, const std::string &text) = 0;
    /* Ends the connection; the transport calls disconnect() once it is gone. */
    virtual void close(ClientHandle client, int code, const std::string &reason) = 0;
  };

  SignalRelay(Output &output, SignalRelayLimits limits);
  ~SignalRelay();

  /* ICE servers every welcome hands out (STUN/TURN on the relay's host). */
  void set_ice_servers(std::vector<BrowserIceServer> servers) { ice_servers_ = std::move(servers); }

  /* A new connection. false when the server is full: the caller closes it
   * with kCloseServerFull and @reason. */
  bool connect(ClientHandle client, std::string &reason);
  /* One text message from @client at monotonic time @now_us. */
  void receive(ClientHandle client, const std::string &text, gint64 now_us);
  /* A binary message: not part of the protocol, answered with an error. */
  void receive_binary(ClientHandle client, gint64 now_us);
  /* The connection is gone (closed by either side). */
  void disconnect(ClientHandle client);

  std::size_t client_count() const { return clients_.size(); }
  std::size_t room_count() const { return rooms_.size(); }
  /* The public id of @client ("" if unknown). */
  std::string client_id(ClientHandle client) const;

 private:
  struct Client;
  struct Room;

  /* Spends one message from the client's budget; false when it is over
   * the rate (the client has been told or closed). */
  bool admit(Client &client, gint64 now_us);
  void handle_join(Client &client, const std::string &room);
  void leave_room(Client &client);
  void send_error(const Client &client, const std::string &message);
  std::string new_id();

  Output &output_;
  SignalRelayLimits limits_;
  std::vector<BrowserIceServer> ice_servers_;
  std::map<ClientHandle, std::unique_ptr<Client>> clients_;
  std::map<std::string, std::unique_ptr<Room>> rooms_;
  std::map<std::string, ClientHandle> ids_;
};

}  // namespace livecast
