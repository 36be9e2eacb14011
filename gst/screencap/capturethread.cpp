/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "capturethread.h"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

GST_DEBUG_CATEGORY_STATIC(capture_thread_debug);
#define GST_CAT_DEFAULT capture_thread_debug

namespace livecast
{

namespace
{

/* One slot's grab: failed grabs tried again this many times this far
 * apart, and new sizes followed this many times, before it is an error. */
constexpr int kMaxGrabFailures = 5;
constexpr auto kGrabRetryDelay = std::chrono::milliseconds(10);
constexpr int kMaxResizesPerFrame = 20;

}  // namespace

bool CaptureThread::start(ScreenCapture *capture, GstClock *clock, GstClockTime base_time,
                          GstClockTime duration, guint64 first_slot, std::string &error)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(capture_thread_debug, "screencapthread", 0,
                            "screencapsrc's capture thread");
    g_once_init_leave(&once, 1);
  }
  stop();
  capture_ = capture;
  clock_ = GST_CLOCK(gst_object_ref(clock));
  base_time_ = base_time;
  duration_ = duration;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stopping_ = false;
  }
  try {
    thread_ = std::thread(&CaptureThread::run, this, first_slot);
  } catch (const std::system_error &e) {
    error = std::string("could not start the capture thread: ") + e.what();
    std::lock_guard<std::mutex> guard(lock_);
    stopping_ = true;
    return false;
  }
  GST_DEBUG_OBJECT(owner_, "capturing every %" GST_TIME_FORMAT " from slot %" G_GUINT64_FORMAT,
                   GST_TIME_ARGS(duration), first_slot);
  return true;
}

void CaptureThread::stop()
{
  {
    std::lock_guard<std::mutex> guard(lock_);
    stopping_ = true;
    if (clock_id_)
      gst_clock_id_unschedule(clock_id_);
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    /* A backend's grab may be waiting for the system's first frame. */
    capture_->unlock();
    thread_.join();
    capture_->unlock_stop();
  }
  clear_queue();
  if (clock_)
    gst_object_unref(std::exchange(clock_, nullptr));
}

bool CaptureThread::runs_with(GstClock *clock, GstClockTime base_time, GstClockTime duration)
{
  std::lock_guard<std::mutex> guard(lock_);
  return !stopping_ && clock == clock_ && base_time == base_time_ && duration == duration_;
}

void CaptureThread::set_latency(GstClockTime latency)
{
  std::lock_guard<std::mutex> guard(lock_);
  latency_ = latency;
}

bool CaptureThread::pop(CapturedFrame &frame)
{
  std::unique_lock<std::mutex> guard(lock_);
  changed_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
  if (stopping_)
    return false;
  frame = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

bool CaptureThread::push(CapturedFrame &&frame)
{
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (stopping_)
      return false;
    /* Frames the sink holds back for the latency, the one being handed
     * over and the new one; beyond that the oldest is too late anyway. */
    std::size_t limit = 2;
    if (GST_CLOCK_TIME_IS_VALID(latency_) && duration_ > 0)
      limit += (latency_ + duration_ - 1) / duration_;
    limit = std::min(limit, kMaxQueued);
    while (queue_.size() >= limit) {
      GST_LOG_OBJECT(
          owner_, "dropping the frame of slot %" G_GUINT64_FORMAT ": downstream has not taken it",
          queue_.front().slot);
      queue_.pop_front();
    }
    queue_.push_back(std::move(frame));
  }
  changed_.notify_all();
  return true;
}

void CaptureThread::clear_queue()
{
  std::lock_guard<std::mutex> guard(lock_);
  queue_.clear();
}

GstClockTime CaptureThread::running_now() const
{
  const GstClockTime now = gst_clock_get_time(clock_);
  return now > base_time_ ? now - base_time_ : 0;
}

/* Waits on the clock until @running_time; false when stopped. */
bool CaptureThread::wait_for(GstClockTime running_time)
{
  GstClockID id = gst_clock_new_single_shot_id(clock_, running_time + base_time_);
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (stopping_) {
      gst_clock_id_unref(id);
      return false;
    }
    clock_id_ = id;
  }
  const GstClockReturn ret = gst_clock_id_wait(id, nullptr);
  {
    std::lock_guard<std::mutex> guard(lock_);
    clock_id_ = nullptr;
  }
  gst_clock_id_unref(id);
  return ret != GST_CLOCK_UNSCHEDULED;
}

/* The pause between two tries of a failed grab; false when stopped. */
bool CaptureThread::pause_briefly()
{
  std::unique_lock<std::mutex> guard(lock_);
  return !changed_.wait_for(guard, kGrabRetryDelay, [this] { return stopping_; });
}

/* Grabs now for @slot, or the later slot now is in when the wake-up came
 * late: the PTS is when the grab began, and lies in the slot's time. */
CapturedFrame CaptureThread::grab(guint64 slot)
{
  CapturedFrame f;
  int failures = 0, resizes = 0;
  for (;;) {
    const GstClockTime now = running_now();
    f.slot = std::max(slot, now / duration_);
    f.pts = std::max(now, f.slot * duration_);
    GstBuffer *buffer = nullptr;
    f.result = capture_->grab(&buffer, f.error);
    f.buffer = Ref<GstBuffer>::adopt(buffer);
    if (f.result == GrabResult::Ok || f.result == GrabResult::Flushing ||
        f.result == GrabResult::Lost)
      break;
    if (f.result == GrabResult::Resized) {
      /* While the screen changes size (xrandr, a monitor plugged in), grabs
       * report new sizes for a moment: follow them, a few times. */
      if (++resizes > kMaxResizesPerFrame) {
        f.result = GrabResult::Error;
        f.error = "the screen size kept changing";
        break;
      }
      continue;
    }
    GST_WARNING_OBJECT(owner_, "grab failed: %s", f.error.c_str());
    if (++failures >= kMaxGrabFailures)
      break;
    if (!pause_briefly()) {
      f.result = GrabResult::Flushing;
      break;
    }
  }
  f.format = capture_->format();
  return f;
}

void CaptureThread::run(guint64 next)
{
  for (;;) {
    /* The next slot, or the one now is in when that one has passed. */
    const GstClockTime now = running_now();
    const guint64 slot = std::max(next, now / duration_);
    if (slot * duration_ > now && !wait_for(slot * duration_))
      return;
    CapturedFrame f = grab(slot);
    if (f.result == GrabResult::Flushing)
      return;
    const bool last = f.result != GrabResult::Ok;
    if (f.slot > slot)
      GST_LOG_OBJECT(owner_, "woke up %" G_GUINT64_FORMAT " slot(s) late", f.slot - slot);
    next = f.slot + 1;
    /* Behind the slots (grabs slower than the rate) it never waits: stop()
     * is seen here. */
    if (!push(std::move(f)) || last) /* the streaming thread posts the error */
      return;
  }
}

}  // namespace livecast
