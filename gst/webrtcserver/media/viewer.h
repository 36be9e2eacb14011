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

#include "bandwidthestimator.h"
#include "negotiation.h"
#include "rtxbudget.h"
#include "rungcontroller.h"
#include "session/session.h"
#include "viewerbranch.h"
#include "viewerfeedback.h"
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
  /* Its bandwidth estimate (once connected) and place on the ladder. */
  std::unique_ptr<ViewerFeedback> feedback;
  std::unique_ptr<RungController> controller;
  std::unique_ptr<RtxBudget> rtx;
  std::vector<uint64_t> rung_bps;
  BandwidthEstimate estimate;
  guint64 sent_bytes_mark = 0; /* the feedback's bytes_sent at sent_mark_us */
  gint64 sent_mark_us = 0;
  double sent_bps = 0; /* RTP leaving for it, last kReceivedWindowUs */
  guint64 rung_switches = 0;
  guint64 padding_probes = 0;
  guint64 rtx_asked_mark = 0, media_mark = 0; /* the RTX budget's counts at the last tick */
};

}  // namespace livecast
