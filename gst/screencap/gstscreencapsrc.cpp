/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-screencapsrc
 * @title: screencapsrc
 *
 * Captures the screen (a monitor, or a region of it) as live video, at the
 * frame rate the caps ask for. On X11 it grabs with XShm straight into
 * shared-memory buffers, skips unchanged frames with XDamage and draws the
 * mouse pointer from XFixes. On Windows it uses DXGI Desktop Duplication
 * (dirty and move rectangles, pointer shapes composited), on macOS 12.3+
 * ScreenCaptureKit. A still screen repeats the previous frame at the
 * requested rate. The screen changing size renegotiates the caps; the
 * display going away is an element error.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 screencapsrc ! video/x-raw,framerate=30/1 ! videoconvert ! autovideosink
 * gst-launch-1.0 screencapsrc monitor=0 show-cursor=false ! video/x-raw,framerate=30/1 ! webrtcserversink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstscreencapsrc.h"

#include <gst/video/video.h>

#include <memory>
#include <mutex>
#include <string>

#include "gstrefptr.h"
#include "screencapture.h"

GST_DEBUG_CATEGORY_STATIC(gst_screen_cap_src_debug);
#define GST_CAT_DEFAULT gst_screen_cap_src_debug

/* One frame's grab: failed grabs tried again this many times this far
 * apart, and new sizes followed this many times, before it is an error. */
constexpr int kMaxGrabFailures = 5;
constexpr gulong kGrabRetryDelayUs = 10000;
constexpr int kMaxResizesPerFrame = 20;

using namespace livecast;

enum {
  PROP_0,
  PROP_DISPLAY,
  PROP_MONITOR,
  PROP_X,
  PROP_Y,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_SHOW_CURSOR,
  PROP_USE_DAMAGE,
};

struct GstScreenCapSrcPrivate {
  std::mutex lock; /* settings, clock_id */
  CaptureConfig config;
  std::unique_ptr<ScreenCapture> capture;
  CaptureFormat format;
  gint fps_n = 30, fps_d = 1;
  GstClockTime frame_duration = GST_SECOND / 30;
  guint64 last_frame = G_MAXUINT64; /* number of the last frame sent */
  GstClockID clock_id = nullptr;
  bool flushing = false;
};

struct _GstScreenCapSrc {
  GstPushSrc parent;
  GstScreenCapSrcPrivate *priv;
};

#define gst_screen_cap_src_parent_class parent_class
G_DEFINE_TYPE(GstScreenCapSrc, gst_screen_cap_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE(screencapsrc, "screencapsrc", GST_RANK_NONE, GST_TYPE_SCREEN_CAP_SRC);

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("video/x-raw, format=(string){ BGRx, BGRA }, "
                                            "width=(int)[1, 32767], height=(int)[1, 32767], "
                                            "framerate=(fraction)[1/1, 1000/1], "
                                            "pixel-aspect-ratio=(fraction)1/1"));

static gboolean gst_screen_cap_src_start(GstBaseSrc *bsrc)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  GstScreenCapSrcPrivate *priv = self->priv;
  CaptureConfig config;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    config = priv->config;
  }
  priv->capture = create_screen_capture(GST_OBJECT(self));
  if (!priv->capture) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("This build of screencapsrc has no screen capture for this platform."),
                      (nullptr));
    return FALSE;
  }
  std::string error;
  if (!priv->capture->open(config, error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("%s.", error.c_str()), (nullptr));
    priv->capture.reset();
    return FALSE;
  }
  priv->format = priv->capture->format();
  priv->last_frame = G_MAXUINT64;
  GST_INFO_OBJECT(self, "capturing %dx%d with %s", priv->format.width, priv->format.height,
                  priv->capture->name());
  return TRUE;
}

static gboolean gst_screen_cap_src_stop(GstBaseSrc *bsrc)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  if (self->priv->capture) {
    self->priv->capture->close();
    self->priv->capture.reset();
  }
  return TRUE;
}

static GstCaps *gst_screen_cap_src_get_caps(GstBaseSrc *bsrc, GstCaps *filter)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  GstScreenCapSrcPrivate *priv = self->priv;
  GstCaps *caps;
  if (!priv->capture) {
    caps = gst_pad_get_pad_template_caps(GST_BASE_SRC_PAD(bsrc));
  } else {
    caps = gst_caps_new_simple(
        "video/x-raw", "format", G_TYPE_STRING, gst_video_format_to_string(priv->format.format),
        "width", G_TYPE_INT, priv->format.width, "height", G_TYPE_INT, priv->format.height,
        "framerate", GST_TYPE_FRACTION_RANGE, 1, 1, 1000, 1, "pixel-aspect-ratio",
        GST_TYPE_FRACTION, 1, 1, nullptr);
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    caps = tmp;
  }
  return caps;
}

static GstCaps *gst_screen_cap_src_fixate(GstBaseSrc *bsrc, GstCaps *caps)
{
  caps = gst_caps_make_writable(caps);
  GstStructure *s = gst_caps_get_structure(caps, 0);
  gst_structure_fixate_field_nearest_fraction(s, "framerate", 30, 1);
  return GST_BASE_SRC_CLASS(parent_class)->fixate(bsrc, caps);
}

static gboolean gst_screen_cap_src_set_caps(GstBaseSrc *bsrc, GstCaps *caps)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  GstScreenCapSrcPrivate *priv = self->priv;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  gint n = 0, d = 1;
  if (!gst_structure_get_fraction(s, "framerate", &n, &d) || n <= 0 || d <= 0)
    return FALSE;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    priv->fps_n = n;
    priv->fps_d = d;
    priv->frame_duration = gst_util_uint64_scale_int(GST_SECOND, d, n);
    priv->last_frame = G_MAXUINT64;
  }
  if (priv->capture)
    priv->capture->set_frame_rate(n, d);
  return TRUE;
}

static gboolean gst_screen_cap_src_query(GstBaseSrc *bsrc, GstQuery *query)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    GstClockTime duration;
    {
      std::lock_guard<std::mutex> guard(self->priv->lock);
      duration = self->priv->frame_duration;
    }
    /* A frame is captured at the end of its slot: one frame of latency. Any
     * amount can be buffered downstream: the capture allocates new shared
     * memory rather than waiting for buffers to come back. */
    gst_query_set_latency(query, TRUE, duration, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(bsrc, query);
}

static gboolean gst_screen_cap_src_unlock(GstBaseSrc *bsrc)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  self->priv->flushing = true;
  if (self->priv->clock_id)
    gst_clock_id_unschedule(self->priv->clock_id);
  if (self->priv->capture)
    self->priv->capture->unlock();
  return TRUE;
}

static gboolean gst_screen_cap_src_unlock_stop(GstBaseSrc *bsrc)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  self->priv->flushing = false;
  if (self->priv->capture)
    self->priv->capture->unlock_stop();
  return TRUE;
}

/* Waits for the next frame slot on the pipeline clock. Returns the running
 * time to stamp the frame with, or GST_CLOCK_TIME_NONE when flushing. Late
 * slots are skipped rather than caught up with. */
static GstClockTime wait_for_next_frame(GstScreenCapSrc *self, guint64 &frame)
{
  GstScreenCapSrcPrivate *priv = self->priv;
  Ref<GstClock> clock = Ref<GstClock>::adopt(gst_element_get_clock(GST_ELEMENT(self)));
  if (!clock) {
    frame = 0;
    return 0;
  }
  const GstClockTime base_time = gst_element_get_base_time(GST_ELEMENT(self));
  GstClockTime duration;
  guint64 last;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    duration = priv->frame_duration;
    last = priv->last_frame;
  }
  const GstClockTime now = gst_clock_get_time(clock.get()) - base_time;
  guint64 next = now / duration;
  if (last != G_MAXUINT64 && next <= last)
    next = last + 1;
  const GstClockTime slot = next * duration;
  if (slot > now) {
    GstClockID id = gst_clock_new_single_shot_id(clock.get(), slot + base_time);
    {
      std::lock_guard<std::mutex> guard(priv->lock);
      if (priv->flushing) {
        gst_clock_id_unref(id);
        return GST_CLOCK_TIME_NONE;
      }
      priv->clock_id = id;
    }
    const GstClockReturn ret = gst_clock_id_wait(id, nullptr);
    {
      std::lock_guard<std::mutex> guard(priv->lock);
      priv->clock_id = nullptr;
    }
    gst_clock_id_unref(id);
    if (ret == GST_CLOCK_UNSCHEDULED)
      return GST_CLOCK_TIME_NONE;
  }
  frame = next;
  return slot;
}

static GstFlowReturn gst_screen_cap_src_create(GstPushSrc *psrc, GstBuffer **outbuf)
{
  auto *self = GST_SCREEN_CAP_SRC(psrc);
  GstScreenCapSrcPrivate *priv = self->priv;
  guint64 frame = 0;
  const GstClockTime pts = wait_for_next_frame(self, frame);
  if (pts == GST_CLOCK_TIME_NONE)
    return GST_FLOW_FLUSHING;

  GstBuffer *buffer = nullptr;
  std::string error;
  /* While the screen changes size (xrandr, a monitor plugged in), grabs
   * fail or report new sizes for a moment: a few tries, a little apart. */
  int failures = 0, resizes = 0;
  for (;;) {
    const GrabResult result = priv->capture->grab(&buffer, error);
    if (result == GrabResult::Ok)
      break;
    if (result == GrabResult::Flushing)
      return GST_FLOW_FLUSHING;
    if (result == GrabResult::Lost) {
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s", error.c_str()), (nullptr));
      return GST_FLOW_ERROR;
    }
    if (result == GrabResult::Resized) {
      if (++resizes > kMaxResizesPerFrame) {
        error = "the screen size kept changing";
        break;
      }
      priv->format = priv->capture->format();
      GST_INFO_OBJECT(self, "screen area is now %dx%d, renegotiating", priv->format.width,
                      priv->format.height);
      if (!gst_base_src_negotiate(GST_BASE_SRC(self))) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("Could not renegotiate after the screen changed to %dx%d.",
                           priv->format.width, priv->format.height),
                          (nullptr));
        return GST_FLOW_NOT_NEGOTIATED;
      }
      continue;
    }
    GST_WARNING_OBJECT(self, "grab failed: %s", error.c_str());
    if (++failures >= kMaxGrabFailures)
      break;
    g_usleep(kGrabRetryDelayUs);
  }
  if (!buffer) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not capture the screen: %s.", error.c_str()),
                      (nullptr));
    return GST_FLOW_ERROR;
  }

  GstClockTime duration;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    duration = priv->frame_duration;
    if (priv->last_frame != G_MAXUINT64 && frame > priv->last_frame + 1)
      GST_LOG_OBJECT(self, "skipped %" G_GUINT64_FORMAT " late frame(s)",
                     frame - priv->last_frame - 1);
    priv->last_frame = frame;
  }
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = duration;
  GST_BUFFER_OFFSET(buffer) = frame;
  GST_BUFFER_OFFSET_END(buffer) = frame + 1;
  *outbuf = buffer;
  return GST_FLOW_OK;
}

static void gst_screen_cap_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                            GParamSpec *pspec)
{
  auto *self = GST_SCREEN_CAP_SRC(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  CaptureConfig &c = self->priv->config;
  switch (prop_id) {
    case PROP_DISPLAY: {
      const char *v = g_value_get_string(value);
      c.display = v ? v : "";
      break;
    }
    case PROP_MONITOR:
      c.monitor = g_value_get_int(value);
      break;
    case PROP_X:
      c.x = g_value_get_int(value);
      break;
    case PROP_Y:
      c.y = g_value_get_int(value);
      break;
    case PROP_WIDTH:
      c.width = g_value_get_int(value);
      break;
    case PROP_HEIGHT:
      c.height = g_value_get_int(value);
      break;
    case PROP_SHOW_CURSOR:
      c.show_cursor = g_value_get_boolean(value);
      break;
    case PROP_USE_DAMAGE:
      c.use_damage = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_screen_cap_src_get_property(GObject *object, guint prop_id, GValue *value,
                                            GParamSpec *pspec)
{
  auto *self = GST_SCREEN_CAP_SRC(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  const CaptureConfig &c = self->priv->config;
  switch (prop_id) {
    case PROP_DISPLAY:
      g_value_set_string(value, c.display.empty() ? nullptr : c.display.c_str());
      break;
    case PROP_MONITOR:
      g_value_set_int(value, c.monitor);
      break;
    case PROP_X:
      g_value_set_int(value, c.x);
      break;
    case PROP_Y:
      g_value_set_int(value, c.y);
      break;
    case PROP_WIDTH:
      g_value_set_int(value, c.width);
      break;
    case PROP_HEIGHT:
      g_value_set_int(value, c.height);
      break;
    case PROP_SHOW_CURSOR:
      g_value_set_boolean(value, c.show_cursor);
      break;
    case PROP_USE_DAMAGE:
      g_value_set_boolean(value, c.use_damage);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_screen_cap_src_finalize(GObject *object)
{
  auto *self = GST_SCREEN_CAP_SRC(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_screen_cap_src_init(GstScreenCapSrc *self)
{
  self->priv = new GstScreenCapSrcPrivate();
  gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}

static void gst_screen_cap_src_class_init(GstScreenCapSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_screen_cap_src_debug, "screencapsrc", 0, "Screen capture source");

  gobject_class->set_property = gst_screen_cap_src_set_property;
  gobject_class->get_property = gst_screen_cap_src_get_property;
  gobject_class->finalize = gst_screen_cap_src_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_DISPLAY,
      g_param_spec_string("display", "Display",
                          "X11 display to capture, such as \":0\"; unset uses $DISPLAY. "
                          "Ignored on Windows and macOS.",
                          nullptr,
                          flags));
  g_object_class_install_property(
      gobject_class, PROP_MONITOR,
      g_param_spec_int("monitor", "Monitor",
                       "Monitor to capture, by its index in the system's monitor list "
                       "(XRandR order on X11, DXGI output order on Windows, "
                       "ScreenCaptureKit display order on macOS); -1 captures the whole "
                       "virtual screen on X11 and the primary monitor on Windows and macOS.",
                       -1, G_MAXINT, -1, flags));
  g_object_class_install_property(
      gobject_class, PROP_X,
      g_param_spec_int("x", "X", "Left edge of the captured region, inside the monitor.", 0,
                       G_MAXINT, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_Y,
      g_param_spec_int("y", "Y", "Top edge of the captured region, inside the monitor.", 0,
                       G_MAXINT, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_WIDTH,
      g_param_spec_int("width", "Width",
                       "Width of the captured region; 0 reaches the monitor's right edge.", 0,
                       G_MAXINT, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_HEIGHT,
      g_param_spec_int("height", "Height",
                       "Height of the captured region; 0 reaches the monitor's bottom edge.", 0,
                       G_MAXINT, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_SHOW_CURSOR,
      g_param_spec_boolean("show-cursor", "Show cursor",
                           "Draw the mouse pointer into the captured frames.", TRUE, flags));
  g_object_class_install_property(
      gobject_class, PROP_USE_DAMAGE,
      g_param_spec_boolean("use-damage", "Use damage",
                           "Send the previous frame again, at no cost, when nothing on screen "
                           "changed, and copy only what changed (XDamage; DXGI dirty and move "
                           "rectangles).",
                           TRUE, flags));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Screen capture source", "Source/Video",
      "Captures the screen, a monitor or a region of it as live video", "livecast developers");

  basesrc_class->start = gst_screen_cap_src_start;
  basesrc_class->stop = gst_screen_cap_src_stop;
  basesrc_class->get_caps = gst_screen_cap_src_get_caps;
  basesrc_class->fixate = gst_screen_cap_src_fixate;
  basesrc_class->set_caps = gst_screen_cap_src_set_caps;
  basesrc_class->query = gst_screen_cap_src_query;
  basesrc_class->unlock = gst_screen_cap_src_unlock;
  basesrc_class->unlock_stop = gst_screen_cap_src_unlock_stop;
  pushsrc_class->create = gst_screen_cap_src_create;
}
