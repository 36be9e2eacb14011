/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The thread that grabs screencapsrc's frames, each at the start of its
 * frame slot on the pipeline clock, into a short queue the streaming thread
 * takes them from (gstscreencapsrc.cpp).
 *
 * Why a thread of its own: a sink that syncs holds the streaming thread
 * until a frame's time plus the pipeline latency (its own processing
 * deadline included: 20 ms by default), longer than a frame at 60 frames a
 * second. Grabbing in the streaming thread, the grab could only happen
 * once the sink let go, after the next slot had begun: slots were skipped
 * or grabbed late and stamped early. Here the grab happens at its slot
 * whatever downstream is doing, the way a camera keeps capturing into its
 * driver's buffers.
 */
#pragma once

#include <gst/gst.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "gstrefptr.h"
#include "screencapture.h"

namespace livecast
{

/* One slot's grab, or why there is none. */
struct CapturedFrame {
  GrabResult result = GrabResult::Ok; /* Ok; Lost or Error (tries used up) end the capture */
  Ref<GstBuffer> buffer;              /* with Ok */
  std::string error;
  CaptureFormat format;                   /* of @buffer, as the backend said when grabbing */
  guint64 slot = 0;                       /* running time / frame duration */
  GstClockTime pts = GST_CLOCK_TIME_NONE; /* running time the grab began, inside its slot */
};

class CaptureThread
{
 public:
  /* Frames that may wait for the streaming thread, at most; older ones
   * are dropped first. */
  static constexpr std::size_t kMaxQueued = 32;

  explicit CaptureThread(GstObject *owner) : owner_(owner) {}
  ~CaptureThread() { stop(); }
  CaptureThread(const CaptureThread &) = delete;
  CaptureThread &operator=(const CaptureThread &) = delete;

  /* Grabs from @capture at each slot of @duration on @clock (running time
   * = clock time - @base_time), from slot @first_slot on. False and @error
   * when the thread cannot be made. */
  bool start(ScreenCapture *capture, GstClock *clock, GstClockTime base_time, GstClockTime duration,
             guint64 first_slot, std::string &error);
  /* Interrupts a wait or a waiting grab, joins the thread, drops what is
   * queued; pop() returns false until the next start(). */
  void stop();
  /* Whether it grabs with these settings (any false: start again). */
  bool runs_with(GstClock *clock, GstClockTime base_time, GstClockTime duration);
  /* Queue length for a pipeline latency: a syncing sink holds each frame
   * until its time plus @latency, while the next ones are grabbed. */
  void set_latency(GstClockTime latency);
  /* The next frame, waiting for it; false once stopped. */
  bool pop(CapturedFrame &frame);

 private:
  void run(guint64 first_slot);
  bool wait_for(GstClockTime running_time);
  bool pause_briefly();
  CapturedFrame grab(guint64 slot);
  GstClockTime running_now() const;
  /* Queues @frame; false once stop() was called. */
  bool push(CapturedFrame &&frame);
  void clear_queue();

  GstObject *owner_;
  ScreenCapture *capture_ = nullptr;
  GstClock *clock_ = nullptr; /* a reference while running */
  GstClockTime base_time_ = 0, duration_ = 0;
  std::thread thread_;

  std::mutex lock_; /* everything below */
  std::condition_variable changed_;
  bool stopping_ = true;
  GstClockID clock_id_ = nullptr;
  GstClockTime latency_ = 0;
  std::deque<CapturedFrame> queue_;
};

}  // namespace livecast
