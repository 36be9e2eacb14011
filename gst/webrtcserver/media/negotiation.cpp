/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "negotiation.h"

#include <map>

#include "debugcategory.h"
#include "gstrefptr.h"
#include "rtpextensions.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* How long the answer waits for ICE gathering before it is sent as is. */
constexpr guint kGatheringTimeoutMs = 3000;

/* The error text of a webrtcbin promise reply, "" on success. */
std::string promise_error(GstPromise *promise)
{
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED)
    return "webrtcbin did not reply";
  const GstStructure *reply = gst_promise_get_reply(promise);
  if (!reply || !gst_structure_has_field(reply, "error"))
    return {};
  GError *err = nullptr;
  gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
  GErrorPtr owner(err);
  return err ? err->message : "unknown error";
}

}  // namespace

Negotiation::Negotiation(GstElement *webrtcbin, OfferedVideo video, EventLoop &loop, Guarded run,
                         Callbacks callbacks)
    : webrtcbin_(webrtcbin),
      video_(std::move(video)),
      loop_(loop),
      run_(std::move(run)),
      callbacks_(std::move(callbacks))
{
  connect(
      "notify::ice-gathering-state",
      +[](GstElement *, GParamSpec *, Negotiation *self) { self->gathering_changed(); });
  connect(
      "notify::ice-connection-state", +[](GstElement *e, GParamSpec *, Negotiation *self) {
        GstWebRTCICEConnectionState state;
        g_object_get(e, "ice-connection-state", &state, nullptr);
        if (self->callbacks_.on_ice_state)
          self->callbacks_.on_ice_state(state);
      });
  connect(
      "notify::connection-state", +[](GstElement *e, GParamSpec *, Negotiation *self) {
        GstWebRTCPeerConnectionState state;
        g_object_get(e, "connection-state", &state, nullptr);
        if (self->callbacks_.on_connection_state)
          self->callbacks_.on_connection_state(state);
      });
  if (callbacks_.on_candidate)
    connect(
        "on-ice-candidate", +[](GstElement *, guint mline, gchar *candidate, Negotiation *self) {
          std::string text = candidate ? candidate : "";
          if (g_str_has_prefix(text.c_str(), "a="))
            text.erase(0, 2);
          LocalCandidate c;
          c.candidate = text;
          c.mline = static_cast<int>(mline);
          self->local_candidate(std::move(c));
        });
}

/* Connects @callback (a plain function taking this object last) to
 * @signal of webrtcbin, run on the loop thread while the viewer exists.
 * The signal's own arguments are read in webrtcbin's thread. */
template <typename F>
void Negotiation::connect(const char *signal, F callback)
{
  struct Hook {
    Negotiation *self;
    Guarded run;
    F callback;
  };
  /* Each signal's arguments differ: one trampoline per signal shape. */
  auto *hook = new Hook{this, run_, callback};
  auto destroy = [](gpointer data, GClosure *) { delete static_cast<Hook *>(data); };
  if constexpr (std::is_same_v<F, void (*)(GstElement *, GParamSpec *, Negotiation *)>) {
    g_signal_connect_data(
        webrtcbin_, signal, G_CALLBACK(+[](GstElement *e, GParamSpec *pspec, gpointer data) {
          auto *h = static_cast<Hook *>(data);
          Ref<GstElement> bin = Ref<GstElement>::ref(e);
          Negotiation *self = h->self;
          F callback = h->callback;
          h->run([self, callback, bin, pspec]() { callback(bin.get(), pspec, self); });
        }),
        hook, destroy, static_cast<GConnectFlags>(0));
  } else {
    g_signal_connect_data(
        webrtcbin_, signal,
        G_CALLBACK(+[](GstElement *e, guint mline, gchar *candidate, gpointer data) {
          auto *h = static_cast<Hook *>(data);
          Ref<GstElement> bin = Ref<GstElement>::ref(e);
          std::string text = candidate ? candidate : "";
          Negotiation *self = h->self;
          F callback = h->callback;
          h->run([self, callback, bin, mline, text]() {
            callback(bin.get(), mline, const_cast<gchar *>(text.c_str()), self);
          });
        }),
        hook, destroy, static_cast<GConnectFlags>(0));
  }
}

GstPromise *Negotiation::promise(Negotiation *self, void (Negotiation::*step)(GstPromise *))
{
  struct Data {
    Negotiation *self;
    Guarded run;
    void (Negotiation::*step)(GstPromise *);
  };
  return gst_promise_new_with_change_func(
      [](GstPromise *p, gpointer user_data) {
        auto *d = static_cast<Data *>(user_data);
        Ref<GstPromise> ref = Ref<GstPromise>::ref(p);
        Negotiation *self = d->self;
        auto step = d->step;
        d->run([self, step, ref]() { (self->*step)(ref.get()); });
      },
      new Data{self, self->run_, step}, [](gpointer d) { delete static_cast<Data *>(d); });
}

void Negotiation::start(GstWebRTCSessionDescription *offer)
{
  we_offer_ = offer == nullptr;
  if (we_offer_) {
    GST_INFO_OBJECT(webrtcbin_, "making an offer (payload type %d)", video_.payload_type);
    GstPromise *p = promise(this, &Negotiation::on_offer_created);
    g_signal_emit_by_name(webrtcbin_, "create-offer", nullptr, p);
    gst_promise_unref(p);
    return;
  }
  GST_INFO_OBJECT(webrtcbin_, "answering an offer (m-line %u, payload type %d)", video_.mline,
                  video_.payload_type);
  GstPromise *p = promise(this, &Negotiation::on_remote_set);
  g_signal_emit_by_name(webrtcbin_, "set-remote-description", offer, p);
  gst_promise_unref(p);
  gst_webrtc_session_description_free(offer);
}

void Negotiation::fail(int status, const std::string &message)
{
  if (local_sdp_sent_) {
    if (callbacks_.on_failed)
      callbacks_.on_failed(message);
    return;
  }
  local_sdp_sent_ = true; /* once */
  callbacks_.on_local_sdp(false, status, message);
}

void Negotiation::on_remote_set(GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail(400, "The offer was refused by webrtcbin: " + error + ".");
  GstPromise *next = promise(this, &Negotiation::on_answer_created);
  g_signal_emit_by_name(webrtcbin_, "create-answer", nullptr, next);
  gst_promise_unref(next);
}

void Negotiation::on_answer_created(GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail(500, "webrtcbin could not create an answer: " + error + ".");
  GstWebRTCSessionDescription *answer = nullptr;
  gst_structure_get(gst_promise_get_reply(p), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                    &answer, nullptr);
  if (!answer)
    return fail(500, "webrtcbin created no answer.");
  complete_answer_fmtp(answer->sdp, video_);
  GstPromise *next = promise(this, &Negotiation::on_local_set);
  g_signal_emit_by_name(webrtcbin_, "set-local-description", answer, next);
  gst_promise_unref(next);
  gst_webrtc_session_description_free(answer);
}

void Negotiation::on_offer_created(GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail(500, "webrtcbin could not create an offer: " + error + ".");
  GstWebRTCSessionDescription *offer = nullptr;
  gst_structure_get(gst_promise_get_reply(p), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer,
                    nullptr);
  if (!offer)
    return fail(500, "webrtcbin created no offer.");
  complete_answer_fmtp(offer->sdp, video_);
  GstPromise *next = promise(this, &Negotiation::on_local_set);
  g_signal_emit_by_name(webrtcbin_, "set-local-description", offer, next);
  gst_promise_unref(next);
  gst_webrtc_session_description_free(offer);
}

void Negotiation::on_local_set(GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail(500, "The answer could not be applied: " + error + ".");
  local_ready_ = true;
  GstWebRTCICEGatheringState state;
  g_object_get(webrtcbin_, "ice-gathering-state", &state, nullptr);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    gathering_done_ = true;
  if (gathering_done_ || callbacks_.on_candidate)
    return finish();
  /* Do not wait forever for slow STUN/TURN servers. */
  Guarded run = run_;
  loop_.add_timeout(kGatheringTimeoutMs, [run, this]() {
    run([this]() {
      if (!local_sdp_sent_)
        GST_INFO_OBJECT(webrtcbin_, "ICE gathering still running, answering now");
      finish();
    });
  });
}

void Negotiation::gathering_changed()
{
  GstWebRTCICEGatheringState state;
  g_object_get(webrtcbin_, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE || gathering_done_)
    return;
  gathering_done_ = true;
  finish();
  local_candidate(LocalCandidate{});
}

/* Trickle ICE: a local candidate (or "" for the end) to the viewer's
 * channel, held back until our answer or offer is out. */
void Negotiation::local_candidate(LocalCandidate c)
{
  if (!callbacks_.on_candidate)
    return;
  if (!local_sdp_sent_) {
    early_candidates_.push_back(std::move(c));
    return;
  }
  if (c.mid.empty() && c.mline >= 0 && c.mline < static_cast<int>(local_mids_.size()))
    c.mid = local_mids_[c.mline];
  callbacks_.on_candidate(c);
}

void Negotiation::finish()
{
  if (local_sdp_sent_ || !local_ready_)
    return;
  GstWebRTCSessionDescription *desc = nullptr;
  g_object_get(webrtcbin_, "local-description", &desc, nullptr);
  if (!desc)
    return fail(500, "webrtcbin has no local description.");
  const std::string sdp = take_string(gst_sdp_message_as_text(desc->sdp));
  for (guint i = 0; i < gst_sdp_message_medias_len(desc->sdp); i++) {
    const char *mid =
        gst_sdp_media_get_attribute_val(gst_sdp_message_get_media(desc->sdp, i), "mid");
    local_mids_.emplace_back(mid ? mid : "");
  }
  gst_webrtc_session_description_free(desc);
  local_sdp_sent_ = true;
  GST_INFO_OBJECT(webrtcbin_, "%s sent", we_offer_ ? "offer" : "answer");
  callbacks_.on_local_sdp(true, 0, sdp);
  std::vector<LocalCandidate> early;
  early.swap(early_candidates_);
  for (LocalCandidate &c : early)
    local_candidate(std::move(c));
}

int Negotiation::apply_answer(GstSDPMessage *answer, std::string &message)
{
  if (!we_offer_ || !local_sdp_sent_ || answer_applied_) {
    gst_sdp_message_free(answer);
    message = "This session is not waiting for an answer.";
    return 409;
  }
  answer_applied_ = true; /* one answer only */
  GstWebRTCSessionDescription *desc =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, answer);
  GstPromise *p = promise(this, &Negotiation::on_answer_applied);
  g_signal_emit_by_name(webrtcbin_, "set-remote-description", desc, p);
  gst_promise_unref(p);
  gst_webrtc_session_description_free(desc);
  return 0;
}

void Negotiation::on_answer_applied(GstPromise *p)
{
  const std::string error = promise_error(p);
  if (!error.empty())
    return fail(400, "The answer was refused by webrtcbin: " + error + ".");
  GST_INFO_OBJECT(webrtcbin_, "answer applied");
}

int Negotiation::add_remote_candidates(const SdpFragment &fragment, std::string &message)
{
  if ((!fragment.ice_ufrag.empty() && fragment.ice_ufrag != video_.ice_ufrag) ||
      (!fragment.ice_pwd.empty() && fragment.ice_pwd != video_.ice_pwd)) {
    message = "ICE restarts are not supported; start a new session instead.";
    return 422;
  }
  for (const auto &c : fragment.candidates) {
    int mline = c.mline;
    if (!c.mid.empty()) {
      for (std::size_t i = 0; i < video_.mids.size(); i++) {
        if (video_.mids[i] == c.mid)
          mline = static_cast<int>(i);
      }
    }
    if (mline < 0)
      mline = static_cast<int>(video_.mline);
    g_signal_emit_by_name(webrtcbin_, "add-ice-candidate", static_cast<guint>(mline),
                          ("a=" + c.candidate).c_str());
  }
  return 0;
}

OfferCheck Negotiation::our_offer(const SentVideo &sent, bool audio_input, bool talkback)
{
  OfferCheck c;
  c.ok = true;
  c.video.codec = sent.codec;
  c.video.mline = 0;
  c.video.payload_type = 96;
  GstCaps *vcaps = gst_caps_new_simple(
      "application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name", G_TYPE_STRING,
      video_codec_encoding_name(sent.codec), "clock-rate", G_TYPE_INT, 90000, "payload", G_TYPE_INT,
      96, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
      "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, nullptr);
  if (sent.codec == VideoCodec::H264) {
    gst_caps_set_simple(vcaps, "packetization-mode", G_TYPE_STRING, "1", "level-asymmetry-allowed",
                        G_TYPE_STRING, "1", nullptr);
    /* profile_idc and constraint flags; level 3.1 */
    static const std::map<std::string, const char *> ids = {{"constrained-baseline", "42e01f"},
                                                            {"baseline", "42001f"},
                                                            {"main", "4d001f"},
                                                            {"high", "64001f"}};
    auto it = ids.find(sent.h264_profile);
    c.video.profile_level_id = it != ids.end() ? it->second : "42e01f";
  }
  c.video.caps = Ref<GstCaps>::adopt(vcaps);
  c.video.mids = {"video0"};
  c.video.extmaps = our_video_extmaps();
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

}  // namespace livecast
