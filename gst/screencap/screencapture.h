/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The small interface every screen capture backend implements: XShm on
 * X11 (backends/xshm), DXGI Desktop Duplication on Windows (backends/dxgi),
 * ScreenCaptureKit on macOS (backends/sck). The element
 * (gstscreencapsrc.cpp) knows only this; the backend of the platform is
 * chosen at build time and made by create_screen_capture(). Pieces they
 * share (pointer compositing, regions, monitors) are in cursorblend.h,
 * pointershape.h, capturegeometry.h and frameassembler.h.
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>
#include <string>

namespace livecast {

struct CaptureConfig {
  std::string display;   /* X11 display name; "" = $DISPLAY (other platforms ignore it) */
  /* Index as the OS lists monitors; -1: the whole virtual screen on X11,
   * the primary monitor on Windows and macOS (one output at a time there). */
  int monitor = -1;
  /* Region inside the monitor (or screen); width/height 0 = to the edge. */
  int x = 0, y = 0, width = 0, height = 0;
  bool show_cursor = true;
  bool use_damage = true;
};

/* What a backend delivers: size and pixel layout of the captured area. */
struct CaptureFormat {
  int width = 0;
  int height = 0;
  GstVideoFormat format = GST_VIDEO_FORMAT_UNKNOWN; /* BGRx or BGRA */
};

enum class GrabResult {
  Ok,       /* @buffer holds the new frame */
  Resized,  /* the captured area changed size: read format() and renegotiate */
  Lost,     /* the display went away, or capture cannot go on: @error says why */
  Error,    /* anything else (worth another try): @error says what */
  Flushing, /* unlock() interrupted a grab that was waiting */
};

class ScreenCapture {
 public:
  virtual ~ScreenCapture() = default;

  /* Connects to the display and sets up the capture; false + @error on failure. */
  virtual bool open(const CaptureConfig &config, std::string &error) = 0;
  virtual CaptureFormat format() const = 0;
  /* Grabs the current picture into a new buffer (*@buffer, transfer full).
   * Backends hand out buffers whose memory is their own capture memory (for
   * XShm: the shared-memory segment the X server wrote into), never a copy.
   * Called at each frame's slot from the element's capture thread
   * (capturethread.h), and a few times from start(); never two at once,
   * nor with open() or close(). The buffer may stay referenced by the
   * backend (to resend it): the element stamps its own copy. */
  virtual GrabResult grab(GstBuffer **buffer, std::string &error) = 0;
  /* Makes a grab() that waits (DXGI's AcquireNextFrame, ScreenCaptureKit's
   * frame callback) return at once, and lets it wait again. XShm grabs
   * never wait. */
  virtual void unlock() {}
  virtual void unlock_stop() {}
  /* The negotiated frame rate, for backends whose capture is paced by the
   * system (ScreenCaptureKit's minimumFrameInterval). */
  virtual void set_frame_rate(int fps_n, int fps_d) {}
  virtual void close() = 0;
  /* A name for logs: "XShm", "XGetImage", ... */
  virtual const char *name() const = 0;
};

/* The backend this build has, or nullptr when the platform has none. */
std::unique_ptr<ScreenCapture> create_screen_capture(GstObject *owner);

}  // namespace livecast
