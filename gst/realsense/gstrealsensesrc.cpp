/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-realsensesrc
 * @title: realsensesrc
 *
 * Live colour, depth or infrared video from an Intel RealSense camera, or
 * from a `.bag` recording of one. One element per stream (#stream); elements
 * that name the same camera (#serial, or none: the first camera) share it,
 * so colour and depth of one camera run in one pipeline from one
 * librealsense2 pipeline. Frames are stamped with the pipeline clock at
 * capture; the source reports one frame of latency.
 *
 * Colour comes as RGB, BGR, RGBA, BGRA or YUY2, depth as GRAY16_LE (the
 * depth unit, metres per step, is the #depth-unit property and travels with
 * every depth buffer as a "LivecastDepthMeta" custom meta, see depthmeta.h),
 * infrared as GRAY8 or GRAY16_LE. Width, height and frame rate are
 * negotiated against the modes the camera offers; with nothing asked
 * downstream, 640x480 at 30 fps. `align=color` gives depth in colour's
 * geometry (colour and depth elements must then agree on the size).
 *
 * librealsense2 is loaded when the element starts, not linked: #library-path,
 * else $LIVECAST_REALSENSE_LIBRARY, else the usual library names. Without it
 * the element fails to start and says what to install.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 realsensesrc ! videoconvert ! autovideosink
 * gst-launch-1.0 realsensesrc stream=depth ! depthcolorize ! videoconvert ! autovideosink
 * gst-launch-1.0 compositor name=mix sink_1::xpos=640 ! videoconvert ! autovideosink \
 *     realsensesrc stream=color ! video/x-raw,width=640,height=480 ! videoconvert ! mix. \
 *     realsensesrc stream=depth align=color ! depthcolorize ! videoconvert ! mix.
 * gst-launch-1.0 realsensesrc playback-file=walk.bag loop=true ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrealsensesrc.h"

#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "depthmeta.h"
#include "gstrefptr.h"
#include "rsdevice.h"
#include "rsloader.h"

GST_DEBUG_CATEGORY_STATIC(gst_realsense_src_debug);
#define GST_CAT_DEFAULT gst_realsense_src_debug

using namespace livecast;

enum {
  PROP_0,
  PROP_STREAM,
  PROP_STREAM_INDEX,
  PROP_SERIAL,
  PROP_ALIGN,
  PROP_PLAYBACK_FILE,
  PROP_LOOP,
  PROP_LIBRARY_PATH,
  PROP_TIMEOUT,
  PROP_DEPTH_UNIT,
};

constexpr guint kDefaultTimeoutMs = 5000;
/* Negotiations in a row whose modes another element of the same camera made
 * outdated before this one could configure them. */
constexpr int kNegotiateAttempts = 3;

struct Settings {
  GstRealsenseStream stream = GST_REALSENSE_STREAM_COLOR;
  int stream_index = -1;
  std::string serial;
  GstRealsenseAlign align = GST_REALSENSE_ALIGN_NONE;
  std::string playback_file;
  bool loop = false;
  std::string library_path;
  guint timeout_ms = kDefaultTimeoutMs;
};

struct GstRealsenseSrcPrivate {
  std::mutex lock; /* settings */
  Settings settings;
  std::atomic<float> depth_unit{0};

  /* Between start() and stop(); the streaming thread only. */
  Settings active;
  const rs::Api *api = nullptr;
  std::shared_ptr<rs::Device> device;
  int member = 0;
  rs2_stream stream = RS2_STREAM_COLOR;
  int index = 0;
  GstVideoInfo info;
  bool have_info = false;
  GstBufferPool *pool = nullptr;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  /* device->configurations() when modes were last offered (caps queries
   * come from any thread), and whether set_caps() found that another
   * element configured the camera since: negotiate() then tries again. */
  std::atomic<guint64> offered_at{0};
  bool outdated = false;
  GstClockTime last_pts = GST_CLOCK_TIME_NONE;
  guint64 count = 0;
  gint64 started_us = 0;
};

struct _GstRealsenseSrc {
  GstPushSrc parent;
  GstRealsenseSrcPrivate *priv;
};

#define gst_realsense_src_parent_class parent_class
G_DEFINE_TYPE(GstRealsenseSrc, gst_realsense_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE(realsensesrc, "realsensesrc", GST_RANK_NONE, GST_TYPE_REALSENSE_SRC);

#define COLOR_FORMATS "RGB, BGR, RGBA, BGRA, YUY2"
#define DEPTH_FORMATS "GRAY16_LE"
#define INFRARED_FORMATS "GRAY8, GRAY16_LE"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format=(string){ " COLOR_FORMATS ", GRAY16_LE, GRAY8 }, "
                    "width=(int)[1, 32767], height=(int)[1, 32767], "
                    "framerate=(fraction)[1/1, 1000/1], pixel-aspect-ratio=(fraction)1/1"));

static GType gst_realsense_stream_get_type()
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_REALSENSE_STREAM_COLOR, "Colour camera", "color"},
      {GST_REALSENSE_STREAM_DEPTH, "Depth (GRAY16_LE, see depth-unit)", "depth"},
      {GST_REALSENSE_STREAM_INFRARED, "Infrared camera", "infrared"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstRealsenseStream", values));
  return type;
}

static GType gst_realsense_align_get_type()
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_REALSENSE_ALIGN_NONE, "Depth in its own geometry", "none"},
      {GST_REALSENSE_ALIGN_COLOR, "Depth mapped into the colour camera's geometry", "color"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstRealsenseAlign", values));
  return type;
}

static rs2_stream to_rs2(GstRealsenseStream s)
{
  switch (s) {
    case GST_REALSENSE_STREAM_DEPTH:
      return RS2_STREAM_DEPTH;
    case GST_REALSENSE_STREAM_INFRARED:
      return RS2_STREAM_INFRARED;
    default:
      return RS2_STREAM_COLOR;
  }
}

static const char *stream_nick(rs2_stream s)
{
  return s == RS2_STREAM_DEPTH ? "depth" : s == RS2_STREAM_INFRARED ? "infrared" : "color";
}

static GstVideoFormat video_format(rs2_format f)
{
  switch (f) {
    case RS2_FORMAT_RGB8:
      return GST_VIDEO_FORMAT_RGB;
    case RS2_FORMAT_BGR8:
      return GST_VIDEO_FORMAT_BGR;
    case RS2_FORMAT_RGBA8:
      return GST_VIDEO_FORMAT_RGBA;
    case RS2_FORMAT_BGRA8:
      return GST_VIDEO_FORMAT_BGRA;
    case RS2_FORMAT_YUYV:
      return GST_VIDEO_FORMAT_YUY2;
    case RS2_FORMAT_Z16:
    case RS2_FORMAT_Y16:
      return GST_VIDEO_FORMAT_GRAY16_LE;
    case RS2_FORMAT_Y8:
      return GST_VIDEO_FORMAT_GRAY8;
    default:
      return GST_VIDEO_FORMAT_UNKNOWN;
  }
}

/* The formats each stream is delivered in (cameras list others too: raw
 * Bayer, calibration formats). */
static bool format_allowed(rs2_stream s, rs2_format f)
{
  switch (s) {
    case RS2_STREAM_COLOR:
      return f == RS2_FORMAT_RGB8 || f == RS2_FORMAT_BGR8 || f == RS2_FORMAT_RGBA8 ||
             f == RS2_FORMAT_BGRA8 || f == RS2_FORMAT_YUYV;
    case RS2_STREAM_DEPTH:
      return f == RS2_FORMAT_Z16;
    case RS2_STREAM_INFRARED:
      return f == RS2_FORMAT_Y8 || f == RS2_FORMAT_Y16;
    default:
      return false;
  }
}

static const char *stream_formats(rs2_stream s)
{
  return s == RS2_STREAM_DEPTH      ? DEPTH_FORMATS
         : s == RS2_STREAM_INFRARED ? INFRARED_FORMATS
                                    : COLOR_FORMATS;
}

/* Preference of a format for its stream: lower first. */
static int format_rank(rs2_format f)
{
  switch (f) {
    case RS2_FORMAT_RGB8:
    case RS2_FORMAT_Z16:
    case RS2_FORMAT_Y8:
      return 0;
    case RS2_FORMAT_BGR8:
    case RS2_FORMAT_Y16:
      return 1;
    case RS2_FORMAT_RGBA8:
      return 2;
    case RS2_FORMAT_BGRA8:
      return 3;
    default:
      return 4;
  }
}

/* A mode as offered in caps: for aligned depth, colour's geometry at the
 * depth frame rate. */
struct Mode {
  rs2_format format;
  int width, height, fps;
};

/* The modes this element can stream, most preferred first: the format the
 * stream is best known in, then 640x480, then 30 fps. */
static std::vector<Mode> offered_modes(GstRealsenseSrc *self)
{
  GstRealsenseSrcPrivate *priv = self->priv;
  const bool aligned = priv->active.align == GST_REALSENSE_ALIGN_COLOR;
  /* Another element already streams this stream: its mode, nothing else. */
  rs::Profile shared;
  const bool have_shared =
      priv->device->configured_mode(priv->member, priv->stream, priv->index, shared);
  /* Aligned depth: colour's geometry, the colour element's if one has
   * negotiated, else any colour mode at the depth frame rate. */
  int cw = 0, ch = 0;
  const bool known = aligned && priv->device->color_geometry(cw, ch);
  std::vector<Mode> modes;
  for (const rs::Profile &p : priv->device->profiles()) {
    if (p.stream != priv->stream || p.index != priv->index || !format_allowed(p.stream, p.format) ||
        (have_shared && !(p == shared)))
      continue;
    if (!aligned) {
      modes.push_back({p.format, p.width, p.height, p.fps});
      continue;
    }
    for (const rs::Profile &c : priv->device->profiles())
      if (c.stream == RS2_STREAM_COLOR && c.fps == p.fps &&
          (!known || (c.width == cw && c.height == ch)))
        modes.push_back({p.format, c.width, c.height, p.fps});
  }
  auto key = [](const Mode &m) {
    return std::make_tuple(format_rank(m.format), !(m.width == 640 && m.height == 480),
                           -(m.width * m.height), std::abs(m.fps - 30), -m.fps);
  };
  std::stable_sort(modes.begin(), modes.end(),
                   [&](const Mode &a, const Mode &b) { return key(a) < key(b); });
  std::vector<Mode> unique;
  for (const Mode &m : modes) {
    const bool seen = std::any_of(unique.begin(), unique.end(), [&](const Mode &u) {
      return video_format(u.format) == video_format(m.format) && u.width == m.width &&
             u.height == m.height && u.fps == m.fps;
    });
    if (!seen)
      unique.push_back(m);
  }
  return unique;
}

static GstCaps *modes_to_caps(const std::vector<Mode> &modes)
{
  GstCaps *caps = gst_caps_new_empty();
  for (const Mode &m : modes)
    gst_caps_append_structure(
        caps,
        gst_structure_new("video/x-raw", "format", G_TYPE_STRING,
                          gst_video_format_to_string(video_format(m.format)), "width", G_TYPE_INT,
                          m.width, "height", G_TYPE_INT, m.height, "framerate", GST_TYPE_FRACTION,
                          m.fps, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr));
  return caps;
}

static std::string camera_name(GstRealsenseSrc *self)
{
  const auto &dev = self->priv->device;
  if (dev->is_playback())
    return "the recording " + dev->source().file;
  return "the RealSense camera " + dev->serial() +
         (dev->name().empty() ? "" : " (" + dev->name() + ")");
}

/* @text with its first letter in capitals, to start a sentence. */
static std::string capitalized(std::string text)
{
  if (!text.empty())
    text[0] = g_ascii_toupper(text[0]);
  return text;
}

static gboolean gst_realsense_src_start(GstBaseSrc *bsrc)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  GstRealsenseSrcPrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    priv->active = priv->settings;
  }
  const Settings &s = priv->active;
  priv->stream = to_rs2(s.stream);
  priv->started_us = g_get_monotonic_time();

  if (s.align == GST_REALSENSE_ALIGN_COLOR && s.stream != GST_REALSENSE_STREAM_DEPTH) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, SETTINGS,
        ("align=color applies to stream=depth only, not stream=%s.", stream_nick(priv->stream)),
        (nullptr));
    return FALSE;
  }

  std::string error, detail;
  priv->api = rs::load_library(s.library_path, error, detail);
  if (!priv->api) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("%s", error.c_str()), ("%s", detail.c_str()));
    return FALSE;
  }

  rs::Source source;
  source.serial = s.serial;
  source.file = s.playback_file;
  source.loop = s.loop;
  priv->device = rs::Device::acquire(priv->api, source, error);
  if (!priv->device) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, NOT_FOUND, ("%s", error.c_str()),
        ("librealsense2 %s from %s", priv->api->version_string().c_str(), priv->api->path.c_str()));
    return FALSE;
  }

  /* The stream index: asked for, or the lowest the camera has (colour and
   * depth 0, infrared 1: the left imager). */
  std::set<int> indices;
  bool have_color = false;
  for (const rs::Profile &p : priv->device->profiles()) {
    if (p.stream == priv->stream)
      indices.insert(p.index);
    have_color = have_color || p.stream == RS2_STREAM_COLOR;
  }
  if (indices.empty() || (s.stream_index >= 0 && !indices.count(s.stream_index))) {
    std::string have;
    for (int i : indices)
      have += (have.empty() ? "" : ", ") + std::to_string(i);
    if (indices.empty())
      error =
          capitalized(camera_name(self)) + " has no " + rs::stream_name(priv->stream) + " stream.";
    else
      error = capitalized(camera_name(self)) + " has no " + rs::stream_name(priv->stream) +
              " stream " + std::to_string(s.stream_index) + "; it has " + have + ".";
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", error.c_str()), (nullptr));
    priv->device.reset();
    return FALSE;
  }
  priv->index = s.stream_index >= 0 ? s.stream_index : *indices.begin();
  if (s.align == GST_REALSENSE_ALIGN_COLOR && !have_color) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, SETTINGS,
        ("align=color needs a colour stream, and %s has none.", camera_name(self).c_str()),
        (nullptr));
    priv->device.reset();
    return FALSE;
  }

  priv->depth_unit = priv->device->depth_unit();
  priv->member = priv->device->join(s.timeout_ms);
  priv->have_info = false;
  priv->last_pts = GST_CLOCK_TIME_NONE;
  priv->count = 0;
  GST_INFO_OBJECT(self, "%s stream %d of %s, depth unit %g m", rs::stream_name(priv->stream),
                  priv->index, camera_name(self).c_str(), double(priv->depth_unit.load()));
  return TRUE;
}

static gboolean gst_realsense_src_stop(GstBaseSrc *bsrc)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  GstRealsenseSrcPrivate *priv = self->priv;
  if (priv->device) {
    const guint64 dropped = priv->device->dropped(priv->member);
    GST_INFO_OBJECT(self,
                    "sent %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
                    " dropped (not taken in time)",
                    priv->count, dropped);
    priv->device->leave(priv->member);
    priv->device.reset();
  }
  if (priv->pool) {
    gst_buffer_pool_set_active(priv->pool, FALSE);
    gst_object_unref(priv->pool);
    priv->pool = nullptr;
  }
  priv->have_info = false;
  return TRUE;
}

static GstCaps *gst_realsense_src_get_caps(GstBaseSrc *bsrc, GstCaps *filter)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  GstRealsenseSrcPrivate *priv = self->priv;
  GstCaps *caps;
  if (priv->device) {
    priv->offered_at = priv->device->configurations();
    caps = modes_to_caps(offered_modes(self));
  } else {
    /* Before start: the template, narrowed to the stream's formats. */
    GstRealsenseStream stream;
    {
      std::lock_guard<std::mutex> guard(priv->lock);
      stream = priv->settings.stream;
    }
    const std::string desc = std::string("video/x-raw, format=(string){ ") +
                             stream_formats(to_rs2(stream)) +
                             " }, width=(int)[1, 32767], height=(int)[1, 32767], "
                             "framerate=(fraction)[1/1, 1000/1], pixel-aspect-ratio=(fraction)1/1";
    caps = gst_caps_from_string(desc.c_str());
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    caps = tmp;
  }
  return caps;
}

static std::string summarize_modes(const std::vector<Mode> &modes)
{
  std::vector<std::pair<int, int>> sizes;
  std::set<int> rates;
  for (const Mode &m : modes) {
    if (std::find(sizes.begin(), sizes.end(), std::make_pair(m.width, m.height)) == sizes.end())
      sizes.emplace_back(m.width, m.height);
    rates.insert(m.fps);
  }
  std::sort(sizes.begin(), sizes.end());
  std::string s;
  for (const auto &[w, h] : sizes)
    s += (s.empty() ? "" : ", ") + std::to_string(w) + "x" + std::to_string(h);
  s += " at ";
  std::string r;
  for (int f : rates)
    r += (r.empty() ? "" : ", ") + std::to_string(f);
  return s + r + " fps";
}

static gboolean gst_realsense_src_negotiate(GstBaseSrc *bsrc)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  /* Two elements of one camera negotiate at once: the other one can
   * configure a shared mode between this one's caps query and its
   * set_caps(). The next query offers that mode. */
  for (int attempt = 0; attempt < kNegotiateAttempts; attempt++) {
    self->priv->outdated = false;
    if (GST_BASE_SRC_CLASS(parent_class)->negotiate(bsrc))
      return TRUE;
    if (!self->priv->outdated)
      break;
  }
  if (!self->priv->device)
    return FALSE;
  if (self->priv->outdated) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("The other elements of %s changed its modes %d times while this one "
                       "negotiated; give them the same caps.",
                       camera_name(self).c_str(), kNegotiateAttempts),
                      (nullptr));
    return FALSE;
  }
  Ref<GstCaps> peer = Ref<GstCaps>::adopt(gst_pad_peer_query_caps(GST_BASE_SRC_PAD(bsrc), nullptr));
  GCharPtr want(peer ? gst_caps_to_string(peer.get()) : g_strdup("nothing"));
  int cw = 0, ch = 0;
  if (self->priv->active.align == GST_REALSENSE_ALIGN_COLOR &&
      self->priv->device->color_geometry(cw, ch)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("Depth aligned to colour comes in colour's geometry, %dx%d, which the "
                       "elements after this realsensesrc do not accept; give colour and depth "
                       "the same width and height.",
                       cw, ch),
                      ("downstream accepts %s", want.get()));
    return FALSE;
  }
  GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                    ("%s offers no %s mode that downstream accepts; it offers %s.",
                     capitalized(camera_name(self)).c_str(), rs::stream_name(self->priv->stream),
                     summarize_modes(offered_modes(self)).c_str()),
                    ("downstream accepts %s", want.get()));
  return FALSE;
}

static gboolean gst_realsense_src_set_caps(GstBaseSrc *bsrc, GstCaps *caps)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  GstRealsenseSrcPrivate *priv = self->priv;
  if (!priv->device)
    return FALSE;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps) || GST_VIDEO_INFO_FPS_N(&info) <= 0 ||
      GST_VIDEO_INFO_FPS_D(&info) != 1) {
    GST_ERROR_OBJECT(self, "unusable caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  const GstVideoFormat vf = GST_VIDEO_INFO_FORMAT(&info);
  const int w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
  const int fps = GST_VIDEO_INFO_FPS_N(&info);
  const bool aligned = priv->active.align == GST_REALSENSE_ALIGN_COLOR;

  /* The camera mode behind the caps. Aligned depth: the depth mode another
   * element streams, else the one at that frame rate of the same size as
   * colour if there is one, else 640x480, else the largest. */
  rs::Request request;
  bool found = false;
  int best_score = -1;
  rs::Profile shared;
  const bool have_shared =
      priv->device->configured_mode(priv->member, priv->stream, priv->index, shared);
  for (const rs::Profile &p : priv->device->profiles()) {
    if (p.stream != priv->stream || p.index != priv->index || !format_allowed(p.stream, p.format) ||
        video_format(p.format) != vf || p.fps != fps || (have_shared && !(p == shared)))
      continue;
    if (!aligned) {
      if (p.width == w && p.height == h) {
        request.profile = p;
        found = true;
        break;
      }
      continue;
    }
    const int score = (p.width == w && p.height == h)       ? 3 << 28
                      : (p.width == 640 && p.height == 480) ? 2 << 28
                                                            : p.width * p.height;
    if (score > best_score) {
      best_score = score;
      request.profile = p;
      found = true;
    }
  }
  /* Modes offered before another element configured the camera may
   * conflict with its choice: not this element's fault, negotiate again. */
  auto outdated = [&]() {
    if (priv->device->configurations() == priv->offered_at)
      return false;
    GST_INFO_OBJECT(self, "another element configured %s after %" GST_PTR_FORMAT
                    " was offered; negotiating again", camera_name(self).c_str(), caps);
    priv->outdated = true;
    return true;
  };
  if (!found) {
    if (outdated())
      return FALSE;
    GST_ELEMENT_ERROR(
        self, CORE, NEGOTIATION,
        ("%s has no %s mode %dx%d %s at %d fps.", capitalized(camera_name(self)).c_str(),
         rs::stream_name(priv->stream), w, h, gst_video_format_to_string(vf), fps),
        ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  request.align_to_color = aligned;
  if (aligned) {
    request.aligned_width = w;
    request.aligned_height = h;
  }
  std::string error;
  if (!priv->device->configure(priv->member, request, error)) {
    if (outdated())
      return FALSE;
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s", error.c_str()), (nullptr));
    return FALSE;
  }

  if (priv->pool) {
    gst_buffer_pool_set_active(priv->pool, FALSE);
    gst_object_unref(priv->pool);
  }
  priv->pool = gst_video_buffer_pool_new();
  GstStructure *config = gst_buffer_pool_get_config(priv->pool);
  gst_buffer_pool_config_set_params(config, caps, GST_VIDEO_INFO_SIZE(&info), 2, 0);
  if (!gst_buffer_pool_set_config(priv->pool, config) ||
      !gst_buffer_pool_set_active(priv->pool, TRUE)) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Cannot allocate %dx%d frames.", w, h), (nullptr));
    return FALSE;
  }
  const GstClockTime duration = gst_util_uint64_scale_int(GST_SECOND, 1, fps);
  const bool latency_changed = priv->have_info && duration != priv->duration;
  priv->info = info;
  priv->have_info = true;
  priv->duration = duration;
  if (latency_changed)
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  GST_INFO_OBJECT(
      self, "streaming %s%s", rs::describe(request.profile).c_str(),
      aligned ? (" aligned to colour as " + std::to_string(w) + "x" + std::to_string(h)).c_str()
              : "");
  return TRUE;
}

static gboolean gst_realsense_src_query(GstBaseSrc *bsrc, GstQuery *query)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    if (!self->priv->have_info)
      return FALSE;
    /* A frame is stamped with its capture time and is complete one frame
     * duration later, as with any camera. One newer frame replaces an
     * untaken one: the source holds at most one more. */
    const GstClockTime d = self->priv->duration;
    gst_query_set_latency(query, TRUE, d, 2 * d);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(bsrc, query);
}

static gboolean gst_realsense_src_unlock(GstBaseSrc *bsrc)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  if (self->priv->device)
    self->priv->device->set_flushing(self->priv->member, true);
  return TRUE;
}

static gboolean gst_realsense_src_unlock_stop(GstBaseSrc *bsrc)
{
  auto *self = GST_REALSENSE_SRC(bsrc);
  if (self->priv->device)
    self->priv->device->set_flushing(self->priv->member, false);
  return TRUE;
}

/* Running time of a frame captured at @capture_us (monotonic), on the
 * pipeline clock. */
static GstClockTime capture_running_time(GstRealsenseSrc *self, gint64 capture_us)
{
  GstRealsenseSrcPrivate *priv = self->priv;
  Ref<GstClock> clock = Ref<GstClock>::adopt(gst_element_get_clock(GST_ELEMENT(self)));
  if (!clock)
    return priv->count * priv->duration;
  const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  const GstClockTime now = gst_clock_get_time(clock.get());
  const gint64 age_us = std::max<gint64>(0, g_get_monotonic_time() - capture_us);
  const GstClockTime running = now > base ? now - base : 0;
  const GstClockTime age = GstClockTime(age_us) * GST_USECOND;
  return running > age ? running - age : 0;
}

static void add_metas(GstRealsenseSrc *self, GstBuffer *buffer, const rs::Frame &f)
{
  GstRealsenseSrcPrivate *priv = self->priv;
  if (priv->stream == RS2_STREAM_DEPTH && f.depth_unit > 0) {
    add_depth_meta(buffer, tidy_float(f.depth_unit));
    priv->depth_unit = f.depth_unit;
  }
  GstCustomMeta *meta = gst_buffer_add_custom_meta(buffer, LIVECAST_REALSENSE_META_NAME);
  if (meta) {
    const char *domain = f.domain == RS2_TIMESTAMP_DOMAIN_SYSTEM_TIME   ? "system-time"
                         : f.domain == RS2_TIMESTAMP_DOMAIN_GLOBAL_TIME ? "global-time"
                                                                        : "hardware-clock";
    gst_structure_set(gst_custom_meta_get_structure(meta), "serial", G_TYPE_STRING,
                      priv->device->serial().c_str(), "stream", G_TYPE_STRING,
                      stream_nick(priv->stream), "frame-number", G_TYPE_UINT64, guint64(f.number),
                      "timestamp", G_TYPE_DOUBLE, f.timestamp_ms, "timestamp-domain", G_TYPE_STRING,
                      domain, nullptr);
  }
}

static GstFlowReturn gst_realsense_src_create(GstPushSrc *psrc, GstBuffer **outbuf)
{
  auto *self = GST_REALSENSE_SRC(psrc);
  GstRealsenseSrcPrivate *priv = self->priv;
  if (!priv->device || !priv->have_info)
    return GST_FLOW_NOT_NEGOTIATED;

  rs::Frame f;
  std::string error;
  rs::WaitResult result;
  while ((result = priv->device->next_frame(priv->member, f, error)) ==
         rs::WaitResult::Renegotiate) {
    GST_INFO_OBJECT(self, "the colour stream changed size: renegotiating aligned depth");
    if (!gst_base_src_negotiate(GST_BASE_SRC(self)))
      return GST_FLOW_NOT_NEGOTIATED;
    if (!priv->device->is_configured(priv->member)) {
      /* The caps came out the same, so set_caps was not called. */
      Ref<GstCaps> caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(GST_BASE_SRC_PAD(self)));
      if (!caps || !gst_realsense_src_set_caps(GST_BASE_SRC(self), caps.get()))
        return GST_FLOW_NOT_NEGOTIATED;
    }
  }
  switch (result) {
    case rs::WaitResult::Renegotiate:
    case rs::WaitResult::Flushing:
      return GST_FLOW_FLUSHING;
    case rs::WaitResult::Eos:
      GST_INFO_OBJECT(self, "end of %s after %" G_GUINT64_FORMAT " frames",
                      camera_name(self).c_str(), priv->count);
      return GST_FLOW_EOS;
    case rs::WaitResult::Error:
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("%s", error.c_str()), (nullptr));
      return GST_FLOW_ERROR;
    case rs::WaitResult::Frame:
      break;
  }

  const GstVideoInfo &info = priv->info;
  const int width = GST_VIDEO_INFO_WIDTH(&info), height = GST_VIDEO_INFO_HEIGHT(&info);
  const int pixel_bits = GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0) * 8;
  const int row_bytes = width * pixel_bits / 8;
  if (f.width != width || f.height != height || f.bits_per_pixel != pixel_bits ||
      f.stride < row_bytes) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("%s sent a %dx%d frame of %d bits per pixel where %dx%d %s was "
                       "negotiated.",
                       capitalized(camera_name(self)).c_str(), f.width, f.height, f.bits_per_pixel,
                       width, height, GST_VIDEO_INFO_NAME(&info)),
                      ("stride %d", f.stride));
    return GST_FLOW_ERROR;
  }

  GstBuffer *buffer = nullptr;
  GstFlowReturn ret = gst_buffer_pool_acquire_buffer(priv->pool, &buffer, nullptr);
  if (ret != GST_FLOW_OK)
    return ret;
  GstVideoFrame vf;
  if (!gst_video_frame_map(&vf, &priv->info, buffer, GST_MAP_WRITE)) {
    gst_buffer_unref(buffer);
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Cannot map a video buffer."), (nullptr));
    return GST_FLOW_ERROR;
  }
  const int dst_stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
  auto *dst = static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&vf, 0));
  if (dst_stride == f.stride && f.stride == row_bytes) {
    memcpy(dst, f.data, size_t(row_bytes) * height);
  } else {
    for (int y = 0; y < height; y++)
      memcpy(dst + size_t(y) * dst_stride, f.data + size_t(y) * f.stride, row_bytes);
  }
  gst_video_frame_unmap(&vf);

  GstClockTime pts = capture_running_time(self, f.capture_us);
  if (GST_CLOCK_TIME_IS_VALID(priv->last_pts) && pts <= priv->last_pts)
    pts = priv->last_pts + 1;
  priv->last_pts = pts;
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = priv->duration;
  GST_BUFFER_OFFSET(buffer) = priv->count;
  GST_BUFFER_OFFSET_END(buffer) = priv->count + 1;
  add_metas(self, buffer, f);
  f.ref.reset(); /* the copy is made: give the frame back to librealsense */

  if (priv->count == 0)
    GST_INFO_OBJECT(self,
                    "first frame (#%" G_GUINT64_FORMAT ") %" G_GINT64_FORMAT
                    " ms after start, pts %" GST_TIME_FORMAT,
                    f.number, (g_get_monotonic_time() - priv->started_us) / 1000,
                    GST_TIME_ARGS(pts));
  priv->count++;
  *outbuf = buffer;
  return GST_FLOW_OK;
}

static void gst_realsense_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                           GParamSpec *pspec)
{
  auto *self = GST_REALSENSE_SRC(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  Settings &s = self->priv->settings;
  auto str = [value]() {
    const char *v = g_value_get_string(value);
    return std::string(v ? v : "");
  };
  switch (prop_id) {
    case PROP_STREAM:
      s.stream = GstRealsenseStream(g_value_get_enum(value));
      break;
    case PROP_STREAM_INDEX:
      s.stream_index = g_value_get_int(value);
      break;
    case PROP_SERIAL:
      s.serial = str();
      break;
    case PROP_ALIGN:
      s.align = GstRealsenseAlign(g_value_get_enum(value));
      break;
    case PROP_PLAYBACK_FILE:
      s.playback_file = str();
      break;
    case PROP_LOOP:
      s.loop = g_value_get_boolean(value);
      break;
    case PROP_LIBRARY_PATH:
      s.library_path = str();
      break;
    case PROP_TIMEOUT:
      s.timeout_ms = g_value_get_uint(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_realsense_src_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec)
{
  auto *self = GST_REALSENSE_SRC(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  const Settings &s = self->priv->settings;
  auto set_str = [value](const std::string &v) {
    g_value_set_string(value, v.empty() ? nullptr : v.c_str());
  };
  switch (prop_id) {
    case PROP_STREAM:
      g_value_set_enum(value, s.stream);
      break;
    case PROP_STREAM_INDEX:
      g_value_set_int(value, s.stream_index);
      break;
    case PROP_SERIAL:
      set_str(s.serial);
      break;
    case PROP_ALIGN:
      g_value_set_enum(value, s.align);
      break;
    case PROP_PLAYBACK_FILE:
      set_str(s.playback_file);
      break;
    case PROP_LOOP:
      g_value_set_boolean(value, s.loop);
      break;
    case PROP_LIBRARY_PATH:
      set_str(s.library_path);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint(value, s.timeout_ms);
      break;
    case PROP_DEPTH_UNIT:
      g_value_set_double(value, tidy_float(self->priv->depth_unit.load()));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_realsense_src_finalize(GObject *object)
{
  auto *self = GST_REALSENSE_SRC(object);
  if (self->priv->pool)
    gst_object_unref(self->priv->pool);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_realsense_src_init(GstRealsenseSrc *self)
{
  self->priv = new GstRealsenseSrcPrivate();
  gst_video_info_init(&self->priv->info);
  gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}

static void gst_realsense_src_class_init(GstRealsenseSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_realsense_src_debug, "realsensesrc", 0,
                          "Intel RealSense camera source");
  register_depth_metas();

  gobject_class->set_property = gst_realsense_src_set_property;
  gobject_class->get_property = gst_realsense_src_get_property;
  gobject_class->finalize = gst_realsense_src_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_STREAM,
      g_param_spec_enum("stream", "Stream",
                        "Which of the camera's streams this element delivers; elements naming "
                        "the same camera share it.",
                        gst_realsense_stream_get_type(), GST_REALSENSE_STREAM_COLOR, flags));
  g_object_class_install_property(
      gobject_class, PROP_STREAM_INDEX,
      g_param_spec_int("stream-index", "Stream index",
                       "Index of the stream among those of its kind (infrared: 1 is the left "
                       "imager, 2 the right); -1 takes the lowest the camera has.",
                       -1, 16, -1, flags));
  g_object_class_install_property(
      gobject_class, PROP_SERIAL,
      g_param_spec_string("serial", "Serial number",
                          "Serial number of the camera to use; unset uses the first camera "
                          "librealsense2 lists. Ignored with playback-file.",
                          nullptr, flags));
  g_object_class_install_property(
      gobject_class, PROP_ALIGN,
      g_param_spec_enum("align", "Align",
                        "With stream=depth, color maps depth into the colour camera's "
                        "geometry (its width and height), pixel for pixel.",
                        gst_realsense_align_get_type(), GST_REALSENSE_ALIGN_NONE, flags));
  g_object_class_install_property(
      gobject_class, PROP_PLAYBACK_FILE,
      g_param_spec_string("playback-file", "Playback file",
                          "A RealSense .bag recording to play at its recorded pace instead of "
                          "a camera; unset uses a camera.",
                          nullptr, flags));
  g_object_class_install_property(
      gobject_class, PROP_LOOP,
      g_param_spec_boolean("loop", "Loop",
                           "Play the recording again from the start when it ends, instead of "
                           "ending the stream.",
                           FALSE, flags));
  g_object_class_install_property(
      gobject_class, PROP_LIBRARY_PATH,
      g_param_spec_string("library-path", "Library path",
                          "The librealsense2 library file to load; unset uses "
                          "$LIVECAST_REALSENSE_LIBRARY, else the system's librealsense2.",
                          nullptr, flags));
  g_object_class_install_property(
      gobject_class, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout",
                        "Milliseconds without a frame after which streaming fails with an "
                        "error; 0 waits for ever.",
                        0, G_MAXUINT, kDefaultTimeoutMs, flags));
  g_object_class_install_property(
      gobject_class, PROP_DEPTH_UNIT,
      g_param_spec_double("depth-unit", "Depth unit",
                          "Metres per step of the depth values (0.001: a value of 1000 is one "
                          "metre); 0 until the camera is open.",
                          0, G_MAXDOUBLE, 0,
                          static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Intel RealSense source", "Source/Video/Hardware",
      "Colour, depth or infrared video from an Intel RealSense camera or recording",
      "livecast developers");

  basesrc_class->start = gst_realsense_src_start;
  basesrc_class->stop = gst_realsense_src_stop;
  basesrc_class->get_caps = gst_realsense_src_get_caps;
  basesrc_class->negotiate = gst_realsense_src_negotiate;
  basesrc_class->set_caps = gst_realsense_src_set_caps;
  basesrc_class->query = gst_realsense_src_query;
  basesrc_class->unlock = gst_realsense_src_unlock;
  basesrc_class->unlock_stop = gst_realsense_src_unlock_stop;
  pushsrc_class->create = gst_realsense_src_create;

  gst_type_mark_as_plugin_api(gst_realsense_stream_get_type(), GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(gst_realsense_align_get_type(), GstPluginAPIFlags(0));
}
