/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * screencapsrc on Windows: the ScreenCapture interface over the GStreamer-
 * free DXGI Desktop Duplication core (dxgiduplicator.h). Frames are
 * composed into buffers from a pool; a still screen sends the previous
 * buffer again at no cost. No Windows header here, so this file also builds
 * on Linux against a scripted core (tests/unit/test_dxgicapture.cpp).
 */
#include "screencapture.h"

#include <exception>

#include "dxgiduplicator.h"

GST_DEBUG_CATEGORY_STATIC(dxgi_debug);
#define GST_CAT_DEFAULT dxgi_debug

namespace livecast {

namespace {

/* The first frame of a duplication may take a moment to arrive; later grabs
 * only look (the element already waits for the frame's slot). The core
 * waits in short slices, so unlock() stays prompt either way. */
constexpr unsigned kFirstFrameTimeoutMs = 500;

GstDebugLevel to_gst_level(dxgi::LogLevel level)
{
  switch (level) {
    case dxgi::LogLevel::Error:
      return GST_LEVEL_ERROR;
    case dxgi::LogLevel::Warning:
      return GST_LEVEL_WARNING;
    case dxgi::LogLevel::Info:
      return GST_LEVEL_INFO;
    default:
      return GST_LEVEL_DEBUG;
  }
}

class DxgiCapture : public ScreenCapture
{
 public:
  explicit DxgiCapture(GstObject *owner)
      : owner_(owner), duplicator_([owner](dxgi::LogLevel level, const std::string &message) {
          GST_CAT_LEVEL_LOG(dxgi_debug, to_gst_level(level), owner, "%s", message.c_str());
        })
  {
  }
  ~DxgiCapture() override { close(); }

  bool open(const CaptureConfig &config, std::string &error) override;
  CaptureFormat format() const override { return format_; }
  GrabResult grab(GstBuffer **buffer, std::string &error) override;
  void unlock() override { duplicator_.unlock(); }
  void unlock_stop() override { duplicator_.unlock_stop(); }
  void close() override;
  const char *name() const override { return "DXGI Desktop Duplication"; }

 private:
  bool start_pool(std::string &error);
  void stop_pool();
  GrabResult grab_frame(GstBuffer **buffer, std::string &error);

  GstObject *owner_;
  dxgi::DesktopDuplicator duplicator_;
  CaptureFormat format_;
  GstBufferPool *pool_ = nullptr;
  GstBuffer *last_ = nullptr; /* the frame a still screen repeats */
};

bool DxgiCapture::open(const CaptureConfig &config, std::string &error)
{
  try {
    if (!config.display.empty())
      GST_WARNING_OBJECT(owner_, "display=\"%s\" names an X11 display; ignored on Windows",
                         config.display.c_str());
    dxgi::DuplicatorOptions options;
    options.monitor = config.monitor;
    options.x = config.x;
    options.y = config.y;
    options.width = config.width;
    options.height = config.height;
    options.show_cursor = config.show_cursor;
    options.use_damage = config.use_damage;
    if (!duplicator_.open(options, error))
      return false;
    format_.width = duplicator_.width();
    format_.height = duplicator_.height();
    /* The desktop image is B8G8R8A8 whose alpha means nothing. */
    format_.format = GST_VIDEO_FORMAT_BGRx;
    if (duplicator_.region_clamped())
      GST_ELEMENT_WARNING(owner_, RESOURCE, SETTINGS,
                          ("The capture region lies partly outside the monitor; capturing %dx%d "
                           "instead.",
                           format_.width, format_.height),
                          (nullptr));
    GST_INFO_OBJECT(owner_, "%s", duplicator_.description().c_str());
    return start_pool(error);
  } catch (const std::exception &e) {
    error = std::string("Could not set up screen capture: ") + e.what();
    return false;
  }
}

bool DxgiCapture::start_pool(std::string &error)
{
  stop_pool();
  pool_ = gst_buffer_pool_new();
  GstStructure *config = gst_buffer_pool_get_config(pool_);
  gst_buffer_pool_config_set_params(config, nullptr,
                                    static_cast<guint>(format_.width) * format_.height * 4, 2, 0);
  if (!gst_buffer_pool_set_config(pool_, config) || !gst_buffer_pool_set_active(pool_, TRUE)) {
    error = "Could not set up a buffer pool for " + std::to_string(format_.width) + "x" +
            std::to_string(format_.height) + " frames";
    gst_clear_object(&pool_);
    return false;
  }
  return true;
}

void DxgiCapture::stop_pool()
{
  gst_clear_buffer(&last_);
  if (pool_) {
    gst_buffer_pool_set_active(pool_, FALSE);
    gst_clear_object(&pool_);
  }
}

GrabResult DxgiCapture::grab(GstBuffer **buffer, std::string &error)
{
  *buffer = nullptr;
  try {
    return grab_frame(buffer, error);
  } catch (const std::exception &e) {
    error = std::string("Screen capture failed: ") + e.what();
    return GrabResult::Error;
  }
}

GrabResult DxgiCapture::grab_frame(GstBuffer **buffer, std::string &error)
{
  const dxgi::FrameStatus status = duplicator_.next_frame(last_ ? 0 : kFirstFrameTimeoutMs, error);
  switch (status) {
    case dxgi::FrameStatus::Interrupted:
      return GrabResult::Flushing;
    case dxgi::FrameStatus::Error:
      return GrabResult::Lost; /* the core only says Error when it cannot go on */
    case dxgi::FrameStatus::Resized:
      format_.width = duplicator_.width();
      format_.height = duplicator_.height();
      GST_INFO_OBJECT(owner_, "%s", duplicator_.description().c_str());
      return start_pool(error) ? GrabResult::Resized : GrabResult::Lost;
    case dxgi::FrameStatus::Unchanged:
      if (last_) {
        *buffer = gst_buffer_copy(last_); /* shares the memory */
        return GrabResult::Ok;
      }
      break; /* no frame yet: send what there is (black until the first image) */
    case dxgi::FrameStatus::NewFrame:
      break;
  }

  GstBuffer *out = nullptr;
  if (gst_buffer_pool_acquire_buffer(pool_, &out, nullptr) != GST_FLOW_OK || !out) {
    error = "Could not get a buffer for the frame";
    return GrabResult::Error;
  }
  GstMapInfo map;
  if (!gst_buffer_map(out, &map, GST_MAP_WRITE)) {
    gst_buffer_unref(out);
    error = "Could not map a frame buffer";
    return GrabResult::Error;
  }
  duplicator_.compose(map.data, format_.width * 4);
  gst_buffer_unmap(out, &map);
  gst_clear_buffer(&last_);
  last_ = gst_buffer_ref(out);
  *buffer = out;
  return GrabResult::Ok;
}

void DxgiCapture::close()
{
  stop_pool();
  duplicator_.close();
}

}  // namespace

std::unique_ptr<ScreenCapture> create_screen_capture(GstObject *owner)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(dxgi_debug, "screencapdxgi", 0, "DXGI screen capture backend");
    g_once_init_leave(&once, 1);
  }
  return std::make_unique<DxgiCapture>(owner);
}

}  // namespace livecast
