/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Client mode: the sink connects out to a signalling relay (`livecast
 * signal`, or any relay speaking protocol/signalmessage.h with rooms), joins
 * a room and serves every viewer there, so a sender behind NAT needs no open
 * port.
 *
 * Each member of the room is one viewer with its own WsSignalingPeer, as if
 * it had come to our own /ws: a member that joins gets our offer, a member
 * that sends an offer gets our answer; messages go out with "to" set to that
 * member, and its "leave" (or "bye") ends its session. Each message from the
 * relay is parsed once, here, and handed to the member's peer as a value.
 *
 * No network here (unit-tested); network/relayclient.h carries the text and
 * reconnects, and the element pairs the two (ARCHITECTURE.md, Signalling).
 */
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "protocol/signalmessage.h"
#include "session/session.h"
#include "wspeer.h"

namespace livecast
{

class RelayRouter
{
 public:
  using Send = std::function<void(const std::string &text)>;

  RelayRouter(SessionBackend &backend, WsSignalingConfig config, std::string room, Send send);
  /* Ends every member's session. */
  ~RelayRouter();
  RelayRouter(const RelayRouter &) = delete;
  RelayRouter &operator=(const RelayRouter &) = delete;

  /* The join message to send once connected. */
  std::string join_message() const;
  /* One message from the relay. */
  void on_message(const std::string &text);
  /* Ends every member's session (the relay went away). */
  void clear();

  const std::string &own_id() const { return own_id_; }
  std::size_t members() const { return peers_.size(); }

 private:
  WsSignalingPeer &peer_for(const std::string &member);

  SessionBackend &backend_;
  WsSignalingConfig config_;
  std::string room_;
  Send send_;
  std::string own_id_; /* from the relay's welcome */
  std::map<std::string, std::unique_ptr<WsSignalingPeer>> peers_;
};

}  // namespace livecast
