/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * X11 screen capture: XShmGetImage straight into shared-memory segments that
 * become the GstBuffers' memory (no copy per frame), XDamage to skip unchanged
 * frames, XFixes for the cursor image, XRandR for monitors and size changes.
 * Falls back to XGetImage (one copy) where MIT-SHM is unavailable, as on a
 * remote display.
 */
#include "screencapture.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <map>
#include <utility>
#include <vector>

#include "capturegeometry.h"
#include "cursorblend.h"

GST_DEBUG_CATEGORY_STATIC(xshm_debug);
#define GST_CAT_DEFAULT xshm_debug

namespace livecast {

namespace {

/* Grabs remembered for partial refreshes; an older segment is grabbed whole. */
constexpr std::size_t kHistoryLength = 16;

/* One shared-memory segment with the XImage the server writes into. */
struct Segment {
  XShmSegmentInfo info = {};
  XImage *image = nullptr;
  gsize size = 0;
  int width = 0, height = 0;
  /* Number of the grab that last filled it (0: never), and where the cursor
   * was drawn into it: what a partial refresh must redo. */
  guint64 filled = 0;
  XRectangle cursor = {0, 0, 0, 0};
};

/* Segments shared between the capture thread and the buffers downstream. A
 * buffer's memory gives its segment back here when the buffer is freed, from
 * whatever thread; only the capture thread talks to the X server. */
struct SegmentPool {
  std::mutex lock;
  std::vector<Segment *> free;   /* ready for the next grab */
  std::vector<Segment *> retired; /* of an old size, detach in the capture thread */
  int width = 0, height = 0;     /* size of current segments */
  bool closed = false;           /* the display is gone: just release memory */
};

void release_memory_only(Segment *seg)
{
  if (seg->image) {
    seg->image->data = nullptr; /* the data is the segment, not malloc'ed */
    XDestroyImage(seg->image);
  }
  if (seg->info.shmaddr && seg->info.shmaddr != reinterpret_cast<char *>(-1))
    shmdt(seg->info.shmaddr);
  delete seg;
}

struct SegmentHandle {
  std::shared_ptr<SegmentPool> pool;
  Segment *seg;
};

void return_segment(gpointer data)
{
  auto *handle = static_cast<SegmentHandle *>(data);
  {
    std::lock_guard<std::mutex> guard(handle->pool->lock);
    if (handle->pool->closed)
      release_memory_only(handle->seg);
    else if (handle->seg->width == handle->pool->width &&
             handle->seg->height == handle->pool->height)
      handle->pool->free.push_back(handle->seg);
    else
      handle->pool->retired.push_back(handle->seg);
  }
  delete handle;
}

class XShmCapture : public ScreenCapture {
 public:
  explicit XShmCapture(GstObject *owner) : owner_(owner) {}
  ~XShmCapture() override { close(); }

  bool open(const CaptureConfig &config, std::string &error) override;
  CaptureFormat format() const override { return format_; }
  GrabResult grab(GstBuffer **buffer, std::string &error) override;
  void close() override;
  const char *name() const override { return use_shm_ ? "XShm" : "XGetImage"; }

 private:
  bool compute_area(std::string &error);
  void process_events();
  void drain_retired();
  Segment *get_segment(std::string &error);
  void destroy_segment(Segment *seg);
  bool composite_cursor(guint8 *data, int stride, XRectangle *drawn);
  Segment *create_shm_segment(int width, int height);
  std::vector<XRectangle> fetch_damage();
  bool refresh_rects(Segment *seg, const std::vector<XRectangle> &rects);
  static void on_io_error_exit(Display *, void *data);

  GstObject *owner_;
  CaptureConfig config_;
  std::string display_name_;
  Display *display_ = nullptr;
  Window root_ = 0;
  bool lost_ = false;
  bool use_shm_ = false;
  bool have_damage_ = false, have_fixes_ = false, have_randr_ = false;
  int damage_event_ = 0, randr_event_ = 0, fixes_event_ = 0;
  Damage damage_ = 0;
  bool dirty_ = true;
  bool geometry_changed_ = false;
  /* Captured area in root-window coordinates. */
  int area_x_ = 0, area_y_ = 0;
  CaptureFormat format_;
  std::shared_ptr<SegmentPool> pool_;
  GstBuffer *last_ = nullptr;
  /* Partial grabs: the damaged rectangles (frame coordinates) of the last
   * grabs, by grab number, and a scratch segment they are grabbed into. */
  XserverRegion damage_region_ = 0;
  guint64 grab_count_ = 0;
  std::deque<std::pair<guint64, std::vector<XRectangle>>> history_;
  Segment *scratch_ = nullptr;
  unsigned long last_cursor_serial_ = 0;
  int last_cursor_x_ = -1, last_cursor_y_ = -1;
};

void XShmCapture::on_io_error_exit(Display *, void *data)
{
  /* Xlib would exit() the process; mark the display lost and return instead. */
  static_cast<XShmCapture *>(data)->lost_ = true;
}

/* Xlib's error handlers are process-wide, and its defaults exit(): the I/O
 * one before the per-display exit handler runs, the protocol one on any
 * error, such as the BadMatch XShmGetImage gets when the screen shrank under
 * it. Ours count errors on our own displays (the request that caused them
 * then fails and is retried) and hand every other display to the handlers
 * that were there before, as the embedding application expects. */
std::mutex x_handler_lock;
std::map<Display *, unsigned long> our_displays; /* display -> X errors seen */
XIOErrorHandler previous_io_error_handler = nullptr;
XErrorHandler previous_error_handler = nullptr;
bool handlers_installed = false;

int io_error_handler(Display *display)
{
  {
    std::lock_guard<std::mutex> guard(x_handler_lock);
    if (our_displays.count(display))
      return 0;
  }
  return previous_io_error_handler ? previous_io_error_handler(display) : 0;
}

int error_handler(Display *display, XErrorEvent *event)
{
  {
    std::lock_guard<std::mutex> guard(x_handler_lock);
    auto it = our_displays.find(display);
    if (it != our_displays.end()) {
      it->second++;
      GST_DEBUG("X error %d on request %d.%d ignored", event->error_code, event->request_code,
                event->minor_code);
      return 0;
    }
  }
  return previous_error_handler ? previous_error_handler(display, event) : 0;
}

void install_error_handlers(Display *display)
{
  std::lock_guard<std::mutex> guard(x_handler_lock);
  if (!handlers_installed) {
    handlers_installed = true;
    previous_io_error_handler = XSetIOErrorHandler(io_error_handler);
    previous_error_handler = XSetErrorHandler(error_handler);
  }
  our_displays[display] = 0;
}

void forget_display(Display *display)
{
  std::lock_guard<std::mutex> guard(x_handler_lock);
  our_displays.erase(display);
}

unsigned long x_errors(Display *display)
{
  std::lock_guard<std::mutex> guard(x_handler_lock);
  auto it = our_displays.find(display);
  return it == our_displays.end() ? 0 : it->second;
}

bool XShmCapture::open(const CaptureConfig &config, std::string &error)
{
  config_ = config;
  const char *requested = config.display.empty() ? nullptr : config.display.c_str();
  display_name_ = XDisplayName(requested);
  display_ = XOpenDisplay(requested);
  if (!display_) {
    error = "Could not open X display \"" + display_name_ + "\"";
    if (display_name_.empty())
      error += " ($DISPLAY is not set; set display=:0 or similar)";
    return false;
  }
  install_error_handlers(display_);
  XSetIOErrorExitHandler(display_, on_io_error_exit, this);
  root_ = DefaultRootWindow(display_);

  int major, minor, error_base;
  Bool pixmaps;
  use_shm_ = XShmQueryVersion(display_, &major, &minor, &pixmaps);
  have_damage_ = XDamageQueryExtension(display_, &damage_event_, &error_base);
  have_fixes_ = XFixesQueryExtension(display_, &fixes_event_, &error_base);
  have_randr_ = XRRQueryExtension(display_, &randr_event_, &error_base);

  XWindowAttributes attrs;
  XGetWindowAttributes(display_, root_, &attrs);
  if (attrs.depth != 24 && attrs.depth != 32) {
    error = "X display \"" + display_name_ + "\" has depth " + std::to_string(attrs.depth) +
            "; only 24 and 32 bit displays are supported";
    close();
    return false;
  }
  if (have_randr_)
    XRRSelectInput(display_, root_, RRScreenChangeNotifyMask);
  if (config_.use_damage && have_damage_) {
    damage_ = XDamageCreate(display_, root_, XDamageReportNonEmpty);
    if (have_fixes_)
      damage_region_ = XFixesCreateRegion(display_, nullptr, 0);
  }
  /* A new pointer shape on a still screen must show in the next frame too. */
  if (damage_ && have_fixes_ && config_.show_cursor)
    XFixesSelectCursorInput(display_, root_, XFixesDisplayCursorNotifyMask);
  if (!compute_area(error)) {
    close();
    return false;
  }
  pool_ = std::make_shared<SegmentPool>();
  pool_->width = format_.width;
  pool_->height = format_.height;
  GST_INFO_OBJECT(owner_, "capturing %dx%d at %d,%d of %s with %s%s%s", format_.width,
                  format_.height, area_x_, area_y_, display_name_.c_str(), name(),
                  damage_ ? ", XDamage" : "", have_fixes_ ? ", XFixes cursor" : "");
  return true;
}

/* Works out the captured area from the monitor and region settings. */
bool XShmCapture::compute_area(std::string &error)
{
  XWindowAttributes attrs;
  XGetWindowAttributes(display_, root_, &attrs);
  int bx = 0, by = 0, bw = attrs.width, bh = attrs.height;

  if (have_randr_) {
    int n = 0;
    XRRMonitorInfo *monitors = XRRGetMonitors(display_, root_, True, &n);
    for (int i = 0; i < n; i++) {
      char *mname = XGetAtomName(display_, monitors[i].name);
      GST_DEBUG_OBJECT(owner_, "monitor %d: %s %dx%d+%d+%d%s", i, mname ? mname : "?",
                       monitors[i].width, monitors[i].height, monitors[i].x, monitors[i].y,
                       monitors[i].primary ? " (primary)" : "");
      if (mname)
        XFree(mname);
    }
    if (config_.monitor >= 0) {
      if (config_.monitor >= n) {
        error = "X display \"" + display_name_ + "\" has " + std::to_string(n) +
                " monitor(s); monitor " + std::to_string(config_.monitor) + " does not exist";
        if (monitors)
          XRRFreeMonitors(monitors);
        return false;
      }
      bx = monitors[config_.monitor].x;
      by = monitors[config_.monitor].y;
      bw = monitors[config_.monitor].width;
      bh = monitors[config_.monitor].height;
    }
    if (monitors)
      XRRFreeMonitors(monitors);
  } else if (config_.monitor > 0) {
    error = "X display \"" + display_name_ + "\" has no XRandR: only monitor -1 or 0 exists";
    return false;
  }

  /* The region, clamped to what exists (shared with the other backends). */
  Rect region;
  bool clamped = false;
  if (!resolve_region(bw, bh, config_.x, config_.y, config_.width, config_.height, region,
                      clamped, error))
    return false;
  const int x = region.x, y = region.y, w = region.width, h = region.height;
  if (clamped)
    GST_ELEMENT_WARNING(owner_, RESOURCE, SETTINGS,
                        ("The capture region lies partly outside the %dx%d screen area; "
                         "capturing %dx%d at %d,%d instead.",
                         bw, bh, w, h, x, y),
                        (nullptr));
  area_x_ = bx + x;
  area_y_ = by + y;
  format_.width = w;
  format_.height = h;
  format_.format = attrs.depth == 32 ? GST_VIDEO_FORMAT_BGRA : GST_VIDEO_FORMAT_BGRx;
  return true;
}

void XShmCapture::process_events()
{
  /* The round trip makes sure every damage event caused by drawing the server
   * did before now is in our queue: a change is never a frame late. */
  XSync(display_, False);
  while (!lost_ && XPending(display_)) {
    XEvent event;
    XNextEvent(display_, &event);
    if (damage_ && event.type == damage_event_ + XDamageNotify) {
      dirty_ = true;
    } else if (have_fixes_ && event.type == fixes_event_ + XFixesCursorNotify) {
      dirty_ = true;
    } else if (have_randr_ && event.type == randr_event_ + RRScreenChangeNotify) {
      XRRUpdateConfiguration(&event);
      geometry_changed_ = true;
      dirty_ = true;
    }
  }
}

void XShmCapture::destroy_segment(Segment *seg)
{
  if (use_shm_ && seg->info.shmaddr && !lost_)
    XShmDetach(display_, &seg->info);
  release_memory_only(seg);
}

void XShmCapture::drain_retired()
{
  std::vector<Segment *> retired;
  {
    std::lock_guard<std::mutex> guard(pool_->lock);
    retired.swap(pool_->retired);
  }
  for (Segment *seg : retired)
    destroy_segment(seg);
}

Segment *XShmCapture::get_segment(std::string &error)
{
  {
    std::lock_guard<std::mutex> guard(pool_->lock);
    if (!pool_->free.empty()) {
      Segment *seg = pool_->free.back();
      pool_->free.pop_back();
      return seg;
    }
  }
  if (use_shm_) {
    if (Segment *seg = create_shm_segment(format_.width, format_.height))
      return seg;
    /* No shared memory with this server (remote display?): XGetImage from now on. */
    GST_WARNING_OBJECT(owner_, "MIT-SHM unusable on %s, falling back to XGetImage",
                       display_name_.c_str());
    use_shm_ = false;
  }
  auto *seg = new Segment();
  seg->width = format_.width;
  seg->height = format_.height;
  seg->size = static_cast<gsize>(format_.width) * format_.height * 4;
  (void)error;
  return seg;
}

Segment *XShmCapture::create_shm_segment(int width, int height)
{
  auto *seg = new Segment();
  seg->width = width;
  seg->height = height;
  Visual *visual = DefaultVisual(display_, DefaultScreen(display_));
  const int depth = DefaultDepth(display_, DefaultScreen(display_));
  {
    seg->image = XShmCreateImage(display_, visual, depth, ZPixmap, nullptr, &seg->info, width,
                                 height);
    if (seg->image) {
      seg->size = static_cast<gsize>(seg->image->bytes_per_line) * seg->image->height;
      seg->info.shmid = shmget(IPC_PRIVATE, seg->size, IPC_CREAT | 0600);
      if (seg->info.shmid >= 0) {
        seg->info.shmaddr = static_cast<char *>(shmat(seg->info.shmid, nullptr, 0));
        seg->image->data = seg->info.shmaddr;
        seg->info.readOnly = False;
        /* XShmAttach is refused on a remote display. */
        const unsigned long errors_before = x_errors(display_);
        const Bool attached = XShmAttach(display_, &seg->info);
        XSync(display_, False);
        const bool x_error_seen = x_errors(display_) != errors_before;
        /* Marked for removal now: it goes away once both sides detach. */
        shmctl(seg->info.shmid, IPC_RMID, nullptr);
        if (attached && !x_error_seen && seg->info.shmaddr != reinterpret_cast<char *>(-1))
          return seg;
      }
    }
  }
  release_memory_only(seg);
  return nullptr;
}

bool XShmCapture::composite_cursor(guint8 *data, int stride, XRectangle *drawn)
{
  XFixesCursorImage *cursor = XFixesGetCursorImage(display_);
  if (!cursor)
    return false;
  CursorImage image;
  image.width = cursor->width;
  image.height = cursor->height;
  image.x = cursor->x - cursor->xhot - area_x_;
  image.y = cursor->y - cursor->yhot - area_y_;
  /* XFixes hands 32-bit ARGB in unsigned longs (64 bit here). */
  image.argb.resize(static_cast<std::size_t>(cursor->width) * cursor->height);
  for (std::size_t i = 0; i < image.argb.size(); i++)
    image.argb[i] = static_cast<guint32>(cursor->pixels[i]);
  last_cursor_serial_ = cursor->cursor_serial;
  last_cursor_x_ = cursor->x;
  last_cursor_y_ = cursor->y;
  XFree(cursor);
  blend_cursor(data, format_.width, format_.height, stride, image);
  if (drawn) {
    const int x0 = std::max(image.x, 0), y0 = std::max(image.y, 0);
    const int x1 = std::min(image.x + image.width, format_.width);
    const int y1 = std::min(image.y + image.height, format_.height);
    *drawn = x1 > x0 && y1 > y0 ? XRectangle{static_cast<short>(x0), static_cast<short>(y0),
                                             static_cast<unsigned short>(x1 - x0),
                                             static_cast<unsigned short>(y1 - y0)}
                                : XRectangle{0, 0, 0, 0};
  }
  return true;
}

/* The damage since the last call, as rectangles in frame coordinates, and
 * resets it (from now on, new damage marks the next frame dirty). */
std::vector<XRectangle> XShmCapture::fetch_damage()
{
  std::vector<XRectangle> out;
  if (!damage_region_) {
    XDamageSubtract(display_, damage_, None, None);
    return out;
  }
  XDamageSubtract(display_, damage_, None, damage_region_);
  int n = 0;
  XRectangle *rects = XFixesFetchRegion(display_, damage_region_, &n);
  for (int i = 0; i < n; i++) {
    const int x0 = std::max<int>(rects[i].x - area_x_, 0);
    const int y0 = std::max<int>(rects[i].y - area_y_, 0);
    const int x1 = std::min<int>(rects[i].x + rects[i].width - area_x_, format_.width);
    const int y1 = std::min<int>(rects[i].y + rects[i].height - area_y_, format_.height);
    if (x1 > x0 && y1 > y0)
      out.push_back(XRectangle{static_cast<short>(x0), static_cast<short>(y0),
                               static_cast<unsigned short>(x1 - x0),
                               static_cast<unsigned short>(y1 - y0)});
  }
  if (rects)
    XFree(rects);
  return out;
}

/* Brings a reused segment up to date by grabbing only @rects: the server
 * copies each into the scratch segment, and its rows are put in place. */
bool XShmCapture::refresh_rects(Segment *seg, const std::vector<XRectangle> &rects)
{
  if (!scratch_) {
    scratch_ = create_shm_segment(format_.width, format_.height);
    if (!scratch_)
      return false;
  }
  Visual *visual = DefaultVisual(display_, DefaultScreen(display_));
  const int depth = DefaultDepth(display_, DefaultScreen(display_));
  for (const XRectangle &r : rects) {
    XImage *part = XShmCreateImage(display_, visual, depth, ZPixmap, scratch_->info.shmaddr,
                                   &scratch_->info, r.width, r.height);
    if (!part)
      return false;
    const Bool ok = XShmGetImage(display_, root_, part, area_x_ + r.x, area_y_ + r.y, AllPlanes);
    if (ok) {
      const int dst_stride = seg->image->bytes_per_line;
      for (int row = 0; row < r.height; row++)
        std::memcpy(seg->image->data + static_cast<std::size_t>(r.y + row) * dst_stride + r.x * 4,
                    part->data + static_cast<std::size_t>(row) * part->bytes_per_line,
                    static_cast<std::size_t>(r.width) * 4);
    }
    part->data = nullptr; /* the scratch segment's memory, not the image's */
    XDestroyImage(part);
    if (!ok)
      return false;
  }
  return true;
}

GrabResult XShmCapture::grab(GstBuffer **buffer, std::string &error)
{
  *buffer = nullptr;
  if (!display_ || lost_) {
    error = "The X display \"" + display_name_ + "\" went away.";
    return GrabResult::Lost;
  }
  process_events();
  if (lost_) {
    error = "The X display \"" + display_name_ + "\" went away.";
    return GrabResult::Lost;
  }
  if (geometry_changed_) {
    geometry_changed_ = false;
    const CaptureFormat old = format_;
    if (!compute_area(error))
      return GrabResult::Error;
    if (old.width != format_.width || old.height != format_.height) {
      GST_INFO_OBJECT(owner_, "screen size changed: now capturing %dx%d", format_.width,
                      format_.height);
      std::vector<Segment *> stale;
      {
        std::lock_guard<std::mutex> guard(pool_->lock);
        stale.swap(pool_->free);
        pool_->width = format_.width;
        pool_->height = format_.height;
      }
      for (Segment *seg : stale)
        destroy_segment(seg);
      if (scratch_)
        destroy_segment(std::exchange(scratch_, nullptr));
      history_.clear();
      gst_clear_buffer(&last_);
      return GrabResult::Resized;
    }
  }
  drain_retired();

  /* Nothing changed since the last frame: send it again, for free. */
  if (last_ && damage_ && !dirty_) {
    bool cursor_moved = false;
    if (config_.show_cursor && have_fixes_) {
      Window root_ret, child;
      int rx, ry, wx, wy;
      unsigned int mask;
      XQueryPointer(display_, root_, &root_ret, &child, &rx, &ry, &wx, &wy, &mask);
      cursor_moved = rx != last_cursor_x_ || ry != last_cursor_y_;
    }
    if (!cursor_moved) {
      *buffer = gst_buffer_copy(last_); /* shares the memory */
      return GrabResult::Ok;
    }
  }

  Segment *seg = get_segment(error);
  if (!seg)
    return GrabResult::Error;
  /* Which rectangles this segment misses: what changed since it was last
   * filled, plus the cursor drawn into it then. Too much, or a segment
   * older than the history: grab it all. */
  std::vector<XRectangle> stale;
  bool partial = false;
  if (damage_) {
    std::vector<XRectangle> damaged = fetch_damage();
    dirty_ = false;
    history_.emplace_back(++grab_count_, std::move(damaged));
    if (history_.size() > kHistoryLength)
      history_.pop_front();
    if (use_shm_ && damage_region_ && seg->filled > 0 && history_.front().first <= seg->filled + 1) {
      long area = 0;
      for (const auto &entry : history_) {
        if (entry.first <= seg->filled)
          continue;
        for (const XRectangle &r : entry.second) {
          stale.push_back(r);
          area += static_cast<long>(r.width) * r.height;
        }
      }
      if (seg->cursor.width > 0)
        stale.push_back(seg->cursor);
      partial = area * 2 < static_cast<long>(format_.width) * format_.height;
      GST_LOG_OBJECT(owner_, "grab %" G_GUINT64_FORMAT ": %s, %zu rectangle(s), %ld pixels",
                     grab_count_, partial ? "partial" : "full", stale.size(), area);
    }
  }

  guint8 *data = nullptr;
  int stride = format_.width * 4;
  GstBuffer *out = nullptr;
  if (use_shm_) {
    const bool ok = partial ? refresh_rects(seg, stale)
                            : XShmGetImage(display_, root_, seg->image, area_x_, area_y_, AllPlanes);
    seg->filled = grab_count_;
    seg->cursor = XRectangle{0, 0, 0, 0};
    if (!ok || lost_) {
      destroy_segment(seg);
      if (lost_) {
        error = "The X display \"" + display_name_ + "\" went away.";
        return GrabResult::Lost;
      }
      /* The area is (briefly) outside the screen during a size change. */
      geometry_changed_ = true;
      error = "XShmGetImage failed";
      return GrabResult::Error;
    }
    data = reinterpret_cast<guint8 *>(seg->image->data);
    stride = seg->image->bytes_per_line;
    out = gst_buffer_new();
    gst_buffer_append_memory(out, gst_memory_new_wrapped(static_cast<GstMemoryFlags>(0), data,
                                                         seg->size, 0, seg->size,
                                                         new SegmentHandle{pool_, seg},
                                                         return_segment));
  } else {
    XImage *image = XGetImage(display_, root_, area_x_, area_y_, format_.width, format_.height,
                              AllPlanes, ZPixmap);
    release_memory_only(seg);
    if (!image || lost_) {
      if (image)
        XDestroyImage(image);
      error = lost_ ? "The X display \"" + display_name_ + "\" went away." : "XGetImage failed";
      return lost_ ? GrabResult::Lost : GrabResult::Error;
    }
    stride = image->bytes_per_line;
    const gsize size = static_cast<gsize>(stride) * format_.height;
    out = gst_buffer_new_allocate(nullptr, size, nullptr);
    gst_buffer_fill(out, 0, image->data, size);
    XDestroyImage(image);
    GstMapInfo map;
    gst_buffer_map(out, &map, GST_MAP_WRITE);
    data = map.data;
    if (config_.show_cursor && have_fixes_)
      composite_cursor(data, stride, nullptr);
    gst_buffer_unmap(out, &map);
    data = nullptr;
  }
  if (data && config_.show_cursor && have_fixes_)
    composite_cursor(data, stride, &seg->cursor);
  if (stride != format_.width * 4) {
    gsize offset[GST_VIDEO_MAX_PLANES] = {0};
    gint strides[GST_VIDEO_MAX_PLANES] = {stride};
    gst_buffer_add_video_meta_full(out, GST_VIDEO_FRAME_FLAG_NONE, format_.format, format_.width,
                                   format_.height, 1, offset, strides);
  }
  gst_clear_buffer(&last_);
  last_ = gst_buffer_ref(out);
  *buffer = out;
  return GrabResult::Ok;
}

void XShmCapture::close()
{
  gst_clear_buffer(&last_);
  if (scratch_)
    destroy_segment(std::exchange(scratch_, nullptr));
  history_.clear();
  if (pool_) {
    std::vector<Segment *> segments;
    {
      std::lock_guard<std::mutex> guard(pool_->lock);
      segments.swap(pool_->free);
      segments.insert(segments.end(), pool_->retired.begin(), pool_->retired.end());
      pool_->retired.clear();
      /* Buffers still downstream release their memory when they go. */
      pool_->closed = true;
    }
    for (Segment *seg : segments)
      destroy_segment(seg);
    pool_.reset();
  }
  if (display_) {
    forget_display(display_);
    if (!lost_) {
      if (damage_)
        XDamageDestroy(display_, damage_);
      if (damage_region_)
        XFixesDestroyRegion(display_, damage_region_);
      XCloseDisplay(display_);
    }
    /* After an I/O error the Display is unusable and closing it can crash:
     * it is left behind, once per lost display. */
    display_ = nullptr;
    damage_ = 0;
    damage_region_ = 0;
  }
}

}  // namespace

std::unique_ptr<ScreenCapture> create_screen_capture(GstObject *owner)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(xshm_debug, "screencapxshm", 0, "XShm screen capture backend");
    g_once_init_leave(&once, 1);
  }
  return std::make_unique<XShmCapture>(owner);
}

}  // namespace livecast
