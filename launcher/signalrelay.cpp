/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signalrelay.h"

#include "protocol/signalmessage.h"

#include <algorithm>
#include <cstdio>

namespace livecast
{

struct SignalRelay::Client {
  Client(ClientHandle h, std::string i, const SignalRelayLimits &limits)
      : handle(h),
        id(std::move(i)),
        rate(TokenBucket(limits.messages_per_second, limits.burst), limits.flood_close_after_us,
             limits.flood_error_interval_us)
  {
  }

  ClientHandle handle = 0;
  std::string id;   /* public, unguessable enough that ids are not enumerable */
  std::string room; /* "" before join and after leave */
  bool closing = false;
  MessageRateLimit rate;
};

struct SignalRelay::Room {
  std::vector<ClientHandle> members; /* in join order */
};

SignalRelay::SignalRelay(Output &output, SignalRelayLimits limits)
    : output_(output), limits_(limits)
{
}

SignalRelay::~SignalRelay() = default;

std::string SignalRelay::new_id()
{
  /* 64 random bits from GLib's /dev/urandom-seeded generator, as 16 hex
   * digits; a collision (never seen in practice) draws again, bounded. */
  for (int attempt = 0; attempt < 16; attempt++) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", g_random_int(), g_random_int());
    if (!ids_.count(buf))
      return buf;
  }
  return {};
}

std::string SignalRelay::client_id(ClientHandle client) const
{
  auto it = clients_.find(client);
  return it == clients_.end() ? std::string() : it->second->id;
}

bool SignalRelay::connect(ClientHandle handle, std::string &reason)
{
  if (clients_.size() >= limits_.max_clients) {
    reason = "The server has " + std::to_string(limits_.max_clients) +
             " connections, its limit; try again later.";
    return false;
  }
  std::string id = new_id();
  if (id.empty() || clients_.count(handle)) {
    reason = "The server could not give this connection an id.";
    return false;
  }
  auto client = std::make_unique<Client>(handle, id, limits_);
  ids_[id] = handle;
  clients_[handle] = std::move(client);
  return true;
}

void SignalRelay::send_error(const Client &client, const std::string &message)
{
  output_.send(client.handle, signal_error_json(message));
}

bool SignalRelay::admit(Client &c, gint64 now_us)
{
  switch (c.rate.admit(now_us)) {
    case RateVerdict::Pass:
      return true;
    case RateVerdict::Drop:
      return false;
    case RateVerdict::DropAndTell:
      send_error(c, "Too many messages: the limit is " +
                        std::to_string(limits_.messages_per_second) +
                        " per second, so messages are dropped until you slow down.");
      return false;
    case RateVerdict::Close:
      c.closing = true;
      output_.close(c.handle, kCloseFlood,
                    "Too many messages per second for too long; the limit is " +
                        std::to_string(limits_.messages_per_second) + ".");
      return false;
  }
  return false;
}

void SignalRelay::receive_binary(ClientHandle handle, gint64 now_us)
{
  auto it = clients_.find(handle);
  if (it == clients_.end() || it->second->closing || !admit(*it->second, now_us))
    return;
  send_error(*it->second, "Binary messages are not part of the protocol; send JSON text.");
}

void SignalRelay::receive(ClientHandle handle, const std::string &text, gint64 now_us)
{
  auto it = clients_.find(handle);
  if (it == clients_.end() || it->second->closing)
    return;
  Client &client = *it->second;
  if (!admit(client, now_us))
    return;

  SignalMessage message;
  std::string error;
  if (!parse_signal_message(text, message, error))
    return send_error(client, error);

  using Type = SignalMessage::Type;
  switch (message.type) {
    case Type::Join:
      if (!client.room.empty())
        return send_error(client, "You are already in room \"" + client.room +
                                      "\"; send {\"type\":\"leave\"} before joining another.");
      if (message.room.empty())
        return send_error(client, "A join message needs a \"room\" to join.");
      return handle_join(client, message.room);
    case Type::Welcome:
      return send_error(client, "Only the server sends welcome messages.");
    case Type::Leave:
      if (client.room.empty())
        return send_error(client, "You are not in a room, so there is nothing to leave.");
      return leave_room(client);
    case Type::Offer:
    case Type::Answer:
    case Type::Candidate:
    case Type::Bye:
    case Type::Error:
      break;
    case Type::Media:
      return send_error(client, "Media over the WebSocket comes from the stream's own /ws; a relay "
                                "carries only signalling.");
    case Type::Unknown:
      return send_error(client, "The message type is unknown.");
  }

  if (client.room.empty())
    return send_error(client, "Join a room first: send {\"type\":\"join\",\"room\":\"…\"}.");
  Room &room = *rooms_.at(client.room);
  const std::string forwarded = to_forwarded_json(message, client.id);
  if (!message.to.empty()) {
    auto target = ids_.find(message.to);
    const bool in_room =
        target != ids_.end() && target->second != handle &&
        std::find(room.members.begin(), room.members.end(), target->second) != room.members.end();
    if (!in_room)
      return send_error(client, "No other member of room \"" + client.room + "\" has the id \"" +
                                    message.to + "\".");
    output_.send(target->second, forwarded);
    return;
  }
  for (ClientHandle member : room.members) {
    if (member != handle)
      output_.send(member, forwarded);
  }
}

void SignalRelay::handle_join(Client &client, const std::string &room_name)
{
  auto it = rooms_.find(room_name);
  if (it == rooms_.end()) {
    if (rooms_.size() >= limits_.max_rooms)
      return send_error(client, "The server has " + std::to_string(limits_.max_rooms) +
                                    " rooms, its limit; try again later.");
    it = rooms_.emplace(room_name, std::make_unique<Room>()).first;
  }
  Room &room = *it->second;
  if (room.members.size() >= limits_.max_members)
    return send_error(client, "Room \"" + room_name + "\" is full: it has " +
                                  std::to_string(limits_.max_members) + " members.");

  SignalMessage welcome = SignalMessage::welcome(client.id);
  welcome.room = room_name;
  std::vector<std::string> peers;
  for (ClientHandle member : room.members)
    peers.push_back(clients_.at(member)->id);
  welcome.peers = std::move(peers);
  if (!ice_servers_.empty())
    welcome.ice_servers = ice_servers_;

  room.members.push_back(client.handle);
  client.room = room_name;
  output_.send(client.handle, to_json(welcome));
  const std::string joined = to_json(SignalMessage::joined(client.id));
  for (ClientHandle member : room.members) {
    if (member != client.handle)
      output_.send(member, joined);
  }
}

void SignalRelay::leave_room(Client &client)
{
  auto it = rooms_.find(client.room);
  client.room.clear();
  if (it == rooms_.end())
    return;
  Room &room = *it->second;
  room.members.erase(std::remove(room.members.begin(), room.members.end(), client.handle),
                     room.members.end());
  if (room.members.empty()) {
    rooms_.erase(it);
    return;
  }
  const std::string left = to_json(SignalMessage::left(client.id));
  for (ClientHandle member : room.members)
    output_.send(member, left);
}

void SignalRelay::disconnect(ClientHandle handle)
{
  auto it = clients_.find(handle);
  if (it == clients_.end())
    return;
  std::unique_ptr<Client> client = std::move(it->second);
  clients_.erase(it);
  ids_.erase(client->id);
  if (!client->room.empty())
    leave_room(*client);
}

}  // namespace livecast
