/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One RealSense camera (or one recording), shared by every realsensesrc
 * that names it, the way decklink and aja elements share a card: colour,
 * depth and infrared of one camera come from one librealsense2 pipeline.
 *
 * Each element is a member. It joins when it starts, tells the device the
 * stream it negotiated (configure), and takes frames (next_frame). The
 * device starts streaming once every member has configured its stream (or
 * after a short grace period, for a member that never does), with all their
 * streams in one rs2_config, and restarts when a member asks for a stream
 * the running configuration lacks. One capture thread waits for framesets
 * (rs2_pipeline_try_wait_for_frames with a short timeout, so stopping is
 * immediate), aligns depth to colour when a member asked for it, and hands
 * each member a reference to the newest frame of its stream; a frame number
 * seen before (the pipeline repeats a slower stream's frame in the
 * framesets of a faster one) is skipped.
 */
#pragma once

#include <glib.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rsloader.h"

namespace livecast::rs
{

/* A stream mode the camera (or recording) offers. */
struct Profile {
  rs2_stream stream = RS2_STREAM_ANY;
  int index = 0;
  rs2_format format = RS2_FORMAT_ANY;
  int width = 0, height = 0, fps = 0;
  bool operator==(const Profile &o) const
  {
    return stream == o.stream && index == o.index && format == o.format && width == o.width &&
           height == o.height && fps == o.fps;
  }
};

/* "colour 640x480 RGB8 at 30 fps" */
std::string describe(const Profile &p);
const char *stream_name(rs2_stream s);
const char *format_name(rs2_format f);

/* Where the frames come from. */
struct Source {
  std::string serial; /* empty: the first camera */
  std::string file;   /* a recording to play instead of a camera */
  bool loop = false;
};

/* What one member streams. */
struct Request {
  Profile profile;             /* as enabled on the camera */
  bool align_to_color = false; /* depth only: delivered in colour's geometry */
  int aligned_width = 0, aligned_height = 0;
};

/* A reference to one librealsense2 frame, released on destruction. */
class FrameRef
{
 public:
  FrameRef() = default;
  FrameRef(const Api *api, rs2_frame *f) : api_(api), frame_(f) {}
  FrameRef(FrameRef &&o) noexcept : api_(o.api_), frame_(o.frame_) { o.frame_ = nullptr; }
  FrameRef &operator=(FrameRef &&o) noexcept
  {
    if (this != &o) {
      reset();
      api_ = o.api_;
      frame_ = o.frame_;
      o.frame_ = nullptr;
    }
    return *this;
  }
  FrameRef(const FrameRef &) = delete;
  FrameRef &operator=(const FrameRef &) = delete;
  ~FrameRef() { reset(); }
  void reset()
  {
    if (frame_)
      api_->rs2_release_frame(frame_);
    frame_ = nullptr;
  }
  rs2_frame *get() const { return frame_; }
  explicit operator bool() const { return frame_ != nullptr; }

 private:
  const Api *api_ = nullptr;
  rs2_frame *frame_ = nullptr;
};

/* A frame handed to a member, with what the capture thread read of it. */
struct Frame {
  FrameRef ref;
  const guint8 *data = nullptr;
  int width = 0, height = 0, stride = 0, bits_per_pixel = 0;
  guint64 number = 0;
  double timestamp_ms = 0;
  rs2_timestamp_domain domain = RS2_TIMESTAMP_DOMAIN_HARDWARE_CLOCK;
  gint64 capture_us = 0; /* g_get_monotonic_time() at capture (estimated) */
  float depth_unit = 0;  /* metres per step; depth only */
};

/* Renegotiate: the member's caps no longer fit (aligned depth, when the
 * colour stream's size changed): negotiate and configure again. */
enum class WaitResult { Frame, Flushing, Error, Eos, Renegotiate };

class Device
{
 public:
  /* The device for @source, shared with every other member of it, opened
   * when it is the first. @error is one sentence for the user. */
  static std::shared_ptr<Device> acquire(const Api *api, const Source &source, std::string &error);
  ~Device();
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  const std::string &serial() const { return serial_; }
  const std::string &name() const { return name_; }
  bool is_playback() const { return !source_.file.empty(); }
  const Source &source() const { return source_; }
  /* Metres per depth step (0 when the device has no depth). */
  float depth_unit() const { return depth_unit_; }
  /* Every stream mode offered (depth, colour and infrared only). */
  const std::vector<Profile> &profiles() const { return profiles_; }
  const Api *api() const { return api_; }

  /* Membership: join() returns the member's id. */
  int join(guint timeout_ms);
  void leave(int id);
  /* Sets the member's stream; fails when it conflicts with another
   * member's (@error says how). A colour stream whose size differs from
   * what aligned depth members configured sends them to renegotiate. */
  bool configure(int id, const Request &request, std::string &error);
  bool is_configured(int id);
  /* The size of the colour stream a member configured, if one did. */
  bool color_geometry(int &width, int &height);
  /* The mode another member configured for @stream/@index, if one did:
   * members sharing a stream share its mode. */
  bool configured_mode(int id, rs2_stream stream, int index, Profile &mode);
  /* How many times a member configured: modes offered before a change may
   * conflict with it, and the member that chose them negotiates again. */
  guint64 configurations();
  /* Waits for the member's next frame; starts streaming first when it is
   * time to. Error: @error says what happened. */
  WaitResult next_frame(int id, Frame &frame, std::string &error);
  /* Makes next_frame() return Flushing at once (and until cleared). */
  void set_flushing(int id, bool flushing);
  /* Frames dropped for the member because it did not take them in time. */
  guint64 dropped(int id);

 private:
  struct Member;
  struct Pipeline;
  class Context;

  Device(const Api *api, const Source &source, std::shared_ptr<Context> context);
  bool open(std::string &error);
  Member *find(int id);
  bool needs_start_locked() const;
  std::string configuration_locked(std::vector<Request> &requests) const;
  void start_streaming(std::unique_lock<std::mutex> &lock);
  void stop_streaming();
  void capture_loop(Pipeline *p);
  void distribute(rs2_frame *frameset, bool aligned, gint64 arrival_us, gint64 real_us);
  bool camera_present();
  void fail(const std::string &message);

  const Api *api_;
  const Source source_;
  std::shared_ptr<Context> context_;
  std::string key_, serial_, name_;
  float depth_unit_ = 0;
  std::vector<Profile> profiles_;

  std::mutex control_lock_; /* start/stop, taken before lock_ */
  std::mutex lock_;         /* everything below */
  std::condition_variable cond_;
  std::vector<std::unique_ptr<Member>> members_;
  int next_id_ = 1;
  guint64 configurations_ = 0;
  std::unique_ptr<Pipeline> pipeline_;
  std::vector<Request> active_; /* what the running pipeline streams */
  bool starting_ = false;
  bool failed_ = false, ended_ = false;
  std::string error_;
  gint64 start_wanted_us_ = 0; /* since when a member has waited for a (re)start */
};

}  // namespace livecast::rs
