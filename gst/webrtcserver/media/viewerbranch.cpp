/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include "viewerbranch.h"

#include <gio/gio.h>
#include <gst/webrtc/webrtc.h>

#include <utility>

#include "debugcategory.h"
#include "mediafanout.h"
#include "rungswitch.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* A viewer silent this long after kChattyPackets packets at most
 * kChattyGapUs apart was cut off (see note_received). */
constexpr gint64 kOutageUs = 1 * G_USEC_PER_SEC;
constexpr gint64 kChattyGapUs = 250 * 1000;
constexpr guint kChattyPackets = 10;
/* The branch queue: a viewer that cannot keep up loses frames (and asks
 * for a key frame) instead of slowing everyone down. */
constexpr guint64 kVideoQueueNs = 500 * GST_MSECOND;
constexpr guint64 kAudioQueueNs = 200 * GST_MSECOND;

GstElement *make_element(const char *factory, const char *name, std::string &error)
{
  GstElement *e = gst_element_factory_make(factory, name);
  if (!e && error.empty())
    error = std::string("the GStreamer element \"") + factory + "\" is missing on the server";
  return e;
}

GstElement *make_payloader(VideoCodec codec, int pt, std::string &error)
{
  GstElement *pay = nullptr;
  switch (codec) {
    case VideoCodec::H264:
      pay = make_element("rtph264pay", "pay", error);
      if (pay) {
        g_object_set(pay, "config-interval", -1, nullptr);
        gst_util_set_object_arg(G_OBJECT(pay), "aggregate-mode", "zero-latency");
      }
      break;
    case VideoCodec::VP8:
    case VideoCodec::VP9:
      pay = make_element(codec == VideoCodec::VP8 ? "rtpvp8pay" : "rtpvp9pay", "pay", error);
      if (pay)
        gst_util_set_object_arg(G_OBJECT(pay), "picture-id-mode", "15-bit");
      break;
  }
  if (pay)
    g_object_set(pay, "pt", static_cast<guint>(pt), "mtu", 1200u, nullptr);
  return pay;
}

/* @caps with "ssrc" = @ssrc (the type the payloaders' caps give it). */
Ref<GstCaps> caps_with_ssrc(const GstCaps *caps, guint32 ssrc)
{
  GstCaps *copy = gst_caps_copy(caps);
  gst_caps_set_simple(copy, "ssrc", G_TYPE_UINT, ssrc, nullptr);
  return Ref<GstCaps>::adopt(copy);
}

void configure_ice(GstElement *webrtcbin, const IceSettings &ice)
{
  GObject *agent_owner = nullptr;
  g_object_get(webrtcbin, "ice-agent", &agent_owner, nullptr);
  if (agent_owner) {
    GObject *agent = nullptr;
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent_owner), "agent"))
      g_object_get(agent_owner, "agent", &agent, nullptr);
    if (agent) {
      /* UPnP would send SSDP multicast on every interface: never wanted. */
      g_object_set(agent, "upnp", FALSE, nullptr);
      g_object_unref(agent);
    } else {
      GST_WARNING_OBJECT(webrtcbin, "could not reach the ICE agent to turn UPnP off");
    }
    for (const auto &address : ice.local_addresses) {
      gboolean added = FALSE;
      g_signal_emit_by_name(agent_owner, "add-local-ip-address", address.c_str(), &added);
      if (!added)
        GST_WARNING_OBJECT(webrtcbin, "ICE refused local address %s", address.c_str());
    }
    g_object_unref(agent_owner);
  }
  if (!ice.stun_server.empty())
    g_object_set(webrtcbin, "stun-server", ice.stun_server.c_str(), nullptr);
  for (const auto &turn : ice.turn_servers) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtcbin, "add-turn-server", turn.c_str(), &added);
    if (!added)
      GST_WARNING_OBJECT(webrtcbin, "webrtcbin refused TURN server %s", turn.c_str());
  }
  g_object_set(
      webrtcbin, "ice-transport-policy",
      ice.relay_only ? GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY : GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL,
      nullptr);
}

/* Every element of @bin, recursively, made by @factory. */
std::vector<GstElement *> elements_of(GstElement *bin, const char *factory)
{
  std::vector<GstElement *> out;
  GstIterator *it = gst_bin_iterate_recurse(GST_BIN(bin));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory *f = gst_element_get_factory(e);
    if (f && g_str_equal(GST_OBJECT_NAME(f), factory))
      out.push_back(e); /* the bin keeps them alive */
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return out;
}

/* What the probe on a viewer's nicesrc keeps: the last packet's time, how
 * many packets in a row came close together, and whom to ask for a key frame. */
struct ReceiveWatch {
  std::shared_ptr<std::atomic<gint64>> last_rx;
  MediaFanout *fanout;
  std::shared_ptr<BranchGuard> guard;
  guint chatty = 0;
};

GstPadProbeReturn note_received(GstPad *, GstPadProbeInfo *, gpointer data)
{
  auto *w = static_cast<ReceiveWatch *>(data);
  const gint64 now = g_get_monotonic_time();
  const gint64 gap = now - w->last_rx->exchange(now);
  /* A viewer that was sending several packets a second (browsers: RTCP
   * feedback every ~100 ms) and went silent for a second was cut off: what
   * we sent meanwhile is lost, and its PLI may have gone into the outage.
   * Chromium asks again only 3 s after its last decoded frame. */
  if (gap >= kOutageUs && w->chatty >= kChattyPackets && !w->guard->failed)
    w->fanout->request_key_unit("a viewer is back after an outage");
  w->chatty = gap <= kChattyGapUs ? w->chatty + 1 : 0;
  return GST_PAD_PROBE_OK;
}

/* Ends the viewer when the certificate @pem is not its SDP's. */
bool check_pem(const std::string &pem, BranchGuard &guard, std::string &why)
{
  std::vector<DtlsFingerprint> expected;
  {
    std::lock_guard<std::mutex> lock(guard.lock);
    expected = guard.fingerprints;
  }
  if (certificate_matches_fingerprints(pem, expected, why)) {
    guard.certificate_checked = true;
    return true;
  }
  guard.failed = true; /* before any media is keyed for it */
  return false;
}

struct CertificateWatch {
  std::shared_ptr<BranchGuard> guard;
  Guarded run;
  std::function<void(std::string)> on_mismatch;
};

/* dtlssrtpdec notifies peer-pem from OpenSSL's verify callback, inside the
 * handshake: a mismatch is found before the handshake ends. */
void on_peer_certificate(GObject *dtlssrtpdec, GParamSpec *, gpointer data)
{
  auto *watch = static_cast<CertificateWatch *>(data);
  gchar *pem = nullptr;
  g_object_get(dtlssrtpdec, "peer-pem", &pem, nullptr);
  const std::string text = take_string(pem);
  std::string why;
  if (text.empty() || check_pem(text, *watch->guard, why))
    return;
  auto on_mismatch = watch->on_mismatch;
  watch->run([on_mismatch, why]() { on_mismatch(why); });
}

/* Data of the talkback pad-added handler. */
struct TalkbackWatch {
  GWeakRef element;
  std::string id;
  TalkbackWatch(GstElement *e, std::string viewer) : id(std::move(viewer))
  {
    g_weak_ref_init(&element, e);
  }
  ~TalkbackWatch() { g_weak_ref_clear(&element); }
  TalkbackWatch(const TalkbackWatch &) = delete;
  TalkbackWatch &operator=(const TalkbackWatch &) = delete;
};

}  // namespace

std::unique_ptr<ViewerBranch> ViewerBranch::create(const std::string &id, const BranchSpec &spec,
                                                   std::string &error)
{
  std::unique_ptr<ViewerBranch> b(new ViewerBranch());
  b->id_ = id;
  b->spec_ = spec;
  const std::string name = "viewer-" + id.substr(0, 12);
  GstElement *queue = make_element("queue", "queue", error);
  GstElement *pay = make_payloader(spec.codec, spec.video.payload_type, error);
  GstElement *webrtcbin = make_element("webrtcbin", "webrtcbin", error);
  if (pay && !add_extensions(pay, spec.extensions, error)) {
    gst_object_unref(gst_object_ref_sink(pay));
    pay = nullptr;
  }
  if (!queue || !pay || !webrtcbin) {
    for (GstElement *e : {queue, pay, webrtcbin}) {
      if (e)
        gst_object_unref(gst_object_ref_sink(e));
    }
    return nullptr;
  }
  GstElement *bin = gst_bin_new(name.c_str());
  b->bin_ = GST_ELEMENT(gst_object_ref_sink(bin));
  g_object_set(queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time", kVideoQueueNs,
               nullptr);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  gst_util_set_object_arg(G_OBJECT(webrtcbin), "bundle-policy", "max-bundle");
  configure_ice(webrtcbin, spec.ice);
  gst_bin_add_many(GST_BIN(bin), queue, pay, webrtcbin, nullptr);
  gst_element_link(queue, pay);
  if (spec.rungs > 1) {
    /* One guarded input per rung into the switch: a rung that fails in a
     * viewer fails the viewer, as the single input does. */
    GstElement *sw = rung_switch_new("rungswitch");
    gst_bin_add(GST_BIN(bin), sw);
    gst_element_link(sw, queue);
    for (guint i = 0; i < spec.rungs; i++) {
      GstPad *rung_pad = rung_switch_add_rung(sw, i);
      const std::string pad_name = i == 0 ? "sink" : "sink_" + std::to_string(i);
      add_guarded_input_pad(bin, pad_name.c_str(), rung_pad, b->guard_);
    }
    b->rung_switch_ = sw;
  } else {
    add_guarded_input(bin, "sink", queue, b->guard_);
  }
  tag_branch(bin, id, b->guard_);
  b->webrtcbin_ = webrtcbin;
  b->payloader_ = pay;
  /* The SSRCs are chosen here, not by each payloader with its first buffer:
   * webrtcbin writes a=ssrc from the codec preferences, so the answer goes
   * out at once and still tells bundled video from audio (webrtcbin sends
   * no MID header extension). */
  const guint32 video_ssrc = g_random_int();
  g_object_set(pay, "ssrc", video_ssrc, nullptr);
  b->spec_.video.caps = caps_with_ssrc(spec.video.caps.get(), video_ssrc);

  if (spec.audio.present && spec.audio.viewer_receives && spec.audio_input) {
    std::string audio_error;
    GstElement *aqueue = make_element("queue", "audio-queue", audio_error);
    GstElement *apay = make_element("rtpopuspay", "audio-pay", audio_error);
    if (aqueue && apay) {
      g_object_set(aqueue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                   kAudioQueueNs, nullptr);
      gst_util_set_object_arg(G_OBJECT(aqueue), "leaky", "downstream");
      guint32 audio_ssrc;
      do {
        audio_ssrc = g_random_int();
      } while (audio_ssrc == video_ssrc);
      g_object_set(apay, "pt", static_cast<guint>(spec.audio.payload_type), "mtu", 1200u, "ssrc",
                   audio_ssrc, nullptr);
      b->spec_.audio.caps = caps_with_ssrc(spec.audio.caps.get(), audio_ssrc);
      gst_bin_add_many(GST_BIN(bin), aqueue, apay, nullptr);
      gst_element_link(aqueue, apay);
      add_guarded_input(bin, "audio_sink", aqueue, b->guard_);
      b->audio_payloader_ = apay;
    } else {
      GST_WARNING("viewer %s gets video only: %s", id.c_str(), audio_error.c_str());
      for (GstElement *e : {aqueue, apay}) {
        if (e)
          gst_object_unref(gst_object_ref_sink(e));
      }
    }
  }

  /* H.264: the payloader writes the profile-level-id of our SPS into its
   * caps, which webrtcbin then matches exactly against the offer's. Put the
   * viewer's own value in its place (same profile, checked in check_offer),
   * so the answer never depends on whether the caps came before it. */
  if (spec.codec == VideoCodec::H264 && !spec.video.profile_level_id.empty()) {
    std::string ignored;
    if (GstElement *setter = make_element("capssetter", "profile-level-id", ignored)) {
      Ref<GstCaps> plid = Ref<GstCaps>::adopt(
          gst_caps_new_simple("application/x-rtp", "profile-level-id", G_TYPE_STRING,
                              spec.video.profile_level_id.c_str(), nullptr));
      g_object_set(setter, "caps", plid.get(), nullptr);
      gst_bin_add(GST_BIN(bin), setter);
      gst_element_link(pay, setter);
      b->payloader_ = setter;
    }
  }
  return b;
}

ViewerBranch::~ViewerBranch()
{
  if (bin_)
    gst_object_unref(bin_);
}

bool ViewerBranch::attach(GstElement *element, MediaFanout &fanout, std::string &error)
{
  element_ = element;
  if (spec_.audio.present && spec_.audio.viewer_sends && spec_.talkback)
    g_signal_connect_data(
        webrtcbin_, "pad-added", G_CALLBACK(on_pad_added), new TalkbackWatch(element, id_),
        [](gpointer data, GClosure *) { delete static_cast<TalkbackWatch *>(data); },
        static_cast<GConnectFlags>(0));
  gst_bin_add(GST_BIN(element), bin_);
  attached_ = true;
  gst_element_sync_state_with_parent(bin_);

  /* A send-only video pad whose codec preferences are the offer's own
   * payload type: webrtcbin (1.22) matches the offer's video section to this
   * transceiver when answering. */
  GstPadTemplate *templ =
      gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtcbin_), "sink_%u");
  /* The answer's a=extmap lines come from these caps (rtpextensions.h). */
  Ref<GstCaps> caps = caps_with_extensions(spec_.video.caps.get(), spec_.extensions);
  Ref<GstPad> sinkpad =
      Ref<GstPad>::adopt(gst_element_request_pad(webrtcbin_, templ, nullptr, caps.get()));
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
               "codec-preferences", caps.get(), nullptr);
  /* Retransmit what a viewer reports lost (NACK, RTX when it offers it):
   * a lost packet costs one round trip instead of a key frame. */
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(trans), "do-nack"))
    g_object_set(trans, "do-nack", TRUE, nullptr);
  gst_object_unref(trans);
  Ref<GstPad> paysrc = Ref<GstPad>::adopt(gst_element_get_static_pad(payloader_, "src"));
  if (gst_pad_link(paysrc.get(), sinkpad.get()) != GST_PAD_LINK_OK) {
    error = "could not link the payloader to webrtcbin";
    return false;
  }
  for (guint i = 0; i < spec_.rungs; i++) {
    Ref<GstPad> tee_pad = fanout.request_video_pad(i, spec_.codec);
    const std::string pad_name = i == 0 ? "sink" : "sink_" + std::to_string(i);
    Ref<GstPad> branch_sink =
        Ref<GstPad>::adopt(gst_element_get_static_pad(bin_, pad_name.c_str()));
    if (tee_pad)
      tee_pads_.push_back(tee_pad);
    if (!tee_pad || gst_pad_link(tee_pad.get(), branch_sink.get()) != GST_PAD_LINK_OK) {
      error = "could not link the viewer to the stream";
      return false;
    }
  }
  if (rung_switch_)
    rung_switch_set_target(rung_switch_, spec_.start_rung);
  return link_audio(fanout, error);
}

/* The viewer's audio section: what it receives from audio_0 (sendonly),
 * what it sends us (talkback: recvonly), or both. Set up, like video,
 * before the offer is applied, so webrtcbin answers with these transceivers. */
bool ViewerBranch::link_audio(MediaFanout &fanout, std::string &error)
{
  const bool send = audio_payloader_ != nullptr;
  const bool receive = spec_.audio.present && spec_.audio.viewer_sends && spec_.talkback;
  if (!send && !receive)
    return true;
  const GstWebRTCRTPTransceiverDirection direction =
      send && receive ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV
      : send          ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY
                      : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
  if (!send) {
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_signal_emit_by_name(webrtcbin_, "add-transceiver", direction, spec_.audio.caps.get(), &trans);
    if (!trans) {
      error = "webrtcbin refused an audio transceiver";
      return false;
    }
    gst_object_unref(trans);
    return true;
  }
  GstPadTemplate *templ =
      gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtcbin_), "sink_%u");
  Ref<GstPad> sinkpad = Ref<GstPad>::adopt(
      gst_element_request_pad(webrtcbin_, templ, nullptr, spec_.audio.caps.get()));
  GstWebRTCRTPTransceiver *trans = nullptr;
  if (sinkpad)
    g_object_get(sinkpad.get(), "transceiver", &trans, nullptr);
  if (!trans) {
    error = "webrtcbin gave no audio pad";
    return false;
  }
  g_object_set(trans, "direction", direction, "codec-preferences", spec_.audio.caps.get(), nullptr);
  gst_object_unref(trans);
  Ref<GstPad> paysrc = Ref<GstPad>::adopt(gst_element_get_static_pad(audio_payloader_, "src"));
  if (gst_pad_link(paysrc.get(), sinkpad.get()) != GST_PAD_LINK_OK) {
    error = "could not link the audio payloader to webrtcbin";
    return false;
  }
  audio_tee_pad_ = fanout.request_audio_pad();
  Ref<GstPad> branch_sink = Ref<GstPad>::adopt(gst_element_get_static_pad(bin_, "audio_sink"));
  if (!audio_tee_pad_ || gst_pad_link(audio_tee_pad_.get(), branch_sink.get()) != GST_PAD_LINK_OK) {
    error = "could not link the viewer to the audio";
    return false;
  }
  return true;
}

/* A viewer's microphone arrived (webrtcbin's streaming thread): decode it
 * inside the branch and expose it as talkback_<id> on the element. A tee
 * with a fakesink keeps an unlinked talkback pad harmless. */
void ViewerBranch::on_pad_added(GstElement *webrtcbin, GstPad *pad, gpointer data)
{
  auto *watch = static_cast<TalkbackWatch *>(data);
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  Ref<GstElement> element =
      Ref<GstElement>::adopt(static_cast<GstElement *>(g_weak_ref_get(&watch->element)));
  Ref<GstElement> branch = Ref<GstElement>::adopt(GST_ELEMENT(gst_element_get_parent(webrtcbin)));
  if (!element || !branch)
    return;
  Ref<GstCaps> caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad));
  if (!caps)
    caps = Ref<GstCaps>::adopt(gst_pad_query_caps(pad, nullptr));
  const GstStructure *s =
      caps && !gst_caps_is_empty(caps.get()) ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  bool audio = s && g_strcmp0(gst_structure_get_string(s, "media"), "audio") == 0;
  if (!audio && g_object_class_find_property(G_OBJECT_GET_CLASS(pad), "transceiver")) {
    /* Caps may not be set yet: the transceiver knows its kind. */
    GstWebRTCRTPTransceiver *trans = nullptr;
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
      GST_ELEMENT_WARNING(element.get(), CORE, MISSING_PLUGIN,
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
  g_object_set(chain.back(), "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, nullptr);
  GstElement *tee = nullptr;
  GstPadTemplate *templ =
      gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(element.get()), "talkback_%s");
  if (audio) {
    g_object_set(chain[1], "plc", TRUE, nullptr);
    /* Decoded to what the element's talkback pads promise. */
    Ref<GstCaps> out = Ref<GstCaps>::adopt(gst_pad_template_get_caps(templ));
    g_object_set(chain[4], "caps", out.get(), nullptr);
    tee = chain[5];
    g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  } else {
    /* nothing but audio is expected from a viewer: dropped */
    GST_DEBUG_OBJECT(element.get(), "viewer %s: dropping incoming %" GST_PTR_FORMAT,
                     watch->id.c_str(), caps.get());
  }
  for (GstElement *e : chain)
    gst_bin_add(GST_BIN(branch.get()), e);
  for (std::size_t i = 0; i + 1 < chain.size(); i++)
    gst_element_link(chain[i], chain[i + 1]);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    gst_element_sync_state_with_parent(*it);
  if (audio) {
    /* branch:talkback -> element:talkback_<id>, before data flows. */
    Ref<GstPad> tee_src = Ref<GstPad>::adopt(gst_element_request_pad_simple(tee, "src_%u"));
    GstPad *inner = gst_ghost_pad_new("talkback", tee_src.get());
    gst_pad_set_active(inner, TRUE);
    gst_element_add_pad(branch.get(), inner);
    const std::string name = "talkback_" + watch->id;
    GstPad *outer = gst_ghost_pad_new_from_template(name.c_str(), inner, templ);
    gst_pad_set_active(outer, TRUE);
    GST_INFO_OBJECT(element.get(), "viewer %s: talkback audio on pad %s", watch->id.c_str(),
                    name.c_str());
    gst_element_add_pad(element.get(), outer);
  }
  Ref<GstPad> depay_sink = Ref<GstPad>::adopt(gst_element_get_static_pad(chain[0], "sink"));
  if (gst_pad_link(pad, depay_sink.get()) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT(element.get(), "viewer %s: could not link its incoming stream",
                       watch->id.c_str());
}

/* Watches every packet the viewer sends (RTCP, DTLS) to notice when it has
 * vanished without a word: ICE consent would take 30 s to fail. */
void ViewerBranch::watch_received(MediaFanout &fanout)
{
  if (std::exchange(watching_received_, true))
    return;
  last_rx_->store(g_get_monotonic_time());
  for (GstElement *nicesrc : elements_of(webrtcbin_, "nicesrc")) {
    Ref<GstPad> src = Ref<GstPad>::adopt(gst_element_get_static_pad(nicesrc, "src"));
    if (src)
      gst_pad_add_probe(
          src.get(),
          static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
          note_received, new ReceiveWatch{last_rx_, &fanout, guard_},
          [](gpointer d) { delete static_cast<ReceiveWatch *>(d); });
  }
}

void ViewerBranch::watch_certificate(const Guarded &run,
                                     std::function<void(std::string why)> on_mismatch)
{
  if (std::exchange(watching_certificate_, true))
    return;
  for (GstElement *nicesink : elements_of(webrtcbin_, "nicesink")) {
    Ref<GstPad> sink = Ref<GstPad>::adopt(gst_element_get_static_pad(nicesink, "sink"));
    if (sink)
      seal_transport(sink.get(), guard_);
  }
  for (GstElement *dec : elements_of(webrtcbin_, "dtlssrtpdec"))
    g_signal_connect_data(
        dec, "notify::peer-pem", G_CALLBACK(on_peer_certificate),
        new CertificateWatch{guard_, run, on_mismatch},
        [](gpointer data, GClosure *) { delete static_cast<CertificateWatch *>(data); },
        static_cast<GConnectFlags>(0));
}

bool ViewerBranch::certificate_checked(std::string &why)
{
  if (guard_->certificate_checked)
    return true;
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name(webrtcbin_, "get-transceiver", 0, &trans);
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
  return check_pem(take_string(pem), *guard_, why);
}

gint ViewerBranch::rung() const
{
  return rung_switch_ ? rung_switch_get_current(rung_switch_) : 0;
}

gint ViewerBranch::pending_rung() const
{
  return rung_switch_ ? rung_switch_get_pending(rung_switch_) : -1;
}

void ViewerBranch::set_rung(guint rung, gint64 hold_us)
{
  if (rung_switch_ && rung < spec_.rungs)
    rung_switch_set_target_after(rung_switch_, rung, hold_us);
}

bool ViewerBranch::uses_rung(guint rung) const
{
  if (!rung_switch_)
    return rung == 0;
  /* Before its first frame the viewer waits for its start rung (pending). */
  return rung_switch_get_current(rung_switch_) == static_cast<gint>(rung) ||
         rung_switch_get_pending(rung_switch_) == static_cast<gint>(rung);
}

void ViewerBranch::detach(EventLoop &loop)
{
  guard_->failed = true; /* nothing more goes in while it is unlinked */
  if (!attached_)
    return;
  attached_ = false;
  /* Freed on the loop thread, never while the element changes state: the
   * bin's state change walks its children, and a branch changing state and
   * leaving under its feet ends up disposed in PAUSED. So the state lock is
   * taken, or the disposal retried shortly. */
  struct Disposal : std::enable_shared_from_this<Disposal> {
    EventLoop *loop;
    Ref<GstElement> element, branch;
    std::vector<Ref<GstPad>> tee_pads;
    std::string id;
    std::atomic<int> remaining{0};

    void dispose()
    {
      if (!GST_STATE_TRYLOCK(element.get())) {
        auto self = shared_from_this();
        loop->add_timeout(20, [self]() { self->dispose(); });
        return;
      }
      for (const Ref<GstPad> &pad : tee_pads)
        MediaFanout::release_tee_pad(pad);
      Ref<GstPad> talkback =
          Ref<GstPad>::adopt(gst_element_get_static_pad(element.get(), ("talkback_" + id).c_str()));
      if (talkback) {
        gst_ghost_pad_set_target(GST_GHOST_PAD(talkback.get()), nullptr);
        gst_pad_set_active(talkback.get(), FALSE);
        gst_element_remove_pad(element.get(), talkback.get());
      }
      /* The element's stop may have removed it already. */
      if (GST_OBJECT_PARENT(branch.get()) == GST_OBJECT(element.get())) {
        gst_element_set_state(branch.get(), GST_STATE_NULL);
        gst_bin_remove(GST_BIN(element.get()), branch.get());
      }
      GST_STATE_UNLOCK(element.get());
    }
  };
  auto d = std::make_shared<Disposal>();
  d->loop = &loop;
  d->element = Ref<GstElement>::ref(element_);
  d->branch = Ref<GstElement>::ref(bin_);
  d->id = id_;
  d->tee_pads = tee_pads_;
  if (audio_tee_pad_)
    d->tee_pads.push_back(audio_tee_pad_);
  if (d->tee_pads.empty()) {
    d->dispose();
    return;
  }
  /* Each tee pad is unlinked once its tee is between two buffers; the
   * branch goes once all are. If the loop has stopped by then, the
   * element's stop removes what is left. */
  d->remaining = static_cast<int>(d->tee_pads.size());
  for (const Ref<GstPad> &tee_pad : d->tee_pads) {
    struct Once {
      std::shared_ptr<Disposal> d;
      bool done = false;
    };
    gst_pad_add_probe(
        tee_pad.get(), GST_PAD_PROBE_TYPE_IDLE,
        [](GstPad *pad, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
          auto *once = static_cast<Once *>(data);
          if (std::exchange(once->done, true))
            return GST_PAD_PROBE_REMOVE;
          Ref<GstPad> peer = Ref<GstPad>::adopt(gst_pad_get_peer(pad));
          if (peer)
            gst_pad_unlink(pad, peer.get());
          std::shared_ptr<Disposal> d = once->d;
          if (--d->remaining == 0)
            d->loop->invoke([d]() { d->dispose(); });
          return GST_PAD_PROBE_REMOVE;
        },
        new Once{d}, [](gpointer data) { delete static_cast<Once *>(data); });
  }
}

}  // namespace livecast
