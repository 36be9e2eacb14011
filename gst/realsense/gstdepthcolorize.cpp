/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-depthcolorize
 * @title: depthcolorize
 *
 * Turns depth (GRAY16_LE, as realsensesrc stream=depth delivers it) into a
 * picture: each depth between #near and #far gets a colour of the
 * #colormap (turbo and jet run from blue at #near to red at #far, grayscale
 * from white to dark grey); nearer and farther depths get the end colours,
 * and 0, which means no depth was measured, is black. #near and #far are in
 * metres; -1 (the default) picks them from each frame (the 2nd and 98th
 * percentile of the measured depths). The depth unit (metres per step)
 * comes with each buffer ("LivecastDepthMeta", which realsensesrc attaches),
 * else from #depth-unit.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 realsensesrc stream=depth ! depthcolorize ! videoconvert ! autovideosink
 * gst-launch-1.0 realsensesrc stream=depth ! depthcolorize colormap=jet near=0.3 far=3 !
 * videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdepthcolorize.h"

#include <gst/video/video.h>

#include <array>
#include <cmath>
#include <mutex>
#include <vector>

#include "colormap.h"
#include "depthmeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_depth_colorize_debug);
#define GST_CAT_DEFAULT gst_depth_colorize_debug

using namespace livecast;

enum {
  PROP_0,
  PROP_COLORMAP,
  PROP_NEAR,
  PROP_FAR,
  PROP_DEPTH_UNIT,
};

constexpr double kAuto = -1.0;
constexpr double kDefaultUnit = 0.001;
/* Automatic range: these percentiles of the measured depths. */
constexpr double kAutoLow = 0.02, kAutoHigh = 0.98;

struct GstDepthColorizePrivate {
  std::mutex lock;
  GstDepthColormap colormap = GST_DEPTH_COLORMAP_TURBO;
  double near_m = kAuto, far_m = kAuto;
  double unit = kDefaultUnit;

  /* Streaming thread only. */
  std::vector<guint32> histogram;
  bool warned_no_unit = false;
};

struct _GstDepthColorize {
  GstVideoFilter parent;
  GstDepthColorizePrivate *priv;
};

#define gst_depth_colorize_parent_class parent_class
G_DEFINE_TYPE(GstDepthColorize, gst_depth_colorize, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(depthcolorize, "depthcolorize", GST_RANK_NONE, GST_TYPE_DEPTH_COLORIZE);

#define SIZE_AND_RATE \
  "width=(int)[1, 32767], height=(int)[1, 32767], framerate=(fraction)[0/1, 1000/1]"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format=(string)GRAY16_LE, " SIZE_AND_RATE));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format=(string){ RGBx, RGB }, " SIZE_AND_RATE));

static GType gst_depth_colormap_get_type()
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_DEPTH_COLORMAP_TURBO, "Turbo: dark blue, cyan, green, yellow, red", "turbo"},
      {GST_DEPTH_COLORMAP_JET, "Jet: blue, cyan, yellow, red", "jet"},
      {GST_DEPTH_COLORMAP_GRAYSCALE, "White (near) to dark grey (far)", "grayscale"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstDepthColormap", values));
  return type;
}

static GstCaps *gst_depth_colorize_transform_caps(GstBaseTransform *trans,
                                                  GstPadDirection direction, GstCaps *caps,
                                                  GstCaps *filter)
{
  GstCaps *out = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); i++) {
    GstStructure *s = gst_structure_copy(gst_caps_get_structure(caps, i));
    gst_structure_remove_fields(s, "format", "colorimetry", "chroma-site", nullptr);
    if (direction == GST_PAD_SINK) {
      GValue list = G_VALUE_INIT, v = G_VALUE_INIT;
      gst_value_list_init(&list, 2);
      g_value_init(&v, G_TYPE_STRING);
      g_value_set_static_string(&v, "RGBx");
      gst_value_list_append_value(&list, &v);
      g_value_set_static_string(&v, "RGB");
      gst_value_list_append_value(&list, &v);
      g_value_unset(&v);
      gst_structure_take_value(s, "format", &list);
    } else {
      gst_structure_set(s, "format", G_TYPE_STRING, "GRAY16_LE", nullptr);
    }
    out = gst_caps_merge_structure(out, s);
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full(filter, out, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(out);
    out = tmp;
  }
  GST_DEBUG_OBJECT(trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", caps, out);
  return out;
}

/* The raw depth at which the cumulative count of measured (non-zero)
 * depths reaches @fraction of them. */
static guint percentile(const std::vector<guint32> &hist, guint64 total, double fraction)
{
  const guint64 target = std::max<guint64>(1, guint64(std::ceil(double(total) * fraction)));
  guint64 sum = 0;
  for (guint v = 1; v < hist.size(); v++) {
    sum += hist[v];
    if (sum >= target)
      return v;
  }
  return guint(hist.size() - 1);
}

static GstFlowReturn gst_depth_colorize_transform_frame(GstVideoFilter *filter, GstVideoFrame *in,
                                                        GstVideoFrame *out)
{
  auto *self = GST_DEPTH_COLORIZE(filter);
  GstDepthColorizePrivate *priv = self->priv;
  GstDepthColormap colormap;
  double near_m, far_m, unit;
  {
    std::lock_guard<std::mutex> guard(priv->lock);
    colormap = priv->colormap;
    near_m = priv->near_m;
    far_m = priv->far_m;
    unit = priv->unit;
  }
  const double carried = buffer_depth_unit(in->buffer);
  if (carried > 0) {
    unit = carried;
  } else if (!priv->warned_no_unit) {
    priv->warned_no_unit = true;
    GST_INFO_OBJECT(self, "buffers carry no depth unit: using the depth-unit property, %g m", unit);
  }

  const int width = GST_VIDEO_FRAME_WIDTH(in), height = GST_VIDEO_FRAME_HEIGHT(in);
  const int in_stride = GST_VIDEO_FRAME_PLANE_STRIDE(in, 0);
  const int out_stride = GST_VIDEO_FRAME_PLANE_STRIDE(out, 0);
  const auto *src = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(in, 0));
  auto *dst = static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(out, 0));
  const int out_pixel = GST_VIDEO_FRAME_COMP_PSTRIDE(out, 0);

  /* The range in raw steps. */
  guint near_raw = 0, far_raw = 0;
  const bool auto_near = near_m < 0, auto_far = far_m < 0;
  if (auto_near || auto_far) {
    priv->histogram.assign(65536, 0);
    guint64 total = 0;
    for (int y = 0; y < height; y++) {
      const auto *row = reinterpret_cast<const guint16 *>(src + size_t(y) * in_stride);
      for (int x = 0; x < width; x++) {
        const guint16 v = GUINT16_FROM_LE(row[x]);
        if (v) {
          priv->histogram[v]++;
          total++;
        }
      }
    }
    if (total) {
      near_raw = percentile(priv->histogram, total, kAutoLow);
      far_raw = percentile(priv->histogram, total, kAutoHigh);
    }
  }
  if (!auto_near)
    near_raw = guint(std::min(65535.0, std::round(near_m / unit)));
  if (!auto_far)
    far_raw = guint(std::min(65535.0, std::round(far_m / unit)));
  if (far_raw <= near_raw)
    far_raw = near_raw + 1;
  GST_LOG_OBJECT(self, "range %u..%u steps (%.3f..%.3f m)", near_raw, far_raw, near_raw * unit,
                 far_raw * unit);

  const Palette &palette = colormap_palette(colormap);
  const guint64 span = far_raw - near_raw;
  const guint64 last = palette.size() - 1;
  for (int y = 0; y < height; y++) {
    const auto *row = reinterpret_cast<const guint16 *>(src + size_t(y) * in_stride);
    guint8 *o = dst + size_t(y) * out_stride;
    for (int x = 0; x < width; x++, o += out_pixel) {
      const guint v = GUINT16_FROM_LE(row[x]);
      if (v == 0) {
        o[0] = o[1] = o[2] = 0;
      } else {
        const guint64 i = v <= near_raw  ? 0
                          : v >= far_raw ? last
                                         : ((v - near_raw) * last * 2 + span) / (span * 2);
        const auto &c = palette[i];
        o[0] = c[0];
        o[1] = c[1];
        o[2] = c[2];
      }
      if (out_pixel == 4)
        o[3] = 0xff;
    }
  }
  return GST_FLOW_OK;
}

/* The output holds colours: the depth unit no longer applies to it. */
static gboolean gst_depth_colorize_transform_meta(GstBaseTransform *trans, GstBuffer *outbuf,
                                                  GstMeta *meta, GstBuffer *inbuf)
{
  if (gst_meta_info_is_custom(meta->info) &&
      gst_custom_meta_has_name(reinterpret_cast<GstCustomMeta *>(meta), LIVECAST_DEPTH_META_NAME))
    return FALSE;
  return GST_BASE_TRANSFORM_CLASS(parent_class)->transform_meta(trans, outbuf, meta, inbuf);
}

static void gst_depth_colorize_set_property(GObject *object, guint prop_id, const GValue *value,
                                            GParamSpec *pspec)
{
  auto *self = GST_DEPTH_COLORIZE(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  switch (prop_id) {
    case PROP_COLORMAP:
      self->priv->colormap = GstDepthColormap(g_value_get_enum(value));
      break;
    case PROP_NEAR:
      self->priv->near_m = g_value_get_double(value);
      break;
    case PROP_FAR:
      self->priv->far_m = g_value_get_double(value);
      break;
    case PROP_DEPTH_UNIT:
      self->priv->unit = g_value_get_double(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_depth_colorize_get_property(GObject *object, guint prop_id, GValue *value,
                                            GParamSpec *pspec)
{
  auto *self = GST_DEPTH_COLORIZE(object);
  std::lock_guard<std::mutex> guard(self->priv->lock);
  switch (prop_id) {
    case PROP_COLORMAP:
      g_value_set_enum(value, self->priv->colormap);
      break;
    case PROP_NEAR:
      g_value_set_double(value, self->priv->near_m);
      break;
    case PROP_FAR:
      g_value_set_double(value, self->priv->far_m);
      break;
    case PROP_DEPTH_UNIT:
      g_value_set_double(value, self->priv->unit);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
}

static void gst_depth_colorize_finalize(GObject *object)
{
  auto *self = GST_DEPTH_COLORIZE(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_depth_colorize_init(GstDepthColorize *self)
{
  self->priv = new GstDepthColorizePrivate();
}

static void gst_depth_colorize_class_init(GstDepthColorizeClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_depth_colorize_debug, "depthcolorize", 0, "Depth to colour picture");
  register_depth_metas();

  gobject_class->set_property = gst_depth_colorize_set_property;
  gobject_class->get_property = gst_depth_colorize_get_property;
  gobject_class->finalize = gst_depth_colorize_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_CONTROLLABLE | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_COLORMAP,
      g_param_spec_enum("colormap", "Colour map",
                        "Colours for depths from near to far; no depth (0) is always black.",
                        gst_depth_colormap_get_type(), GST_DEPTH_COLORMAP_TURBO, flags));
  g_object_class_install_property(
      gobject_class, PROP_NEAR,
      g_param_spec_double("near", "Near",
                          "Depth in metres that gets the first colour of the map (nearer "
                          "depths too); -1 takes the 2nd percentile of each frame's depths.",
                          -1, 1000, kAuto, flags));
  g_object_class_install_property(
      gobject_class, PROP_FAR,
      g_param_spec_double("far", "Far",
                          "Depth in metres that gets the last colour of the map (farther "
                          "depths too); -1 takes the 98th percentile of each frame's depths.",
                          -1, 1000, kAuto, flags));
  g_object_class_install_property(
      gobject_class, PROP_DEPTH_UNIT,
      g_param_spec_double("depth-unit", "Depth unit",
                          "Metres per depth step for buffers that do not carry their own "
                          "(realsensesrc's buffers do).",
                          1e-9, 1, kDefaultUnit, flags));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Depth colouriser", "Filter/Converter/Video",
      "Turns 16-bit depth into a colour picture, near to far along a colour map",
      "livecast developers");

  trans_class->transform_caps = gst_depth_colorize_transform_caps;
  trans_class->transform_meta = gst_depth_colorize_transform_meta;
  trans_class->passthrough_on_same_caps = FALSE;
  filter_class->transform_frame = gst_depth_colorize_transform_frame;

  gst_type_mark_as_plugin_api(gst_depth_colormap_get_type(), GstPluginAPIFlags(0));
}
