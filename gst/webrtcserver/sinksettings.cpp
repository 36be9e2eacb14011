/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sinksettings.h"

#include <gio/gio.h>
#include <gst/gst.h>

#include "gstrefptr.h"
#include "gstwebrtcserversink.h"
#include "media/playoutdelay.h"

using namespace livecast;

GType gst_webrtc_server_sink_video_codec_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(VideoCodec::H264), "H.264 (constrained baseline, x264enc)", "h264"},
      {static_cast<gint>(VideoCodec::VP8), "VP8 (vp8enc)", "vp8"},
      {static_cast<gint>(VideoCodec::VP9), "VP9 (vp9enc)", "vp9"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstWebRTCServerSinkVideoCodec", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType livecast::ice_transport_policy_get_type()
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(IceTransportPolicy::All), "Use every kind of ICE candidate", "all"},
      {static_cast<gint>(IceTransportPolicy::Relay), "Only relay (TURN) candidates", "relay"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstWebRTCServerSinkIceTransportPolicy", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType livecast::ladder_get_type()
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(Ladder::None), "One encoding at the configured bitrate for every viewer",
       "none"},
      {static_cast<gint>(Ladder::Camera),
       "Camera content: full, half and quarter size at 1, 1/3 and 1/10 of the bitrate", "camera"},
      {static_cast<gint>(Ladder::Screen),
       "Screen content: full size at full and half frame rate, then half size at half rate",
       "screen"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstWebRTCServerSinkLadder", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

namespace livecast
{

/* The addresses ICE gathers on. libnice skips loopback interfaces, so a
 * server bound to loopback (only local viewers can reach it) gathers on
 * 127.0.0.1; otherwise libnice discovers the interfaces itself. */
static std::vector<std::string> ice_addresses_for(const SinkSettings &settings)
{
  if (!settings.ice_addresses.empty())
    return settings.ice_addresses;
  Ref<GInetAddress> bind =
      Ref<GInetAddress>::adopt(g_inet_address_new_from_string(settings.bind_address.c_str()));
  if (bind && g_inet_address_get_is_loopback(bind.get()))
    return {settings.bind_address};
  return {};
}

ViewerSettings viewer_settings(const SinkSettings &s)
{
  ViewerSettings v;
  v.max_viewers = s.max_viewers;
  v.max_pending = s.max_pending;
  v.talkback = s.talkback;
  v.playout_delay_ms = s.playout_delay_ms;
  v.ice.local_addresses = ice_addresses_for(s);
  v.ice.stun_server = s.stun_server;
  v.ice.turn_servers = s.turn_servers;
  v.ice.relay_only = s.ice_transport_policy == IceTransportPolicy::Relay;
  return v;
}

FanoutSettings fanout_settings(const SinkSettings &s)
{
  FanoutSettings f;
  f.codec = s.codec;
  f.bitrate_kbps = s.bitrate;
  f.key_int_max = s.key_int_max;
  f.audio_bitrate_kbps = s.audio_bitrate;
  f.sync = s.sync;
  f.ladder = s.ladder;
  return f;
}

static std::vector<std::string> strings_from_array(const GValue *value)
{
  std::vector<std::string> out;
  const guint n = gst_value_array_get_size(value);
  for (guint i = 0; i < n; i++) {
    const GValue *v = gst_value_array_get_value(value, i);
    if (G_VALUE_HOLDS_STRING(v) && g_value_get_string(v) && *g_value_get_string(v))
      out.emplace_back(g_value_get_string(v));
  }
  return out;
}

bool set_sink_setting(SinkSettings &s, guint prop_id, const GValue *value)
{
  auto str = [value]() {
    const char *v = g_value_get_string(value);
    return std::string(v ? v : "");
  };
  switch (prop_id) {
    case PROP_VIDEO_CODEC:
      s.codec = static_cast<VideoCodec>(g_value_get_enum(value));
      break;
    case PROP_BITRATE:
      s.bitrate = g_value_get_uint(value);
      break;
    case PROP_KEY_INT_MAX:
      s.key_int_max = g_value_get_uint(value);
      break;
    case PROP_BIND_ADDRESS:
      s.bind_address = str();
      break;
    case PROP_PORT:
      s.port = g_value_get_int(value);
      break;
    case PROP_STUN_SERVER:
      s.stun_server = str();
      break;
    case PROP_TURN_SERVERS:
      s.turn_servers = strings_from_array(value);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      s.ice_transport_policy = static_cast<IceTransportPolicy>(g_value_get_enum(value));
      break;
    case PROP_ICE_ADDRESSES:
      s.ice_addresses = strings_from_array(value);
      break;
    case PROP_TOKEN:
      s.token = str();
      break;
    case PROP_CORS_ORIGIN:
      s.cors_origin = str();
      break;
    case PROP_MAX_VIEWERS:
      s.max_viewers = g_value_get_uint(value);
      break;
    case PROP_MAX_PENDING:
      s.max_pending = g_value_get_uint(value);
      break;
    case PROP_MAX_OFFERS_PER_SECOND:
      s.max_offers_per_second = g_value_get_uint(value);
      break;
    case PROP_WEB_ROOT:
      s.web_root = str();
      break;
    case PROP_SIGNALING_URL:
      s.signaling_url = str();
      break;
    case PROP_ROOM:
      s.room = str();
      break;
    case PROP_WHIP_URL:
      s.whip_url = str();
      break;
    case PROP_WHIP_TOKEN:
      s.whip_token = str();
      break;
    case PROP_TLS_CERTIFICATE:
      s.tls_certificate = str();
      break;
    case PROP_TLS_KEY:
      s.tls_key = str();
      break;
    case PROP_SYNC:
      s.sync = g_value_get_boolean(value);
      break;
    case PROP_AUDIO_BITRATE:
      s.audio_bitrate = g_value_get_uint(value);
      break;
    case PROP_LADDER:
      s.ladder = static_cast<Ladder>(g_value_get_enum(value));
      break;
    case PROP_TALKBACK:
      s.talkback = g_value_get_boolean(value);
      break;
    case PROP_PLAYOUT_DELAY:
      s.playout_delay_ms = g_value_get_int(value);
      break;
    default:
      return false;
  }
  return true;
}

bool get_sink_setting(const SinkSettings &s, guint prop_id, GValue *value)
{
  switch (prop_id) {
    case PROP_VIDEO_CODEC:
      g_value_set_enum(value, static_cast<gint>(s.codec));
      break;
    case PROP_BITRATE:
      g_value_set_uint(value, s.bitrate);
      break;
    case PROP_KEY_INT_MAX:
      g_value_set_uint(value, s.key_int_max);
      break;
    case PROP_BIND_ADDRESS:
      g_value_set_string(value, s.bind_address.c_str());
      break;
    case PROP_PORT:
      g_value_set_int(value, s.port);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string(value, s.stun_server.empty() ? nullptr : s.stun_server.c_str());
      break;
    case PROP_TURN_SERVERS:
      for (const auto &t : s.turn_servers) {
        GValue v = G_VALUE_INIT;
        g_value_init(&v, G_TYPE_STRING);
        g_value_set_string(&v, t.c_str());
        gst_value_array_append_and_take_value(value, &v);
      }
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum(value, static_cast<gint>(s.ice_transport_policy));
      break;
    case PROP_ICE_ADDRESSES:
      for (const auto &a : s.ice_addresses) {
        GValue v = G_VALUE_INIT;
        g_value_init(&v, G_TYPE_STRING);
        g_value_set_string(&v, a.c_str());
        gst_value_array_append_and_take_value(value, &v);
      }
      break;
    case PROP_TOKEN:
      g_value_set_string(value, s.token.empty() ? nullptr : s.token.c_str());
      break;
    case PROP_CORS_ORIGIN:
      g_value_set_string(value, s.cors_origin.c_str());
      break;
    case PROP_MAX_VIEWERS:
      g_value_set_uint(value, s.max_viewers);
      break;
    case PROP_MAX_PENDING:
      g_value_set_uint(value, s.max_pending);
      break;
    case PROP_MAX_OFFERS_PER_SECOND:
      g_value_set_uint(value, s.max_offers_per_second);
      break;
    case PROP_WEB_ROOT:
      g_value_set_string(value, s.web_root.empty() ? nullptr : s.web_root.c_str());
      break;
    case PROP_SIGNALING_URL:
      g_value_set_string(value, s.signaling_url.empty() ? nullptr : s.signaling_url.c_str());
      break;
    case PROP_ROOM:
      g_value_set_string(value, s.room.c_str());
      break;
    case PROP_WHIP_URL:
      g_value_set_string(value, s.whip_url.empty() ? nullptr : s.whip_url.c_str());
      break;
    case PROP_WHIP_TOKEN:
      g_value_set_string(value, s.whip_token.empty() ? nullptr : s.whip_token.c_str());
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_string(value, s.tls_certificate.empty() ? nullptr : s.tls_certificate.c_str());
      break;
    case PROP_TLS_KEY:
      g_value_set_string(value, s.tls_key.empty() ? nullptr : s.tls_key.c_str());
      break;
    case PROP_SYNC:
      g_value_set_boolean(value, s.sync);
      break;
    case PROP_AUDIO_BITRATE:
      g_value_set_uint(value, s.audio_bitrate);
      break;
    case PROP_LADDER:
      g_value_set_enum(value, static_cast<gint>(s.ladder));
      break;
    case PROP_TALKBACK:
      g_value_set_boolean(value, s.talkback);
      break;
    case PROP_PLAYOUT_DELAY:
      g_value_set_int(value, s.playout_delay_ms);
      break;
    default:
      return false;
  }
  return true;
}

void install_sink_properties(GObjectClass *gobject_class)
{
  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto rw_ready = static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_READY);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_property(
      gobject_class, PROP_VIDEO_CODEC,
      g_param_spec_enum("video-codec", "Video codec",
                        "Codec raw video is encoded to. A viewer whose offer lacks it but has "
                        "VP8 (Firefox without OpenH264) gets VP8, encoded from the same raw "
                        "video only while such a viewer watches. Ignored when the input is "
                        "already encoded (then such a viewer is refused with 406).",
                        GST_TYPE_WEBRTC_SERVER_SINK_VIDEO_CODEC, static_cast<gint>(kDefaultCodec),
                        rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_BITRATE,
      g_param_spec_uint("bitrate", "Bitrate",
                        "Target bitrate of the encoder in kbit/s; can be changed while playing.",
                        16, 100000, kDefaultBitrate,
                        static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_KEY_INT_MAX,
      g_param_spec_uint("key-int-max", "Maximum key frame interval",
                        "Largest number of frames between two key frames of the encoder "
                        "(viewers joining or losing packets get one at once anyway).",
                        1, 3000, kDefaultKeyIntMax, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_BIND_ADDRESS,
      g_param_spec_string("bind-address", "Bind address",
                          "IP address the HTTP server listens on; 0.0.0.0 for every interface.",
                          "127.0.0.1", rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_PORT,
      g_param_spec_int("port", "Port",
                       "TCP port the HTTP server listens on; 0 picks a free port (see "
                       "bound-port).",
                       0, 65535, kDefaultPort, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_BOUND_PORT,
      g_param_spec_int("bound-port", "Bound port",
                       "TCP port the HTTP server really listens on (READY and above), or 0.", 0,
                       65535, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_STUN_SERVER,
      g_param_spec_string("stun-server", "STUN server",
                          "STUN server as stun://host:port, used by the server and given to the "
                          "viewers.",
                          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_TURN_SERVERS,
      gst_param_spec_array(
          "turn-servers", "TURN servers",
          "TURN servers as turn://user:password@host:port (or turns://), used "
          "by the server and given to the viewers.",
          g_param_spec_string("turn-server", "TURN server", "A TURN server URL.", nullptr,
                              static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)),
          rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum("ice-transport-policy", "ICE transport policy",
                        "Which ICE candidates the server and the viewers use: all, or relay "
                        "(TURN) only.",
                        ice_transport_policy_get_type(), static_cast<gint>(IceTransportPolicy::All),
                        rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_ICE_ADDRESSES,
      gst_param_spec_array(
          "ice-addresses", "ICE addresses",
          "Local IP addresses ICE gathers candidates on. Empty: 127.0.0.1 when "
          "bind-address is a loopback address (local viewers only), else every "
          "interface libnice finds.",
          g_param_spec_string("ice-address", "ICE address", "A local IP address.", nullptr,
                              static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)),
          rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_TOKEN,
      g_param_spec_string("token", "Token",
                          "Secret viewers must send as \"Authorization: Bearer <token>\"; unset "
                          "lets anyone who reaches the port watch.",
                          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_CORS_ORIGIN,
      g_param_spec_string("cors-origin", "CORS origin",
                          "Web origins allowed to use the API from their pages: \"*\" for any, "
                          "a comma-separated list, or empty for same-origin only.",
                          "*", rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_VIEWERS,
      g_param_spec_uint("max-viewers", "Maximum viewers",
                        "Largest number of viewers at once (0 = no limit); more get 503. The WHIP "
                        "publication (whip-url) is not a viewer and does not count.",
                        0, G_MAXUINT, kDefaultMaxViewers,
                        static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_MAX_PENDING,
      g_param_spec_uint("max-pending", "Maximum pending viewers",
                        "Largest number of viewers still connecting at once (0 = no limit); more "
                        "get 503 with Retry-After.",
                        0, G_MAXUINT, kDefaultMaxPending,
                        static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_MAX_OFFERS_PER_SECOND,
      g_param_spec_uint("max-offers-per-second", "Maximum offers per second",
                        "New sessions one client address may start per second, in bursts of as "
                        "many (0 = no limit); more get 429 with Retry-After.",
                        0, G_MAXUINT, kDefaultMaxOffersPerSecond, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_WEB_ROOT,
      g_param_spec_string("web-root", "Web root",
                          "Directory to serve the viewer page from instead of the copy built "
                          "into the plugin.",
                          nullptr, rw_ready));
  /**
   * GstWebRTCServerSink:signaling-url:
   *
   * Client mode: connect out to this WebSocket signaling relay (for example
   * `livecast signal` on a public host), join #GstWebRTCServerSink:room and
   * serve every viewer there; reconnects with back-off when the relay goes
   * away. The local HTTP server keeps running too.
   */
  g_object_class_install_property(
      gobject_class, PROP_SIGNALING_URL,
      g_param_spec_string("signaling-url", "Signaling URL",
                          "ws:// or wss:// URL of a signaling relay to connect out to, serving "
                          "the viewers that join the room there (unset: only local signaling).",
                          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_ROOM,
      g_param_spec_string("room", "Room", "Room to join on the signaling relay (signaling-url).",
                          "livecast", rw_ready));
  /**
   * GstWebRTCServerSink:whip-url:
   *
   * Publishes the stream's one encoding to this WHIP endpoint (RFC 9725),
   * for example a Janus VideoRoom behind simple-whip-server (deploy/janus),
   * as one more session beside the local viewers: the offer is POSTed,
   * candidates trickled with PATCH, the resource DELETEd at the end, and a
   * refused or lost session is published again after a back-off.
   */
  g_object_class_install_property(
      gobject_class, PROP_WHIP_URL,
      g_param_spec_string("whip-url", "WHIP URL",
                          "http:// or https:// URL of a WHIP endpoint to publish the stream to, "
                          "beside the local viewers (unset: no publishing).",
                          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_WHIP_TOKEN,
      g_param_spec_string("whip-token", "WHIP token",
                          "Bearer token sent to the WHIP endpoint of whip-url in the "
                          "Authorization header (unset: none).",
                          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_TLS_CERTIFICATE,
      g_param_spec_string("tls-certificate", "TLS certificate",
                          "PEM file with the server's certificate (and chain): serves HTTPS and "
                          "WSS instead of HTTP, as browsers need for the microphone anywhere "
                          "but localhost.",
                          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_TLS_KEY,
      g_param_spec_string("tls-key", "TLS key",
                          "PEM file with the private key of tls-certificate (unset: the key is in "
                          "the certificate file).",
                          nullptr, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_SYNC,
      g_param_spec_boolean("sync", "Sync",
                           "Send frames at their time on the pipeline clock (needed for files; "
                           "live sources are on time anyway).",
                           TRUE, static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_AUDIO_BITRATE,
      g_param_spec_uint("audio-bitrate", "Audio bitrate",
                        "Opus bitrate in kbit/s when raw audio is encoded here (audio_0).", 6, 510,
                        kDefaultAudioBitrate, rw_ready));
  /**
   * GstWebRTCServerSink:talkback:
   *
   * Lets viewers send their microphone. Each viewer that does gets a
   * sometimes source pad `talkback_<id>` with its decoded audio (mono
   * S16LE, 48 kHz), added when its audio arrives and removed when it
   * leaves; link it from a #GstElement::pad-added handler. An unlinked
   * talkback pad drops its audio.
   */
  g_object_class_install_property(
      gobject_class, PROP_TALKBACK,
      g_param_spec_boolean("talkback", "Talkback",
                           "Accept each viewer's microphone and expose it, decoded, on a "
                           "talkback_<id> source pad.",
                           FALSE, rw_ready));
  /**
   * GstWebRTCServerSink:ladder:
   *
   * Raw video is encoded up to three times (rungs, each only while a
   * viewer is on it), and each viewer is moved between them by its own
   * bandwidth estimate, so a slow link gets a smaller or slower picture
   * instead of a frozen one.
   */
  g_object_class_install_property(
      gobject_class, PROP_LADDER,
      g_param_spec_enum("ladder", "Rendition ladder",
                        "Smaller encodings of raw video for viewers whose link cannot carry "
                        "the bitrate: none, camera (half and quarter size at a third and a "
                        "tenth of the bitrate) or screen (half the frame rate first, then half "
                        "the size, so text stays readable). Ignored for encoded input.",
                        livecast::ladder_get_type(), static_cast<gint>(kDefaultLadder), rw_ready));
  /**
   * GstWebRTCServerSink:playout-delay:
   *
   * The playout delay each viewer's video asks for, through the RTP header
   * extension http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
   * (min = max = this value), sent to viewers whose offer names it
   * (Chromium does). 0 makes Chromium show every frame as soon as it is
   * decoded instead of holding it in its jitter buffer; a viewer on a
   * jittery network may see stutter then, which a few tens of milliseconds
   * smooth out. Applies to viewers that join after a change.
   */
  g_object_class_install_property(
      gobject_class, PROP_PLAYOUT_DELAY,
      g_param_spec_int("playout-delay", "Playout delay",
                       "How long, in milliseconds (10 ms steps), a viewer's browser holds each "
                       "frame before showing it, sent in the playout-delay RTP header extension; "
                       "-1 sends no such extension and leaves the browser to choose.",
                       -1, static_cast<int>(kPlayoutDelayMaxMs), kDefaultPlayoutDelay,
                       static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_VIEWERS,
      g_param_spec_uint("viewers", "Viewers",
                        "Number of viewer sessions right now (the WHIP publication is not one).", 0,
                        G_MAXUINT, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Current figures: viewers, encoded-fps, encoded-bitrate (bit/s), width, "
                         "height, and the viewers turned away so far by max-viewers, max-pending "
                         "and max-offers-per-second (refused-max-viewers, refused-max-pending, "
                         "refused-rate), the state of WHIP publishing (whip-state: off, "
                         "connecting, publishing, retrying, waiting, stopped), and how many "
                         "WebRTC viewers are on each rung of the ladder (rung-viewers: an array, "
                         "the top rung first).",
                         GST_TYPE_STRUCTURE, ro));
}

}  // namespace livecast
