/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_DEPTH_COLORIZE (gst_depth_colorize_get_type())
G_DECLARE_FINAL_TYPE(GstDepthColorize, gst_depth_colorize, GST, DEPTH_COLORIZE, GstVideoFilter)

typedef enum {
  GST_DEPTH_COLORMAP_TURBO = 0,
  GST_DEPTH_COLORMAP_JET = 1,
  GST_DEPTH_COLORMAP_GRAYSCALE = 2,
} GstDepthColormap;

GST_ELEMENT_REGISTER_DECLARE(depthcolorize);

G_END_DECLS
