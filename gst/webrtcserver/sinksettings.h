/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * webrtcserversink's properties: their one table (names, blurbs, ranges,
 * flags, defaults), the settings they hold, and what each part of the
 * element is configured from. The element adds what a change does while
 * it plays (gstwebrtcserversink.cpp).
 */
#pragma once

#include <glib-object.h>

#include <string>
#include <vector>

#include "signalling/httpapi.h"
#include "media/mediafanout.h"
#include "media/viewerset.h"

namespace livecast
{

enum SinkProperty {
  PROP_0,
  PROP_VIDEO_CODEC,
  PROP_BITRATE,
  PROP_KEY_INT_MAX,
  PROP_BIND_ADDRESS,
  PROP_PORT,
  PROP_BOUND_PORT,
  PROP_STUN_SERVER,
  PROP_TURN_SERVERS,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_ICE_ADDRESSES,
  PROP_TOKEN,
  PROP_CORS_ORIGIN,
  PROP_MAX_VIEWERS,
  PROP_MAX_PENDING,
  PROP_MAX_OFFERS_PER_SECOND,
  PROP_WEB_ROOT,
  PROP_SIGNALING_URL,
  PROP_ROOM,
  PROP_TLS_CERTIFICATE,
  PROP_TLS_KEY,
  PROP_SYNC,
  PROP_AUDIO_BITRATE,
  PROP_TALKBACK,
  PROP_LADDER,
  PROP_PLAYOUT_DELAY,
  PROP_VIEWERS,
  PROP_STATS,
  PROP_WHIP_URL,
  PROP_WHIP_TOKEN,
};

constexpr int kDefaultPort = 8080;
constexpr guint kDefaultBitrate = 2000; /* kbit/s */
constexpr guint kDefaultKeyIntMax = 60;
/* A class, a meeting or a launch watches at once; two cores serve about 64
 * viewers of 720p30 (tests/bench), bigger machines more. */
constexpr guint kDefaultMaxViewers = 100;
/* Sessions still connecting at once: each holds a webrtcbin, so a flood of
 * offers that never connect is capped here; a whole class may press play
 * in the same second. */
constexpr guint kDefaultMaxPending = 32;
/* Per client address: a class behind one NAT address shares it. */
constexpr guint kDefaultMaxOffersPerSecond = 20;
constexpr VideoCodec kDefaultCodec = VideoCodec::H264;
constexpr guint kDefaultAudioBitrate = 64; /* kbit/s, Opus */
/* A ladder for camera-like content: every viewer gets what its own link
 * carries (media/ladder.h); the launcher's screen presets pick "screen". */
constexpr Ladder kDefaultLadder = Ladder::Camera;
/* Chromium shows each frame as soon as it is decoded (tests/bench/bench_glass.mjs). */
constexpr int kDefaultPlayoutDelay = 0; /* ms; -1: no playout-delay extension */
struct SinkSettings {
  VideoCodec codec = kDefaultCodec;
  guint bitrate = kDefaultBitrate;
  guint key_int_max = kDefaultKeyIntMax;
  std::string bind_address = "127.0.0.1";
  int port = kDefaultPort;
  std::string stun_server;
  std::vector<std::string> turn_servers;
  IceTransportPolicy ice_transport_policy = IceTransportPolicy::All;
  std::vector<std::string> ice_addresses;
  std::string token;
  std::string cors_origin = "*";
  guint max_viewers = kDefaultMaxViewers;
  guint max_pending = kDefaultMaxPending;
  guint max_offers_per_second = kDefaultMaxOffersPerSecond;
  std::string web_root;
  std::string signaling_url; /* client mode: the relay to connect to */
  std::string room = "livecast";
  std::string tls_certificate; /* PEM file; set: HTTPS and WSS */
  std::string tls_key;         /* PEM file; empty: in the certificate file */
  bool sync = true;
  guint audio_bitrate = kDefaultAudioBitrate;
  bool talkback = false;
  Ladder ladder = kDefaultLadder;
  std::string whip_url;   /* set: publish to this WHIP endpoint too */
  std::string whip_token; /* its bearer token */
  int playout_delay_ms = kDefaultPlayoutDelay;
};

/* What each part of the element is configured from. */
ViewerSettings viewer_settings(const SinkSettings &s);
FanoutSettings fanout_settings(const SinkSettings &s);

/* Installs every property of the element on @klass. */
void install_sink_properties(GObjectClass *klass);
/* Reads or writes the setting behind @prop_id; false for the properties
 * that are not settings (bound-port, viewers, stats). */
bool set_sink_setting(SinkSettings &s, guint prop_id, const GValue *value);
bool get_sink_setting(const SinkSettings &s, guint prop_id, GValue *value);

GType ice_transport_policy_get_type();
GType ladder_get_type();

}  // namespace livecast
