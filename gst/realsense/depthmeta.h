/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Metadata realsensesrc attaches to its buffers, as GstCustomMeta: any
 * application or element reads it by name, without a header of ours.
 *
 * "LivecastDepthMeta" on every depth buffer; its structure holds:
 *   unit (gdouble)  metres per step of the GRAY16 sample values
 *                   (0.001 on most RealSense cameras: a value of 1500 is 1.5 m)
 * Tagged "video": videoscale, videoflip and the like keep it (the unit does
 * not change with the picture's geometry); elements that do not know the
 * tag drop it. depthcolorize reads it and drops it. videoconvert keeps it
 * too, even where it changes the sample values (GRAY16 to GRAY8): convert
 * depth only after reading the unit.
 *
 * "LivecastRealsenseMeta" on every buffer; its structure holds:
 *   serial (gchararray)            the camera's serial number
 *   stream (gchararray)            "color", "depth" or "infrared"
 *   frame-number (guint64)         the camera's frame counter
 *   timestamp (gdouble)            the camera's timestamp, milliseconds
 *   timestamp-domain (gchararray)  "hardware-clock", "system-time" (host wall
 *                                  clock) or "global-time" (camera clock
 *                                  mapped to the host wall clock)
 * No tags: every element copies it.
 *
 * Reading the depth unit in C:
 *   GstCustomMeta *m = gst_buffer_get_custom_meta (buffer, "LivecastDepthMeta");
 *   gdouble unit;
 *   if (m && gst_structure_get_double (gst_custom_meta_get_structure (m), "unit", &unit))
 *     ...
 */
#pragma once

#include <gst/gst.h>

#define LIVECAST_DEPTH_META_NAME "LivecastDepthMeta"
#define LIVECAST_REALSENSE_META_NAME "LivecastRealsenseMeta"

namespace livecast
{

/* Registers both metas (once; any thread). */
void register_depth_metas();

/* Attaches the depth unit to @buffer (writable). */
void add_depth_meta(GstBuffer *buffer, double unit);

/* The depth unit @buffer carries, or 0 when it carries none. */
double buffer_depth_unit(GstBuffer *buffer);

/* A float from librealsense (0.001f) as the double it stands for (0.001). */
double tidy_float(float value);

}  // namespace livecast
