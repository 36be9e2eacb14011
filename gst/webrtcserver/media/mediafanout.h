/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The shared half of webrtcserversink: what comes in is encoded once and
 * fanned out to every consumer (ARCHITECTURE.md, "Media").
 *
 *   video_0 → input-tee → end-sink (prerolls, paces at each frame's time,
 *                                    posts EOS: files play at their speed)
 *                       → valve → queue → [videoconvert → encoder → caps]
 *                         → [h264parse] → tee → one branch per viewer
 *                       → (a ladder, raw input only: rungs 1 and 2, each
 *                          built when its first viewer comes)
 *                       → (raw input in another codec than VP8: a VP8
 *                          ladder of the same rungs, each built when its
 *                          first viewer whose offer has no other codec comes)
 *                         valve → queue → [videorate → caps] → videoscale
 *                         → caps → videoconvert → encoder → [caps]
 *                         → [h264parse] → tee-r<N> / vp8-tee[-r<N>]
 *                         → the viewers' rung switches
 *   audio_0 → audio-input-tee → audio-end-sink
 *                             → valve → queue → [convert → resample → opusenc]
 *                               → audio-tee → one branch per viewer
 *
 * The valves drop while nobody watches: no encoding work without a viewer;
 * a rung's valve while no viewer is on that rung (ladder.h).
 * Key frame requests from viewers (PLI/FIR) reach the one encoder through
 * the tee and are rate-limited there; our own (a viewer joined) pass.
 * Everything here lives in the element's bin; the class is only its owner.
 */
#pragma once

#include <gst/gst.h>

#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gstrefptr.h"
#include "ladder.h"
#include "sdpoffer.h"

namespace livecast
{

struct FanoutSettings {
  VideoCodec codec = VideoCodec::H264; /* what raw video is encoded to */
  guint bitrate_kbps = 2000;
  guint key_int_max = 60;
  guint audio_bitrate_kbps = 64;
  bool sync = true;             /* the end sinks wait for each buffer's time */
  Ladder ladder = Ladder::None; /* rungs for raw input (ladder.h) */
};

/* At most this many rungs (ladder.h) in each codec. */
constexpr guint kMaxRungs = 3;

/* What the stream sends, once its first caps arrived. */
struct FanoutState {
  bool started = false; /* the first video caps arrived: the chain exists */
  bool encodes = false; /* raw input, encoded here */
  SentVideo video;      /* codec and H.264 profile */
  int width = 0, height = 0;
  bool audio = false; /* audio_0 was requested */
  /* The ladder: rung 0 is what the tee sends; one rung without a ladder.
   * The VP8 ladder (video.vp8_on_demand) has the same rungs. */
  std::vector<RungSpec> rungs;
};

struct RungRate {
  double fps = 0;
  double bitrate_bps = 0;
  bool encoding = false; /* its valve is open */
};

/* Encoder output over the last interval, and in total. */
struct FanoutRates {
  double fps = 0;
  double bitrate_bps = 0;
  guint64 frames = 0;
  std::vector<RungRate> rungs;     /* per rung, rung 0 first */
  std::vector<RungRate> vp8_rungs; /* the VP8 ladder's, when it may be built */
};

class MediaFanout
{
 public:
  /* Builds the input tee, end sink and viewers' tee inside @bin (the
   * element), whose GST_ELEMENT_ERRORs this posts. */
  explicit MediaFanout(GstBin *bin);
  ~MediaFanout();
  MediaFanout(const MediaFanout &) = delete;
  MediaFanout &operator=(const MediaFanout &) = delete;

  /* false when the core elements (tee, fakesink) are missing. */
  bool usable() const { return rungs_[0].tee != nullptr; }

  /* Taken when the chain is built (the first caps); bitrate and sync also later. */
  void set_settings(const FanoutSettings &settings);
  void set_bitrate(guint kbps);
  void set_sync(bool sync);

  /* The element's request pads: a ghost pad to add to the element, or null
   * (one of each only). @on_eos is called from the streaming thread when the
   * video input ends. */
  GstPad *add_video_input(GstPadTemplate *templ, std::function<void()> on_eos);
  GstPad *add_audio_input(GstPadTemplate *templ);
  /* Forgets @pad if it is one of ours; false otherwise. */
  bool release_input(GstPad *pad);

  FanoutState state() const;

  /* A request pad on the video tee of rung @rung in the stream's own codec,
   * or in @codec (the stream's own, or VP8 on demand), or on the audio tee
   * for a consumer (null when there is no such tee), and its release. */
  Ref<GstPad> request_video_pad(guint rung = 0);
  Ref<GstPad> request_video_pad(guint rung, VideoCodec codec);
  Ref<GstPad> request_audio_pad();
  static void release_tee_pad(const Ref<GstPad> &pad);

  /* Opens the valve of each rung @video_rungs marks (rung 0 first), of each
   * VP8 rung @vp8_rungs marks, and the audio valve while @audio; closes
   * them when the last consumer leaves. A rung's chain is built the first
   * time it is opened. Thread-safe. */
  void set_consumers(const std::vector<bool> &video_rungs, const std::vector<bool> &vp8_rungs,
                     bool audio);

  /* Asks the encoder of rung @rung (-1: every open rung of both codecs;
   * ours, or upstream's for encoded input) for a key frame now, past the
   * viewers' rate limit. Thread-safe. */
  void request_key_unit(const char *why, gint rung = -1);

  /* Recomputes the rates over the time since the last call. */
  FanoutRates update_rates();
  FanoutRates rates() const;

 private:
  static gboolean video_event(GstPad *pad, GstObject *parent, GstEvent *event);
  static gboolean video_query(GstPad *pad, GstObject *parent, GstQuery *query);
  static gboolean audio_event(GstPad *pad, GstObject *parent, GstEvent *event);
  static GstPadProbeReturn on_viewer_key_unit(GstPad *, GstPadProbeInfo *info, gpointer rung);
  static GstPadProbeReturn on_tee_input(GstPad *, GstPadProbeInfo *info, gpointer rung);

  /* One rung's part of the fanout: its tee, valve and encoder (rung 0's
   * are the stream's own), its key frame rate limit and its counters.
   * Slots 0..kMaxRungs-1 are the stream's codec, the next ones VP8. */
  struct Rung {
    MediaFanout *fanout = nullptr;
    guint index = 0; /* on its ladder */
    bool vp8 = false;
    GstElement *tee = nullptr, *valve = nullptr, *encoder = nullptr;
    bool failed = false; /* its chain could not be built: never tried again */
    std::atomic<gint64> last_key_unit_us{0};
    std::atomic<guint64> bytes{0}, frames{0};
    guint64 last_bytes = 0, last_frames = 0;
    RungRate rate;
  };

  bool build_video_chain(const GstCaps *caps);
  bool add_rung_tee(Rung &rung, const std::string &name);
  bool build_rung(guint slot);
  gint slot_of(guint rung, VideoCodec codec) const;
  bool build_audio_chain(const GstCaps *caps);
  void watch_tee(Rung &rung);

  GstBin *bin_; /* the element; owns every element below */
  mutable std::mutex lock_;
  FanoutSettings settings_;
  std::function<void()> on_eos_;

  GstPad *video_pad_ = nullptr; /* ghost pads, owned by the element */
  GstPad *audio_pad_ = nullptr;
  GstElement *input_tee_ = nullptr, *end_sink_ = nullptr;
  /* rung 0: the stream's own tee and encoder; then the VP8 ladder */
  std::array<Rung, 2 * kMaxRungs> rungs_;
  GstStructure *input_caps_ = nullptr; /* the raw input's first caps, for the rungs */
  GstElement *audio_input_tee_ = nullptr, *audio_end_sink_ = nullptr, *audio_tee_ = nullptr;
  GstElement *audio_valve_ = nullptr;
  std::vector<bool> video_consumers_; /* per slot */
  bool audio_consumers_ = false;
  FanoutState state_;

  enum class H264Form { None, ByteStream, Avc };
  std::atomic<H264Form> h264_form_{H264Form::None};
  gint64 last_rate_us_ = 0;
  FanoutRates rates_;
};

}  // namespace livecast
