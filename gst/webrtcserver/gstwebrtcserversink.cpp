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

#include <gio/gio.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "debugcategory.h"
#include "gstrefptr.h"
#include "httpapi.h"
#include "httpserver.h"
#include "media/faultdomain.h"
#include "media/mediafanout.h"
#include "media/viewerset.h"
#include "signalingclient.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

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
constexpr VideoCodec kDefaultCodec = VideoCodec::H264;
constexpr guint kDefaultAudioBitrate = 64; /* kbit/s, Opus */
constexpr guint kHousekeepingMs = 1000;
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

/* The element's server thread, as the event loop its viewers run on. */
class ServerLoop : public EventLoop
{
 public:
  explicit ServerLoop(HttpServer &server) : server_(server) {}
  void invoke(std::function<void()> fn) override { server_.invoke(std::move(fn)); }
  void add_timeout(guint delay_ms, std::function<void()> fn) override
  {
    server_.add_timeout(delay_ms, std::move(fn));
  }

 private:
  HttpServer &server_;
};

/* The addresses ICE gathers on. libnice skips loopback interfaces, so a
 * server bound to loopback (only local viewers can reach it) gathers on
 * 127.0.0.1; otherwise libnice discovers the interfaces itself. */
std::vector<std::string> ice_addresses_for(const Settings &settings)
{
  if (!settings.ice_addresses.empty())
    return settings.ice_addresses;
  Ref<GInetAddress> bind =
      Ref<GInetAddress>::adopt(g_inet_address_new_from_string(settings.bind_address.c_str()));
  if (bind && g_inet_address_get_is_loopback(bind.get()))
    return {settings.bind_address};
  return {};
}

ViewerSettings viewer_settings(const Settings &s)
{
  ViewerSettings v;
  v.max_viewers = s.max_viewers;
  v.max_pending = s.max_pending;
  v.talkback = s.talkback;
  v.ice.local_addresses = ice_addresses_for(s);
  v.ice.stun_server = s.stun_server;
  v.ice.turn_servers = s.turn_servers;
  v.ice.relay_only = s.ice_transport_policy == IceTransportPolicy::Relay;
  return v;
}

FanoutSettings fanout_settings(const Settings &s)
{
  FanoutSettings f;
  f.codec = s.codec;
  f.bitrate_kbps = s.bitrate;
  f.key_int_max = s.key_int_max;
  f.audio_bitrate_kbps = s.audio_bitrate;
  f.sync = s.sync;
  return f;
}

}  // namespace

struct GstWebRTCServerSinkPrivate;

struct _GstWebRTCServerSink {
  GstBin parent;
  GstWebRTCServerSinkPrivate *priv;
};

/* C++ state of the element. GObject does not run C++ constructors on the
 * instance struct, so this is created in _init and deleted in finalize. The
 * parts it owns are described in ARCHITECTURE.md. */
struct GstWebRTCServerSinkPrivate {
  std::mutex lock; /* settings */
  Settings settings;
  std::unique_ptr<MediaFanout> fanout;
  HttpServer server;
  ServerLoop loop{server};
  std::shared_ptr<ViewerSet> viewers;
  std::unique_ptr<HttpApi> api;                      /* while the server runs */
  std::unique_ptr<SignalingClient> signaling_client; /* server thread only */
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
/* Fault domains: what a viewer does stays with it                        */

/* Messages from inside a viewer's branch stay there: its errors end that
 * viewer (webrtcbin posts them for a DTLS alert, garbage on its socket, a
 * peer that vanished mid-handshake), its warnings are logged, its EOS is
 * not the stream's. Errors of the shared part (input, encoder) still reach
 * the pipeline. */
static void gst_webrtc_server_sink_handle_message(GstBin *bin, GstMessage *message)
{
  auto *self = GST_WEBRTC_SERVER_SINK(bin);
  const GstMessageType type = GST_MESSAGE_TYPE(message);
  BranchTag tag;
  if ((type != GST_MESSAGE_ERROR && type != GST_MESSAGE_WARNING && type != GST_MESSAGE_INFO &&
       type != GST_MESSAGE_EOS) ||
      !find_branch(GST_OBJECT(self), GST_MESSAGE_SRC(message), tag)) {
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
    const std::size_t newline = detail.find_last_of('\n');
    if (newline != std::string::npos)
      detail.erase(0, newline + 1);
    const std::string what = std::string(error ? error->message : "unknown error") + " (" +
                             GST_MESSAGE_SRC_NAME(message) + (detail.empty() ? "" : ": ") + detail +
                             ")";
    if (type == GST_MESSAGE_WARNING) {
      GST_INFO_OBJECT(self, "viewer %s: warning: %s", tag.id.c_str(), what.c_str());
    } else {
      GST_WARNING_OBJECT(self, "viewer %s: error: %s; ending it [%s]", tag.id.c_str(), what.c_str(),
                         debug ? debug : "");
      tag.guard->failed = true;
      std::weak_ptr<ViewerSet> viewers = self->priv->viewers;
      const std::string id = tag.id, reason = "its connection failed: " + what;
      self->priv->server.invoke([viewers, id, reason]() {
        if (auto set = viewers.lock())
          set->end(id, reason);
      });
    }
  }
  gst_message_unref(message);
}

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
  gboolean handled = FALSE;
  for (const char *name : {"end-sink", "audio-end-sink"}) {
    Ref<GstElement> sink = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(self), name));
    if (sink)
      handled |= gst_element_send_event(sink.get(), gst_event_ref(event));
  }
  gst_event_unref(event);
  return handled;
}

/* ---------------------------------------------------------------------- */
/* The server: signalling front ends wired to the viewers                 */

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
        priv->server, *priv->viewers, ws, url, room,
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

  config.audio = priv->fanout->state().audio;
  config.talkback = settings.talkback;
  priv->api = std::make_unique<HttpApi>(*priv->viewers, config);
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
  std::weak_ptr<ViewerSet> viewers = priv->viewers;
  priv->server.add_periodic(kHousekeepingMs, [viewers]() {
    if (auto set = viewers.lock())
      set->housekeeping();
  });
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
  std::shared_ptr<ViewerSet> viewers = self->priv->viewers;
  if (!self->priv->server.running()) {
    viewers->end_all("the stream stopped");
    return;
  }
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto done = std::make_shared<bool>(false);
  self->priv->server.invoke([viewers, state, done]() {
    viewers->end_all("the stream stopped");
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
  std::vector<Ref<GstElement>> leftovers;
  GstIterator *it = gst_bin_iterate_elements(GST_BIN(self));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT(g_value_get_object(&item));
    BranchTag tag;
    if (find_branch(GST_OBJECT(self), GST_OBJECT(e), tag))
      leftovers.push_back(Ref<GstElement>::ref(e));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  for (const Ref<GstElement> &e : leftovers) {
    gst_element_set_state(e.get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(self), e.get());
  }
  priv->api.reset();
}

/* ---------------------------------------------------------------------- */
/* GObject / GstElement                                                   */

static GstPad *gst_webrtc_server_sink_request_new_pad(GstElement *element, GstPadTemplate *templ,
                                                      const gchar *, const GstCaps *)
{
  auto *self = GST_WEBRTC_SERVER_SINK(element);
  GstWebRTCServerSinkPrivate *priv = self->priv;
  const bool audio = g_str_has_prefix(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "audio_");
  GstPad *pad = nullptr;
  if (audio) {
    pad = priv->fanout->add_audio_input(templ);
  } else {
    /* The stream is over: every viewer ends, and once their branches (whose
     * webrtcbin sinks never see EOS) are gone, the bin's EOS completes. */
    Ref<GstWebRTCServerSink> ref = Ref<GstWebRTCServerSink>::ref(self);
    std::weak_ptr<ViewerSet> viewers = priv->viewers;
    pad = priv->fanout->add_video_input(templ, [self, viewers]() {
      GST_INFO_OBJECT(self, "end of stream: ending every viewer");
      self->priv->server.invoke([viewers]() {
        if (auto set = viewers.lock())
          set->end_all("the stream ended");
      });
    });
  }
  if (!pad) {
    GST_WARNING_OBJECT(self, "webrtcserversink takes one %s input; %s exists already",
                       audio ? "audio" : "video", audio ? "audio_0" : "video_0");
    return nullptr;
  }
  gst_element_add_pad(element, pad);
  return pad;
}

static void gst_webrtc_server_sink_release_pad(GstElement *element, GstPad *pad)
{
  auto *self = GST_WEBRTC_SERVER_SINK(element);
  if (!self->priv->fanout->release_input(pad))
    return;
  gst_ghost_pad_set_target(GST_GHOST_PAD(pad), nullptr);
  gst_element_remove_pad(element, pad);
}

static GstStateChangeReturn gst_webrtc_server_sink_change_state(GstElement *element,
                                                                GstStateChange transition)
{
  auto *self = GST_WEBRTC_SERVER_SINK(element);
  GstWebRTCServerSinkPrivate *priv = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY: {
      if (!priv->fanout->usable()) {
        GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN,
                          ("The GStreamer core elements tee and fakesink are missing; "
                           "the GStreamer installation is broken."),
                          (nullptr));
        return GST_STATE_CHANGE_FAILURE;
      }
      Settings settings;
      {
        std::lock_guard<std::mutex> guard(priv->lock);
        settings = priv->settings;
      }
      priv->fanout->set_settings(fanout_settings(settings));
      priv->viewers->configure(viewer_settings(settings));
      if (!start_server(self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    }
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      priv->viewers->set_streaming(true);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      priv->viewers->set_streaming(false);
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
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    stop_server(self);
  return ret;
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
      priv->fanout->set_bitrate(s.bitrate);
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
      priv->viewers->configure(viewer_settings(s));
      break;
    case PROP_MAX_PENDING:
      s.max_pending = g_value_get_uint(value);
      priv->viewers->configure(viewer_settings(s));
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
      priv->fanout->set_sync(s.sync);
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
      g_value_set_uint(value, priv->viewers->count());
      break;
    case PROP_STATS: {
      const FanoutState state = priv->fanout->state();
      const FanoutRates rates = priv->fanout->rates();
      const RefusedCounts refused = priv->viewers->refused();
      g_value_take_boxed(
          value, gst_structure_new("application/x-webrtcserversink-stats", "viewers", G_TYPE_UINT,
                                   priv->viewers->count(), "encoded-fps", G_TYPE_DOUBLE, rates.fps,
                                   "encoded-bitrate", G_TYPE_UINT64,
                                   static_cast<guint64>(rates.bitrate_bps), "width", G_TYPE_INT,
                                   state.width, "height", G_TYPE_INT, state.height,
                                   "refused-max-viewers", G_TYPE_UINT64, refused.max_viewers,
                                   "refused-max-pending", G_TYPE_UINT64, refused.max_pending,
                                   "refused-rate", G_TYPE_UINT64, refused.rate, nullptr));
      break;
    }
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
  auto *priv = new GstWebRTCServerSinkPrivate();
  self->priv = priv;
  priv->fanout = std::make_unique<MediaFanout>(GST_BIN(self));
  ViewerSet::Hooks hooks;
  hooks.added = [self](const std::string &id, GstElement *webrtcbin) {
    g_signal_emit(self, signals[SIGNAL_VIEWER_ADDED], 0, id.c_str(), webrtcbin);
  };
  hooks.ended = [self](const std::string &id, const std::string &reason) {
    g_signal_emit(self, signals[SIGNAL_VIEWER_ENDED], 0, id.c_str(), reason.c_str());
    g_signal_emit(self, signals[SIGNAL_VIEWER_REMOVED], 0, id.c_str());
  };
  hooks.count_changed = [self]() { g_object_notify(G_OBJECT(self), "viewers"); };
  priv->viewers =
      std::make_shared<ViewerSet>(GST_ELEMENT(self), *priv->fanout, priv->loop, std::move(hooks));
}

static void gst_webrtc_server_sink_class_init(GstWebRTCServerSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  debug_category_init();

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
  element_class->send_event = gst_webrtc_server_sink_send_event;
  GST_BIN_CLASS(klass)->handle_message = gst_webrtc_server_sink_handle_message;

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
