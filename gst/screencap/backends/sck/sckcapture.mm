/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * screencapsrc on macOS 12.3+: ScreenCaptureKit. One SCStream on one
 * display (`monitor` in SCShareableContent order, -1 the main display),
 * BGRA at the captured region's size in pixels, the pointer drawn by the
 * system (showsCursor), frames paced by minimumFrameInterval from the caps.
 * The SCStreamOutput callback keeps the newest complete frame; grab() copies
 * it into a GstBuffer, or repeats the previous buffer when the screen was
 * still (ScreenCaptureKit sends no new frame then).
 *
 * Objective-C++ with ARC. NOT COMPILED in this project's CI (no macOS SDK
 * there): written against Apple's documentation, kept small; see README.
 * ScreenCaptureKit is weak-linked so that older macOS loads the plugin and
 * gets a clear error instead of a missing-framework failure.
 */
#include "screencapture.h"

#import <CoreGraphics/CoreGraphics.h>
#import <CoreMedia/CoreMedia.h>
#import <CoreVideo/CoreVideo.h>
#import <Foundation/Foundation.h>
#import <ScreenCaptureKit/ScreenCaptureKit.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "capturegeometry.h"

GST_DEBUG_CATEGORY_STATIC(sck_debug);
#define GST_CAT_DEFAULT sck_debug

namespace livecast {
namespace {

constexpr auto kFirstFrameTimeout = std::chrono::milliseconds(1000);
constexpr int64_t kCallTimeoutNs = 5 * static_cast<int64_t>(NSEC_PER_SEC);
/* Few frames in flight: grab() only ever wants the newest. */
constexpr int kQueueDepth = 3;

const char *const kPermissionHelp =
    "Screen recording is not allowed for this application. Allow it in System Settings → "
    "Privacy & Security → Screen Recording (macOS 12: System Preferences → Security & Privacy "
    "→ Privacy → Screen Recording), then start the application again";

/* What the capture callback and grab() share. */
struct FrameSlot {
  std::mutex lock;
  std::condition_variable changed;
  CVPixelBufferRef newest = nullptr; /* retained */
  uint64_t serial = 0;               /* bumped by each complete frame */
  bool stopped = false;
  std::string stop_error;
  bool flushing = false;

  ~FrameSlot()
  {
    if (newest)
      CVPixelBufferRelease(newest);
  }
};

std::string describe(NSError *error)
{
  if (!error)
    return "unknown error";
  return std::string(error.localizedDescription.UTF8String ?: "?") + " (" +
         (error.domain.UTF8String ?: "?") + " " + std::to_string(error.code) + ")";
}

}  // namespace
}  // namespace livecast

API_AVAILABLE(macos(12.3))
@interface LivecastStreamOutput : NSObject <SCStreamOutput, SCStreamDelegate>
- (instancetype)initWithSlot:(std::shared_ptr<livecast::FrameSlot>)slot;
@end

@implementation LivecastStreamOutput {
  std::shared_ptr<livecast::FrameSlot> _slot;
}

- (instancetype)initWithSlot:(std::shared_ptr<livecast::FrameSlot>)slot
{
  if ((self = [super init]))
    _slot = std::move(slot);
  return self;
}

- (void)stream:(SCStream *)stream
    didOutputSampleBuffer:(CMSampleBufferRef)sampleBuffer
                   ofType:(SCStreamOutputType)type
{
  if (type != SCStreamOutputTypeScreen || !CMSampleBufferIsValid(sampleBuffer))
    return;
  /* Only complete frames carry a new picture: Idle means nothing changed,
   * Blank/Suspended/Started/Stopped carry none worth showing. */
  CFArrayRef attachments = CMSampleBufferGetSampleAttachmentsArray(sampleBuffer, false);
  if (!attachments || CFArrayGetCount(attachments) < 1)
    return;
  NSDictionary *info = (__bridge NSDictionary *)CFArrayGetValueAtIndex(attachments, 0);
  NSNumber *status = info[SCStreamFrameInfoStatus];
  if (!status || status.integerValue != SCFrameStatusComplete)
    return;
  CVPixelBufferRef pixels = CMSampleBufferGetImageBuffer(sampleBuffer);
  if (!pixels)
    return;
  CVPixelBufferRetain(pixels);
  CVPixelBufferRef old = nullptr;
  try { /* nothing C++ may escape into ScreenCaptureKit's queue */
    {
      std::lock_guard<std::mutex> guard(_slot->lock);
      old = _slot->newest;
      _slot->newest = pixels;
      _slot->serial++;
    }
    _slot->changed.notify_all();
  } catch (...) {
    old = pixels;
  }
  if (old)
    CVPixelBufferRelease(old);
}

- (void)stream:(SCStream *)stream didStopWithError:(NSError *)error
{
  try {
    {
      std::lock_guard<std::mutex> guard(_slot->lock);
      _slot->stopped = true;
      _slot->stop_error = "Screen capture stopped: " + livecast::describe(error);
    }
    _slot->changed.notify_all();
  } catch (...) {
  }
}
@end

namespace livecast {
namespace {

class SckCapture : public ScreenCapture {
 public:
  explicit SckCapture(GstObject *owner) : owner_(owner) {}
  ~SckCapture() override { close(); }

  bool open(const CaptureConfig &config, std::string &error) override;
  CaptureFormat format() const override { return format_; }
  GrabResult grab(GstBuffer **buffer, std::string &error) override;
  void set_frame_rate(int fps_n, int fps_d) override;
  void unlock() override;
  void unlock_stop() override;
  void close() override;
  const char *name() const override { return "ScreenCaptureKit"; }

 private:
  bool start_stream(const CaptureConfig &config, std::string &error) API_AVAILABLE(macos(12.3));

  GstObject *owner_;
  CaptureFormat format_;
  std::shared_ptr<FrameSlot> slot_ = std::make_shared<FrameSlot>();
  uint64_t taken_ = 0;        /* serial of the frame in last_ */
  GstBuffer *last_ = nullptr; /* what a still screen repeats */
  id stream_ = nil;           /* SCStream */
  id output_ = nil;           /* LivecastStreamOutput */
  id configuration_ = nil;    /* SCStreamConfiguration */
  dispatch_queue_t queue_ = nullptr;
};

bool SckCapture::open(const CaptureConfig &config, std::string &error)
{
  if (@available(macOS 12.3, *)) {
    @try {
      return start_stream(config, error);
    } @catch (NSException *e) {
      error = std::string("ScreenCaptureKit failed: ") + (e.reason.UTF8String ?: "?");
      close();
      return false;
    }
  }
  NSOperatingSystemVersion v = [NSProcessInfo processInfo].operatingSystemVersion;
  error = "screencapsrc needs macOS 12.3 or later (ScreenCaptureKit); this is macOS " +
          std::to_string(v.majorVersion) + "." + std::to_string(v.minorVersion);
  return false;
}

bool SckCapture::start_stream(const CaptureConfig &config, std::string &error)
{
  /* Without the permission, ScreenCaptureKit returns no displays or fails
   * to start: say where to grant it. Asking once puts the application in
   * the list there. */
  if (!CGPreflightScreenCaptureAccess()) {
    CGRequestScreenCaptureAccess();
    error = kPermissionHelp;
    return false;
  }
  if (!config.display.empty())
    GST_WARNING_OBJECT(owner_, "display=\"%s\" names an X11 display; ignored on macOS",
                       config.display.c_str());

  __block SCShareableContent *content = nil;
  __block NSError *content_error = nil;
  dispatch_semaphore_t done = dispatch_semaphore_create(0);
  [SCShareableContent
      getShareableContentExcludingDesktopWindows:NO
                             onScreenWindowsOnly:YES
                               completionHandler:^(SCShareableContent *c, NSError *e) {
                                 content = c;
                                 content_error = e;
                                 dispatch_semaphore_signal(done);
                               }];
  if (dispatch_semaphore_wait(done, dispatch_time(DISPATCH_TIME_NOW, kCallTimeoutNs)) != 0) {
    error = "ScreenCaptureKit did not list the displays within 5 s";
    return false;
  }
  if (!content) {
    error = content_error.code == SCStreamErrorUserDeclined
                ? std::string(kPermissionHelp)
                : "Could not list the displays: " + describe(content_error);
    return false;
  }

  /* Monitors in ScreenCaptureKit's order, sized in pixels. */
  std::vector<MonitorInfo> monitors;
  std::vector<double> scales;
  for (SCDisplay *d in content.displays) {
    size_t pixel_width = static_cast<size_t>(d.width), pixel_height = static_cast<size_t>(d.height);
    if (CGDisplayModeRef mode = CGDisplayCopyDisplayMode(d.displayID)) {
      pixel_width = CGDisplayModeGetPixelWidth(mode);
      pixel_height = CGDisplayModeGetPixelHeight(mode);
      CGDisplayModeRelease(mode);
    }
    MonitorInfo m;
    m.name = "display " + std::to_string(d.displayID);
    const double scale = d.width > 0 ? static_cast<double>(pixel_width) / d.width : 1.0;
    m.bounds = Rect{static_cast<int>(d.frame.origin.x * scale),
                    static_cast<int>(d.frame.origin.y * scale), static_cast<int>(pixel_width),
                    static_cast<int>(pixel_height)};
    m.primary = d.displayID == CGMainDisplayID();
    monitors.push_back(m);
    scales.push_back(scale);
  }
  GST_DEBUG_OBJECT(owner_, "displays: %s", describe_monitors(monitors).c_str());
  const int index = select_monitor(monitors, config.monitor, error);
  if (index < 0)
    return false;
  SCDisplay *display = content.displays[static_cast<NSUInteger>(index)];
  const MonitorInfo &monitor = monitors[static_cast<size_t>(index)];
  const double scale = scales[static_cast<size_t>(index)];

  Rect area;
  bool clamped = false;
  if (!resolve_region(monitor.bounds.width, monitor.bounds.height, config.x, config.y,
                      config.width, config.height, area, clamped, error))
    return false;
  if (clamped)
    GST_ELEMENT_WARNING(owner_, RESOURCE, SETTINGS,
                        ("The capture region lies partly outside the %dx%d monitor; capturing "
                         "%dx%d at %d,%d instead.",
                         monitor.bounds.width, monitor.bounds.height, area.width, area.height,
                         area.x, area.y),
                        (nullptr));

  SCContentFilter *filter = [[SCContentFilter alloc] initWithDisplay:display excludingWindows:@[]];
  SCStreamConfiguration *sc = [[SCStreamConfiguration alloc] init];
  sc.width = static_cast<size_t>(area.width);
  sc.height = static_cast<size_t>(area.height);
  /* sourceRect is in points, the output size in pixels. */
  sc.sourceRect = CGRectMake(area.x / scale, area.y / scale, area.width / scale,
                             area.height / scale);
  sc.pixelFormat = kCVPixelFormatType_32BGRA;
  sc.showsCursor = config.show_cursor ? YES : NO;
  sc.queueDepth = kQueueDepth;
  sc.minimumFrameInterval = CMTimeMake(1, 30); /* until the caps say otherwise */
  configuration_ = sc;

  LivecastStreamOutput *output = [[LivecastStreamOutput alloc] initWithSlot:slot_];
  SCStream *stream = [[SCStream alloc] initWithFilter:filter configuration:sc delegate:output];
  queue_ = dispatch_queue_create("livecast.screencapsrc", DISPATCH_QUEUE_SERIAL);
  NSError *add_error = nil;
  if (![stream addStreamOutput:output
                          type:SCStreamOutputTypeScreen
            sampleHandlerQueue:queue_
                         error:&add_error]) {
    error = "Could not receive the screen's frames: " + describe(add_error);
    return false;
  }
  __block NSError *start_error = nil;
  [stream startCaptureWithCompletionHandler:^(NSError *e) {
    start_error = e;
    dispatch_semaphore_signal(done);
  }];
  if (dispatch_semaphore_wait(done, dispatch_time(DISPATCH_TIME_NOW, kCallTimeoutNs)) != 0) {
    error = "ScreenCaptureKit did not start capturing within 5 s";
    return false;
  }
  if (start_error) {
    error = start_error.code == SCStreamErrorUserDeclined
                ? std::string(kPermissionHelp)
                : "Could not start capturing " + monitor.name + ": " + describe(start_error);
    return false;
  }
  stream_ = stream;
  output_ = output;
  format_.width = area.width;
  format_.height = area.height;
  format_.format = GST_VIDEO_FORMAT_BGRA;
  GST_INFO_OBJECT(owner_, "capturing %dx%d at %d,%d of %s (scale %.2f)", area.width, area.height,
                  area.x, area.y, monitor.name.c_str(), scale);
  return true;
}

void SckCapture::set_frame_rate(int fps_n, int fps_d)
{
  if (@available(macOS 12.3, *)) {
    SCStreamConfiguration *sc = configuration_;
    SCStream *stream = stream_;
    if (!sc || !stream || fps_n <= 0 || fps_d <= 0)
      return;
    sc.minimumFrameInterval = CMTimeMake(fps_d, fps_n);
    /* No element pointer in the block: it may run after the element is gone. */
    [stream updateConfiguration:sc
              completionHandler:^(NSError *e) {
                if (e)
                  GST_WARNING("could not set the frame interval: %s", describe(e).c_str());
              }];
  }
}

GrabResult SckCapture::grab(GstBuffer **buffer, std::string &error)
{
  *buffer = nullptr;
  CVPixelBufferRef pixels = nullptr;
  {
    std::unique_lock<std::mutex> guard(slot_->lock);
    /* The first frame may take a moment; later grabs only look (the element
     * already waited for the frame's slot). */
    if (!last_)
      slot_->changed.wait_for(guard, kFirstFrameTimeout, [this] {
        return slot_->serial != taken_ || slot_->stopped || slot_->flushing;
      });
    if (slot_->flushing)
      return GrabResult::Flushing;
    if (slot_->stopped) {
      error = slot_->stop_error;
      return GrabResult::Lost;
    }
    if (slot_->serial != taken_ && slot_->newest) {
      pixels = slot_->newest;
      CVPixelBufferRetain(pixels);
      taken_ = slot_->serial;
    }
  }
  if (!pixels && last_) {
    *buffer = gst_buffer_copy(last_); /* still screen: same memory, new timestamps */
    return GrabResult::Ok;
  }

  const gsize size = static_cast<gsize>(format_.width) * format_.height * 4;
  GstBuffer *out = gst_buffer_new_allocate(nullptr, size, nullptr);
  GstMapInfo map;
  if (!out || !gst_buffer_map(out, &map, GST_MAP_WRITE)) {
    if (out)
      gst_buffer_unref(out);
    if (pixels)
      CVPixelBufferRelease(pixels);
    error = "Could not allocate a frame";
    return GrabResult::Error;
  }
  std::memset(map.data, 0, size); /* black where the frame has no pixels */
  if (pixels) {
    CVPixelBufferLockBaseAddress(pixels, kCVPixelBufferLock_ReadOnly);
    const auto *base = static_cast<const guint8 *>(CVPixelBufferGetBaseAddress(pixels));
    const size_t src_stride = CVPixelBufferGetBytesPerRow(pixels);
    const int rows = std::min(format_.height, static_cast<int>(CVPixelBufferGetHeight(pixels)));
    const size_t row_bytes = static_cast<size_t>(
        std::min(format_.width, static_cast<int>(CVPixelBufferGetWidth(pixels))) * 4);
    for (int y = 0; base && y < rows; y++)
      std::memcpy(map.data + static_cast<size_t>(y) * format_.width * 4, base + y * src_stride,
                  row_bytes);
    CVPixelBufferUnlockBaseAddress(pixels, kCVPixelBufferLock_ReadOnly);
    CVPixelBufferRelease(pixels);
  }
  gst_buffer_unmap(out, &map);
  gst_clear_buffer(&last_);
  last_ = gst_buffer_ref(out);
  *buffer = out;
  return GrabResult::Ok;
}

void SckCapture::unlock()
{
  {
    std::lock_guard<std::mutex> guard(slot_->lock);
    slot_->flushing = true;
  }
  slot_->changed.notify_all();
}

void SckCapture::unlock_stop()
{
  std::lock_guard<std::mutex> guard(slot_->lock);
  slot_->flushing = false;
}

void SckCapture::close()
{
  if (@available(macOS 12.3, *)) {
    SCStream *stream = stream_;
    if (stream) {
      dispatch_semaphore_t done = dispatch_semaphore_create(0);
      [stream stopCaptureWithCompletionHandler:^(NSError *) {
        dispatch_semaphore_signal(done);
      }];
      dispatch_semaphore_wait(done, dispatch_time(DISPATCH_TIME_NOW, kCallTimeoutNs));
      if (output_)
        [stream removeStreamOutput:output_ type:SCStreamOutputTypeScreen error:nil];
    }
  }
  stream_ = nil;
  output_ = nil;
  configuration_ = nil;
  queue_ = nullptr;
  gst_clear_buffer(&last_);
}

}  // namespace

std::unique_ptr<ScreenCapture> create_screen_capture(GstObject *owner)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(sck_debug, "screencapsck", 0, "ScreenCaptureKit screen capture backend");
    g_once_init_leave(&once, 1);
  }
  return std::make_unique<SckCapture>(owner);
}

}  // namespace livecast
