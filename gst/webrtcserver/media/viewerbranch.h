/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One viewer's branch of webrtcserversink: its elements, how they hang off
 * the shared tees, its microphone (talkback) and its end.
 *
 *   tee ─▶ [sink] queue (small, leaky) ─▶ payloader [─▶ capssetter] ─▶ webrtcbin
 *   with a ladder (ladder.h): tee, tee-r1, tee-r2 ─▶ [sink, sink_1, sink_2]
 *     rung switch (rungswitch.h) ─▶ queue ─▶ payloader …
 *   audio-tee ─▶ [audio_sink] queue ─▶ rtpopuspay ─────────────────────▶ ┘
 *   webrtcbin ─▶ (the viewer's microphone) depay ─▶ opusdec ─▶ … ─▶ tee ─▶ talkback_<id>
 *
 * The branch is a fault domain (faultdomain.h). The payloader is per viewer
 * because each browser picks its own payload type. Its ICE agent gets UPnP
 * off. The branch also watches what the viewer sends (to notice it vanished
 * or came back from an outage) and the certificate it shows in the DTLS
 * handshake (webrtcbin never compares it with the SDP fingerprint).
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eventloop.h"
#include "faultdomain.h"
#include "gstrefptr.h"
#include "rtpextensions.h"
#include "sdpoffer.h"

namespace livecast
{

class MediaFanout;

/* ICE of every viewer: what webrtcbin is told. */
struct IceSettings {
  std::vector<std::string> local_addresses; /* empty: libnice's own discovery */
  std::string stun_server;                  /* stun://host:port, or "" */
  std::vector<std::string> turn_servers;    /* turn(s)://user:pass@host:port */
  bool relay_only = false;                  /* ice-transport-policy=relay */
};

/* What one branch is built from. */
struct BranchSpec {
  VideoCodec codec = VideoCodec::H264; /* what this viewer gets (OfferedVideo::codec) */
  OfferedVideo video;                  /* the payload type and caps to answer with */
  VideoExtensions extensions;          /* the RTP header extensions it carries */
  OfferedAudio audio;
  bool audio_input = false; /* the stream has audio to send */
  guint rungs = 1;          /* rungs of the ladder; 1: none, no rung switch */
  guint start_rung = 0;     /* the rung the viewer starts on */
  bool talkback = false;    /* viewers may send their microphone */
  IceSettings ice;
};

class ViewerBranch
{
 public:
  /* Builds the branch bin, not yet in the element; null and @error when an
   * element is missing. */
  static std::unique_ptr<ViewerBranch> create(const std::string &id, const BranchSpec &spec,
                                              std::string &error);
  ~ViewerBranch();
  ViewerBranch(const ViewerBranch &) = delete;
  ViewerBranch &operator=(const ViewerBranch &) = delete;

  GstElement *webrtcbin() const { return webrtcbin_; }
  const std::shared_ptr<BranchGuard> &guard() const { return guard_; }
  /* Whether the viewer gets the stream's audio (false when it could not be built). */
  bool sends_audio() const { return audio_payloader_ != nullptr; }
  /* The stream's own codec, or VP8 encoded for this viewer (mediafanout.h). */
  VideoCodec codec() const { return spec_.codec; }

  /* Adds the branch to @element, gives webrtcbin a send-only video
   * transceiver with the offer's payload type (and the audio one), and
   * links it to the fanout's tees. */
  bool attach(GstElement *element, MediaFanout &fanout, std::string &error);

  /* The rung the viewer is shown (-1 before its first frame), the one it
   * switches to next (-1: none), and a switch at the target's next key
   * frame (asked for now; on the way down after @hold_us of nothing, see
   * rungswitch.h). Rung 0 and no switch without a ladder. */
  gint rung() const;
  gint pending_rung() const;
  void set_rung(guint rung, gint64 hold_us = 0);
  /* Whether the viewer needs rung @rung encoded (shown or switched to). */
  bool uses_rung(guint rung) const;

  /* Once ICE is up: notes every packet the viewer sends (last_received_us)
   * and asks for a key frame when it is back from an outage. */
  void watch_received(MediaFanout &fanout);
  gint64 last_received_us() const { return last_rx_->load(); }

  /* Checks the viewer's DTLS certificate against the fingerprints in the
   * guard, inside the handshake; a mismatch marks the branch failed and
   * calls @on_mismatch (through @run). Call once the local description is
   * set (the DTLS decoders exist, ICE cannot be up yet). */
  void watch_certificate(const Guarded &run, std::function<void(std::string why)> on_mismatch);
  /* The same check now, when DTLS is up but no decoder was there to watch;
   * false (and @why) when the certificate does not match or is unknown. */
  bool certificate_checked(std::string &why);

  /* Unlinks the branch from the tees between two buffers (the others see no
   * glitch), then, on @loop, removes it and the talkback pad from @element. */
  void detach(EventLoop &loop);

 private:
  ViewerBranch() = default;
  static void on_pad_added(GstElement *webrtcbin, GstPad *pad, gpointer data);
  bool link_audio(MediaFanout &fanout, std::string &error);

  std::string id_;
  BranchSpec spec_;
  GstElement *element_ = nullptr; /* the sink, once attached */
  GstElement *bin_ = nullptr;     /* owned by the element once attached, else by this */
  GstElement *webrtcbin_ = nullptr;
  GstElement *payloader_ = nullptr;       /* what feeds webrtcbin's video pad */
  GstElement *audio_payloader_ = nullptr; /* when the viewer gets audio */
  GstElement *rung_switch_ = nullptr;     /* with a ladder */
  std::vector<Ref<GstPad>> tee_pads_;     /* one per rung */
  Ref<GstPad> audio_tee_pad_;
  std::shared_ptr<BranchGuard> guard_ = std::make_shared<BranchGuard>();
  std::shared_ptr<std::atomic<gint64>> last_rx_ = std::make_shared<std::atomic<gint64>>(0);
  bool attached_ = false;
  bool watching_received_ = false;
  bool watching_certificate_ = false;
};

}  // namespace livecast
