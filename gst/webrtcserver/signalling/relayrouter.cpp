/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "relayrouter.h"

#include <gst/gst.h>

#include <utility>

GST_DEBUG_CATEGORY_STATIC(webrtcserver_signaling_debug);
#define GST_CAT_DEFAULT webrtcserver_signaling_debug

namespace livecast
{

namespace
{
void init_debug_category()
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(webrtcserver_signaling_debug, "webrtcserversignaling", 0,
                            "webrtcserversink client mode (signaling relay)");
    g_once_init_leave(&once, 1);
  }
}
}  // namespace

RelayRouter::RelayRouter(SessionBackend &backend, WsSignalingConfig config, std::string room,
                         Send send)
    : backend_(backend), config_(std::move(config)), room_(std::move(room)), send_(std::move(send))
{
  init_debug_category();
}

RelayRouter::~RelayRouter()
{
  clear();
}

std::string RelayRouter::join_message() const
{
  return to_json(SignalMessage::join(room_));
}

void RelayRouter::clear()
{
  /* Each peer ends its session as it goes. */
  peers_.clear();
}

WsSignalingPeer &RelayRouter::peer_for(const std::string &member)
{
  auto it = peers_.find(member);
  if (it != peers_.end())
    return *it->second;
  Send send = send_;
  auto addressed = [send, member](SignalMessage message) {
    message.to = member;
    send(to_json(message));
  };
  auto peer = std::make_unique<WsSignalingPeer>(backend_, config_, addressed,
                                                [addressed](int, const std::string &reason) {
                                                  /* A member flooding us cannot close the relay's
                                                   * socket: it is told. */
                                                  addressed(SignalMessage::error(reason));
                                                });
  WsSignalingPeer &ref = *peer;
  peers_[member] = std::move(peer);
  return ref;
}

void RelayRouter::on_message(const std::string &text)
{
  SignalMessage message;
  std::string error;
  if (!parse_signal_message(text, message, error)) {
    /* Never answered: two servers would trade errors forever. */
    GST_WARNING("relay sent a message we cannot read: %s", error.c_str());
    return;
  }
  const SignalMessage join = SignalMessage::join(std::string());
  switch (message.type) {
    case SignalMessage::Type::Welcome:
      own_id_ = message.id;
      GST_INFO("joined room \"%s\" as %s", room_.c_str(), own_id_.c_str());
      /* Members already there are viewers waiting: offer to each. */
      if (message.peers) {
        for (const std::string &member : *message.peers)
          peer_for(member).on_message(join);
      }
      return;
    case SignalMessage::Type::Join:
      if (message.from.empty() || message.from == own_id_)
        return;
      peers_.erase(message.from); /* joined again: a fresh session */
      peer_for(message.from).on_message(join);
      return;
    case SignalMessage::Type::Leave:
      if (peers_.erase(message.from))
        GST_INFO("member %s left the room", message.from.c_str());
      return;
    case SignalMessage::Type::Error:
      if (message.from.empty()) {
        GST_WARNING("the relay reports: %s", message.message.c_str());
        return;
      }
      GST_INFO("member %s reports: %s", message.from.c_str(), message.message.c_str());
      return;
    default:
      if (message.from.empty() || message.from == own_id_) {
        GST_DEBUG("ignoring a \"%s\" message from the relay itself", message.type_name.c_str());
        return;
      }
      peer_for(message.from).on_message(message);
      return;
  }
}

}  // namespace livecast
