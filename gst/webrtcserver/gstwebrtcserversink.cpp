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
#include "media/faultdomain.h"
#include "media/mediafanout.h"
#include "media/viewerset.h"
#include "network/httpserver.h"
#include "network/relayclient.h"
#include "signalling/httpapi.h"
#include "signalling/relayrouter.h"
#include "signalling/whippublisher.h"
#include "sinksettings.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

using namespace livecast;

namespace
{

constexpr guint kHousekeepingMs = 1000;
/* WebSocket messages above this close the socket (1009); smaller ones that
 * are still too large for the protocol get an error message instead. */
constexpr std::size_t kWsMaxSocketMessageBytes = 1024 * 1024;

enum {
  SIGNAL_VIEWER_ADDED,
  SIGNAL_VIEWER_REMOVED,
  SIGNAL_VIEWER_ENDED,
  N_SIGNALS,
};
guint signals[N_SIGNALS];

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
  SinkSettings settings;
  std::unique_ptr<MediaFanout> fanout;
  HttpServer server;
  ServerLoop loop{server};
  std::shared_ptr<ViewerSet> viewers;
  std::unique_ptr<HttpApi> api; /* while the server runs */
  /* Client mode, on the server thread only: the socket to the relay and the
   * room's viewers while it is connected. */
  std::unique_ptr<RelayClient> relay_client;
  std::unique_ptr<RelayRouter> relay_router;
  /* WHIP publishing (whip-url): on the server thread only, from PAUSED on;
   * its state for any thread. */
  std::unique_ptr<WhipPublisher> whip;
  WhipStatus whip_status;
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

/* Client mode: connects out to the relay, on the server thread; each
 * connection gets a fresh router, whose end ends the room's sessions. */
static void start_signaling_client(GstWebRTCServerSink *self, const SinkSettings &settings,
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
    RelayClient::Callbacks callbacks;
    callbacks.on_open = [priv, ws, room]() {
      RelayClient *client = priv->relay_client.get();
      priv->relay_router = std::make_unique<RelayRouter>(
          *priv->viewers, ws, room, [client](const std::string &text) { client->send(text); });
      client->send(priv->relay_router->join_message());
    };
    callbacks.on_text = [priv](const std::string &text) {
      if (priv->relay_router)
        priv->relay_router->on_message(text);
    };
    callbacks.on_closed = [priv]() { priv->relay_router.reset(); };
    callbacks.on_status = [self, room](bool connected, const std::string &detail) {
      if (connected)
        GST_INFO_OBJECT(self, "signaling relay: %s, room \"%s\"", detail.c_str(), room.c_str());
      else
        GST_ELEMENT_WARNING(self, RESOURCE, OPEN_READ_WRITE,
                            ("Signaling relay: %s.", detail.c_str()), (nullptr));
    };
    priv->relay_client = std::make_unique<RelayClient>(priv->server, url, std::move(callbacks));
    priv->relay_client->start();
  });
}

/* WHIP publishing (whip-url), on the server thread, from PAUSED on. */
static void start_whip(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::string url, token;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    url = priv->settings.whip_url;
    token = priv->settings.whip_token;
  }
  if (url.empty() || !priv->server.running())
    return;
  priv->server.invoke([self, priv, url, token]() {
    priv->whip = std::make_unique<WhipPublisher>(
        [priv](guint delay_ms, std::function<void()> fn) {
          priv->server.add_timeout(delay_ms, std::move(fn));
        },
        *priv->viewers, priv->whip_status, url, token,
        [self](bool problem, const std::string &text) {
          if (problem)
            GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s.", text.c_str()), (nullptr));
          else
            GST_INFO_OBJECT(self, "%s", text.c_str());
        });
    priv->whip->start();
  });
}

static bool start_server(GstWebRTCServerSink *self)
{
  GstWebRTCServerSinkPrivate *priv = self->priv;
  SinkSettings settings;
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
  priv->server.on_shutdown([priv]() {
    priv->whip.reset();
    priv->relay_router.reset();
    priv->relay_client.reset();
  });
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
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::shared_ptr<ViewerSet> viewers = priv->viewers;
  if (!priv->server.running()) {
    priv->whip.reset();
    viewers->end_all("the stream stopped");
    return;
  }
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto done = std::make_shared<bool>(false);
  priv->server.invoke([priv, viewers, state, done]() {
    /* The WHIP resource is DELETEd before its session ends with the others. */
    priv->whip.reset();
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
      SinkSettings settings;
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
      start_whip(self);
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

static void gst_webrtc_server_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                                GParamSpec *pspec)
{
  auto *self = GST_WEBRTC_SERVER_SINK(object);
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::lock_guard<std::mutex> guard(priv->lock);
  SinkSettings &s = priv->settings;
  if (!set_sink_setting(s, prop_id, value)) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  /* What can change while playing (GST_PARAM_MUTABLE_PLAYING) takes effect now. */
  switch (prop_id) {
    case PROP_BITRATE:
      priv->fanout->set_bitrate(s.bitrate);
      break;
    case PROP_SYNC:
      priv->fanout->set_sync(s.sync);
      break;
    case PROP_MAX_VIEWERS:
    case PROP_MAX_PENDING:
    case PROP_PLAYOUT_DELAY:
      priv->viewers->configure(viewer_settings(s));
      break;
    default:
      break;
  }
}

static void gst_webrtc_server_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                                GParamSpec *pspec)
{
  auto *self = GST_WEBRTC_SERVER_SINK(object);
  GstWebRTCServerSinkPrivate *priv = self->priv;
  std::lock_guard<std::mutex> guard(priv->lock);
  if (get_sink_setting(priv->settings, prop_id, value))
    return;
  switch (prop_id) {
    case PROP_BOUND_PORT:
      g_value_set_int(value, priv->server.bound_port());
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
                                   "refused-rate", G_TYPE_UINT64, refused.rate, "whip-state",
                                   G_TYPE_STRING, priv->whip_status.get().state.c_str(), nullptr));
      /* Viewers per rung of the ladder, rung 0 (the top) first: the
       * launcher's status line shows them. */
      GValue counts = G_VALUE_INIT;
      gst_value_array_init(&counts, state.rungs.size());
      for (guint on : priv->viewers->rung_viewers()) {
        GValue n = G_VALUE_INIT;
        g_value_init(&n, G_TYPE_UINT);
        g_value_set_uint(&n, on);
        gst_value_array_append_and_take_value(&counts, &n);
      }
      gst_structure_take_value(static_cast<GstStructure *>(g_value_get_boxed(value)),
                               "rung-viewers", &counts);
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
  hooks.more_stats = [priv](JsonWriter &w) { priv->whip_status.write_json(w); };
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
  install_sink_properties(gobject_class);

  /**
   * GstWebRTCServerSink::viewer-added:
   * @sink: the element
   * @id: the viewer's session id
   * @webrtcbin: the viewer's webrtcbin
   *
   * A viewer's offer was answered. Emitted from the server thread; not for
   * the WHIP publication (whip-url), which is not a viewer.
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
