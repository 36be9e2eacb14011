/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SCREEN_CAP_SRC (gst_screen_cap_src_get_type())
G_DECLARE_FINAL_TYPE(GstScreenCapSrc, gst_screen_cap_src, GST, SCREEN_CAP_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE(screencapsrc);

G_END_DECLS
