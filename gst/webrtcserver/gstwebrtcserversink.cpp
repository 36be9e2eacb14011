/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-webrtcserversink
 * @title: webrtcserversink
 *
 * Ends a pipeline by serving it to any number of web browsers over WebRTC.
 * The element runs a small HTTP server (WHEP at `/whep`, a plain `POST
 * /offer`, `/config`, `/stats`) and serves a viewer page at `/`. Raw video is
 * encoded once (H.264 with x264enc tuned for zero latency, VP8 or VP9) and
 * fanned out to one webrtcbin per viewer; already encoded H.264, VP8 or VP9
 * is passed through.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1 !
 * webrtcserversink port=8080
 * ]| Then open http://127.0.0.1:8080/ in a browser.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwebrtcserversink.h"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "gstrefptr.h"
#include "h264aud.h"
#include "httpapi.h"
#include "httpserver.h"
#include "sdpoffer.h"
#include "signalingclient.h"

GST_DEBUG_CATEGORY_STATIC(gst_webrtc_server_sink_debug);
#define GST_CAT_DEFAULT gst_webrtc_server_sink_debug

using namespace livecast;

namespace
{

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
/* How many ended sessions /stats lists, with why they ended. */
constexpr std::size_t kRecentlyEnded = 32;
constexpr VideoCodec kDefaultCodec = VideoCodec::H264;
/* How long the answer waits for ICE gathering before it is sent as is. */
constexpr guint kGatheringTimeoutMs = 3000;
/* A viewer whose ICE never connects is dropped after this. */
constexpr gint64 kConnectTimeoutUs = 20 * G_USEC_PER_SEC;
/* A connected viewer from which nothing (RTCP, DTLS) arrived for this long
 * has vanished. Browsers send RTCP about every second; GStreamer receivers
 * every ~5 s (randomised up to 7.5 s). */
constexpr gint64 kSilenceTimeoutUs = 8 * G_USEC_PER_SEC;
/* Key frame requests from viewers (PLI/FIR) are honoured at most this often. */
constexpr gint64 kKeyUnitMinIntervalUs = 500 * 1000;
/* A viewer silent this long after kChattyPackets packets at most
 * kChattyGapUs apart was cut off (see note_received). */
constexpr gint64 kOutageUs = 1 * G_USEC_PER_SEC;
constexpr gint64 kChattyGapUs = 250 * 1000;
constexpr guint kChattyPackets = 10;
constexpr guint kHousekeepingMs = 1000;
/* At most this often, free memory goes back to the system after viewers left. */
constexpr gint64 kTrimIntervalUs = 5 * G_USEC_PER_SEC;
constexpr guint kDefaultAudioBitrate = 64; /* kbit/s, Opus */
/* Longest wait for a new viewer's payloaders to know their caps (SSRC). */
constexpr guint kPayloaderCapsTimeoutMs = 1000;
/* WebSocket messages above this close the socket (1009); smaller ones that
 * are still too large for the protocol get an error message instead. */
constexpr std::size_t kWsMaxSocketMessageBytes = 1024 * 1024;

enum {
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
  PROP_VIEWERS,
  PROP_STATS,
};

enum {
  SIGNAL_VIEWER_ADDED,
  SIGNAL_VIEWER_REMOVED,
  SIGNAL_VIEWER_ENDED,
  N_SIGNALS,
};
guint signals[N_SIGNALS];

struct Settings {
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
};

/* Timestamp of the last packet a viewer sent us, shared with a pad probe. */
using Timestamp = std::shared_ptr<std::atomic<gint64>>;

/* What a viewer's branch is allowed to do, shared between the server thread
 * and the branch's streaming and DTLS threads. A viewer's branch is a fault
 * domain: once @failed is set nothing more enters it, and nothing it returns
 * reaches the shared tee (see make_branch_input). */
struct ViewerGuard {
  std::atomic<bool> failed{false};
  std::atomic<bool> certificate_checked{false};
  std::mutex lock;
  /* The peer's DTLS fingerprints from its offer or answer (under lock). */
  std::vector<DtlsFingerprint> fingerprints;
};

struct Viewer {
  std::string id;
  std::string etag;
  OfferedVideo video;
  OfferedAudio audio;
  GstElement *branch = nullptr;          /* queue ! payloader ! webrtcbin; child of the sink */
  GstElement *webrtcbin = nullptr;       /* inside branch */
  GstElement *payloader = nullptr;       /* inside branch: what feeds webrtcbin's video pad */
  GstElement *audio_payloader = nullptr; /* inside branch, when the viewer gets audio */
  Ref<GstPad> tee_pad;                   /* request pad on the tee feeding the branch */
  Ref<GstPad> audio_tee_pad;             /* same for audio, when the viewer gets it */
  std::function<void(SessionResult)> pending_answer;
  SessionEvents events;  /* trickle and end notices (WebSocket) */
  bool we_offer = false; /* we made the offer; the viewer answers */
  bool remote_answer_applied = false;
  bool local_sdp_sent = false;                  /* trickled candidates may follow it */
  std::vector<LocalCandidate> early_candidates; /* found before that */
  std::vector<std::string> local_mids;          /* mid of each m-line we sent */
  bool gathering_done = false;
  bool answer_ready = false;
  bool announced = false; /* viewer-added was emitted */
  bool certificates_watched = false;
  bool ended_by_channel = false; /* DELETE, bye or socket closed: nobody to tell */
  bool connected = false;
  gint64 created_us = 0;
  gint64 connected_us = 0;
  Timestamp last_rx = std::make_shared<std::atomic<gint64>>(0);
  std::shared_ptr<ViewerGuard> guard = std::make_shared<ViewerGuard>();
  std::string ice_state = "new";
  /* Last statistics read from webrtcbin. */
  guint64 bytes_sent = 0;
  gint64 bytes_sent_at = 0;
  guint64 bytes_received = 0; /* RTP from the viewer: its microphone */
  double bitrate = 0;
  gint64 packets_lost = 0;
  double rtt = -1;
  guint64 pli_count = 0;
};

}  // namespace

struct GstWebRTCServerSinkPrivate;

enum class H264Format { None, ByteStream, Avc };

struct _GstWebRTCServerSink {
  GstBin parent;
  GstWebRTCServerSinkPrivate *priv;
};

class SinkBackend;

/* C++ state of the element. GObject does not run C++ constructors on the
 * instance struct, so this is created in _init and deleted in finalize. */
struct GstWebRTCServerSinkPrivate {
  std::mutex lock; /* settings, viewers, media elements */
  Settings settings;

  /* Media chain, built when the first caps arrive; all owned by the bin. */
  GstPad *video_pad = nullptr; /* the ghost pad, owned by the element */
  bool chain_built = false;
  bool chain_encodes = false; /* raw input, encoded inside */
  VideoCodec active_codec = kDefaultCodec;
  std::string h264_profile = "constrained-baseline"; /* of the H.264 sent */
  GstElement *input_tee = nullptr;                   /* feeds the end sink and the encoder */
  GstElement *end_sink = nullptr;                    /* prerolls, paces (sync) and posts EOS */
  GstElement *valve = nullptr;
  GstElement *encoder = nullptr;
  GstElement *tee = nullptr;
  /* Audio: audio-input-tee ! audio-end-sink, and on the first caps
   * audio-input-tee ! valve ! queue ! [audioconvert ! audioresample ! opusenc]
   * ! audio-tee. Created when audio_0 is requested. */
  GstPad *audio_pad = nullptr;
  bool audio_chain_built = false;
  GstElement *audio_input_tee = nullptr;
  GstElement *audio_end_sink = nullptr;
  GstElement *audio_valve = nullptr;
  GstElement *audio_tee = nullptr;
  int width = 0;
  int height = 0;

  /* The H.264 form reaching the tee (from its caps), for count_output. */
  std::atomic<H264Format> h264_format{H264Format::None};
  /* Encoder output counters, updated by a pad probe. */
  std::atomic<guint64> out_bytes{0};
  std::atomic<guint64> out_frames{0};
  guint64 last_bytes = 0, last_frames = 0;
  gint64 last_rate_time = 0;
  double fps = 0;
  double bitrate_bps = 0;
  std::atomic<gint64> last_key_unit_us{0};

  /* Viewers by id; only the server thread adds or removes them. */
  std::map<std::string, std::unique_ptr<Viewer>> viewers;
  bool streaming = false; /* PAUSED or PLAYING: sessions can start */

  HttpServer server;
  std::unique_ptr<SinkBackend> backend;
  std::unique_ptr<HttpApi> api;
  std::unique_ptr<SignalingClient> signaling_client; /* server thread only */
  /* Server thread only: memory handed back after viewers leave (see housekeeping). */
  bool branches_disposed = false;
  gint64 last_trim_us = 0;
  std::random_device random;

  /* Viewers turned away by max-viewers and max-pending (the rate limit is
   * counted by the HTTP API). */
  std::atomic<guint64> refused_max_viewers{0};
  std::atomic<guint64> refused_max_pending{0};
  std::atomic<guint64> refused_rate{0};
  /* The last kRecentlyEnded sessions that ended, and why (under lock). */
  struct Ended {
    std::string id;
    std::string reason;
    gint64 at_us;
  };
  std::deque<Ended> recently_ended;
};

#define gst_webrtc_server_sink_parent_class parent_class
G_DEFINE_TYPE(GstWebRTCServerSink, gst_webrtc_server_sink, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE(webrtcserversink, "webrtcserversink", GST_RANK_NONE,
                            GST_TYPE_WEBRTC_SERVER_SINK);

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("audio/x-raw; audio/x-opus, channel-mapping-family=(int)0"));

/* A viewer's microphone (talkback), decoded; named after its session id. */
static GstStaticPadTemplate talkback_template = GST_STATIC_PAD_TEMPLATE(
    "talkback_%s", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS("audio/x-raw, format=(string)S16LE, layout=(string)interleaved, "
                    "rate=(int)48000, channels=(int)1"));

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("video/x-raw; "
                    "video/x-h264, stream-format=(string){ avc, byte-stream }, "
                    "alignment=(string)au, profile=(string){ constrained-baseline, baseline, "
                    "main, high }; "
                    "video/x-vp8; video/x-vp9"));

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

static GType ice_transport_policy_get_type(void)
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

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */

static GstElement *make_element(GstWebRTCServerSink *self, const char *factory, const char *name)
{
  GstElement *e = gst_element_factory_make(factory, name);
  if (!e) {
    GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN,
                      ("The GStreamer element \"%s\" is missing; install the plugin that "
                       "provides it (see the livecast README).",
                       factory),
                      (nullptr));
  }
  return e;
}

static std::string random_hex(std::random_device &random, int bytes)
{
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < bytes; i++) {
    const unsigned v = random() & 0xff;
    out += digits[v >> 4];
    out += digits[v & 0xf];
  }
  return out;
}

static gint64 now_us()
{
  return g_get_monotonic_time();
}

/* Asks the encoder (ours, or upstream's for encoded input) for a key frame. */
static void request_key_unit(GstWebRTCServerSink *self, const char *why)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  GstElement *tee;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    tee = priv->tee ? GST_ELEMENT(gst_object_ref(priv->tee)) : nullptr;
  }
  if (!tee)
    return;
  Ref<GstElement> tee_ref = Ref<GstElement>::adopt(tee);
  Ref<GstPad> sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(tee, "sink"));
  GST_DEBUG_OBJECT(self, "requesting a key frame: %s", why);
  /* Marked so the PLI rate limit on the tee lets it through. */
  GstStructure *s =
      gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN, TRUE, "running-time",
                        G_TYPE_UINT64, GST_CLOCK_TIME_NONE, "count", G_TYPE_UINT, 0,
                        "livecast-forced", G_TYPE_BOOLEAN, TRUE, nullptr);
  priv->last_key_unit_us = now_us();
  gst_pad_push_event(sinkpad.get(), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
}

/* Rate-limits key frame requests coming from viewers (PLI/FIR), which all
 * reach the single encoder through the tee. */
static GstPadProbeReturn key_unit_rate_limit(GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  auto *self = static_cast<GstWebRTCServerSink *>(user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event))
    return GST_PAD_PROBE_OK;
  const GstStructure *s = gst_event_get_structure(event);
  gboolean forced = FALSE;
  if (gst_structure_get_boolean(s, "livecast-forced", &forced) && forced)
    return GST_PAD_PROBE_OK;
  const gint64 now = now_us();
  const gint64 last = self->priv->last_key_unit_us;
  if (last != 0 && now - last < kKeyUnitMinIntervalUs) {
    GST_LOG_OBJECT(self, "dropping a viewer's key frame request (rate limit)");
    return GST_PAD_PROBE_DROP;
  }
  self->priv->last_key_unit_us = now;
  GST_DEBUG_OBJECT(self, "a viewer asked for a key frame");
  return GST_PAD_PROBE_OK;
}

/* What reaches the viewers' tee: counted, and H.264 without access unit
 * delimiters (h264aud.h; x264enc makes none, passed-through input may). */
static GstPadProbeReturn count_output(GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  auto *priv = static_cast<GstWebRTCServerSinkPrivate *>(user_data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      const GstStructure *s = gst_caps_get_structure(caps, 0);
      priv->h264_format = !gst_structure_has_name(s, "video/x-h264") ? H264Format::None
                          : g_strcmp0(gst_structure_get_string(s, "stream-format"), "avc") == 0
                              ? H264Format::Avc
                              : H264Format::ByteStream;
    }
    return GST_PAD_PROBE_OK;
  }
  const H264Format format = priv->h264_format;
  if (format != H264Format::None)
    GST_PAD_PROBE_INFO_DATA(info) =
        h264_without_aud(GST_PAD_PROBE_INFO_BUFFER(info), format == H264Format::Avc);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  priv->out_bytes += gst_buffer_get_size(buf);
  priv->out_frames++;
  return GST_PAD_PROBE_OK;
}

/* ---------------------------------------------------------------------- */
/* Media chain                                                            */

static GstElement *make_encoder(GstWebRTCServerSink *self, VideoCodec codec, guint bitrate,
                                guint key_int_max)
{
  GstElement *enc = nullptr;
  switch (codec) {
    case VideoCodec::H264:
      enc = make_element(self, "x264enc", "encoder");
      if (enc) {
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        /* No access unit delimiters: see h264aud.h. */
        g_object_set(enc, "bitrate", bitrate, "key-int-max", key_int_max, "aud", FALSE, nullptr);
      }
      break;
    case VideoCodec::VP8:
    case VideoCodec::VP9:
      enc = make_element(self, codec == VideoCodec::VP8 ? "vp8enc" : "vp9enc", "encoder");
      if (enc) {
        gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
        g_object_set(enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 8, "lag-in-frames", 0,
                     "target-bitrate", static_cast<gint>(bitrate * 1000), "keyframe-max-dist",
                     static_cast<gint>(key_int_max), "threads", 2, nullptr);
        gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
      }
      break;
  }
  return enc;
}

/* Adds @chain to the bin between a new request pad of @from (a tee) and
 * @to, and starts it. Called from the streaming thread on the first caps. */
static bool insert_chain(GstWebRTCServerSink *self, const std::vector<GstElement *> &chain,
                         GstElement *from, GstElement *to, const char *what)
{
  for (GstElement *e : chain)
    gst_bin_add(GST_BIN(self), e);
  Ref<GstPad> from_src = Ref<GstPad>::adopt(gst_element_request_pad_simple(from, "src_%u"));
  Ref<GstPad> first_sink = Ref<GstPad>::adopt(gst_element_get_static_pad(chain[0], "sink"));
  gst_pad_link(from_src.get(), first_sink.get());
  std::vector<GstElement *> linked = chain;
  linked.push_back(to);
  for (std::size_t i = 0; i + 1 < linked.size(); i++) {
    if (!gst_element_link(linked[i], linked[i + 1])) {
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Could not link the %s chain.", what),
                        ("%s -> %s", GST_ELEMENT_NAME(linked[i]), GST_ELEMENT_NAME(linked[i + 1])));
      return false;
    }
  }
  /* Downstream first, so nothing is pushed into an element still in NULL. */
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    gst_element_sync_state_with_parent(*it);
  return true;
}

/* Builds valve ! queue ! [videoconvert ! encoder ! capsfilter] ! [parser]
 * between the input tee and the viewers' tee. Called from the streaming
 * thread on the first caps. */
static bool build_chain(GstWebRTCServerSink *self, const GstCaps *caps)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const char *name = gst_structure_get_name(s);
  bool raw = g_str_equal(name, "video/x-raw");
  VideoCodec codec;
  Settings settings;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    settings = priv->settings;
    if (priv->chain_built) {
      if (priv->chain_encodes != raw) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("The input changed between raw and encoded video, which is not "
                           "supported."),
                          ("new caps %" GST_PTR_FORMAT, caps));
        return false;
      }
      gst_structure_get_int(s, "width", &priv->width);
      gst_structure_get_int(s, "height", &priv->height);
      return true;
    }
  }
  if (raw)
    codec = settings.codec;
  else if (g_str_equal(name, "video/x-h264"))
    codec = VideoCodec::H264;
  else if (g_str_equal(name, "video/x-vp8"))
    codec = VideoCodec::VP8;
  else
    codec = VideoCodec::VP9;

  std::vector<GstElement *> chain;
  auto add = [&chain](GstElement *e) {
    chain.push_back(e);
    return e != nullptr;
  };
  bool ok = add(make_element(self, "valve", "valve"));
  GstElement *queue = ok ? make_element(self, "queue", "encoder-queue") : nullptr;
  ok = ok && add(queue);
  GstElement *encoder = nullptr;
  if (ok && raw) {
    /* Leaky: a slow encoder drops old raw frames instead of stalling a live source. */
    g_object_set(queue, "max-size-buffers", 2, "max-size-bytes", 0, "max-size-time",
                 G_GUINT64_CONSTANT(0), nullptr);
    gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
    ok = add(make_element(self, "videoconvert", "convert"));
    encoder = ok ? make_encoder(self, codec, settings.bitrate, settings.key_int_max) : nullptr;
    ok = ok && add(encoder);
    if (ok && codec == VideoCodec::H264) {
      GstElement *filter = make_element(self, "capsfilter", "encoder-caps");
      ok = add(filter);
      if (ok) {
        Ref<GstCaps> fcaps = Ref<GstCaps>::adopt(
            gst_caps_from_string("video/x-h264, profile=(string)constrained-baseline, "
                                 "stream-format=(string)byte-stream"));
        g_object_set(filter, "caps", fcaps.get(), nullptr);
      }
    }
  } else if (ok) {
    g_object_set(queue, "max-size-buffers", 30, "max-size-bytes", 0, "max-size-time",
                 G_GUINT64_CONSTANT(0), nullptr);
  }
  if (ok && codec == VideoCodec::H264) {
    GstElement *parse = make_element(self, "h264parse", "parser");
    ok = add(parse);
    if (ok)
      g_object_set(parse, "config-interval", -1, nullptr);
  }
  if (!ok) {
    for (GstElement *e : chain) {
      if (e)
        gst_object_unref(gst_object_ref_sink(e));
    }
    return false;
  }

  /* Drop until the first viewer: no encoding work while nobody watches. */
  gst_util_set_object_arg(G_OBJECT(chain[0]), "drop-mode", "forward-sticky-events");
  g_object_set(chain[0], "drop", TRUE, nullptr);

  if (!insert_chain(self, chain, priv->input_tee, priv->tee, "video encoding"))
    return false;

  {
    std::lock_guard<std::mutex> guard(priv->lock);
    priv->valve = chain[0];
    priv->encoder = encoder;
    priv->active_codec = codec;
    /* Ours is constrained baseline (the encoder caps); passed-through
     * H.264 is in whatever profile the input caps say. */
    const char *profile = raw ? nullptr : gst_structure_get_string(s, "profile");
    priv->h264_profile = profile ? profile : "constrained-baseline";
    priv->chain_encodes = raw;
    priv->chain_built = true;
    gst_structure_get_int(s, "width", &priv->width);
    gst_structure_get_int(s, "height", &priv->height);
    /* A viewer may have joined before the first caps arrived. */
    if (!priv->viewers.empty())
      g_object_set(priv->valve, "drop", FALSE, nullptr);
  }
  GST_INFO_OBJECT(self, "streaming %s, %s", video_codec_encoding_name(codec),
                  raw ? "encoded here" : "passed through");
  return true;
}

static void end_all_viewers(GstWebRTCServerSink *self, const char *reason = "the stream stopped");

static gboolean video_pad_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  auto *self = GST_WEBRTC_SERVER_SINK(parent);
  const GstEventType type = GST_EVENT_TYPE(event);
  if (type == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    if (!build_chain(self, caps)) {
      gst_event_unref(event);
      return FALSE;
    }
  }
  const gboolean ret = gst_pad_event_default(pad, parent, event);
  if (type == GST_EVENT_EOS) {
    /* The stream is over: every viewer ends, and once their branches (whose
     * webrtcbin sinks never see EOS) are gone, the bin's EOS completes. */
    GST_INFO_OBJECT(self, "end of stream: ending every viewer");
    Ref<GstWebRTCServerSink> ref = Ref<GstWebRTCServerSink>::ref(self);
    self->priv->server.invoke([ref]() { end_all_viewers(ref.get(), "the stream ended"); });
  }
  return ret;
}

static gboolean video_pad_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  /* Until the encoding chain exists, what the input accepts is the template
   * (the input tee and the end sink take anything). */
  bool chain_built;
  {
    std::lock_guard<std::mutex> guard(GST_WEBRTC_SERVER_SINK(parent)->priv->lock);
    chain_built = GST_WEBRTC_SERVER_SINK(parent)->priv->chain_built;
  }
  if (!chain_built) {
    switch (GST_QUERY_TYPE(query)) {
      case GST_QUERY_CAPS: {
        GstCaps *filter;
        gst_query_parse_caps(query, &filter);
        Ref<GstCaps> templ = Ref<GstCaps>::adopt(gst_pad_get_pad_template_caps(pad));
        Ref<GstCaps> result = filter ? Ref<GstCaps>::adopt(gst_caps_intersect_full(
                                           filter, templ.get(), GST_CAPS_INTERSECT_FIRST))
                                     : templ;
        gst_query_set_caps_result(query, result.get());
        return TRUE;
      }
      case GST_QUERY_ACCEPT_CAPS: {
        GstCaps *caps;
        gst_query_parse_accept_caps(query, &caps);
        Ref<GstCaps> templ = Ref<GstCaps>::adopt(gst_pad_get_pad_template_caps(pad));
        gst_query_set_accept_caps_result(query, gst_caps_is_subset(caps, templ.get()));
        return TRUE;
      }
      default:
        break;
    }
  }
  return gst_pad_query_default(pad, parent, query);
}

/* Builds valve ! queue ! [audioconvert ! audioresample ! opusenc] between
 * the audio input tee and the viewers' audio tee, on the first caps. */
static bool build_audio_chain(GstWebRTCServerSink *self, const GstCaps *caps)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  const bool raw = gst_structure_has_name(gst_caps_get_structure(caps, 0), "audio/x-raw");
  guint bitrate;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    if (priv->audio_chain_built)
      return true; /* opusenc and audioconvert follow new raw caps themselves */
    bitrate = priv->settings.audio_bitrate;
  }
  std::vector<GstElement *> chain;
  bool ok = true;
  for (const char *factory :
       raw ? std::vector<const char *>{"valve", "queue", "audioconvert", "audioresample", "opusenc"}
           : std::vector<const char *>{"valve", "queue"}) {
    GstElement *e = make_element(self, factory, (std::string("audio-") + factory).c_str());
    if (!e) {
      ok = false;
      break;
    }
    chain.push_back(e);
  }
  if (!ok) {
    for (GstElement *e : chain)
      gst_object_unref(gst_object_ref_sink(e));
    return false;
  }
  gst_util_set_object_arg(G_OBJECT(chain[0]), "drop-mode", "forward-sticky-events");
  g_object_set(chain[0], "drop", TRUE, nullptr);
  /* Leaky and short: audio late by more than this is worth less than the next. */
  g_object_set(chain[1], "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
               static_cast<guint64>(200 * GST_MSECOND), nullptr);
  gst_util_set_object_arg(G_OBJECT(chain[1]), "leaky", "downstream");
  if (raw) {
    /* 20 ms frames, low delay, forward error correction: what browsers send too. */
    g_object_set(chain.back(), "bitrate", static_cast<gint>(bitrate * 1000), "inband-fec", TRUE,
                 nullptr);
    gst_util_set_object_arg(G_OBJECT(chain.back()), "audio-type", "restricted-lowdelay");
  }
  if (!insert_chain(self, chain, priv->audio_input_tee, priv->audio_tee, "audio encoding"))
    return false;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    priv->audio_valve = chain[0];
    priv->audio_chain_built = true;
    for (const auto &v : priv->viewers) {
      if (v.second->audio_tee_pad)
        g_object_set(priv->audio_valve, "drop", FALSE, nullptr);
    }
  }
  GST_INFO_OBJECT(self, "streaming Opus audio, %s", raw ? "encoded here" : "passed through");
  return true;
}

static gboolean audio_pad_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  auto *self = GST_WEBRTC_SERVER_SINK(parent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    if (!build_audio_chain(self, caps)) {
      gst_event_unref(event);
      return FALSE;
    }
  }
  return gst_pad_event_default(pad, parent, event);
}

/* The audio input: audio-input-tee ! audio-end-sink (preroll, pacing, EOS,
 * as for video) and the viewers' audio tee. Called with the lock held. */
static GstPad *add_audio_input(GstWebRTCServerSink *self, GstPadTemplate *templ)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  GstElement *input_tee = gst_element_factory_make("tee", "audio-input-tee");
  GstElement *end_sink = gst_element_factory_make("fakesink", "audio-end-sink");
  GstElement *tee = gst_element_factory_make("tee", "audio-tee");
  if (!input_tee || !end_sink || !tee) {
    for (GstElement *e : {input_tee, end_sink, tee}) {
      if (e)
        gst_object_unref(gst_object_ref_sink(e));
    }
    return nullptr;
  }
  g_object_set(input_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(end_sink, "sync", priv->settings.sync, "async", TRUE, "enable-last-sample", FALSE,
               nullptr);
  gst_bin_add_many(GST_BIN(self), input_tee, end_sink, tee, nullptr);
  gst_element_link(input_tee, end_sink);
  for (GstElement *e : {tee, end_sink, input_tee})
    gst_element_sync_state_with_parent(e);
  priv->audio_input_tee = input_tee;
  priv->audio_end_sink = end_sink;
  priv->audio_tee = tee;
  Ref<GstPad> target = Ref<GstPad>::adopt(gst_element_get_static_pad(input_tee, "sink"));
  GstPad *pad = gst_ghost_pad_new_from_template("audio_0", target.get(), templ);
  gst_pad_set_event_function(pad, audio_pad_event);
  gst_pad_set_active(pad, TRUE);
  priv->audio_pad = pad;
  return pad;
}

/* ---------------------------------------------------------------------- */
/* Viewers                                                                */

static void end_viewer(GstWebRTCServerSink *self, const std::string &id, const std::string &reason);
static void finish_answer(GstWebRTCServerSink *self, const std::string &id);

/* Runs @fn on the server thread with the viewer @id, if it still exists.
 * Used by every webrtcbin callback, which arrive on webrtcbin's threads. */
static void with_viewer(GstWebRTCServerSink *self, const std::string &id,
                        std::function<void(GstWebRTCServerSink *, Viewer &)> fn)
{
  Ref<GstWebRTCServerSink> ref = Ref<GstWebRTCServerSink>::ref(self);
  self->priv->server.invoke([ref, id, fn]() {
    GstWebRTCServerSink *sink = ref.get();
    Viewer *viewer = nullptr;
    {
      std::lock_guard<std::mutex> guard(sink->priv->lock);
      auto it = sink->priv->viewers.find(id);
      if (it != sink->priv->viewers.end())
        viewer = it->second.get();
    }
    /* Only the server thread removes viewers, so the pointer stays valid. */
    if (viewer)
      fn(sink, *viewer);
  });
}

/* Data handed to webrtcbin signal handlers and promises. */
struct ViewerHandle {
  GWeakRef sink;
  std::string id;

  ViewerHandle(GstWebRTCServerSink *self, std::string viewer_id) : id(std::move(viewer_id))
  {
    g_weak_ref_init(&sink, self);
  }
  ~ViewerHandle() { g_weak_ref_clear(&sink); }
  ViewerHandle(const ViewerHandle &) = delete;
  ViewerHandle &operator=(const ViewerHandle &) = delete;

  /* Calls @fn on the server thread if the element and the viewer still exist. */
  void dispatch(std::function<void(GstWebRTCServerSink *, Viewer &)> fn)
  {
    auto *self = static_cast<GstWebRTCServerSink *>(g_weak_ref_get(&sink));
    if (!self)
      return;
    with_viewer(self, id, std::move(fn));
    gst_object_unref(self);
  }
  static void destroy(gpointer data, GClosure *) { delete static_cast<ViewerHandle *>(data); }
  static void destroy_notify(gpointer data) { delete static_cast<ViewerHandle *>(data); }
};

/* ---------------------------------------------------------------------- */
/* A viewer's branch as a fault domain                                    */

/* What each branch bin carries: whose it is, and its guard. */
struct BranchTag {
  std::string id;
  std::shared_ptr<ViewerGuard> guard;
};

static GQuark branch_tag_quark()
{
  static GQuark quark = g_quark_from_static_string("livecast-viewer-branch");
  return quark;
}

/* What the tee gets back from a viewer. tee stops pushing to every other
 * pad as soon as one returns anything but OK or NOT_LINKED (tee.c,
 * gst_tee_handle_data), so a viewer's error, EOS or flushing must never
 * leave its branch: here it marks the viewer failed and reads as OK. */
static GstFlowReturn branch_result(GstPad *pad, ViewerGuard *guard, GstFlowReturn ret)
{
  if (ret == GST_FLOW_OK || ret == GST_FLOW_NOT_LINKED)
    return GST_FLOW_OK;
  if (!guard->failed.exchange(true))
    GST_DEBUG_OBJECT(pad, "viewer branch returned %s; nothing more goes in",
                     gst_flow_get_name(ret));
  return GST_FLOW_OK;
}

static GstFlowReturn branch_input_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  auto *guard = static_cast<ViewerGuard *>(gst_pad_get_element_private(pad));
  if (guard->failed) {
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  return branch_result(pad, guard, gst_proxy_pad_chain_default(pad, parent, buffer));
}

static GstFlowReturn branch_input_chain_list(GstPad *pad, GstObject *parent, GstBufferList *list)
{
  auto *guard = static_cast<ViewerGuard *>(gst_pad_get_element_private(pad));
  if (guard->failed) {
    gst_buffer_list_unref(list);
    return GST_FLOW_OK;
  }
  return branch_result(pad, guard, gst_proxy_pad_chain_list_default(pad, parent, list));
}

/* Serialized queries (ALLOCATION, DRAIN) wait for the branch's own
 * streaming thread, which webrtcbin holds in a blocked push until DTLS is up
 * (and which a failed viewer may never give back): answered here, or the
 * shared encoder would wait for the slowest viewer to connect. Nothing in a
 * branch wants a buffer pool or metas from upstream. */
static gboolean branch_input_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  if (GST_QUERY_IS_SERIALIZED(query))
    return TRUE;
  return gst_pad_query_default(pad, parent, query);
}

/* A sink ghost pad @name on @branch for @target, guarded by @guard. */
static void add_branch_input(GstElement *branch, const char *name, GstElement *target,
                             const std::shared_ptr<ViewerGuard> &guard)
{
  Ref<GstPad> sink = Ref<GstPad>::adopt(gst_element_get_static_pad(target, "sink"));
  GstPad *pad = gst_ghost_pad_new(name, sink.get());
  /* The guard lives as long as the pad: its streaming thread reads it. */
  g_object_set_data_full(
      G_OBJECT(pad), "livecast-viewer-guard", new std::shared_ptr<ViewerGuard>(guard),
      [](gpointer data) { delete static_cast<std::shared_ptr<ViewerGuard> *>(data); });
  gst_pad_set_element_private(pad, guard.get());
  gst_pad_set_chain_function(pad, branch_input_chain);
  gst_pad_set_chain_list_function(pad, branch_input_chain_list);
  gst_pad_set_query_function(pad, branch_input_query);
  gst_element_add_pad(branch, pad);
}

/* The tag of the viewer branch @object is in; false when it is in none
 * (the shared part of the element, or nothing of ours). Takes no lock: it
 * runs in whatever thread posts a message. */
static bool branch_of(GstWebRTCServerSink *self, GstObject *object, BranchTag &tag)
{
  Ref<GstObject> current = Ref<GstObject>::ref(object);
  while (current) {
    Ref<GstObject> parent = Ref<GstObject>::adopt(gst_object_get_parent(current.get()));
    if (parent.get() == GST_OBJECT(self)) {
      auto *found =
          static_cast<BranchTag *>(g_object_get_qdata(G_OBJECT(current.get()), branch_tag_quark()));
      if (found)
        tag = *found;
      return found != nullptr;
    }
    current = parent;
  }
  return false;
}

/* Messages from inside a viewer's branch stay there: its errors end that
 * viewer (webrtcbin posts them for a DTLS alert, garbage on its socket, a
 * peer that vanished mid-handshake), its warnings are logged, its EOS is
 * not the stream's. Errors of the shared part (input, encoder) still reach
 * the pipeline. */
/* Events sent to the element itself. The viewers' webrtcbins contain
 * sources (nicesrc), which makes this bin look like a source to its parent:
 * an EOS sent to the pipeline (gst-launch-1.0 -e) would be pushed into each
 * viewer's webrtcbin, and block there on a pad webrtcbin holds until DTLS is
 * up. Downstream events reach this element through its sink pads; upstream
 * ones (a seek) go to the end sinks, which pass them on to the input. */
static gboolean gst_webrtc_server_sink_send_event(GstElement *element, GstEvent *event)
{
  auto *self = GST_WEBRTC_SERVER_SINK(element);
  if (!GST_EVENT_IS_UPSTREAM(event)) {
    GST_DEBUG_OBJECT(self, "not passing %s on to the viewers", GST_EVENT_TYPE_NAME(event));
    gst_event_unref(event);
    return TRUE;
  }
  std::vector<Ref<GstElement>> sinks;
  {
    std::lock_guard<std::mutex> guard(self->priv->lock);
    for (GstElement *e : {self->priv->end_sink, self->priv->audio_end_sink}) {
      if (e)
        sinks.push_back(Ref<GstElement>::ref(e));
    }
  }
  gboolean handled = FALSE;
  for (const Ref<GstElement> &sink : sinks)
    handled |= gst_element_send_event(sink.get(), gst_event_ref(event));
  gst_event_unref(event);
  return handled;
}

static void gst_webrtc_server_sink_handle_message(GstBin *bin, GstMessage *message)
{
  auto *self = GST_WEBRTC_SERVER_SINK(bin);
  const GstMessageType type = GST_MESSAGE_TYPE(message);
  BranchTag tag;
  if ((type != GST_MESSAGE_ERROR && type != GST_MESSAGE_WARNING && type != GST_MESSAGE_INFO &&
       type != GST_MESSAGE_EOS) ||
      !branch_of(self, GST_MESSAGE_SRC(message), tag)) {
    GST_BIN_CLASS(parent_class)->handle_message(bin, message);
    return;
  }
  if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
    GError *error = nullptr;
    gchar *debug = nullptr;
    if (type == GST_MESSAGE_ERROR)
      gst_message_parse_error(message, &error, &debug);
    else
      gst_message_parse_warning(message, &error, &debug);
    GErrorPtr error_owner(error);
    GCharPtr debug_owner(debug);
    /* The debug text ends with the element's own words ("Fatal SSL error"). */
    std::string detail = debug ? debug : "";
    detail.erase(
        0, detail.find_last_of('\n') == std::string::npos ? 0 : detail.find_last_of('\n') + 1);
    const std::string what = std::string(error ? error->message : "unknown error") + " (" +
                             GST_MESSAGE_SRC_NAME(message) + (detail.empty() ? "" : ": ") + detail +
                             ")";
    if (type == GST_MESSAGE_WARNING) {
      GST_INFO_OBJECT(self, "viewer %s: warning: %s", tag.id.c_str(), what.c_str());
    } else {
      GST_WARNING_OBJECT(self, "viewer %s: error: %s; ending it [%s]", tag.id.c_str(), what.c_str(),
                         debug ? debug : "");
      tag.guard->failed = true;
      const std::string reason = "its connection failed: " + what;
      Ref<GstWebRTCServerSink> ref = Ref<GstWebRTCServerSink>::ref(self);
      const std::string id = tag.id;
      self->priv->server.invoke([ref, id, reason]() { end_viewer(ref.get(), id, reason); });
    }
  }
  gst_message_unref(message);
}

static void fail_viewer(GstWebRTCServerSink *self, Viewer &viewer, int status,
                        const std::string &message)
{
  GST_WARNING_OBJECT(self, "viewer %s: %s", viewer.id.c_str(), message.c_str());
  if (viewer.pending_answer) {
    SessionResult r;
    r.status = status;
    r.message = message;
    auto done = std::move(viewer.pending_answer);
    viewer.pending_answer = nullptr;
    done(r);
  }
  end_viewer(self, viewer.id, "negotiation failed");
}

/* The error text of a webrtcbin promise reply, "" on success. */
static std::string promise_error(GstPromise *promise)
{
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED)
    return "webrtcbin did not reply";
  const GstStructure *reply = gst_promise_get_reply(promise);
  if (!reply)
    return {};
  if (gst_structure_has_field(reply, "error")) {
    GError *err = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    std::string text = err ? err->message : "unknown error";
    if (err)
      g_error_free(err);
    return text;
  }
  return {};
}

static GstPromise *promise_for(GstWebRTCServerSink *self, const std::string &id,
                               void (*step)(GstWebRTCServerSink *, Viewer &, GstPromise *))
{
  auto *handle = new ViewerHandle(self, id);
  struct Data {
    ViewerHandle *handle;
    void (*step)(GstWebRTCServerSink *, Viewer &, GstPromise *);
  };
  auto *data = new Data{handle, step};
  return gst_promise_new_with_change_func(
      [](GstPromise *promise, gpointer user_data) {
        auto *d = static_cast<Data *>(user_data);
        Ref<GstPromise> p = Ref<GstPromise>::ref(promise);
        auto step = d->step;
        d->handle->dispatch(
            [p, step](GstWebRTCServerSink *sink, Viewer &viewer) { step(sink, viewer, p.get()); });
      },
      data,
      [](gpointer user_data) {
        auto *d = static_cast<Data *>(user_data);
        delete d->handle;
        delete d;
      });
}

/* Ends @viewer when the certificate it showed in the DTLS handshake is not
 * the one its SDP's fingerprint names. Called in the DTLS thread. */
static void check_certificate(const std::string &pem, ViewerGuard &guard, ViewerHandle &handle)
{
  std::vector<DtlsFingerprint> expected;
  {
    std::lock_guard<std::mutex> lock(guard.lock);
    expected = guard.fingerprints;
  }
  std::string why;
  if (certificate_matches_fingerprints(pem, expected, why)) {
    guard.certificate_checked = true;
    return;
  }
  guard.failed = true; /* before any media is keyed for it */
  handle.dispatch([why](GstWebRTCServerSink *sink, Viewer &viewer) {
    GST_WARNING_OBJECT(sink, "viewer %s: %s", viewer.id.c_str(), why.c_str());
    end_viewer(sink, viewer.id, why);
  });
}

struct CertificateWatch {
  std::shared_ptr<ViewerGuard> guard;
  ViewerHandle handle;
};

/* dtlssrtpdec notifies peer-pem from OpenSSL's verify callback, inside the
 * handshake: a mismatch is found before the handshake ends. */
static void on_peer_certificate(GObject *dtlssrtpdec, GParamSpec *, gpointer data)
{
  auto *watch = static_cast<CertificateWatch *>(data);
  gchar *pem = nullptr;
  g_object_get(dtlssrtpdec, "peer-pem", &pem, nullptr);
  const std::string text = take_string(pem);
  if (!text.empty())
    check_certificate(text, *watch->guard, watch->handle);
}

/* webrtcbin (1.22) never compares the viewer's DTLS certificate with its
 * SDP fingerprint (RFC 8122 requires it): watch every DTLS decoder of the
 * viewer, which exist once a local description is set, before ICE can
 * connect. */
static void watch_dtls_certificates(GstWebRTCServerSink *self, Viewer &viewer)
{
  if (viewer.certificates_watched)
    return;
  viewer.certificates_watched = true;
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(viewer.webrtcbin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory *f = gst_element_get_factory(e);
    if (f && g_str_equal(GST_OBJECT_NAME(f), "dtlssrtpdec"))
      g_signal_connect_data(
          e, "notify::peer-pem", G_CALLBACK(on_peer_certificate),
          new CertificateWatch{viewer.guard, ViewerHandle(self, viewer.id)},
          [](gpointer data, GClosure *) { delete static_cast<CertificateWatch *>(data); },
          static_cast<GConnectFlags>(0));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

/* The certificate check once more when DTLS is up, in case no decoder was
 * there to watch: a viewer whose certificate was never checked ends. */
static bool certificate_was_checked(GstWebRTCServerSink *self, Viewer &viewer)
{
  if (viewer.guard->certificate_checked)
    return true;
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name(viewer.webrtcbin, "get-transceiver", 0, &trans);
  Ref<GstWebRTCRTPTransceiver> trans_ref = Ref<GstWebRTCRTPTransceiver>::adopt(trans);
  GstWebRTCRTPSender *sender = nullptr;
  if (trans)
    g_object_get(trans, "sender", &sender, nullptr);
  Ref<GstWebRTCRTPSender> sender_ref = Ref<GstWebRTCRTPSender>::adopt(sender);
  GstWebRTCDTLSTransport *transport = nullptr;
  if (sender)
    g_object_get(sender, "transport", &transport, nullptr);
  Ref<GstWebRTCDTLSTransport> transport_ref = Ref<GstWebRTCDTLSTransport>::adopt(transport);
  gchar *pem = nullptr;
  if (transport)
    g_object_get(transport, "remote-certificate", &pem, nullptr);
  /* A mismatch ends the viewer at once (we are on the server thread). */
  std::shared_ptr<ViewerGuard> guard = viewer.guard;
  ViewerHandle handle(self, viewer.id);
  check_certificate(take_string(pem), *guard, handle);
  return guard->certificate_checked;
}

static void on_local_description_set(GstWebRTCServerSink *self, Viewer &viewer, GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail_viewer(self, viewer, 500, "The answer could not be applied: " + error + ".");
  watch_dtls_certificates(self, viewer);
  viewer.answer_ready = true;
  GstWebRTCICEGatheringState state;
  g_object_get(viewer.webrtcbin, "ice-gathering-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    viewer.gathering_done = true;
  if (viewer.gathering_done || viewer.events.on_candidate) {
    finish_answer(self, viewer.id);
    return;
  }
  /* Do not wait forever for slow STUN/TURN servers. */
  Ref<GstWebRTCServerSink> ref = Ref<GstWebRTCServerSink>::ref(self);
  std::string id = viewer.id;
  self->priv->server.add_timeout(kGatheringTimeoutMs, [ref, id]() {
    with_viewer(ref.get(), id, [](GstWebRTCServerSink *sink, Viewer &v) {
      if (v.pending_answer)
        GST_INFO_OBJECT(sink, "viewer %s: ICE gathering still running, answering now",
                        v.id.c_str());
      finish_answer(sink, v.id);
    });
  });
}

/* Trickle ICE: a local candidate (or "" for the end) to the viewer's
 * signaling channel, held back until our answer or offer is out. */
static void deliver_candidate(Viewer &viewer, LocalCandidate c)
{
  if (!viewer.events.on_candidate)
    return;
  if (!viewer.local_sdp_sent) {
    viewer.early_candidates.push_back(std::move(c));
    return;
  }
  if (c.mid.empty() && c.mline >= 0 && c.mline < static_cast<int>(viewer.local_mids.size()))
    c.mid = viewer.local_mids[c.mline];
  viewer.events.on_candidate(c);
}

static void on_offer_created(GstWebRTCServerSink *self, Viewer &viewer, GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail_viewer(self, viewer, 500, "webrtcbin could not create an offer: " + error + ".");
  GstWebRTCSessionDescription *offer = nullptr;
  gst_structure_get(gst_promise_get_reply(p), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer,
                    nullptr);
  if (!offer)
    return fail_viewer(self, viewer, 500, "webrtcbin created no offer.");
  complete_answer_fmtp(offer->sdp, viewer.video);
  GstPromise *promise = promise_for(self, viewer.id, on_local_description_set);
  g_signal_emit_by_name(viewer.webrtcbin, "set-local-description", offer, promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(offer);
}

static void on_answer_applied(GstWebRTCServerSink *self, Viewer &viewer, GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail_viewer(self, viewer, 400, "The answer was refused by webrtcbin: " + error + ".");
  GST_INFO_OBJECT(self, "viewer %s: answer applied", viewer.id.c_str());
}

static void on_answer_created(GstWebRTCServerSink *self, Viewer &viewer, GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail_viewer(self, viewer, 500, "webrtcbin could not create an answer: " + error + ".");
  GstWebRTCSessionDescription *answer = nullptr;
  gst_structure_get(gst_promise_get_reply(p), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                    &answer, nullptr);
  if (!answer)
    return fail_viewer(self, viewer, 500, "webrtcbin created no answer.");
  complete_answer_fmtp(answer->sdp, viewer.video);
  GstPromise *promise = promise_for(self, viewer.id, on_local_description_set);
  g_signal_emit_by_name(viewer.webrtcbin, "set-local-description", answer, promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(answer);
}

/* What the probe on a viewer's nicesrc keeps: the last packet's time, how
 * many packets in a row came close together, and the sink, to ask for a key
 * frame. */
struct ReceiveWatch {
  Timestamp last_rx;
  guint chatty = 0;
  GWeakRef sink;

  ReceiveWatch(GstWebRTCServerSink *self, Timestamp rx) : last_rx(std::move(rx))
  {
    g_weak_ref_init(&sink, self);
  }
  ~ReceiveWatch() { g_weak_ref_clear(&sink); }
};

static GstPadProbeReturn note_received(GstPad *, GstPadProbeInfo *, gpointer user_data)
{
  auto *w = static_cast<ReceiveWatch *>(user_data);
  const gint64 now = now_us();
  const gint64 gap = now - w->last_rx->exchange(now);
  /* A viewer that was sending several packets a second (browsers: RTCP
   * feedback every ~100 ms) and went silent for a second was cut off: what we
   * sent meanwhile is lost, and its PLI may have gone into the outage.
   * Chromium asks again only 3 s after its last decoded frame. */
  if (gap >= kOutageUs && w->chatty >= kChattyPackets) {
    if (auto *self = static_cast<GstWebRTCServerSink *>(g_weak_ref_get(&w->sink))) {
      request_key_unit(self, "a viewer is back after an outage");
      gst_object_unref(self);
    }
  }
  w->chatty = gap <= kChattyGapUs ? w->chatty + 1 : 0;
  return GST_PAD_PROBE_OK;
}

/* Watches every packet the viewer sends (RTCP, DTLS) to notice when it has
 * vanished without a word: ICE consent would take 30 s to fail. */
static void watch_received_packets(GstWebRTCServerSink *self, Viewer &viewer)
{
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(viewer.webrtcbin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory *f = gst_element_get_factory(e);
    if (f && g_str_equal(GST_OBJECT_NAME(f), "nicesrc")) {
      Ref<GstPad> src = Ref<GstPad>::adopt(gst_element_get_static_pad(e, "src"));
      if (src)
        gst_pad_add_probe(src.get(),
                          static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                       GST_PAD_PROBE_TYPE_BUFFER_LIST),
                          note_received, new ReceiveWatch(self, viewer.last_rx),
                          [](gpointer d) { delete static_cast<ReceiveWatch *>(d); });
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

static void on_ice_connection_state(GstWebRTCServerSink *self, Viewer &viewer)
{
  GstWebRTCICEConnectionState state;
  g_object_get(viewer.webrtcbin, "ice-connection-state", &state, nullptr);
  GEnumValue *v = g_enum_get_value(
      G_ENUM_CLASS(g_type_class_peek(GST_TYPE_WEBRTC_ICE_CONNECTION_STATE)), state);
  viewer.ice_state = v ? v->value_nick : "unknown";
  GST_DEBUG_OBJECT(self, "viewer %s: ICE %s", viewer.id.c_str(), viewer.ice_state.c_str());
  switch (state) {
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      if (!viewer.connected) {
        viewer.connected = true;
        viewer.connected_us = now_us();
        viewer.last_rx->store(now_us());
        watch_received_packets(self, viewer);
        GST_INFO_OBJECT(self, "viewer %s connected", viewer.id.c_str());
      }
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
      end_viewer(self, viewer.id,
                 state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED ? "ICE failed" : "ICE closed");
      break;
    default:
      break;
  }
}

static void on_peer_connection_state(GstWebRTCServerSink *self, Viewer &viewer)
{
  GstWebRTCPeerConnectionState state;
  g_object_get(viewer.webrtcbin, "connection-state", &state, nullptr);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    if (!certificate_was_checked(self, viewer))
      return; /* ended */
    /* DTLS is up: the first packets it can decrypt must start a picture. */
    request_key_unit(self, "viewer connected");
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    end_viewer(self, viewer.id, "connection failed");
  }
}

static void on_remote_description_set(GstWebRTCServerSink *self, Viewer &viewer, GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail_viewer(self, viewer, 400, "The offer was refused by webrtcbin: " + error + ".");
  GstPromise *promise = promise_for(self, viewer.id, on_answer_created);
  g_signal_emit_by_name(viewer.webrtcbin, "create-answer", nullptr, promise);
  gst_promise_unref(promise);
}

/* The viewer's audio section: what it receives from audio_0 (sendonly),
 * what it sends us (talkback: recvonly), or both. Set up, like video,
 * before the offer is applied, so webrtcbin answers with these transceivers. */
static bool link_viewer_audio(GstWebRTCServerSink *self, Viewer &viewer, std::string &error)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  bool talkback;
  Ref<GstElement> audio_tee;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    talkback = priv->settings.talkback;
    if (priv->audio_tee)
      audio_tee = Ref<GstElement>::ref(priv->audio_tee);
  }
  const bool send = viewer.audio.present && viewer.audio.viewer_receives && audio_tee;
  const bool receive = viewer.audio.present && viewer.audio.viewer_sends && talkback;
  if (!send && !receive)
    return true;
  const GstWebRTCRTPTransceiverDirection direction =
      send && receive ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV
      : send          ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY
                      : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
  if (!send) {
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_signal_emit_by_name(viewer.webrtcbin, "add-transceiver", direction, viewer.audio.caps.get(),
                          &trans);
    if (!trans) {
      error = "webrtcbin refused an audio transceiver";
      return false;
    }
    gst_object_unref(trans);
    return true;
  }
  GstPadTemplate *templ =
      gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(viewer.webrtcbin), "sink_%u");
  Ref<GstPad> sinkpad = Ref<GstPad>::adopt(
      gst_element_request_pad(viewer.webrtcbin, templ, nullptr, viewer.audio.caps.get()));
  GstWebRTCRTPTransceiver *trans = nullptr;
  if (sinkpad)
    g_object_get(sinkpad.get(), "transceiver", &trans, nullptr);
  if (!trans) {
    error = "webrtcbin gave no audio pad";
    return false;
  }
  g_object_set(trans, "direction", direction, "codec-preferences", viewer.audio.caps.get(),
               nullptr);
  gst_object_unref(trans);
  Ref<GstPad> paysrc =
      Ref<GstPad>::adopt(gst_element_get_static_pad(viewer.audio_payloader, "src"));
  if (gst_pad_link(paysrc.get(), sinkpad.get()) != GST_PAD_LINK_OK) {
    error = "could not link the audio payloader to webrtcbin";
    return false;
  }
  viewer.audio_tee_pad =
      Ref<GstPad>::adopt(gst_element_request_pad_simple(audio_tee.get(), "src_%u"));
  Ref<GstPad> branch_sink =
      Ref<GstPad>::adopt(gst_element_get_static_pad(viewer.branch, "audio_sink"));
  if (gst_pad_link(viewer.audio_tee_pad.get(), branch_sink.get()) != GST_PAD_LINK_OK) {
    error = "could not link the viewer to the audio";
    return false;
  }
  std::lock_guard<std::mutex> guard(priv->lock);
  if (priv->audio_valve)
    g_object_set(priv->audio_valve, "drop", FALSE, nullptr);
  return true;
}

/* A viewer's microphone arrived (webrtcbin's streaming thread): decode it
 * inside the viewer's branch and expose it as talkback_<id> on the sink. A
 * tee with a fakesink keeps an unlinked talkback pad harmless. */
static void on_viewer_pad_added(GstElement *webrtcbin, GstPad *pad, gpointer user_data)
{
  auto *handle = static_cast<ViewerHandle *>(user_data);
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  Ref<GstCaps> caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad));
  if (!caps)
    caps = Ref<GstCaps>::adopt(gst_pad_query_caps(pad, nullptr));
  const GstStructure *s =
      caps && !gst_caps_is_empty(caps.get()) ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  auto *self = static_cast<GstWebRTCServerSink *>(g_weak_ref_get(&handle->sink));
  if (!self)
    return;
  Ref<GstWebRTCServerSink> sink = Ref<GstWebRTCServerSink>::adopt(self);
  GstElement *branch = GST_ELEMENT(gst_element_get_parent(webrtcbin));
  if (!branch)
    return;
  Ref<GstElement> branch_ref = Ref<GstElement>::adopt(branch);
  bool audio = s && g_strcmp0(gst_structure_get_string(s, "media"), "audio") == 0;
  if (!audio) {
    /* Caps may not be set yet: the transceiver knows its kind. */
    GstWebRTCRTPTransceiver *trans = nullptr;
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(pad), "transceiver"))
      g_object_get(pad, "transceiver", &trans, nullptr);
    if (trans) {
      GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;
      g_object_get(trans, "kind", &kind, nullptr);
      audio = kind == GST_WEBRTC_KIND_AUDIO;
      gst_object_unref(trans);
    }
  }
  std::vector<GstElement *> chain;
  for (const char *factory :
       audio ? std::vector<const char *>{"rtpopusdepay", "opusdec", "audioconvert", "audioresample",
                                         "capsfilter", "tee", "fakesink"}
             : std::vector<const char *>{"fakesink"}) {
    GstElement *e = gst_element_factory_make(factory, nullptr);
    if (!e) {
      GST_ELEMENT_WARNING(self, CORE, MISSING_PLUGIN,
                          ("The GStreamer element \"%s\" is missing, so a viewer's microphone "
                           "cannot be decoded.",
                           factory),
                          (nullptr));
      for (GstElement *c : chain)
        gst_object_unref(gst_object_ref_sink(c));
      return;
    }
    chain.push_back(e);
  }
  GstElement *fakesink = chain.back();
  g_object_set(fakesink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, nullptr);
  GstElement *tee = nullptr;
  if (audio) {
    g_object_set(chain[1], "plc", TRUE, nullptr);
    Ref<GstCaps> out = Ref<GstCaps>::adopt(gst_static_pad_template_get_caps(&talkback_template));
    g_object_set(chain[4], "caps", out.get(), nullptr);
    tee = chain[5];
    g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  }
  if (!audio) /* nothing but audio is expected from a viewer: dropped */
    GST_DEBUG_OBJECT(self, "viewer %s: dropping incoming %" GST_PTR_FORMAT, handle->id.c_str(),
                     caps.get());
  for (GstElement *e : chain)
    gst_bin_add(GST_BIN(branch), e);
  for (std::size_t i = 0; i + 1 < chain.size(); i++)
    gst_element_link(chain[i], chain[i + 1]);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    gst_element_sync_state_with_parent(*it);
  if (audio) {
    /* branch:talkback -> sink:talkback_<id>, before data flows. */
    Ref<GstPad> tee_src = Ref<GstPad>::adopt(gst_element_request_pad_simple(tee, "src_%u"));
    GstPad *inner = gst_ghost_pad_new("talkback", tee_src.get());
    gst_pad_set_active(inner, TRUE);
    gst_element_add_pad(branch, inner);
    const std::string name = "talkback_" + handle->id;
    GstPadTemplate *templ =
        gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), "talkback_%s");
    GstPad *outer = gst_ghost_pad_new_from_template(name.c_str(), inner, templ);
    gst_pad_set_active(outer, TRUE);
    GST_INFO_OBJECT(self, "viewer %s: talkback audio on pad %s", handle->id.c_str(), name.c_str());
    gst_element_add_pad(GST_ELEMENT(self), outer);
  }
  Ref<GstPad> depay_sink = Ref<GstPad>::adopt(gst_element_get_static_pad(chain[0], "sink"));
  if (gst_pad_link(pad, depay_sink.get()) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT(self, "viewer %s: could not link its incoming stream", handle->id.c_str());
}

/* Gives webrtcbin a send-only video pad whose codec preferences are the
 * offer's own payload type, and feeds it from the tee. webrtcbin (1.22)
 * matches the offer's video section to this transceiver when answering. */
static bool link_viewer_media(GstWebRTCServerSink *self, Viewer &viewer, std::string &error)
{
  GstPadTemplate *templ =
      gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(viewer.webrtcbin), "sink_%u");
  Ref<GstPad> sinkpad = Ref<GstPad>::adopt(
      gst_element_request_pad(viewer.webrtcbin, templ, nullptr, viewer.video.caps.get()));
  if (!sinkpad) {
    error = "webrtcbin gave no video pad";
    return false;
  }
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_object_get(sinkpad.get(), "transceiver", &trans, nullptr);
  if (!trans) {
    error = "webrtcbin's video pad has no transceiver";
    return false;
  }
  g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
               "codec-preferences", viewer.video.caps.get(), nullptr);
  /* Retransmit what a viewer reports lost (NACK, RTX when it offers it):
   * a lost packet costs one round trip instead of a key frame. */
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(trans), "do-nack"))
    g_object_set(trans, "do-nack", TRUE, nullptr);
  gst_object_unref(trans);
  Ref<GstPad> paysrc = Ref<GstPad>::adopt(gst_element_get_static_pad(viewer.payloader, "src"));
  if (gst_pad_link(paysrc.get(), sinkpad.get()) != GST_PAD_LINK_OK) {
    error = "could not link the payloader to webrtcbin";
    return false;
  }

  GstElement *tee;
  {
    std::lock_guard<std::mutex> guard(self->priv->lock);
    tee = self->priv->tee;
    if (tee)
      gst_object_ref(tee);
    if (self->priv->valve)
      g_object_set(self->priv->valve, "drop", FALSE, nullptr);
  }
  if (!tee) {
    error = "the stream has stopped";
    return false;
  }
  viewer.tee_pad = Ref<GstPad>::adopt(gst_element_request_pad_simple(tee, "src_%u"));
  gst_object_unref(tee);
  Ref<GstPad> branch_sink = Ref<GstPad>::adopt(gst_element_get_static_pad(viewer.branch, "sink"));
  if (gst_pad_link(viewer.tee_pad.get(), branch_sink.get()) != GST_PAD_LINK_OK) {
    error = "could not link the viewer to the stream";
    return false;
  }
  return link_viewer_audio(self, viewer, error);
}

static void finish_answer(GstWebRTCServerSink *self, const std::string &id)
{
  with_viewer(self, id, [](GstWebRTCServerSink *sink, Viewer &viewer) {
    if (!viewer.pending_answer || !viewer.answer_ready)
      return;
    GstWebRTCSessionDescription *desc = nullptr;
    g_object_get(viewer.webrtcbin, "local-description", &desc, nullptr);
    if (!desc)
      return fail_viewer(sink, viewer, 500, "webrtcbin has no local description.");
    SessionResult r;
    r.ok = true;
    r.id = viewer.id;
    r.etag = viewer.etag;
    r.answer_sdp = take_string(gst_sdp_message_as_text(desc->sdp));
    for (guint i = 0; i < gst_sdp_message_medias_len(desc->sdp); i++) {
      const char *mid =
          gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(desc->sdp, i), "mid");
      viewer.local_mids.emplace_back(mid ? mid : "");
    }
    gst_webrtc_session_description_free(desc);
    auto done = std::move(viewer.pending_answer);
    viewer.pending_answer = nullptr;
    GST_INFO_OBJECT(sink, "viewer %s: %s sent", viewer.id.c_str(),
                    viewer.we_offer ? "offer" : "answer");
    done(r);
    viewer.local_sdp_sent = true;
    std::vector<LocalCandidate> early;
    early.swap(viewer.early_candidates);
    for (LocalCandidate &c : early) {
      if (c.mid.empty() && c.mline >= 0 && c.mline < static_cast<int>(viewer.local_mids.size()))
        c.mid = viewer.local_mids[c.mline];
      if (viewer.events.on_candidate)
        viewer.events.on_candidate(c);
    }
    viewer.announced = true;
    g_signal_emit(sink, signals[SIGNAL_VIEWER_ADDED], 0, viewer.id.c_str(), viewer.webrtcbin);
    g_object_notify(G_OBJECT(sink), "viewers");
  });
}

/* The addresses ICE gathers on. libnice skips loopback interfaces, so a
 * server bound to loopback (only local viewers can reach it) gathers on
 * 127.0.0.1; otherwise libnice discovers the interfaces itself. */
static std::vector<std::string> ice_addresses_for(const Settings &settings)
{
  if (!settings.ice_addresses.empty())
    return settings.ice_addresses;
  GInetAddress *bind = g_inet_address_new_from_string(settings.bind_address.c_str());
  std::vector<std::string> out;
  if (bind && g_inet_address_get_is_loopback(bind))
    out.push_back(settings.bind_address);
  if (bind)
    g_object_unref(bind);
  return out;
}

static void configure_ice(GstWebRTCServerSink *self, GstElement *webrtcbin,
                          const Settings &settings)
{
  GObject *ice = nullptr;
  g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
  if (ice) {
    GObject *agent = nullptr;
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
      g_object_get(ice, "agent", &agent, nullptr);
    if (agent) {
      /* UPnP would send SSDP multicast on every interface: never wanted. */
      g_object_set(agent, "upnp", FALSE, nullptr);
      g_object_unref(agent);
    } else {
      GST_WARNING_OBJECT(self, "could not reach the ICE agent to turn UPnP off");
    }
    for (const auto &address : ice_addresses_for(settings)) {
      gboolean added = FALSE;
      g_signal_emit_by_name(ice, "add-local-ip-address", address.c_str(), &added);
      if (!added)
        GST_WARNING_OBJECT(self, "ICE refused local address %s", address.c_str());
    }
    g_object_unref(ice);
  }
  if (!settings.stun_server.empty())
    g_object_set(webrtcbin, "stun-server", settings.stun_server.c_str(), nullptr);
  for (const auto &turn : settings.turn_servers) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtcbin, "add-turn-server", turn.c_str(), &added);
    if (!added)
      GST_WARNING_OBJECT(self, "webrtcbin refused TURN server %s", turn.c_str());
  }
  g_object_set(webrtcbin, "ice-transport-policy",
               settings.ice_transport_policy == IceTransportPolicy::Relay
                   ? GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY
                   : GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL,
               nullptr);
}

static GstElement *make_payloader(GstWebRTCServerSink *self, VideoCodec codec, int pt)
{
  GstElement *pay = nullptr;
  switch (codec) {
    case VideoCodec::H264:
      pay = make_element(self, "rtph264pay", "pay");
      if (pay) {
        g_object_set(pay, "config-interval", -1, nullptr);
        gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
      }
      break;
    case VideoCodec::VP8:
      pay = make_element(self, "rtpvp8pay", "pay");
      if (pay)
        gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
      break;
    case VideoCodec::VP9:
      pay = make_element(self, "rtpvp9pay", "pay");
      if (pay)
        gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
      break;
  }
  if (pay)
    g_object_set(pay, "pt", static_cast<guint>(pt), "mtu", 1200u, nullptr);
  return pay;
}

template <typename F>
static void connect_viewer_signal(GstWebRTCServerSink *self, Viewer &viewer, const char *signal,
                                  F callback)
{
  g_signal_connect_data(viewer.webrtcbin, signal, G_CALLBACK(+callback),
                        new ViewerHandle(self, viewer.id), ViewerHandle::destroy,
                        static_cast<GConnectFlags>(0));
}

/* Calls @next (on the server thread) once every payloader of the viewer
 * has output caps, or after kPayloaderCapsTimeoutMs (audio may not flow yet). */
static void when_payloaders_ready(GstWebRTCServerSink *self, Viewer &viewer,
                                  std::function<void(GstWebRTCServerSink *, Viewer &)> next)
{
  struct Wait {
    std::atomic<int> missing{0};
    std::atomic<bool> done{false};
    std::function<void(GstWebRTCServerSink *, Viewer &)> next;
    std::unique_ptr<ViewerHandle> handle;
    void finish()
    {
      if (!done.exchange(true))
        handle->dispatch(next);
    }
  };
  auto wait = std::make_shared<Wait>();
  wait->next = std::move(next);
  wait->handle = std::make_unique<ViewerHandle>(self, viewer.id);
  std::vector<Ref<GstPad>> pads;
  for (GstElement *pay : {viewer.payloader, viewer.audio_payloader}) {
    if (!pay)
      continue;
    Ref<GstPad> src = Ref<GstPad>::adopt(gst_element_get_static_pad(pay, "src"));
    Ref<GstCaps> caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(src.get()));
    if (!caps)
      pads.push_back(src);
  }
  wait->missing = static_cast<int>(pads.size());
  if (pads.empty()) {
    wait->finish();
    return;
  }
  for (const Ref<GstPad> &pad : pads) {
    gst_pad_add_probe(
        pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
          if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_CAPS)
            return GST_PAD_PROBE_OK;
          auto &w = *static_cast<std::shared_ptr<Wait> *>(data);
          if (--w->missing == 0)
            w->finish();
          return GST_PAD_PROBE_REMOVE;
        },
        new std::shared_ptr<Wait>(wait),
        [](gpointer data) { delete static_cast<std::shared_ptr<Wait> *>(data); });
  }
  self->priv->server.add_timeout(kPayloaderCapsTimeoutMs, [wait]() {
    if (!wait->done)
      GST_DEBUG("payloader caps still missing, negotiating anyway");
    wait->finish();
  });
}

/* Creates the viewer's branch and starts answering its offer. */
static void create_viewer(GstWebRTCServerSink *self, const std::string &offer_sdp,
                          const OfferCheck &checked, SessionEvents events,
                          std::function<void(SessionResult)> done)
{
  const OfferedVideo &video = checked.video;
  const bool we_offer = offer_sdp.empty();
  GstWebRTCServerSinkPrivate *priv = self->priv;
  auto refuse = [&done](int status, std::string message, int retry_after = 0) {
    SessionResult r;
    r.status = status;
    r.message = std::move(message);
    r.retry_after = retry_after;
    done(r);
  };

  GstWebRTCSessionDescription *offer = nullptr;
  if (!we_offer) {
    GstSDPMessage *sdp = nullptr;
    gst_sdp_message_new_from_text(offer_sdp.c_str(), &sdp);
    if (!sdp)
      return refuse(400, "The SDP offer could not be parsed.");
    offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  }
  /* Frees the offer on every way out. */
  std::unique_ptr<GstWebRTCSessionDescription, void (*)(GstWebRTCSessionDescription *)> offer_owner(
      offer, [](GstWebRTCSessionDescription *d) {
        if (d)
          gst_webrtc_session_description_free(d);
      });

  Settings settings;
  VideoCodec codec;
  auto viewer = std::make_unique<Viewer>();
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    settings = priv->settings;
    codec = priv->active_codec;
    if (!priv->streaming || !priv->chain_built) {
      return refuse(503, "The stream is not running; try again shortly.", 2);
    }
    guint pending = 0;
    for (const auto &v : priv->viewers)
      pending += v.second->connected ? 0 : 1;
    if (settings.max_pending > 0 && pending >= settings.max_pending) {
      priv->refused_max_pending++;
      return refuse(503,
                    "Too many viewers are connecting at once (" + std::to_string(pending) +
                        ", max-pending); try again in a second.",
                    1);
    }
    if (settings.max_viewers > 0 && priv->viewers.size() >= settings.max_viewers) {
      priv->refused_max_viewers++;
      return refuse(503,
                    "This stream is at its limit of " + std::to_string(priv->viewers.size()) +
                        " viewer(s) (max-viewers); try again later.",
                    3);
    }
    do {
      viewer->id = random_hex(priv->random, 16);
    } while (priv->viewers.count(viewer->id));
    viewer->etag = random_hex(priv->random, 8);
  }
  viewer->video = video;
  viewer->audio = checked.audio;
  viewer->guard->fingerprints = checked.dtls_fingerprints; /* empty when we offer */
  viewer->events = std::move(events);
  viewer->we_offer = we_offer;
  viewer->created_us = now_us();
  viewer->pending_answer = std::move(done);

  const std::string branch_name = "viewer-" + viewer->id.substr(0, 12);
  GstElement *branch = gst_bin_new(branch_name.c_str());
  GstElement *queue = make_element(self, "queue", "queue");
  GstElement *pay = make_payloader(self, codec, video.payload_type);
  GstElement *webrtcbin = make_element(self, "webrtcbin", "webrtcbin");
  if (!queue || !pay || !webrtcbin) {
    for (GstElement *e : {queue, pay, webrtcbin, branch}) {
      if (e)
        gst_object_unref(gst_object_ref_sink(e));
    }
    auto cb = std::move(viewer->pending_answer);
    SessionResult r;
    r.status = 500;
    r.message = "A GStreamer element this stream needs is missing on the server.";
    cb(r);
    return;
  }
  /* Small and leaky: a viewer that cannot keep up loses frames (and asks for
   * a key frame) instead of slowing everyone down. */
  g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
               static_cast<guint64>(500 * GST_MSECOND), nullptr);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  gst_util_set_object_arg(G_OBJECT(webrtcbin), "bundle-policy", "max-bundle");
  configure_ice(self, webrtcbin, settings);

  gst_bin_add_many(GST_BIN(branch), queue, pay, webrtcbin, nullptr);
  gst_element_link(queue, pay);
  add_branch_input(branch, "sink", queue, viewer->guard);
  g_object_set_qdata_full(G_OBJECT(branch), branch_tag_quark(),
                          new BranchTag{viewer->id, viewer->guard},
                          [](gpointer data) { delete static_cast<BranchTag *>(data); });

  bool has_audio_input;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    has_audio_input = priv->audio_tee != nullptr;
  }
  if (checked.audio.present && checked.audio.viewer_receives && has_audio_input) {
    GstElement *aqueue = make_element(self, "queue", "audio-queue");
    GstElement *apay = make_element(self, "rtpopuspay", "audio-pay");
    if (aqueue && apay) {
      g_object_set(aqueue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                   static_cast<guint64>(200 * GST_MSECOND), nullptr);
      gst_util_set_object_arg(G_OBJECT(aqueue), "leaky", "downstream");
      g_object_set(apay, "pt", static_cast<guint>(checked.audio.payload_type), "mtu", 1200u,
                   nullptr);
      gst_bin_add_many(GST_BIN(branch), aqueue, apay, nullptr);
      gst_element_link(aqueue, apay);
      add_branch_input(branch, "audio_sink", aqueue, viewer->guard);
      viewer->audio_payloader = apay;
    } else {
      for (GstElement *e : {aqueue, apay}) {
        if (e)
          gst_object_unref(gst_object_ref_sink(e));
      }
      viewer->audio.viewer_receives = false; /* video only, then */
    }
  }

  /* H.264: the payloader writes the profile-level-id of our SPS into its
   * caps, which webrtcbin then matches exactly against the offer's. Put the
   * viewer's own value in its place (same profile, checked in check_offer),
   * so the answer never depends on whether the caps came before it. */
  GstElement *video_out = pay;
  if (codec == VideoCodec::H264 && !video.profile_level_id.empty()) {
    if (GstElement *setter = make_element(self, "capssetter", "profile-level-id")) {
      Ref<GstCaps> plid = Ref<GstCaps>::adopt(
          gst_caps_new_simple("application/x-rtp", "profile-level-id", G_TYPE_STRING,
                              video.profile_level_id.c_str(), nullptr));
      g_object_set(setter, "caps", plid.get(), nullptr);
      gst_bin_add(GST_BIN(branch), setter);
      gst_element_link(pay, setter);
      video_out = setter;
    }
  }

  viewer->branch = branch;
  viewer->webrtcbin = webrtcbin;
  viewer->payloader = video_out;
  Viewer &v = *viewer;
  const std::string id = viewer->id;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    priv->viewers[id] = std::move(viewer);
  }

  connect_viewer_signal(
      self, v, "notify::ice-gathering-state", [](GstElement *, GParamSpec *, gpointer data) {
        static_cast<ViewerHandle *>(data)->dispatch([](GstWebRTCServerSink *sink, Viewer &viewer) {
          GstWebRTCICEGatheringState state;
          g_object_get(viewer.webrtcbin, "ice-gathering-state", &state, nullptr);
          if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE && !viewer.gathering_done) {
            viewer.gathering_done = true;
            finish_answer(sink, viewer.id);
            deliver_candidate(viewer, LocalCandidate{});
          }
        });
      });
  connect_viewer_signal(self, v, "notify::ice-connection-state",
                        [](GstElement *, GParamSpec *, gpointer data) {
                          static_cast<ViewerHandle *>(data)->dispatch(on_ice_connection_state);
                        });
  if (v.events.on_candidate)
    connect_viewer_signal(self, v, "on-ice-candidate",
                          [](GstElement *, guint mline, gchar *candidate, gpointer data) {
                            std::string text = candidate ? candidate : "";
                            if (g_str_has_prefix(text.c_str(), "a="))
                              text.erase(0, 2);
                            static_cast<ViewerHandle *>(data)->dispatch(
                                [mline, text](GstWebRTCServerSink *, Viewer &viewer) {
                                  LocalCandidate c;
                                  c.candidate = text;
                                  c.mline = static_cast<int>(mline);
                                  deliver_candidate(viewer, c);
                                });
                          });
  if (checked.audio.present && checked.audio.viewer_sends)
    g_signal_connect_data(webrtcbin, "pad-added", G_CALLBACK(on_viewer_pad_added),
                          new ViewerHandle(self, id), ViewerHandle::destroy,
                          static_cast<GConnectFlags>(0));
  connect_viewer_signal(self, v, "notify::connection-state",
                        [](GstElement *, GParamSpec *, gpointer data) {
                          static_cast<ViewerHandle *>(data)->dispatch(on_peer_connection_state);
                        });

  gst_bin_add(GST_BIN(self), branch);
  gst_element_sync_state_with_parent(branch);

  std::string error;
  if (!link_viewer_media(self, v, error))
    return fail_viewer(self, v, 500, "Could not set up the viewer: " + error + ".");
  request_key_unit(self, "viewer joined");

  /* The offer or answer lists each stream's SSRC only once its payloader
   * has caps; without them a browser cannot tell a bundled video from audio
   * (webrtcbin sends no MID header extension), and the picture never shows. */
  auto pending = std::make_shared<std::shared_ptr<GstWebRTCSessionDescription>>(
      offer_owner.release(), [](GstWebRTCSessionDescription *d) {
        if (d)
          gst_webrtc_session_description_free(d);
      });
  when_payloaders_ready(
      self, v, [we_offer, pending, video](GstWebRTCServerSink *sink, Viewer &viewer) {
        if (we_offer) {
          GST_INFO_OBJECT(sink, "viewer %s: making an offer (payload type %d)", viewer.id.c_str(),
                          video.payload_type);
          GstPromise *promise = promise_for(sink, viewer.id, on_offer_created);
          g_signal_emit_by_name(viewer.webrtcbin, "create-offer", nullptr, promise);
          gst_promise_unref(promise);
          return;
        }
        GST_INFO_OBJECT(sink, "viewer %s: answering its offer (m-line %u, payload type %d)",
                        viewer.id.c_str(), video.mline, video.payload_type);
        GstPromise *promise = promise_for(sink, viewer.id, on_remote_description_set);
        g_signal_emit_by_name(viewer.webrtcbin, "set-remote-description", pending->get(), promise);
        gst_promise_unref(promise);
      });
}

/* What our own offer proposes: the stream's codec with fixed payload
 * types, in the shape check_offer() gives for a viewer's offer. */
static OfferCheck our_offer(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  OfferCheck c;
  c.ok = true;
  VideoCodec codec;
  std::string profile;
  bool audio_input, talkback;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    codec = priv->active_codec;
    profile = priv->h264_profile;
    audio_input = priv->audio_tee != nullptr;
    talkback = priv->settings.talkback;
  }
  c.video.mline = 0;
  c.video.payload_type = 96;
  GstCaps *vcaps = gst_caps_new_simple(
      "application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name", G_TYPE_STRING,
      video_codec_encoding_name(codec), "clock-rate", G_TYPE_INT, 90000, "payload", G_TYPE_INT, 96,
      "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
      "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, nullptr);
  if (codec == VideoCodec::H264) {
    gst_caps_set_simple(vcaps, "packetization-mode", G_TYPE_STRING, "1", "level-asymmetry-allowed",
                        G_TYPE_STRING, "1", nullptr);
    /* profile_idc and constraint flags; level 3.1 */
    static const std::map<std::string, const char *> ids = {{"constrained-baseline", "42e01f"},
                                                            {"baseline", "42001f"},
                                                            {"main", "4d001f"},
                                                            {"high", "64001f"}};
    auto it = ids.find(profile);
    c.video.profile_level_id = it != ids.end() ? it->second : "42e01f";
  }
  c.video.caps = Ref<GstCaps>::adopt(vcaps);
  c.video.mids = {"video0"};
  if (audio_input || talkback) {
    c.audio.present = true;
    c.audio.mline = 1;
    c.audio.payload_type = 111;
    c.audio.caps = Ref<GstCaps>::adopt(
        gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "encoding-name",
                            G_TYPE_STRING, "OPUS", "clock-rate", G_TYPE_INT, 48000, "payload",
                            G_TYPE_INT, 111, "encoding-params", G_TYPE_STRING, "2", "minptime",
                            G_TYPE_STRING, "10", "useinbandfec", G_TYPE_STRING, "1", nullptr));
    c.audio.viewer_receives = audio_input;
    c.audio.viewer_sends = talkback;
  }
  return c;
}

/* Frees a removed viewer's branch; on the server thread. Never while the
 * element changes state: the bin's state change walks its children, and a
 * branch changing state and leaving under its feet ends up disposed in
 * PAUSED. So the state lock is taken, or the disposal retried shortly. */
static void dispose_branch(GstWebRTCServerSink *self, const std::string &id, Ref<GstElement> branch,
                           std::vector<Ref<GstPad>> tee_pads)
{
  if (!GST_STATE_TRYLOCK(self)) {
    Ref<GstWebRTCServerSink> ref = Ref<GstWebRTCServerSink>::ref(self);
    self->priv->server.add_timeout(
        20, [ref, id, branch, tee_pads]() { dispose_branch(ref.get(), id, branch, tee_pads); });
    return;
  }
  for (const Ref<GstPad> &tee_pad : tee_pads) {
    GstElement *tee = GST_ELEMENT(gst_pad_get_parent(tee_pad.get()));
    if (tee) {
      gst_element_release_request_pad(tee, tee_pad.get());
      gst_object_unref(tee);
    }
  }
  Ref<GstPad> talkback =
      Ref<GstPad>::adopt(gst_element_get_static_pad(GST_ELEMENT(self), ("talkback_" + id).c_str()));
  if (talkback) {
    gst_ghost_pad_set_target(GST_GHOST_PAD(talkback.get()), nullptr);
    gst_pad_set_active(talkback.get(), FALSE);
    gst_element_remove_pad(GST_ELEMENT(self), talkback.get());
  }
  /* stop_server() may have removed it already. */
  if (GST_OBJECT_PARENT(branch.get()) == GST_OBJECT(self)) {
    gst_element_set_state(branch.get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(self), branch.get());
  }
  GST_STATE_UNLOCK(self);
  self->priv->branches_disposed = true;
}

static void end_viewer(GstWebRTCServerSink *self, const std::string &id, const std::string &reason)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::unique_ptr<Viewer> viewer;
  bool last;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    auto it = priv->viewers.find(id);
    if (it == priv->viewers.end())
      return;
    viewer = std::move(it->second);
    priv->viewers.erase(it);
    last = priv->viewers.empty();
    priv->recently_ended.push_front({id, reason, now_us()});
    if (priv->recently_ended.size() > kRecentlyEnded)
      priv->recently_ended.pop_back();
    if (last && priv->valve)
      g_object_set(priv->valve, "drop", TRUE, nullptr);
    if (last && priv->audio_valve)
      g_object_set(priv->audio_valve, "drop", TRUE, nullptr);
  }
  viewer->guard->failed = true; /* nothing more goes in while it is unlinked */
  GST_INFO_OBJECT(self, "viewer %s ended: %s", id.c_str(), reason.c_str());
  if (viewer->events.on_ended && !viewer->ended_by_channel)
    viewer->events.on_ended(reason);
  if (viewer->pending_answer) {
    SessionResult r;
    r.status = 503;
    r.message = "The viewer session ended before it was answered: " + reason + ".";
    viewer->pending_answer(r);
  }

  Ref<GstElement> branch = Ref<GstElement>::ref(viewer->branch);
  std::vector<Ref<GstPad>> tee_pads;
  for (const Ref<GstPad> &pad : {viewer->tee_pad, viewer->audio_tee_pad}) {
    if (pad)
      tee_pads.push_back(pad);
  }
  if (tee_pads.empty()) {
    dispose_branch(self, id, branch, {});
  } else {
    /* Unlink each tee pad once its tee is between two buffers, so the others
     * see no glitch; the branch goes once all are unlinked. */
    struct Unlink {
      Ref<GstWebRTCServerSink> sink;
      std::string id;
      Ref<GstElement> branch;
      std::vector<Ref<GstPad>> tee_pads;
      std::atomic<int> remaining;
    };
    auto unlink = std::make_shared<Unlink>();
    unlink->sink = Ref<GstWebRTCServerSink>::ref(self);
    unlink->id = id;
    unlink->branch = branch;
    unlink->tee_pads = tee_pads;
    unlink->remaining = static_cast<int>(tee_pads.size());
    for (const Ref<GstPad> &tee_pad : tee_pads) {
      struct Once {
        std::shared_ptr<Unlink> unlink;
        bool done = false;
      };
      gst_pad_add_probe(
          tee_pad.get(), GST_PAD_PROBE_TYPE_IDLE,
          [](GstPad *pad, GstPadProbeInfo *, gpointer user_data) -> GstPadProbeReturn {
            auto *once = static_cast<Once *>(user_data);
            if (std::exchange(once->done, true))
              return GST_PAD_PROBE_REMOVE;
            Ref<GstPad> peer = Ref<GstPad>::adopt(gst_pad_get_peer(pad));
            if (peer)
              gst_pad_unlink(pad, peer.get());
            std::shared_ptr<Unlink> u = once->unlink;
            if (--u->remaining == 0)
              u->sink->priv->server.invoke(
                  [u]() { dispose_branch(u->sink.get(), u->id, u->branch, u->tee_pads); });
            return GST_PAD_PROBE_REMOVE;
          },
          new Once{unlink}, [](gpointer d) { delete static_cast<Once *>(d); });
    }
  }
  if (viewer->announced) {
    g_signal_emit(self, signals[SIGNAL_VIEWER_ENDED], 0, id.c_str(), reason.c_str());
    g_signal_emit(self, signals[SIGNAL_VIEWER_REMOVED], 0, id.c_str());
    g_object_notify(G_OBJECT(self), "viewers");
  }
}

/* Ends every viewer and frees every branch; called with the server stopped
 * or from the server thread. Streaming must not be running on the branches
 * any more when called from outside the server thread. */
static void end_all_viewers(GstWebRTCServerSink *self, const char *reason)
{
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> guard(self->priv->lock);
    for (const auto &v : self->priv->viewers)
      ids.push_back(v.first);
  }
  for (const auto &id : ids)
    end_viewer(self, id, reason);
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                             */

static void read_viewer_stats(GstWebRTCServerSink *self, Viewer &viewer)
{
  auto *handle = new ViewerHandle(self, viewer.id);
  GstPromise *promise = gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer data) {
        auto *h = static_cast<ViewerHandle *>(data);
        if (gst_promise_wait(p) != GST_PROMISE_RESULT_REPLIED)
          return;
        const GstStructure *reply = gst_promise_get_reply(p);
        if (!reply)
          return;
        guint64 bytes = 0, received = 0;
        gint64 lost = 0;
        double rtt = -1;
        guint pli = 0;
        const guint n = gst_structure_n_fields(reply);
        for (guint i = 0; i < n; i++) {
          const GValue *val =
              gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
          if (!GST_VALUE_HOLDS_STRUCTURE(val))
            continue;
          const GstStructure *s = gst_value_get_structure(val);
          GstWebRTCStatsType type;
          if (!gst_structure_get(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr))
            continue;
          if (type == GST_WEBRTC_STATS_OUTBOUND_RTP) {
            guint64 b = 0;
            if (gst_structure_get_uint64(s, "bytes-sent", &b))
              bytes += b;
            guint count = 0;
            if (gst_structure_get_uint(s, "pli-count", &count))
              pli += count;
          } else if (type == GST_WEBRTC_STATS_INBOUND_RTP) {
            guint64 b = 0;
            if (gst_structure_get_uint64(s, "bytes-received", &b))
              received += b;
          } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
            gint64 l = 0;
            gint li = 0;
            if (gst_structure_get_int64(s, "packets-lost", &l))
              lost += l;
            else if (gst_structure_get_int(s, "packets-lost", &li))
              lost += li;
            double r = -1;
            if (gst_structure_get_double(s, "round-trip-time", &r) && r >= 0)
              rtt = r;
          }
        }
        h->dispatch([bytes, received, lost, rtt, pli](GstWebRTCServerSink *, Viewer &v) {
          v.bytes_received = received;
          const gint64 now = now_us();
          if (v.bytes_sent_at > 0 && now > v.bytes_sent_at && bytes >= v.bytes_sent)
            v.bitrate = (bytes - v.bytes_sent) * 8.0 * G_USEC_PER_SEC / (now - v.bytes_sent_at);
          v.bytes_sent = bytes;
          v.bytes_sent_at = now;
          v.packets_lost = lost;
          v.pli_count = pli;
          if (rtt >= 0)
            v.rtt = rtt;
        });
      },
      handle, ViewerHandle::destroy_notify);
  g_signal_emit_by_name(viewer.webrtcbin, "get-stats", nullptr, promise);
  gst_promise_unref(promise);
}

/* Once a second on the server thread: rates, stats, vanished viewers. */
static void housekeeping(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  const gint64 now = now_us();
  {
    const guint64 bytes = priv->out_bytes, frames = priv->out_frames;
    if (priv->last_rate_time > 0 && now > priv->last_rate_time) {
      const double secs = (now - priv->last_rate_time) / double(G_USEC_PER_SEC);
      std::lock_guard<std::mutex> guard(priv->lock); /* read by get_property */
      priv->fps = (frames - priv->last_frames) / secs;
      priv->bitrate_bps = (bytes - priv->last_bytes) * 8.0 / secs;
    }
    priv->last_bytes = bytes;
    priv->last_frames = frames;
    priv->last_rate_time = now;
  }

  std::vector<std::pair<std::string, const char *>> expired;
  std::vector<Viewer *> live;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    for (auto &entry : priv->viewers) {
      Viewer &v = *entry.second;
      GST_LOG_OBJECT(self, "viewer %s: %s, last packet %.1f s ago", v.id.c_str(),
                     v.ice_state.c_str(), (now - v.last_rx->load()) / 1e6);
      if (!v.connected && now - v.created_us > kConnectTimeoutUs)
        expired.emplace_back(v.id, "ICE did not connect in time");
      else if (v.connected && now - v.last_rx->load() > kSilenceTimeoutUs)
        expired.emplace_back(v.id, "nothing received from the viewer (it vanished)");
      else if (v.connected)
        live.push_back(&v);
    }
  }
  for (Viewer *v : live)
    read_viewer_stats(self, *v);
  for (const auto &e : expired)
    end_viewer(self, e.first, e.second);

#ifdef __GLIBC__
  /* A crowd of viewers that has left leaves its webrtcbins' memory free but
   * scattered over glibc's heaps, where it stays resident for days; give
   * it back to the system now and then. */
  if (priv->branches_disposed && now - priv->last_trim_us > kTrimIntervalUs) {
    priv->branches_disposed = false;
    priv->last_trim_us = now;
    malloc_trim(0);
  }
#endif
}

static std::string stats_json(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  JsonBuilder *b = json_builder_new();
  std::lock_guard<std::mutex> guard(priv->lock);
  const gint64 now = now_us();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "viewers");
  json_builder_add_int_value(b, static_cast<gint64>(priv->viewers.size()));
  json_builder_set_member_name(b, "encoder");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "codec");
  json_builder_add_string_value(
      b, priv->chain_built ? video_codec_encoding_name(priv->active_codec) : "");
  json_builder_set_member_name(b, "encodes");
  json_builder_add_boolean_value(b, priv->chain_encodes);
  json_builder_set_member_name(b, "width");
  json_builder_add_int_value(b, priv->width);
  json_builder_set_member_name(b, "height");
  json_builder_add_int_value(b, priv->height);
  json_builder_set_member_name(b, "fps");
  json_builder_add_double_value(b, priv->fps);
  json_builder_set_member_name(b, "bitrate");
  json_builder_add_int_value(b, static_cast<gint64>(priv->bitrate_bps));
  json_builder_set_member_name(b, "frames");
  json_builder_add_int_value(b, static_cast<gint64>(priv->out_frames.load()));
  json_builder_end_object(b);
  json_builder_set_member_name(b, "sessions");
  json_builder_begin_array(b);
  for (const auto &entry : priv->viewers) {
    const Viewer &v = *entry.second;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, v.id.c_str());
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, v.connected ? "connected" : "connecting");
    json_builder_set_member_name(b, "ice");
    json_builder_add_string_value(b, v.ice_state.c_str());
    json_builder_set_member_name(b, "age");
    json_builder_add_double_value(b, (now - v.created_us) / double(G_USEC_PER_SEC));
    json_builder_set_member_name(b, "bitrate");
    json_builder_add_int_value(b, static_cast<gint64>(v.bitrate));
    json_builder_set_member_name(b, "bytesReceived");
    json_builder_add_int_value(b, static_cast<gint64>(v.bytes_received));
    json_builder_set_member_name(b, "packetsLost");
    json_builder_add_int_value(b, v.packets_lost);
    json_builder_set_member_name(b, "pliCount");
    json_builder_add_int_value(b, static_cast<gint64>(v.pli_count));
    json_builder_set_member_name(b, "rtt");
    if (v.rtt >= 0)
      json_builder_add_double_value(b, v.rtt);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  /* Viewers turned away so far, by the limit that did it. */
  json_builder_set_member_name(b, "refused");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "maxViewers");
  json_builder_add_int_value(b, static_cast<gint64>(priv->refused_max_viewers.load()));
  json_builder_set_member_name(b, "maxPending");
  json_builder_add_int_value(b, static_cast<gint64>(priv->refused_max_pending.load()));
  json_builder_set_member_name(b, "rate");
  json_builder_add_int_value(b, static_cast<gint64>(priv->refused_rate.load()));
  json_builder_end_object(b);
  /* The last sessions that ended, newest first, and why. */
  json_builder_set_member_name(b, "ended");
  json_builder_begin_array(b);
  for (const auto &e : priv->recently_ended) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, e.id.c_str());
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, e.reason.c_str());
    json_builder_set_member_name(b, "ago");
    json_builder_add_double_value(b, (now - e.at_us) / double(G_USEC_PER_SEC));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  std::string out = json_text(root);
  json_node_unref(root);
  g_object_unref(b);
  return out;
}

/* ---------------------------------------------------------------------- */
/* The SessionBackend the HTTP API talks to                               */

class SinkBackend : public SessionBackend
{
 public:
  explicit SinkBackend(GstWebRTCServerSink *self) : self_(self) {}

  bool current_video(SentVideo &sent) override
  {
    std::lock_guard<std::mutex> guard(self_->priv->lock);
    if (!self_->priv->chain_built || !self_->priv->streaming)
      return false;
    sent.codec = self_->priv->active_codec;
    sent.h264_profile = self_->priv->h264_profile;
    return true;
  }
  void create_session(const std::string &offer_sdp, const OfferCheck &offer, SessionEvents events,
                      std::function<void(SessionResult)> done) override
  {
    create_viewer(self_, offer_sdp, offer, std::move(events), std::move(done));
  }
  void create_offer_session(SessionEvents events, std::function<void(SessionResult)> done) override
  {
    create_viewer(self_, std::string(), our_offer(self_), std::move(events), std::move(done));
  }
  int apply_answer(const std::string &id, const std::string &answer_sdp,
                   std::string &message) override
  {
    GstSDPMessage *sdp = nullptr;
    if (answer_sdp.compare(0, 2, "v=") != 0 ||
        gst_sdp_message_new_from_text(answer_sdp.c_str(), &sdp) != GST_SDP_OK || !sdp) {
      if (sdp)
        gst_sdp_message_free(sdp);
      message = "The answer is not valid SDP.";
      return 400;
    }
    GstWebRTCSessionDescription *answer =
        gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    Viewer *viewer = nullptr;
    {
      std::lock_guard<std::mutex> guard(self_->priv->lock);
      auto it = self_->priv->viewers.find(id);
      if (it != self_->priv->viewers.end())
        viewer = it->second.get();
    }
    int status = 0;
    if (!viewer) {
      message = "There is no viewer session \"" + id + "\".";
      status = 404;
    } else if (!viewer->we_offer || !viewer->local_sdp_sent || viewer->remote_answer_applied) {
      message = "This session is not waiting for an answer.";
      status = 409;
    } else if (std::vector<DtlsFingerprint> fingerprints =
                   sdp_dtls_fingerprints(sdp, viewer->video.mline);
               fingerprints.empty()) {
      message = "The answer has no well-formed DTLS fingerprint (a=fingerprint).";
      status = 400;
    } else {
      {
        std::lock_guard<std::mutex> lock(viewer->guard->lock);
        viewer->guard->fingerprints = std::move(fingerprints);
      }
      viewer->remote_answer_applied = true; /* one answer only */
      GstPromise *promise = promise_for(self_, id, on_answer_applied);
      g_signal_emit_by_name(viewer->webrtcbin, "set-remote-description", answer, promise);
      gst_promise_unref(promise);
    }
    gst_webrtc_session_description_free(answer);
    return status;
  }
  int add_remote_candidates(const std::string &id, const SdpFragment &frag,
                            std::string &message) override
  {
    GstElement *webrtcbin = nullptr;
    OfferedVideo video;
    {
      std::lock_guard<std::mutex> guard(self_->priv->lock);
      auto it = self_->priv->viewers.find(id);
      if (it == self_->priv->viewers.end()) {
        message = "There is no viewer session \"" + id + "\".";
        return 404;
      }
      webrtcbin = GST_ELEMENT(gst_object_ref(it->second->webrtcbin));
      video = it->second->video;
    }
    Ref<GstElement> owner = Ref<GstElement>::adopt(webrtcbin);
    if ((!frag.ice_ufrag.empty() && frag.ice_ufrag != video.ice_ufrag) ||
        (!frag.ice_pwd.empty() && frag.ice_pwd != video.ice_pwd)) {
      message = "ICE restarts are not supported; start a new session instead.";
      return 422;
    }
    for (const auto &c : frag.candidates) {
      int mline = c.mline;
      if (!c.mid.empty()) {
        for (std::size_t i = 0; i < video.mids.size(); i++) {
          if (video.mids[i] == c.mid)
            mline = static_cast<int>(i);
        }
      }
      if (mline < 0)
        mline = static_cast<int>(video.mline);
      g_signal_emit_by_name(webrtcbin, "add-ice-candidate", static_cast<guint>(mline),
                            ("a=" + c.candidate).c_str());
    }
    return 0;
  }
  std::string session_etag(const std::string &id) override
  {
    std::lock_guard<std::mutex> guard(self_->priv->lock);
    auto it = self_->priv->viewers.find(id);
    return it == self_->priv->viewers.end() ? std::string() : it->second->etag;
  }
  bool end_session(const std::string &id) override
  {
    bool by_websocket;
    {
      std::lock_guard<std::mutex> guard(self_->priv->lock);
      auto it = self_->priv->viewers.find(id);
      if (it == self_->priv->viewers.end())
        return false;
      it->second->ended_by_channel = true;
      by_websocket = static_cast<bool>(it->second->events.on_ended);
    }
    end_viewer(self_, id,
               by_websocket ? "the viewer said bye or closed its WebSocket"
                            : "the viewer said goodbye (DELETE)");
    return true;
  }
  std::string stats_json() override { return ::stats_json(self_); }
  void session_rate_limited() override { self_->priv->refused_rate++; }

 private:
  GstWebRTCServerSink *self_;
};

/* ---------------------------------------------------------------------- */
/* Server start/stop                                                      */

/* Client mode: connects out to the relay, on the server thread. */
static void start_signaling_client(GstWebRTCServerSink *self, const Settings &settings,
                                   const HttpApiConfig &config)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  WsSignalingConfig ws;
  ws.ice_servers = config.ice_servers;
  ws.ice_transport_policy = config.ice_transport_policy;
  ws.audio = config.audio;
  ws.talkback = config.talkback;
  const std::string url = settings.signaling_url, room = settings.room;
  priv->server.invoke([self, priv, ws, url, room]() {
    priv->signaling_client = std::make_unique<SignalingClient>(
        priv->server, *priv->backend, ws, url, room,
        [self](bool connected, const std::string &detail) {
          if (connected)
            GST_INFO_OBJECT(self, "signaling relay: %s", detail.c_str());
          else
            GST_ELEMENT_WARNING(self, RESOURCE, OPEN_READ_WRITE,
                                ("Signaling relay: %s.", detail.c_str()), (nullptr));
        });
    priv->signaling_client->start();
  });
}

static bool start_server(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  Settings settings;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    settings = priv->settings;
  }
  HttpApiConfig config;
  config.token = settings.token;
  config.max_offers_per_second = settings.max_offers_per_second;
  {
    /* Reachable beyond this machine and open to anyone: say so, and how to close it. */
    GInetAddress *bind = g_inet_address_new_from_string(settings.bind_address.c_str());
    const bool loopback = bind && g_inet_address_get_is_loopback(bind);
    if (bind)
      g_object_unref(bind);
    if (!loopback && settings.token.empty())
      GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS,
                          ("The WebRTC server listens on %s without a token: anyone who can "
                           "reach this port can watch. Set token=SECRET (livecast --token "
                           "SECRET) and give viewers the URL with ?token=SECRET.",
                           settings.bind_address.c_str()),
                          (nullptr));
  }
  config.cors_origin = settings.cors_origin;
  config.web_root = settings.web_root;
  config.ice_transport_policy = settings.ice_transport_policy;
  std::vector<std::string> urls;
  if (!settings.stun_server.empty())
    urls.push_back(settings.stun_server);
  urls.insert(urls.end(), settings.turn_servers.begin(), settings.turn_servers.end());
  for (const auto &url : urls) {
    IceServer server;
    std::string error;
    if (!parse_ice_server(url, server, error)) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", error.c_str()), (nullptr));
      return false;
    }
    config.ice_servers.push_back(server);
  }
  if (!settings.tls_key.empty() && settings.tls_certificate.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("tls-key is set but tls-certificate is not; set both for HTTPS."),
                      (nullptr));
    return false;
  }
  if (!settings.web_root.empty() && !g_file_test(settings.web_root.c_str(), G_FILE_TEST_IS_DIR)) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("web-root \"%s\" is not a directory.", settings.web_root.c_str()),
                      (nullptr));
    return false;
  }

  {
    std::lock_guard<std::mutex> guard(priv->lock);
    config.audio = priv->audio_pad != nullptr;
  }
  config.talkback = settings.talkback;
  priv->backend = std::make_unique<SinkBackend>(self);
  priv->api = std::make_unique<HttpApi>(*priv->backend, config);
  HttpApi *api = priv->api.get();
  priv->server.set_tls(settings.tls_certificate, settings.tls_key);
  /* Client-mode objects live on the server thread and end with it. */
  priv->server.on_shutdown([priv]() { priv->signaling_client.reset(); });
  priv->server.set_websocket(
      "/ws", kWsMaxSocketMessageBytes,
      [api](const HttpRequest &request) { return api->check_websocket(request); },
      [api](const HttpRequest &request, WsChannel channel) {
        return api->accept_websocket(request, std::move(channel));
      });
  std::string error;
  if (!priv->server.start(
          settings.bind_address, settings.port, config.max_body_size,
          [api](const HttpRequest &request, HttpReply reply) {
            api->handle(request, std::move(reply));
          },
          error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("The WebRTC server %s.", error.c_str()),
                      ("bind-address=%s port=%d", settings.bind_address.c_str(), settings.port));
    return false;
  }
  priv->server.add_periodic(kHousekeepingMs, [self]() { housekeeping(self); });
  if (!settings.signaling_url.empty())
    start_signaling_client(self, settings, config);
  GST_INFO_OBJECT(self, "serving on %s://%s:%d/", priv->server.tls() ? "https" : "http",
                  settings.bind_address.c_str(), priv->server.bound_port());
  g_object_notify(G_OBJECT(self), "bound-port");
  return true;
}

/* Ends all viewers on the server thread and waits for it (bounded). */
static void end_all_viewers_on_server(GstWebRTCServerSink *self)
{
  if (!self->priv->server.running()) {
    end_all_viewers(self);
    return;
  }
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto done = std::make_shared<bool>(false);
  self->priv->server.invoke([self, state, done]() {
    end_all_viewers(self);
    std::lock_guard<std::mutex> guard(state->first);
    *done = true;
    state->second.notify_all();
  });
  std::unique_lock<std::mutex> guard(state->first);
  if (!state->second.wait_for(guard, std::chrono::seconds(5), [&done] { return *done; }))
    GST_WARNING_OBJECT(self, "timed out ending the viewers");
}

static void stop_server(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  priv->server.stop();
  /* Branches whose unlink was still queued on the server: free them here. */
  std::vector<GstElement *> leftovers;
  GstIterator *it = gst_bin_iterate_elements(GST_BIN(self));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT(g_value_get_object(&item));
    if (g_str_has_prefix(GST_ELEMENT_NAME(e), "viewer-"))
      leftovers.push_back(GST_ELEMENT(gst_object_ref(e)));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  for (GstElement *e : leftovers) {
    gst_element_set_state(e, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(self), e);
    gst_object_unref(e);
  }
  priv->api.reset();
  priv->backend.reset();
}

/* ---------------------------------------------------------------------- */
/* GObject / GstElement                                                   */

static GstPad *gst_webrtc_server_sink_request_new_pad(GstElement *element, GstPadTemplate *templ,
                                                      const gchar *, const GstCaps *)
{
  auto *self = GST_WEBRTC_SERVER_SINK(element);
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::lock_guard<std::mutex> guard(priv->lock);
  if (g_str_has_prefix(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "audio_")) {
    if (priv->audio_pad) {
      GST_WARNING_OBJECT(self, "webrtcserversink takes one audio input; audio_0 exists already");
      return nullptr;
    }
    GstPad *pad = add_audio_input(self, templ);
    if (pad)
      gst_element_add_pad(element, pad);
    return pad;
  }
  if (priv->video_pad) {
    GST_WARNING_OBJECT(self, "webrtcserversink takes one video input; video_0 exists already");
    return nullptr;
  }
  if (!priv->input_tee)
    return nullptr; /* broken GStreamer installation, see _init */
  Ref<GstPad> target = Ref<GstPad>::adopt(gst_element_get_static_pad(priv->input_tee, "sink"));
  GstPad *pad = gst_ghost_pad_new_from_template("video_0", target.get(), templ);
  gst_pad_set_event_function(pad, video_pad_event);
  gst_pad_set_query_function(pad, video_pad_query);
  gst_pad_set_active(pad, TRUE);
  priv->video_pad = pad;
  gst_element_add_pad(element, pad);
  return pad;
}

static void gst_webrtc_server_sink_release_pad(GstElement *element, GstPad *pad)
{
  auto *self = GST_WEBRTC_SERVER_SINK(element);
  {
    std::lock_guard<std::mutex> guard(self->priv->lock);
    if (pad == self->priv->video_pad)
      self->priv->video_pad = nullptr;
    else if (pad == self->priv->audio_pad)
      self->priv->audio_pad = nullptr;
    else
      return;
  }
  gst_ghost_pad_set_target(GST_GHOST_PAD(pad), nullptr);
  gst_element_remove_pad(element, pad);
}

static GstStateChangeReturn gst_webrtc_server_sink_change_state(GstElement *element,
                                                                GstStateChange transition)
{
  auto *self = GST_WEBRTC_SERVER_SINK(element);
  GstWebRTCServerSinkPrivate *priv = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!priv->tee) {
        GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN,
                          ("The GStreamer core elements tee and fakesink are missing; "
                           "the GStreamer installation is broken."),
                          (nullptr));
        return GST_STATE_CHANGE_FAILURE;
      }
      if (!start_server(self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      std::lock_guard<std::mutex> guard(priv->lock);
      priv->streaming = true;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::lock_guard<std::mutex> guard(priv->lock);
      priv->streaming = false;
    }
      /* Viewers end while data may still flow, so their unlink is clean. */
      end_all_viewers_on_server(self);
      break;
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      stop_server(self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_NULL:
      stop_server(self);
      break;
    default:
      break;
  }
  return ret;
}

static void apply_bitrate(GstWebRTCServerSink *self, guint bitrate)
{
  GstElement *encoder = self->priv->encoder;
  if (!encoder)
    return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), "target-bitrate"))
    g_object_set(encoder, "target-bitrate", static_cast<gint>(bitrate * 1000), nullptr);
  else
    g_object_set(encoder, "bitrate", bitrate, nullptr);
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

static void gst_webrtc_server_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                                GParamSpec *pspec)
{
  auto *self = GST_WEBRTC_SERVER_SINK(object);
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::lock_guard<std::mutex> guard(priv->lock);
  Settings &s = priv->settings;
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
      apply_bitrate(self, s.bitrate);
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
    case PROP_TLS_CERTIFICATE:
      s.tls_certificate = str();
      break;
    case PROP_TLS_KEY:
      s.tls_key = str();
      break;
    case PROP_SYNC:
      s.sync = g_value_get_boolean(value);
      if (priv->end_sink)
        g_object_set(priv->end_sink, "sync", s.sync ? TRUE : FALSE, nullptr);
      if (priv->audio_end_sink)
        g_object_set(priv->audio_end_sink, "sync", s.sync ? TRUE : FALSE, nullptr);
      break;
    case PROP_AUDIO_BITRATE:
      s.audio_bitrate = g_value_get_uint(value);
      break;
    case PROP_TALKBACK:
      s.talkback = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_webrtc_server_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                                GParamSpec *pspec)
{
  auto *self = GST_WEBRTC_SERVER_SINK(object);
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::lock_guard<std::mutex> guard(priv->lock);
  const Settings &s = priv->settings;
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
    case PROP_BOUND_PORT:
      g_value_set_int(value, priv->server.bound_port());
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
    case PROP_TALKBACK:
      g_value_set_boolean(value, s.talkback);
      break;
    case PROP_VIEWERS:
      g_value_set_uint(value, static_cast<guint>(priv->viewers.size()));
      break;
    case PROP_STATS:
      g_value_take_boxed(
          value,
          gst_structure_new(
              "application/x-webrtcserversink-stats", "viewers", G_TYPE_UINT,
              static_cast<guint>(priv->viewers.size()), "encoded-fps", G_TYPE_DOUBLE, priv->fps,
              "encoded-bitrate", G_TYPE_UINT64, static_cast<guint64>(priv->bitrate_bps), "width",
              G_TYPE_INT, priv->width, "height", G_TYPE_INT, priv->height, "refused-max-viewers",
              G_TYPE_UINT64, static_cast<guint64>(priv->refused_max_viewers.load()),
              "refused-max-pending", G_TYPE_UINT64,
              static_cast<guint64>(priv->refused_max_pending.load()), "refused-rate", G_TYPE_UINT64,
              static_cast<guint64>(priv->refused_rate.load()), nullptr));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_webrtc_server_sink_finalize(GObject *object)
{
  auto *self = GST_WEBRTC_SERVER_SINK(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_webrtc_server_sink_init(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = new GstWebRTCServerSinkPrivate();
  self->priv = priv;

  /* input-tee ! end-sink, there from the start: the element prerolls on the
   * first frame, waits for each frame's time (sync, as any sink: files play
   * at their speed) and posts EOS, whether or not anything is being encoded.
   * end-sink is the input tee's first branch, so everything behind it is
   * paced too. On the first caps the encoding chain is hung off input-tee
   * and feeds "tee", the viewers' fan-out. */
  GstElement *input_tee = gst_element_factory_make("tee", "input-tee");
  GstElement *endsink = gst_element_factory_make("fakesink", "end-sink");
  GstElement *tee = gst_element_factory_make("tee", "tee");
  if (!input_tee || !endsink || !tee) {
    /* coreelements is part of GStreamer itself; this only happens when the
     * installation is broken, and the state change reports it. */
    for (GstElement *e : {input_tee, endsink, tee}) {
      if (e)
        gst_object_unref(gst_object_ref_sink(e));
    }
    return;
  }
  priv->input_tee = input_tee;
  priv->end_sink = endsink;
  priv->tee = tee;
  g_object_set(input_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(endsink, "sync", TRUE, "async", TRUE, "enable-last-sample", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(self), input_tee, endsink, tee, nullptr);
  gst_element_link(input_tee, endsink);
  Ref<GstPad> teesink = Ref<GstPad>::adopt(gst_element_get_static_pad(priv->tee, "sink"));
  gst_pad_add_probe(teesink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, key_unit_rate_limit, self,
                    nullptr);
  gst_pad_add_probe(
      teesink.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      count_output, priv, nullptr);
}

static void gst_webrtc_server_sink_class_init(GstWebRTCServerSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_webrtc_server_sink_debug, "webrtcserversink", 0,
                          "WebRTC server sink");

  gobject_class->set_property = gst_webrtc_server_sink_set_property;
  gobject_class->get_property = gst_webrtc_server_sink_get_property;
  gobject_class->finalize = gst_webrtc_server_sink_finalize;

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto rw_ready = static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_READY);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_property(
      gobject_class, PROP_VIDEO_CODEC,
      g_param_spec_enum("video-codec", "Video codec",
                        "Codec raw video is encoded to. Ignored when the input is already "
                        "encoded.",
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
                        "Largest number of viewers at once (0 = no limit); more get 503.", 0,
                        G_MAXUINT, kDefaultMaxViewers,
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
  g_object_class_install_property(
      gobject_class, PROP_VIEWERS,
      g_param_spec_uint("viewers", "Viewers", "Number of viewer sessions right now.", 0, G_MAXUINT,
                        0, ro));
  g_object_class_install_property(
      gobject_class, PROP_STATS,
      g_param_spec_boxed("stats", "Statistics",
                         "Current figures: viewers, encoded-fps, encoded-bitrate (bit/s), width, "
                         "height, and the viewers turned away so far by max-viewers, max-pending "
                         "and max-offers-per-second (refused-max-viewers, refused-max-pending, "
                         "refused-rate).",
                         GST_TYPE_STRUCTURE, ro));

  /**
   * GstWebRTCServerSink::viewer-added:
   * @sink: the element
   * @id: the viewer's session id
   * @webrtcbin: the viewer's webrtcbin
   *
   * A viewer's offer was answered. Emitted from the server thread.
   */
  signals[SIGNAL_VIEWER_ADDED] =
      g_signal_new("viewer-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, nullptr, nullptr,
                   nullptr, G_TYPE_NONE, 2, G_TYPE_STRING, GST_TYPE_ELEMENT);
  /**
   * GstWebRTCServerSink::viewer-ended:
   * @sink: the element
   * @id: the viewer's session id
   * @reason: why it ended, one sentence, for example "the viewer said goodbye
   *   (DELETE)", "ICE failed" or "its connection failed: Could not read from
   *   resource. (dtlsdec0: Fatal SSL error)"
   *
   * A viewer that was announced with #GstWebRTCServerSink::viewer-added
   * ended; emitted just before #GstWebRTCServerSink::viewer-removed, from the
   * server thread.
   */
  signals[SIGNAL_VIEWER_ENDED] =
      g_signal_new("viewer-ended", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, nullptr, nullptr,
                   nullptr, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstWebRTCServerSink::viewer-removed:
   * @sink: the element
   * @id: the viewer's session id
   *
   * A viewer left (DELETE, ICE failure, timeout, an error of its own
   * connection, or the element stopped); #GstWebRTCServerSink::viewer-ended
   * says why.
   */
  signals[SIGNAL_VIEWER_REMOVED] =
      g_signal_new("viewer-removed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, nullptr,
                   nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_STRING);

  element_class->request_new_pad = gst_webrtc_server_sink_request_new_pad;
  element_class->release_pad = gst_webrtc_server_sink_release_pad;
  element_class->change_state = gst_webrtc_server_sink_change_state;
  GST_BIN_CLASS(klass)->handle_message = gst_webrtc_server_sink_handle_message;
  element_class->send_event = gst_webrtc_server_sink_send_event;

  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_element_class_add_static_pad_template(element_class, &talkback_template);
  gst_element_class_set_static_metadata(
      element_class, "WebRTC server sink", "Sink/Network/Video",
      "Serves the stream to web browsers over WebRTC: encodes once, one webrtcbin per viewer, "
      "WHEP and a viewer page on its own HTTP server",
      "livecast developers");

  gst_type_mark_as_plugin_api(GST_TYPE_WEBRTC_SERVER_SINK_VIDEO_CODEC,
                              static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(ice_transport_policy_get_type(), static_cast<GstPluginAPIFlags>(0));
}
