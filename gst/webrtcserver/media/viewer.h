/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One viewer as the viewer set keeps it (its branch, negotiation, feedback,
 * place on the ladder and last statistics). Private to viewerset.cpp and
 * viewerstats.cpp.
 */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "negotiation.h"
#include "session/session.h"
#include "viewerbranch.h"
#include "viewerladder.h"
#include "viewerset.h"

namespace livecast
{

struct ViewerSet::Viewer {
  std::string id;
  std::string etag;
  std::unique_ptr<ViewerBranch> branch;
  std::unique_ptr<Negotiation> negotiation;
  std::function<void(SessionResult)> pending; /* the answer (or our offer) not yet given */
  SessionEvents events;                       /* trickle and end notices (WebSocket) */
  bool announced = false;                     /* viewer-added was emitted */
  bool publisher = false;                     /* a WHIP publication, not a viewer (OfferOptions) */
  bool ended_by_channel = false;              /* DELETE, bye or socket closed: nobody to tell */
  bool connected = false;
  gint64 created_us = 0;
  std::string ice_state = "new";
  /* Last statistics read from webrtcbin. */
  guint64 bytes_sent = 0;
  gint64 bytes_sent_at = 0;
  guint64 bytes_received = 0; /* RTP from the viewer: its microphone */
  double bitrate = 0;
  gint64 packets_lost = 0;
  double rtt = -1;
  guint64 pli_count = 0;
  /* Its bandwidth estimate and place on the ladder (once connected). */
  std::unique_ptr<ViewerLadder> ladder;
};

}  // namespace livecast
