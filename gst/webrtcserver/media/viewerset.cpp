/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "viewerset.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "debugcategory.h"
#include "viewer.h"
#include "viewerladder.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* A viewer whose ICE never connects is dropped after this. */
constexpr gint64 kConnectTimeoutUs = 20 * G_USEC_PER_SEC;
/* A connected viewer from which nothing (RTCP, DTLS) arrived for this long
 * has vanished. Browsers send RTCP about every second; GStreamer receivers
 * every ~5 s (randomised up to 7.5 s). */
constexpr gint64 kSilenceTimeoutUs = 8 * G_USEC_PER_SEC;
/* At most this often, free memory goes back to the system after viewers left. */
constexpr gint64 kTrimIntervalUs = 5 * G_USEC_PER_SEC;
/* How many ended sessions /stats lists, with why they ended. */
constexpr std::size_t kRecentlyEnded = 32;
/* How often each viewer's estimate is read and its rung decided. */
constexpr guint kLadderTickMs = 250;

}  // namespace

ViewerSet::ViewerSet(GstElement *element, MediaFanout &fanout, EventLoop &loop, Hooks hooks)
    : element_(element),
      fanout_(fanout),
      loop_(loop),
      hooks_(std::move(hooks)),
      media_feed_(std::make_shared<WsMediaFeed>(GST_BIN(element), fanout, loop))
{
  debug_category_init();
}

ViewerSet::~ViewerSet() = default;

void ViewerSet::configure(const ViewerSettings &settings)
{
  std::lock_guard<std::mutex> guard(lock_);
  settings_ = settings;
}

void ViewerSet::set_streaming(bool streaming)
{
  std::lock_guard<std::mutex> guard(lock_);
  streaming_ = streaming;
}

std::string ViewerSet::random_hex(int bytes)
{
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < bytes; i++) {
    const unsigned v = random_() & 0xff;
    out += digits[v >> 4];
    out += digits[v & 0xf];
  }
  return out;
}

ViewerSet::Viewer *ViewerSet::find(const std::string &id)
{
  std::lock_guard<std::mutex> guard(lock_);
  auto it = viewers_.find(id);
  return it == viewers_.end() ? nullptr : it->second.get();
}

/* Runs a function on the loop thread if viewer @id still exists then. Ids
 * are 128 random bits, never reused: the same id is the same viewer. Only
 * the loop thread removes viewers, so what the function touches stays. */
Guarded ViewerSet::guarded(const std::string &id)
{
  std::weak_ptr<ViewerSet> weak = weak_from_this();
  return [weak, id](std::function<void()> fn) {
    std::shared_ptr<ViewerSet> set = weak.lock();
    if (!set)
      return;
    set->loop_.invoke([weak, id, fn]() {
      std::shared_ptr<ViewerSet> set = weak.lock();
      if (set && set->find(id))
        fn();
    });
  };
}

void ViewerSet::update_consumers()
{
  const FanoutState state = fanout_.state();
  const std::size_t rungs = std::max<std::size_t>(1, state.rungs.size());
  /* The stream's own codec's rungs, and VP8's for viewers that get VP8 on demand. */
  std::vector<bool> video(rungs, false), vp8(rungs, false);
  bool audio = false;
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (const auto &v : viewers_) {
      audio = audio || v.second->branch->sends_audio();
      std::vector<bool> &on = v.second->branch->codec() == state.video.codec ? video : vp8;
      for (guint i = 0; i < rungs; i++)
        on[i] = on[i] || v.second->branch->uses_rung(i);
    }
  }
  /* WebSocket media readers take the top rung (media/wsmediafeed.h). */
  video[0] = video[0] || media_feed_->count() > 0;
  audio = audio || (media_feed_->count() > 0 && state.audio);
  fanout_.set_consumers(video, vp8, audio);
}

void ViewerSet::start_ladder_ticks()
{
  if (std::exchange(ladder_ticking_, true))
    return;
  std::weak_ptr<ViewerSet> weak = weak_from_this();
  loop_.add_timeout(kLadderTickMs, [weak]() {
    if (std::shared_ptr<ViewerSet> set = weak.lock())
      set->ladder_tick();
  });
}

/* Every connected viewer's estimate, and its rung from it (loop thread). */
void ViewerSet::ladder_tick()
{
  ladder_ticking_ = false;
  const gint64 now = g_get_monotonic_time();
  bool moved = false;
  std::vector<Viewer *> live;
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (auto &entry : viewers_) {
      if (entry.second->ladder)
        live.push_back(entry.second.get());
    }
  }
  for (Viewer *v : live)
    moved = v->ladder->tick(now) || moved;
  /* Rungs open for viewers switching to them, and close once nobody is on
   * them any more (a switch completes at a key frame, after a tick). */
  update_consumers();
  if (moved && hooks_.count_changed)
    hooks_.count_changed();
  if (!live.empty())
    start_ladder_ticks();
}

bool ViewerSet::current_video(SentVideo &sent)
{
  const FanoutState state = fanout_.state();
  std::lock_guard<std::mutex> guard(lock_);
  if (!state.started || !streaming_)
    return false;
  sent = state.video;
  return true;
}

void ViewerSet::create_session(const OfferCheck &offer, SessionEvents events,
                               std::function<void(SessionResult)> done)
{
  GstSDPMessage *sdp = nullptr;
  if (!offer.sdp || gst_sdp_message_copy(offer.sdp.get(), &sdp) != GST_SDP_OK || !sdp) {
    SessionResult r;
    r.status = 400;
    r.message = "The SDP offer could not be read.";
    done(r);
    return;
  }
  create(gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp), offer,
         std::move(events), OfferOptions(), std::move(done));
}

void ViewerSet::create_offer_session(SessionEvents events, const OfferOptions &options,
                                     std::function<void(SessionResult)> done)
{
  const FanoutState state = fanout_.state();
  bool talkback;
  {
    std::lock_guard<std::mutex> guard(lock_);
    talkback = settings_.talkback;
  }
  create(nullptr, Negotiation::our_offer(state.video, state.audio, talkback), std::move(events),
         options, std::move(done));
}

/* Admits a viewer, builds its branch and starts its negotiation (answering
 * @offer, taken, or making our offer when it is null). */
void ViewerSet::create(GstWebRTCSessionDescription *offer, const OfferCheck &checked,
                       SessionEvents events, const OfferOptions &options,
                       std::function<void(SessionResult)> done)
{
  auto refuse = [&done, offer](int status, std::string message, int retry_after = 0) {
    if (offer)
      gst_webrtc_session_description_free(offer);
    SessionResult r;
    r.status = status;
    r.message = std::move(message);
    r.retry_after = retry_after;
    done(r);
  };
  const FanoutState state = fanout_.state();
  auto viewer = std::make_unique<Viewer>();
  BranchSpec spec;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (!streaming_ || !state.started)
      return refuse(503, "The stream is not running; try again shortly.", 2);
    guint pending = 0;
    for (const auto &v : viewers_)
      pending += v.second->connected || v.second->publisher ? 0 : 1;
    if (!options.publisher && settings_.max_pending > 0 && pending >= settings_.max_pending) {
      refused_max_pending_++;
      return refuse(503,
                    "Too many viewers are connecting at once (" + std::to_string(pending) +
                        ", max-pending); try again in a second.",
                    1);
    }
    const std::size_t watching = watching_locked();
    if (!options.publisher && settings_.max_viewers > 0 && watching >= settings_.max_viewers) {
      refused_max_viewers_++;
      return refuse(503,
                    "This stream is at its limit of " + std::to_string(watching) +
                        " viewer(s) (max-viewers); try again later.",
                    3);
    }
    do {
      viewer->id = random_hex(16);
    } while (viewers_.count(viewer->id));
    spec.ice = settings_.ice;
    /* This session's own servers: the viewers' settings stay as they are. */
    for (const IceServer &server : options.ice_servers) {
      if (server.is_turn())
        spec.ice.turn_servers.push_back(server.gstreamer_url());
      else
        spec.ice.stun_server = server.gstreamer_url();
    }
    spec.talkback = settings_.talkback;
    spec.extensions = choose_video_extensions(checked.video.extmaps, settings_.playout_delay_ms);
  }
  viewer->etag = random_hex(8);
  viewer->publisher = options.publisher;
  viewer->events = std::move(events);
  viewer->created_us = g_get_monotonic_time();
  /* The stream's codec, or VP8 on demand for an offer without it (sdpoffer.h). */
  spec.codec = checked.video.codec;
  spec.video = checked.video;
  spec.audio = checked.audio;
  spec.audio_input = state.audio;
  spec.rungs = static_cast<guint>(std::max<std::size_t>(1, state.rungs.size()));
  spec.start_rung = 0;

  std::string error;
  viewer->branch = ViewerBranch::create(viewer->id, spec, error);
  if (!viewer->branch)
    return refuse(500, "Could not set up the viewer: " + error + ".");
  {
    std::lock_guard<std::mutex> lock(viewer->branch->guard()->lock);
    viewer->branch->guard()->fingerprints = checked.dtls_fingerprints; /* empty when we offer */
  }
  const std::string id = viewer->id;
  Guarded run = guarded(id);
  Negotiation::Callbacks callbacks;
  callbacks.on_local_sdp = [this, id](bool ok, int status, const std::string &text) {
    if (Viewer *v = find(id))
      on_local_sdp(*v, ok, status, text);
  };
  if (viewer->events.on_candidate)
    callbacks.on_candidate = [this, id](const LocalCandidate &c) {
      if (Viewer *v = find(id))
        v->events.on_candidate(c);
    };
  callbacks.on_ice_state = [this, id](GstWebRTCICEConnectionState state) {
    if (Viewer *v = find(id))
      on_ice_state(*v, state);
  };
  callbacks.on_connection_state = [this, id](GstWebRTCPeerConnectionState state) {
    if (Viewer *v = find(id))
      on_connection_state(*v, state);
  };
  callbacks.on_failed = [this, id](const std::string &reason) { end(id, reason); };
  viewer->negotiation = std::make_unique<Negotiation>(viewer->branch->webrtcbin(), checked.video,
                                                      loop_, run, std::move(callbacks));
  viewer->pending = std::move(done);
  Viewer &v = *viewer;
  {
    std::lock_guard<std::mutex> guard(lock_);
    viewers_[id] = std::move(viewer);
  }
  if (!v.branch->attach(element_, fanout_, error)) {
    if (offer)
      gst_webrtc_session_description_free(offer);
    on_local_sdp(v, false, 500, "Could not set up the viewer: " + error + ".");
    return;
  }
  update_consumers();
  fanout_.request_key_unit("viewer joined");
  /* The branch chose its SSRCs (viewerbranch.cpp): no need to wait for a frame. */
  v.negotiation->start(offer);
}

/* The answer (or our offer) is ready, or could not be made. */
void ViewerSet::on_local_sdp(Viewer &v, bool ok, int status, const std::string &text)
{
  if (!v.pending)
    return;
  auto done = std::move(v.pending);
  v.pending = nullptr;
  SessionResult r;
  if (!ok) {
    GST_WARNING_OBJECT(element_, "viewer %s: %s", v.id.c_str(), text.c_str());
    r.status = status;
    r.message = text;
    done(r);
    end(v.id, "negotiation failed");
    return;
  }
  r.ok = true;
  r.id = v.id;
  r.etag = v.etag;
  r.answer_sdp = text;
  done(r);
  /* The DTLS decoders exist now, and ICE cannot be up yet. */
  const std::string id = v.id;
  v.branch->watch_certificate(guarded(id), [this, id](std::string why) {
    GST_WARNING_OBJECT(element_, "viewer %s: %s", id.c_str(), why.c_str());
    end(id, why);
  });
  if (v.publisher)
    return;
  v.announced = true;
  if (hooks_.added)
    hooks_.added(v.id, v.branch->webrtcbin());
  if (hooks_.count_changed)
    hooks_.count_changed();
}

void ViewerSet::on_ice_state(Viewer &v, GstWebRTCICEConnectionState state)
{
  GEnumValue *value = g_enum_get_value(
      G_ENUM_CLASS(g_type_class_peek(GST_TYPE_WEBRTC_ICE_CONNECTION_STATE)), state);
  v.ice_state = value ? value->value_nick : "unknown";
  GST_DEBUG_OBJECT(element_, "viewer %s: ICE %s", v.id.c_str(), v.ice_state.c_str());
  switch (state) {
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      if (!v.connected) {
        v.connected = true;
        v.branch->watch_received(fanout_);
        /* Its own estimate, for /stats and, with a ladder, its rung. */
        std::string error;
        v.ladder = ViewerLadder::watch(element_, v.id, *v.branch, fanout_.state().rungs, error);
        if (v.ladder)
          start_ladder_ticks();
        else
          GST_WARNING_OBJECT(element_, "viewer %s: no bandwidth estimate: %s", v.id.c_str(),
                             error.c_str());
        GST_INFO_OBJECT(element_, "viewer %s connected", v.id.c_str());
      }
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
      end(v.id, state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED ? "ICE failed" : "ICE closed");
      break;
    default:
      break;
  }
}

void ViewerSet::on_connection_state(Viewer &v, GstWebRTCPeerConnectionState state)
{
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    std::string why;
    if (!v.branch->certificate_checked(why)) {
      GST_WARNING_OBJECT(element_, "viewer %s: %s", v.id.c_str(), why.c_str());
      return end(v.id, why);
    }
    /* DTLS is up: the first packets it can decrypt must start a picture. */
    fanout_.request_key_unit("viewer connected");
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    end(v.id, "its DTLS handshake or ICE failed");
  }
}

int ViewerSet::apply_answer(const std::string &id, const std::string &answer_sdp,
                            std::string &message)
{
  GstSDPMessage *sdp = nullptr;
  if (answer_sdp.compare(0, 2, "v=") != 0 ||
      gst_sdp_message_new_from_text(answer_sdp.c_str(), &sdp) != GST_SDP_OK || !sdp) {
    if (sdp)
      gst_sdp_message_free(sdp);
    message = "The answer is not valid SDP.";
    return 400;
  }
  Viewer *v = find(id);
  if (!v) {
    gst_sdp_message_free(sdp);
    message = "There is no viewer session \"" + id + "\".";
    return 404;
  }
  std::vector<DtlsFingerprint> fingerprints = sdp_dtls_fingerprints(sdp, 0);
  if (fingerprints.empty() && v->negotiation->we_offer()) {
    gst_sdp_message_free(sdp);
    message = "The answer has no well-formed DTLS fingerprint (a=fingerprint).";
    return 400;
  }
  if (v->negotiation->we_offer()) {
    std::lock_guard<std::mutex> lock(v->branch->guard()->lock);
    v->branch->guard()->fingerprints = std::move(fingerprints);
  }
  return v->negotiation->apply_answer(sdp, message);
}

int ViewerSet::add_remote_candidates(const std::string &id, const SdpFragment &frag,
                                     std::string &message)
{
  Viewer *v = find(id);
  if (!v) {
    message = "There is no viewer session \"" + id + "\".";
    return 404;
  }
  return v->negotiation->add_remote_candidates(frag, message);
}

std::string ViewerSet::session_etag(const std::string &id)
{
  Viewer *v = find(id);
  return v ? v->etag : std::string();
}

void ViewerSet::create_media_session(std::function<bool(const std::string &)> send_binary,
                                     SessionEvents events, std::function<void(SessionResult)> done)
{
  const FanoutState state = fanout_.state();
  SessionResult r;
  {
    std::lock_guard<std::mutex> guard(lock_);
    const std::size_t watching = watching_locked();
    if (!streaming_ || !state.started) {
      r.status = 503;
      r.message = "The stream is not running; try again shortly.";
    } else if (settings_.max_viewers > 0 && watching >= settings_.max_viewers) {
      refused_max_viewers_++;
      r.status = 503;
      r.message = "This stream is at its limit of " + std::to_string(watching) +
                  " viewer(s) (max-viewers); try again later.";
    } else {
      do {
        r.id = random_hex(16);
      } while (viewers_.count(r.id) || media_feed_->has(r.id));
      r.ok = true;
    }
  }
  if (!r.ok) {
    done(r);
    return;
  }
  const std::string id = r.id;
  /* Told first: the frames follow on a later turn of the loop. */
  done(r);
  std::weak_ptr<ViewerSet> weak = weak_from_this();
  media_feed_->add(id, std::move(send_binary),
                   [weak, id, on_ended = events.on_ended](const std::string &reason) {
                     if (auto set = weak.lock()) {
                       std::lock_guard<std::mutex> guard(set->lock_);
                       set->ended_.push_front({id, reason, g_get_monotonic_time()});
                       if (set->ended_.size() > kRecentlyEnded)
                         set->ended_.pop_back();
                     }
                     if (on_ended)
                       on_ended(reason);
                   });
  update_consumers();
  GST_INFO_OBJECT(element_, "WebSocket media viewer %s joined", id.c_str());
  if (hooks_.count_changed)
    hooks_.count_changed();
}

bool ViewerSet::end_session(const std::string &id)
{
  if (media_feed_->remove(id)) {
    {
      std::lock_guard<std::mutex> guard(lock_);
      ended_.push_front(
          {id, "the viewer said bye or closed its WebSocket", g_get_monotonic_time()});
      if (ended_.size() > kRecentlyEnded)
        ended_.pop_back();
    }
    update_consumers();
    GST_INFO_OBJECT(element_, "WebSocket media viewer %s left", id.c_str());
    if (hooks_.count_changed)
      hooks_.count_changed();
    return true;
  }
  Viewer *v = find(id);
  if (!v)
    return false;
  v->ended_by_channel = true;
  end(id, v->events.on_ended ? "the viewer said bye or closed its WebSocket"
                             : "the viewer said goodbye (DELETE)");
  return true;
}

void ViewerSet::end(const std::string &id, const std::string &reason)
{
  std::unique_ptr<Viewer> v;
  {
    std::lock_guard<std::mutex> guard(lock_);
    auto it = viewers_.find(id);
    if (it == viewers_.end())
      return;
    v = std::move(it->second);
    viewers_.erase(it);
    ended_.push_front({id, reason, g_get_monotonic_time()});
    if (ended_.size() > kRecentlyEnded)
      ended_.pop_back();
  }
  update_consumers();
  GST_INFO_OBJECT(element_, "viewer %s ended: %s", id.c_str(), reason.c_str());
  if (v->events.on_ended && !v->ended_by_channel)
    v->events.on_ended(reason);
  if (v->pending) {
    SessionResult r;
    r.status = 503;
    r.message = "The viewer session ended before it was answered: " + reason + ".";
    v->pending(r);
  }
  v->branch->detach(loop_);
  branches_disposed_ = true;
  const bool announced = v->announced;
  /* Freed on a later turn of the loop: end() may be running inside one of
   * the viewer's own callbacks (its negotiation failed). */
  std::shared_ptr<Viewer> later(std::move(v));
  loop_.add_timeout(0, [later]() {});
  if (announced) {
    if (hooks_.ended)
      hooks_.ended(id, reason);
    if (hooks_.count_changed)
      hooks_.count_changed();
  }
}

void ViewerSet::end_all(const std::string &reason)
{
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (const auto &v : viewers_)
      ids.push_back(v.first);
  }
  for (const auto &id : ids)
    end(id, reason);
  if (media_feed_->count() > 0) {
    media_feed_->end_all(reason);
    update_consumers();
    if (hooks_.count_changed)
      hooks_.count_changed();
  }
}

std::size_t ViewerSet::watching_locked() const
{
  std::size_t n = media_feed_->count();
  for (const auto &v : viewers_)
    n += v.second->publisher ? 0 : 1;
  return n;
}

guint ViewerSet::count() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return static_cast<guint>(watching_locked());
}

RefusedCounts ViewerSet::refused() const
{
  return RefusedCounts{refused_max_viewers_, refused_max_pending_, refused_rate_};
}

void ViewerSet::housekeeping()
{
  fanout_.update_rates();
  const gint64 now = g_get_monotonic_time();
  std::vector<std::pair<std::string, const char *>> expired;
  std::vector<Viewer *> live;
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (auto &entry : viewers_) {
      Viewer &v = *entry.second;
      const gint64 last_rx = v.branch->last_received_us();
      GST_LOG_OBJECT(element_, "viewer %s: %s, last packet %.1f s ago", v.id.c_str(),
                     v.ice_state.c_str(), (now - last_rx) / 1e6);
      if (!v.connected && now - v.created_us > kConnectTimeoutUs)
        expired.emplace_back(v.id, "ICE did not connect in time");
      else if (v.connected &&
               now - last_rx > (v.events.silence_timeout_us > 0 ? v.events.silence_timeout_us
                                                                : kSilenceTimeoutUs))
        expired.emplace_back(v.id, "nothing received from the viewer (it vanished)");
      else if (v.connected)
        live.push_back(&v);
    }
  }
  for (Viewer *v : live)
    read_stats(*v);
  for (const auto &e : expired)
    end(e.first, e.second);
#ifdef __GLIBC__
  /* A crowd of viewers that has left leaves its webrtcbins' memory free but
   * scattered over glibc's heaps, where it stays resident for days; give
   * it back to the system now and then. */
  if (branches_disposed_ && now - last_trim_us_ > kTrimIntervalUs) {
    branches_disposed_ = false;
    last_trim_us_ = now;
    malloc_trim(0);
  }
#endif
}

}  // namespace livecast
