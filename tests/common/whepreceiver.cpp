/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "whepreceiver.h"

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <cstring>

std::string HttpResult::header(const char *name) const
{
  for (const auto &h : headers) {
    if (g_ascii_strcasecmp(h.first.c_str(), name) == 0)
      return h.second;
  }
  return {};
}

HttpResult http_request(const std::string &method, const std::string &url,
                        const std::string &content_type, const std::string &body,
                        const std::vector<std::pair<std::string, std::string>> &headers)
{
  HttpResult result;
  SoupSession *session = soup_session_new_with_options("timeout", 10u, nullptr);
  SoupMessage *msg = soup_message_new(method.c_str(), url.c_str());
  if (!msg) {
    g_object_unref(session);
    return result;
  }
  for (const auto &h : headers)
    soup_message_headers_replace(soup_message_get_request_headers(msg), h.first.c_str(),
                                 h.second.c_str());
  if (!content_type.empty() || !body.empty()) {
    GBytes *bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(
        msg, content_type.empty() ? nullptr : content_type.c_str(), bytes);
    g_bytes_unref(bytes);
  }
  GError *err = nullptr;
  GBytes *response = soup_session_send_and_read(session, msg, nullptr, &err);
  if (response) {
    gsize len = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(response, &len));
    result.body.assign(data ? data : "", len);
    g_bytes_unref(response);
  } else {
    g_clear_error(&err);
  }
  result.status = static_cast<int>(soup_message_get_status(msg));
  soup_message_headers_foreach(
      soup_message_get_response_headers(msg),
      [](const char *name, const char *value, gpointer data) {
        static_cast<HttpResult *>(data)->headers.emplace_back(name, value);
      },
      &result);
  g_object_unref(msg);
  g_object_unref(session);
  return result;
}

WhepReceiver::WhepReceiver(std::string base_url, std::string codec, bool decode)
    : base_url_(std::move(base_url)), codec_(std::move(codec)), decode_(decode)
{
  g_mutex_init(&lock_);
}

WhepReceiver::~WhepReceiver()
{
  vanish();
  g_mutex_clear(&lock_);
}

void WhepReceiver::request_key_frame()
{
  g_mutex_lock(&lock_);
  GstPad *pad = video_src_ ? GST_PAD(gst_object_ref(video_src_)) : nullptr;
  g_mutex_unlock(&lock_);
  if (!pad)
    return;
  /* webrtcbin's RTP session turns this upstream event into an RTCP PLI. */
  gst_pad_send_event(pad,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref(pad);
}

void WhepReceiver::vanish()
{
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
    pipeline_ = nullptr;
    webrtcbin_ = nullptr;
  }
  g_mutex_lock(&lock_);
  if (video_src_)
    gst_object_unref(video_src_);
  video_src_ = nullptr;
  g_mutex_unlock(&lock_);
}

void WhepReceiver::on_handoff(GstElement *, GstBuffer *, GstPad *, WhepReceiver *self)
{
  if (self->frames_++ == 0)
    self->first_frame_us_ = g_get_monotonic_time();
}

void WhepReceiver::on_pad_added(GstElement *, GstPad *pad, WhepReceiver *self)
{
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  const bool h264 = self->codec_ == "H264", vp8 = self->codec_ == "VP8";
  std::string chain = h264  ? "rtph264depay name=depay ! h264parse"
                      : vp8 ? "rtpvp8depay name=depay"
                            : "rtpvp9depay name=depay";
  if (self->decode_)
    chain += h264 ? " ! avdec_h264" : vp8 ? " ! vp8dec" : " ! vp9dec";
  const std::string desc =
      "queue ! " + chain + " ! fakesink name=frames signal-handoffs=true sync=false";
  GstElement *depay_decode = gst_parse_bin_from_description(desc.c_str(), TRUE, nullptr);
  GstElement *depay = gst_bin_get_by_name(GST_BIN(depay_decode), "depay");
  GstPad *depay_src = gst_element_get_static_pad(depay, "src");
  gst_pad_add_probe(
      depay_src, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
        if (!GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT))
          static_cast<WhepReceiver *>(data)->key_frames_++;
        return GST_PAD_PROBE_OK;
      },
      self, nullptr);
  gst_object_unref(depay_src);
  gst_object_unref(depay);
  g_mutex_lock(&self->lock_);
  if (!self->video_src_)
    self->video_src_ = GST_PAD(gst_object_ref(pad));
  g_mutex_unlock(&self->lock_);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(depay_decode), "frames");
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), self);
  gst_object_unref(sink);
  gst_bin_add(GST_BIN(self->pipeline_), depay_decode);
  gst_element_sync_state_with_parent(depay_decode);
  GstPad *sinkpad = gst_element_get_static_pad(depay_decode, "sink");
  GstPadLinkReturn ret = gst_pad_link(pad, sinkpad);
  if (ret != GST_PAD_LINK_OK)
    g_printerr("receiver: could not link %s: %s\n", GST_PAD_NAME(pad), gst_pad_link_get_name(ret));
  gst_object_unref(sinkpad);
}

void WhepReceiver::on_ice_candidate(GstElement *, guint mline, gchar *candidate, WhepReceiver *self)
{
  g_mutex_lock(&self->lock_);
  self->candidates_.emplace_back(mline, candidate);
  g_mutex_unlock(&self->lock_);
}

static GstStructure *wait_promise(GstPromise *promise)
{
  gst_promise_wait(promise);
  return const_cast<GstStructure *>(gst_promise_get_reply(promise));
}

bool WhepReceiver::start(std::string &error, bool json_offer, const std::string &token)
{
  pipeline_ = gst_pipeline_new("receiver");
  webrtcbin_ = gst_element_factory_make("webrtcbin", "recv");
  gst_util_set_object_arg(G_OBJECT(webrtcbin_), "bundle-policy", "max-bundle");
  /* No receive jitter buffer delay: on loopback it only hides the sender's latency. */
  g_object_set(webrtcbin_, "latency", 0u, nullptr);
  gst_bin_add(GST_BIN(pipeline_), webrtcbin_);
  {
    GObject *ice = nullptr, *agent = nullptr;
    g_object_get(webrtcbin_, "ice-agent", &ice, nullptr);
    g_object_get(ice, "agent", &agent, nullptr);
    g_object_set(agent, "upnp", FALSE, nullptr);
    g_object_unref(agent);
    /* libnice skips loopback interfaces unless told to use them. */
    gboolean added = FALSE;
    g_signal_emit_by_name(ice, "add-local-ip-address", local_address.c_str(), &added);
    g_object_unref(ice);
  }
  g_signal_connect(webrtcbin_, "pad-added", G_CALLBACK(on_pad_added), this);
  g_signal_connect(webrtcbin_, "on-ice-candidate", G_CALLBACK(on_ice_candidate), this);
  gst_element_set_state(pipeline_, GST_STATE_PLAYING);

  /* Payload types as Chromium uses them, not 96, to prove the answer mirrors them. */
  std::string caps_str =
      codec_ == "H264" ? std::string(
                             "application/x-rtp,media=video,encoding-name=H264,payload=102,"
                             "clock-rate=90000,packetization-mode=(string)1,"
                             "profile-level-id=(string)42e01f,rtcp-fb-nack-pli=(boolean)true") +
                             (level_asymmetry ? ",level-asymmetry-allowed=(string)1" : "")
                       : "application/x-rtp,media=video,encoding-name=" + codec_ +
                             ",payload=98,clock-rate=90000,rtcp-fb-nack-pli=(boolean)true";
  if (transport_cc)
    caps_str +=
        ",rtcp-fb-transport-cc=(boolean)true,extmap-3=(string)\"http://www.ietf.org/id/"
        "draft-holmer-rmcat-transport-wide-cc-extensions-01\"";
  GstCaps *caps = gst_caps_from_string(caps_str.c_str());
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name(webrtcbin_, "add-transceiver",
                        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
  gst_caps_unref(caps);
  if (trans)
    gst_object_unref(trans);

  GstPromise *promise = gst_promise_new();
  g_signal_emit_by_name(webrtcbin_, "create-offer", nullptr, promise);
  GstWebRTCSessionDescription *offer = nullptr;
  gst_structure_get(wait_promise(promise), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer,
                    nullptr);
  gst_promise_unref(promise);
  if (!offer) {
    error = "webrtcbin created no offer";
    return false;
  }
  promise = gst_promise_new();
  g_signal_emit_by_name(webrtcbin_, "set-local-description", offer, promise);
  wait_promise(promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(offer);

  /* Non-trickle offer: wait (bounded) for gathering, as a simple WHEP client would. */
  for (int i = 0; i < 300; i++) {
    GstWebRTCICEGatheringState state;
    g_object_get(webrtcbin_, "ice-gathering-state", &state, nullptr);
    if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
      break;
    g_usleep(10 * 1000);
  }
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get(webrtcbin_, "local-description", &local, nullptr);
  gchar *text = gst_sdp_message_as_text(local->sdp);
  offer_ = text;
  g_free(text);
  gst_webrtc_session_description_free(local);

  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty())
    headers.emplace_back("Authorization", "Bearer " + token);
  post_time_us_ = g_get_monotonic_time();
  if (json_offer) {
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, "offer");
    json_builder_set_member_name(b, "sdp");
    json_builder_add_string_value(b, offer_.c_str());
    json_builder_end_object(b);
    JsonGenerator *gen = json_generator_new();
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    gchar *body = json_generator_to_data(gen, nullptr);
    post_ = http_request("POST", base_url_ + "/offer", "application/json", body, headers);
    g_free(body);
    json_node_unref(root);
    g_object_unref(gen);
    g_object_unref(b);
  } else {
    post_ = http_request("POST", base_url_ + "/whep", "application/sdp", offer_, headers);
  }
  const int expected = json_offer ? 200 : 201;
  if (post_.status != expected) {
    error = "POST answered " + std::to_string(post_.status) + ": " + post_.body;
    return false;
  }
  location_ = post_.header("Location");
  etag_ = post_.header("ETag");
  answer_ = post_.body;
  if (json_offer) {
    JsonParser *parser = json_parser_new();
    if (json_parser_load_from_data(parser, post_.body.c_str(), -1, nullptr)) {
      JsonObject *obj = json_node_get_object(json_parser_get_root(parser));
      answer_ = json_object_get_string_member(obj, "sdp");
      if (g_strcmp0(json_object_get_string_member(obj, "type"), "answer") != 0)
        error = "JSON reply has no type=answer";
    } else {
      error = "JSON reply does not parse";
    }
    g_object_unref(parser);
    if (!error.empty())
      return false;
  }

  GstSDPMessage *sdp = nullptr;
  if (gst_sdp_message_new_from_text(answer_.c_str(), &sdp) != GST_SDP_OK) {
    error = "answer does not parse";
    return false;
  }
  GstWebRTCSessionDescription *answer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  promise = gst_promise_new();
  g_signal_emit_by_name(webrtcbin_, "set-remote-description", answer, promise);
  GstStructure *reply = wait_promise(promise);
  if (reply && gst_structure_has_field(reply, "error")) {
    error = "receiver refused the answer";
    gst_promise_unref(promise);
    gst_webrtc_session_description_free(answer);
    return false;
  }
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(answer);
  return true;
}

bool WhepReceiver::wait_frames(guint n, guint timeout_ms)
{
  const gint64 end = g_get_monotonic_time() + timeout_ms * G_GINT64_CONSTANT(1000);
  while (frames_ < n && g_get_monotonic_time() < end)
    g_usleep(10 * 1000);
  return frames_ >= n;
}

double WhepReceiver::first_frame_ms() const
{
  if (first_frame_us_ == 0)
    return -1;
  return (first_frame_us_ - post_time_us_) / 1000.0;
}

int WhepReceiver::trickle()
{
  std::string frag;
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new_from_text(offer_.c_str(), &sdp);
  const GstSDPMedia *media = gst_sdp_message_get_media(sdp, 0);
  const char *ufrag = gst_sdp_media_get_attribute_val(media, "ice-ufrag");
  const char *pwd = gst_sdp_media_get_attribute_val(media, "ice-pwd");
  const char *mid = gst_sdp_media_get_attribute_val(media, "mid");
  frag += std::string("a=ice-ufrag:") + (ufrag ? ufrag : "") + "\r\n";
  frag += std::string("a=ice-pwd:") + (pwd ? pwd : "") + "\r\n";
  frag += "m=video 9 UDP/TLS/RTP/SAVPF 0\r\n";
  frag += std::string("a=mid:") + (mid ? mid : "0") + "\r\n";
  gst_sdp_message_free(sdp);
  g_mutex_lock(&lock_);
  for (const auto &c : candidates_) {
    if (!c.second.empty())
      frag += "a=" + c.second + "\r\n";
  }
  g_mutex_unlock(&lock_);
  frag += "a=end-of-candidates\r\n";
  return http_request("PATCH", base_url_ + location_, "application/trickle-ice-sdpfrag", frag,
                      {{"If-Match", etag_}})
      .status;
}

int WhepReceiver::stop_session()
{
  return http_request("DELETE", base_url_ + location_).status;
}
