/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every viewer of webrtcserversink, and the SessionBackend the signalling
 * front ends talk to: admission (max-viewers, max-pending, ids), each
 * viewer's branch and negotiation, why and how a viewer ends, the
 * housekeeping that notices vanished viewers, the statistics, and the
 * tick (every kLadderTickMs) that steps each viewer's ViewerLadder
 * (viewerladder.h: its estimate and place on the ladder).
 *
 * Viewers are added, changed and removed on the loop thread only; the
 * counters that other threads read (the element's properties) are atomic
 * or under the lock.
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "eventloop.h"
#include "protocol/json.h"
#include "mediafanout.h"
#include "negotiation.h"
#include "session/session.h"
#include "viewerbranch.h"
#include "wsmediafeed.h"

namespace livecast
{

struct ViewerSettings {
  guint max_viewers = 100; /* 0: no limit */
  guint max_pending = 32;  /* still connecting; 0: no limit */
  bool talkback = false;
  int playout_delay_ms = 0; /* -1: no playout-delay extension (rtpextensions.h) */
  IceSettings ice;
};

/* Viewers turned away, by the limit that did it. */
struct RefusedCounts {
  guint64 max_viewers = 0, max_pending = 0, rate = 0;
};

class ViewerSet : public SessionBackend, public std::enable_shared_from_this<ViewerSet>
{
 public:
  /* What the element hears of its viewers (loop thread). */
  struct Hooks {
    std::function<void(const std::string &id, GstElement *webrtcbin)> added;
    std::function<void(const std::string &id, const std::string &reason)> ended;
    std::function<void()> count_changed;
    /* More members of the /stats object (the WHIP publisher's state). */
    std::function<void(JsonWriter &)> more_stats;
  };

  /* @element: the sink, where branches go; @loop: where everything here runs. */
  ViewerSet(GstElement *element, MediaFanout &fanout, EventLoop &loop, Hooks hooks);
  ~ViewerSet() override;

  void configure(const ViewerSettings &settings);
  /* Sessions may start (PAUSED or PLAYING). */
  void set_streaming(bool streaming);

  /* Ends viewer @id (loop thread). */
  void end(const std::string &id, const std::string &reason);
  void end_all(const std::string &reason);
  /* Once a second (loop thread): statistics, vanished viewers, memory. */
  void housekeeping();

  guint count() const;
  RefusedCounts refused() const;
  /* Connected WebRTC viewers on each rung of the ladder, rung 0 (the top)
   * first; one entry per rung the fanout has (viewerstats.cpp). */
  std::vector<guint> rung_viewers() const;

  /* SessionBackend */
  bool current_video(SentVideo &sent) override;
  void create_session(const OfferCheck &offer, SessionEvents events,
                      std::function<void(SessionResult)> done) override;
  void create_offer_session(SessionEvents events, const OfferOptions &options,
                            std::function<void(SessionResult)> done) override;
  int apply_answer(const std::string &id, const std::string &answer_sdp,
                   std::string &message) override;
  int add_remote_candidates(const std::string &id, const SdpFragment &frag,
                            std::string &message) override;
  std::string session_etag(const std::string &id) override;
  bool end_session(const std::string &id) override;
  std::string stats_json() override;
  void session_rate_limited() override { refused_rate_++; }
  void create_media_session(std::function<bool(const std::string &)> send_binary,
                            SessionEvents events, std::function<void(SessionResult)> done) override;

 private:
  struct Viewer;
  /* rung_viewers() for @rungs rungs, with lock_ held; only the viewers of
   * @codec's rungs when it is given. Publishers are nobody's viewers. */
  std::vector<guint> count_on_rungs(std::size_t rungs, const VideoCodec *codec = nullptr) const;
  void create(GstWebRTCSessionDescription *offer, const OfferCheck &checked, SessionEvents events,
              const OfferOptions &options, std::function<void(SessionResult)> done);
  Guarded guarded(const std::string &id);
  Viewer *find(const std::string &id);
  /* Viewers counted against max-viewers: sessions that are not publishers,
   * and WebSocket media readers. Under lock_. */
  std::size_t watching_locked() const;
  void on_local_sdp(Viewer &v, bool ok, int status, const std::string &text);
  void on_ice_state(Viewer &v, GstWebRTCICEConnectionState state);
  void on_connection_state(Viewer &v, GstWebRTCPeerConnectionState state);
  void read_stats(Viewer &v);
  void update_consumers();
  void start_ladder_ticks();
  void ladder_tick();
  std::string random_hex(int bytes);

  GstElement *element_;
  MediaFanout &fanout_;
  EventLoop &loop_;
  Hooks hooks_;
  mutable std::mutex lock_; /* settings_, viewers_ (for readers on other threads), ended_ */
  ViewerSettings settings_;
  bool streaming_ = false;
  std::map<std::string, std::unique_ptr<Viewer>> viewers_;
  struct Ended {
    std::string id;
    std::string reason;
    gint64 at_us;
  };
  std::deque<Ended> ended_; /* newest first */
  std::atomic<guint64> refused_max_viewers_{0}, refused_max_pending_{0}, refused_rate_{0};
  /* Loop thread only: memory handed back after viewers leave (housekeeping). */
  bool branches_disposed_ = false;
  bool ladder_ticking_ = false;
  gint64 last_trim_us_ = 0;
  std::random_device random_;
  /* Viewers that get the stream over their /ws socket (wsmediafeed.h). */
  std::shared_ptr<WsMediaFeed> media_feed_;
};

}  // namespace livecast
