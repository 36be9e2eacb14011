/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_REALSENSE_SRC (gst_realsense_src_get_type())
G_DECLARE_FINAL_TYPE(GstRealsenseSrc, gst_realsense_src, GST, REALSENSE_SRC, GstPushSrc)

typedef enum {
  GST_REALSENSE_STREAM_COLOR = 0,
  GST_REALSENSE_STREAM_DEPTH = 1,
  GST_REALSENSE_STREAM_INFRARED = 2,
} GstRealsenseStream;

typedef enum {
  GST_REALSENSE_ALIGN_NONE = 0,
  GST_REALSENSE_ALIGN_COLOR = 1,
} GstRealsenseAlign;

GST_ELEMENT_REGISTER_DECLARE(realsensesrc);

G_END_DECLS
