/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Screen capture on Windows with DXGI Desktop Duplication, as a plain C++
 * class that writes frames into the caller's memory: no GStreamer, no GLib,
 * and no Windows header here (the COM objects live behind Impl), so that
 * - the core is cross-compiled with mingw-w64 on Linux (tests/cross/dxgi),
 * - dxgicapture.cpp, the thin adapter to screencapture.h, builds anywhere.
 *
 * One IDXGIOutputDuplication on one output. The desktop image is copied to
 * the CPU through a staging texture: whole for the first image, afterwards
 * only the dirty rectangles, with moved rectangles shifted in the retained
 * picture (FrameAssembler); the pointer shape is composited on the CPU.
 * DXGI_ERROR_ACCESS_LOST (desktop switch to UAC or the lock screen, mode
 * change, full-screen application), a removed device and a secure desktop
 * out of reach are recovered from by re-creating the device and the
 * duplication; meanwhile the last picture stands.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capturegeometry.h"

namespace livecast {
namespace dxgi {

struct DuplicatorOptions {
  /* Index of the output in enumeration order (adapters, then their outputs
   * attached to the desktop); -1: the primary monitor. DXGI duplicates one
   * output at a time, so the whole virtual desktop is not offered. */
  int monitor = -1;
  /* Region inside the output; a size of 0 reaches its edge. */
  int x = 0, y = 0, width = 0, height = 0;
  bool show_cursor = true;
  /* Copy only dirty rectangles and shift moved ones (else every desktop
   * update is copied whole). */
  bool use_damage = true;
};

enum class FrameStatus {
  NewFrame,    /* the picture or the pointer changed: compose() the new frame */
  Unchanged,   /* nothing changed, or the desktop is out of reach for now:
                  the previous frame still stands */
  Resized,     /* the captured area changed size (width()/height()): the
                  caller adapts, then asks again */
  Interrupted, /* unlock() ended the wait */
  Error,       /* @error says what; capture cannot go on */
};

enum class LogLevel { Error, Warning, Info, Debug };
using LogFunction = std::function<void(LogLevel, const std::string &)>;

class DesktopDuplicator
{
 public:
  explicit DesktopDuplicator(LogFunction log = nullptr);
  ~DesktopDuplicator();
  DesktopDuplicator(const DesktopDuplicator &) = delete;
  DesktopDuplicator &operator=(const DesktopDuplicator &) = delete;

  /* Every output attached to the desktop, in the order `monitor` counts. */
  static bool list_monitors(std::vector<MonitorInfo> &monitors, std::string &error);

  bool open(const DuplicatorOptions &options, std::string &error);
  /* Size of the captured area; frames are BGRx, 4 bytes per pixel. */
  int width() const;
  int height() const;
  /* The region had to be clamped to the output (for a warning). */
  bool region_clamped() const;
  /* "\\.\DISPLAY1 1920x1080+0+0, capturing 1280x720 at 0,0", for logs. */
  std::string description() const;

  /* Takes in what changed on the desktop, waiting at most @timeout_ms
   * (0: just look) in slices short enough for unlock() to be prompt. */
  FrameStatus next_frame(unsigned timeout_ms, std::string &error);
  /* Writes the current picture, with the pointer when show_cursor, into
   * @dst: height() rows of width() BGRx pixels, @stride bytes apart. */
  void compose(std::uint8_t *dst, int stride) const;

  /* From any thread: makes next_frame() return Interrupted, until
   * unlock_stop(). */
  void unlock();
  void unlock_stop();
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dxgi
}  // namespace livecast
