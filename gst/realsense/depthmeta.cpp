/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "depthmeta.h"

#include <gst/video/video.h>

#include <cstdio>

namespace livecast
{

void register_depth_metas()
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    static const gchar *depth_tags[] = {GST_META_TAG_VIDEO_STR, nullptr};
    static const gchar *no_tags[] = {nullptr};
    gst_meta_register_custom(LIVECAST_DEPTH_META_NAME, depth_tags, nullptr, nullptr, nullptr);
    gst_meta_register_custom(LIVECAST_REALSENSE_META_NAME, no_tags, nullptr, nullptr, nullptr);
    g_once_init_leave(&once, 1);
  }
}

void add_depth_meta(GstBuffer *buffer, double unit)
{
  GstCustomMeta *meta = gst_buffer_add_custom_meta(buffer, LIVECAST_DEPTH_META_NAME);
  if (!meta)
    return;
  GstStructure *s = gst_custom_meta_get_structure(meta);
  gst_structure_set(s, "unit", G_TYPE_DOUBLE, unit, nullptr);
}

double buffer_depth_unit(GstBuffer *buffer)
{
  GstCustomMeta *meta = gst_buffer_get_custom_meta(buffer, LIVECAST_DEPTH_META_NAME);
  gdouble unit = 0;
  if (!meta || !gst_structure_get_double(gst_custom_meta_get_structure(meta), "unit", &unit) ||
      !(unit > 0))
    return 0;
  return unit;
}

double tidy_float(float value)
{
  /* A float holds about 7 significant digits: print those, read them back. */
  char text[32];
  g_snprintf(text, sizeof text, "%.7g", double(value));
  return g_ascii_strtod(text, nullptr);
}

}  // namespace livecast
