/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The sender of tests/browser/bandwidth.test.mjs: one webrtcbin sending a
 * fixed-bitrate H.264 test pattern to one viewer, with a ViewerFeedback
 * (gst/webrtcserver/media/viewerfeedback.h) on it, and no ladder: the
 * encoder keeps its bitrate whatever the estimate says.
 *
 *   videotestsrc ! x264enc bitrate=B ! rtph264pay (+ extensions) ! webrtcbin
 *
 * The RTP header extensions are chosen and applied as webrtcserversink does
 * (gst/webrtcserver/media/rtpextensions.h): transport-cc and playout-delay
 * with the offer's ids.
 *
 * Signalling on stdin/stdout: the viewer's offer (SDP lines, then a line
 * "."), our answer ("answer", SDP lines, "."), then once the viewer is
 * connected a line "estimate {...}" (ViewerFeedback::stats_json) every
 * 250 ms until stdin closes.
 *   bwsender [--bitrate KBPS] [--no-transport-cc]
 * --no-transport-cc answers without the transport-cc extension (as
 * webrtcbin alone does): what Chromium sends then shows in the counts.
 */
#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sdpoffer.h"
#include "rtpextensions.h"
#include "viewerfeedback.h"

using namespace livecast;

namespace
{

struct Sender {
  GstElement *pipeline = nullptr, *webrtcbin = nullptr;
  std::mutex lock;
  std::unique_ptr<ViewerFeedback> feedback;
  bool connected = false;
};

void fail(const std::string &why)
{
  std::fprintf(stderr, "bwsender: %s\n", why.c_str());
  std::exit(1);
}

GstWebRTCSessionDescription *wait_sdp(GstPromise *promise, const char *field)
{
  gst_promise_wait(promise);
  const GstStructure *reply = gst_promise_get_reply(promise);
  GstWebRTCSessionDescription *desc = nullptr;
  if (!reply ||
      !gst_structure_get(reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr))
    fail(std::string("webrtcbin gave no ") + field);
  gst_promise_unref(promise);
  return desc;
}

void on_ice_state(GObject *webrtcbin, GParamSpec *, gpointer data)
{
  auto *s = static_cast<Sender *>(data);
  GstWebRTCICEConnectionState state;
  g_object_get(webrtcbin, "ice-connection-state", &state, nullptr);
  std::fprintf(stderr, "bwsender: ICE state %d\n", state);
  if (state != GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED &&
      state != GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
    return;
  std::lock_guard<std::mutex> guard(s->lock);
  if (s->connected)
    return;
  s->connected = true;
  std::string error;
  EstimatorConfig config;
  config.initial_bps = 2000000;
  s->feedback = ViewerFeedback::watch(GST_ELEMENT(webrtcbin), 0, config, error);
  if (!s->feedback)
    fail("no feedback: " + error);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  int bitrate = 2000;
  bool twcc = true;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--bitrate") && i + 1 < argc)
      bitrate = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-transport-cc"))
      twcc = false;
  }
  std::string offer_text, line;
  while (std::getline(std::cin, line) && line != ".")
    offer_text += line + "\r\n";
  const OfferCheck checked = check_offer(offer_text, SentVideo{});
  if (!checked.ok)
    fail("offer refused: " + checked.message);
  GstSDPMessage *offer_sdp = nullptr;
  gst_sdp_message_new_from_text(offer_text.c_str(), &offer_sdp);
  VideoExtensions extensions = choose_video_extensions(checked.video.extmaps, 0);
  if (!twcc)
    extensions.transport_cc_id = -1;
  std::fprintf(stderr, "bwsender: video pt %d, transport-cc id %d, playout-delay id %d\n",
               checked.video.payload_type, extensions.transport_cc_id, extensions.playout_delay_id);

  Sender s;
  GError *err = nullptr;
  const std::string desc =
      "videotestsrc is-live=true pattern=smpte horizontal-speed=4 "
      "! video/x-raw,width=1280,height=720,framerate=30/1 "
      "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=" +
      std::to_string(bitrate) +
      " ! video/x-h264,profile=constrained-baseline ! h264parse "
      "! rtph264pay name=pay config-interval=-1 aggregate-mode=zero-latency mtu=1200 pt=" +
      std::to_string(checked.video.payload_type) +
      " ! capssetter caps=\"application/x-rtp,profile-level-id=(string)" +
      checked.video.profile_level_id + "\" ! webrtcbin name=webrtc bundle-policy=max-bundle";
  s.pipeline = gst_parse_launch(desc.c_str(), &err);
  if (!s.pipeline)
    fail(std::string("pipeline: ") + (err ? err->message : "?"));
  s.webrtcbin = gst_bin_get_by_name(GST_BIN(s.pipeline), "webrtc");
  GstElement *pay = gst_bin_get_by_name(GST_BIN(s.pipeline), "pay");
  std::string error;
  if (!add_extensions(pay, extensions, error))
    fail(error);
  Ref<GstCaps> prefs = caps_with_extensions(checked.video.caps.get(), extensions);
  gst_object_unref(pay);
  GObject *agent = nullptr;
  g_object_get(s.webrtcbin, "ice-agent", &agent, nullptr);
  GObject *nice = nullptr;
  g_object_get(agent, "agent", &nice, nullptr);
  g_object_set(nice, "upnp", FALSE, nullptr);
  g_object_unref(nice);
  g_object_unref(agent);
  g_signal_connect(s.webrtcbin, "notify::ice-connection-state", G_CALLBACK(on_ice_state), &s);
  gst_element_set_state(s.pipeline, GST_STATE_PLAYING);

  /* The transceiver webrtcbin made for the payloader's pad: send only,
   * answering with the offer's payload type (and the extension). */
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name(s.webrtcbin, "get-transceiver", 0, &trans);
  if (!trans)
    fail("no transceiver");
  g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
               "codec-preferences", prefs.get(), nullptr);
  gst_object_unref(trans);
  /* The payloader's caps first: the answer then lists the SSRC. */
  g_usleep(500 * 1000);

  GstWebRTCSessionDescription *offer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, offer_sdp);
  GstPromise *p = gst_promise_new();
  g_signal_emit_by_name(s.webrtcbin, "set-remote-description", offer, p);
  gst_promise_wait(p);
  gst_promise_unref(p);
  gst_webrtc_session_description_free(offer);
  p = gst_promise_new();
  g_signal_emit_by_name(s.webrtcbin, "create-answer", nullptr, p);
  GstWebRTCSessionDescription *answer = wait_sdp(p, "answer");
  complete_answer_fmtp(answer->sdp, checked.video);
  p = gst_promise_new();
  g_signal_emit_by_name(s.webrtcbin, "set-local-description", answer, p);
  gst_promise_wait(p);
  gst_promise_unref(p);
  /* Non-trickle: the answer carries our candidates. */
  for (int i = 0; i < 50; i++) {
    GstWebRTCICEGatheringState g;
    g_object_get(s.webrtcbin, "ice-gathering-state", &g, nullptr);
    if (g == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
      break;
    g_usleep(100 * 1000);
  }
  GstWebRTCSessionDescription *local = nullptr;
  g_object_get(s.webrtcbin, "local-description", &local, nullptr);
  gchar *text = gst_sdp_message_as_text(local->sdp);
  std::printf("answer\n%s.\n", text);
  std::fflush(stdout);
  g_free(text);
  gst_webrtc_session_description_free(local);
  gst_webrtc_session_description_free(answer);

  /* Estimates until stdin closes. */
  static std::atomic<bool> closed{false};
  std::thread reader([]() {
    std::string l;
    while (std::getline(std::cin, l)) {
    }
    closed = true;
  });
  reader.detach();
  for (;;) {
    g_usleep(250 * 1000);
    std::lock_guard<std::mutex> guard(s.lock);
    if (s.feedback) {
      std::printf("estimate %s\n", s.feedback->stats_json().c_str());
      if (std::fflush(stdout) != 0 || std::ferror(stdout))
        break;
    }
    if (closed)
      break;
  }
  return 0;
}
