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
 * A capture thread grabs each frame at the start of its slot on the
 * pipeline clock and stamps it with the moment the grab began; the offset
 * is the slot's number. The latency reported is the time a grab takes.
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

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "capturethread.h"
#include "gstrefptr.h"
#include "screencapture.h"

GST_DEBUG_CATEGORY_STATIC(gst_screen_cap_src_debug);
#define GST_CAT_DEFAULT gst_screen_cap_src_debug

/* Grabs timed at start to find the element's latency, and the latency
 * when none of them succeeds. */
constexpr int kTimedGrabs = 3;
constexpr GstClockTime kDefaultGrabLatency = 4 * GST_MSECOND;

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
  explicit GstScreenCapSrcPrivate(GstObject *owner) : thread(owner) {}
  std::mutex lock; /* settings, flushing, frame_duration, last_frame, starting the thread */
  CaptureConfig config;
  std::unique_ptr<ScreenCapture> capture;
  CaptureFormat format; /* of the negotiated caps */
  gint fps_n = 30, fps_d = 1;
  GstClockTime frame_duration = GST_SECOND / 30;
  guint64 last_frame = G_MAXUINT64; /* number of the last frame sent */
  GstClockTime grab_latency = kDefaultGrabLatency;
  CaptureThread thread; /* grabs, from the first create() in PLAYING until unlock() */
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
  /* The element's latency is the time from a frame's PTS (the grab's
   * start) until it can be pushed: a grab, timed here. The shortest of a
   * few, so that a moment without the CPU does not make the whole stream
   * wait; a longer grab (a whole changed screen) stays well inside the
   * processing deadline a sink adds. */
  GstClockTime fastest = GST_CLOCK_TIME_NONE;
  for (int i = 0; i < kTimedGrabs; i++) {
    GstBuffer *buffer = nullptr;
    const gint64 t0 = g_get_monotonic_time();
    const GrabResult result = priv->capture->grab(&buffer, error);
    const GstClockTime took = (g_get_monotonic_time() - t0) * GST_USECOND;
    gst_clear_buffer(&buffer);
    if (result == GrabResult::Ok)
      fastest = std::min(fastest, took);
  }
  priv->grab_latency =
      GST_CLOCK_TIME_IS_VALID(fastest)
          ? std::max<GstClockTime>(
                GST_MSECOND, gst_util_uint64_scale_ceil(fastest, 1, GST_MSECOND) * GST_MSECOND)
          : kDefaultGrabLatency;
  priv->format = priv->capture->format();
  priv->last_frame = G_MAXUINT64;
  GST_INFO_OBJECT(self, "capturing %dx%d with %s; latency %" GST_TIME_FORMAT, priv->format.width,
                  priv->format.height, priv->capture->name(), GST_TIME_ARGS(priv->grab_latency));
  return TRUE;
}

static gboolean gst_screen_cap_src_stop(GstBaseSrc *bsrc)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  self->priv->thread.stop();
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
    GstClockTime duration, grab;
    {
      std::lock_guard<std::mutex> guard(self->priv->lock);
      duration = self->priv->frame_duration;
      grab = self->priv->grab_latency;
    }
    /* A frame is stamped with the moment its grab begins, at the start of
     * its slot, and can go once the grab is done: that is the latency. It
     * waits in the capture thread's queue while a syncing sink holds the
     * frames before it, up to the queue's length. */
    gst_query_set_latency(query, TRUE, grab, (CaptureThread::kMaxQueued - 2) * duration);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(bsrc, query);
}

static gboolean gst_screen_cap_src_event(GstBaseSrc *bsrc, GstEvent *event)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  if (GST_EVENT_TYPE(event) == GST_EVENT_LATENCY) {
    GstClockTime latency = 0;
    gst_event_parse_latency(event, &latency);
    GST_DEBUG_OBJECT(self, "pipeline latency %" GST_TIME_FORMAT, GST_TIME_ARGS(latency));
    self->priv->thread.set_latency(latency);
  }
  return GST_BASE_SRC_CLASS(parent_class)->event(bsrc, event);
}

/* Stops grabbing (flushing, or PLAYING to PAUSED): the next create() in
 * PLAYING starts again, on the base time of then. */
static gboolean gst_screen_cap_src_unlock(GstBaseSrc *bsrc)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  self->priv->flushing = true;
  self->priv->thread.stop();
  return TRUE;
}

static gboolean gst_screen_cap_src_unlock_stop(GstBaseSrc *bsrc)
{
  auto *self = GST_SCREEN_CAP_SRC(bsrc);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  self->priv->flushing = false;
  return TRUE;
}

/* Starts the capture thread, or starts it again when the clock, the base
 * time or the frame rate changed. */
static GstFlowReturn ensure_capture_thread(GstScreenCapSrc *self)
{
  GstScreenCapSrcPrivate *priv = self->priv;
  Ref<GstClock> clock = Ref<GstClock>::adopt(gst_element_get_clock(GST_ELEMENT(self)));
  if (!clock) {
    GST_ELEMENT_ERROR(self, CORE, CLOCK, ("screencapsrc needs a clock to pace its frames."),
                      (nullptr));
    return GST_FLOW_ERROR;
  }
  const GstClockTime base_time = gst_element_get_base_time(GST_ELEMENT(self));
  std::lock_guard<std::mutex> guard(priv->lock);
  if (priv->flushing)
    return GST_FLOW_FLUSHING;
  if (priv->thread.runs_with(clock.get(), base_time, priv->frame_duration))
    return GST_FLOW_OK;
  const guint64 first = priv->last_frame == G_MAXUINT64 ? 0 : priv->last_frame + 1;
  std::string error;
  if (!priv->thread.start(priv->capture.get(), clock.get(), base_time, priv->frame_duration, first,
                          error)) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Could not start capturing: %s.", error.c_str()),
                      (nullptr));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn gst_screen_cap_src_create(GstPushSrc *psrc, GstBuffer **outbuf)
{
  auto *self = GST_SCREEN_CAP_SRC(psrc);
  GstScreenCapSrcPrivate *priv = self->priv;
  const GstFlowReturn ret = ensure_capture_thread(self);
  if (ret != GST_FLOW_OK)
    return ret;
  CapturedFrame f;
  if (!priv->thread.pop(f))
    return GST_FLOW_FLUSHING;
  if (f.result == GrabResult::Lost) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s", f.error.c_str()), (nullptr));
    return GST_FLOW_ERROR;
  }
  if (f.result != GrabResult::Ok || !f.buffer) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not capture the screen: %s.", f.error.c_str()),
                      (nullptr));
    return GST_FLOW_ERROR;
  }
  /* The screen changed size (xrandr, a monitor plugged in). */
  if (f.format.width != priv->format.width || f.format.height != priv->format.height ||
      f.format.format != priv->format.format) {
    priv->format = f.format;
    GST_INFO_OBJECT(self, "screen area is now %dx%d, renegotiating", priv->format.width,
                    priv->format.height);
    if (!gst_base_src_negotiate(GST_BASE_SRC(self))) {
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                        ("Could not renegotiate after the screen changed to %dx%d.",
                         priv->format.width, priv->format.height),
                        (nullptr));
      return GST_FLOW_NOT_NEGOTIATED;
    }
  }

  const guint64 frame = f.slot;
  /* The backend may keep a reference to resend it (XShm's last frame):
   * our own buffer, sharing its memory, for the timestamps. */
  GstBuffer *buffer = gst_buffer_make_writable(f.buffer.release());
  GstClockTime duration;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    duration = priv->frame_duration;
    if (priv->last_frame != G_MAXUINT64 && frame > priv->last_frame + 1)
      GST_LOG_OBJECT(self, "skipped %" G_GUINT64_FORMAT " late frame(s)",
                     frame - priv->last_frame - 1);
    priv->last_frame = frame;
  }
  GST_BUFFER_PTS(buffer) = f.pts;
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
  self->priv = new GstScreenCapSrcPrivate(GST_OBJECT(self));
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
                          nullptr, flags));
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
  basesrc_class->event = gst_screen_cap_src_event;
  basesrc_class->unlock = gst_screen_cap_src_unlock;
  basesrc_class->unlock_stop = gst_screen_cap_src_unlock_stop;
  pushsrc_class->create = gst_screen_cap_src_create;
}
