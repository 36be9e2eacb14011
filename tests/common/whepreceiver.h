/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A real WebRTC viewer built from GStreamer's webrtcbin: offers recvonly
 * video, talks WHEP (or POST /offer) over HTTP with libsoup, decodes what it
 * receives and counts decoded frames. Used by the integration tests and the
 * time-to-first-frame benchmark.
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <string>
#include <vector>

struct HttpResult {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const char *name) const;
};

/* A synchronous HTTP request (bounded by a 10 s timeout). */
HttpResult http_request(const std::string &method, const std::string &url,
                        const std::string &content_type = "", const std::string &body = "",
                        const std::vector<std::pair<std::string, std::string>> &headers = {});

class WhepReceiver
{
 public:
  /* @codec: "H264" or "VP8" (what the offer asks for). With @decode false
   * frames are counted after depayloading, without decoding (cheap, for
   * load benchmarks). */
  WhepReceiver(std::string base_url, std::string codec, bool decode = true);
  ~WhepReceiver();

  /* Builds the receiver, creates and POSTs the offer (to /whep, or to /offer
   * as JSON when @json_offer), applies the answer. false + @error on failure. */
  bool start(std::string &error, bool json_offer = false, const std::string &token = "");
  /* H.264 offers say level-asymmetry-allowed=1 (as browsers do) unless cleared before start(). */
  bool level_asymmetry = true;
  /* Offers transport-cc (its RTCP feedback and header extension, as Chromium
   * does), so that rtpsession sends the sender TWCC feedback; set before start(). */
  bool transport_cc = false;
  /* The one address ICE gathers on (a namespace's veth address in benchmarks
   * with shaped links); set before start(). */
  std::string local_address = "127.0.0.1";
  /* Waits until @n frames were decoded; false on timeout. */
  bool wait_frames(guint n, guint timeout_ms);
  guint frames() const { return frames_; }
  /* Time from the POST to the first decoded frame, in ms (-1 if none yet). */
  double first_frame_ms() const;
  /* PATCH the receiver's own candidates as a trickle-ICE fragment; the HTTP status. */
  int trickle();
  /* DELETE the session; the HTTP status. */
  int stop_session();
  /* Asks the sender for a key frame the way a browser does (RTCP PLI). */
  void request_key_frame();
  /* Key frames received so far (counted after depayloading). */
  guint key_frames() const { return key_frames_; }
  /* Tears the receiver down without telling the server (a vanished viewer). */
  void vanish();

  const std::string &location() const { return location_; }
  const std::string &offer() const { return offer_; }
  const std::string &answer() const { return answer_; }
  const HttpResult &post_result() const { return post_; }

 private:
  std::string base_url_;
  std::string codec_;
  bool decode_ = true;
  std::string location_;
  std::string offer_;
  std::string answer_;
  std::string etag_;
  HttpResult post_;
  GstElement *pipeline_ = nullptr;
  GstElement *webrtcbin_ = nullptr;
  std::atomic<guint> frames_{0};
  std::atomic<guint> key_frames_{0};
  GstPad *video_src_ = nullptr; /* webrtcbin's video output pad */
  std::atomic<gint64> post_time_us_{0};
  std::atomic<gint64> first_frame_us_{0};
  std::vector<std::pair<guint, std::string>> candidates_;
  GMutex lock_;

  static void on_pad_added(GstElement *webrtc, GstPad *pad, WhepReceiver *self);
  static void on_ice_candidate(GstElement *webrtc, guint mline, gchar *candidate,
                               WhepReceiver *self);
  static void on_handoff(GstElement *, GstBuffer *, GstPad *, WhepReceiver *self);
};
