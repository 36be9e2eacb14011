/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The realsense plugin: realsensesrc and depthcolorize. It registers its
 * elements whether librealsense2 is installed or not: the library is only
 * loaded when a realsensesrc starts (see rsloader.h), so plugin_init never
 * fails for want of it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstdepthcolorize.h"
#include "gstrealsensesrc.h"

static gboolean plugin_init(GstPlugin *plugin)
{
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(realsensesrc, plugin);
  ok |= GST_ELEMENT_REGISTER(depthcolorize, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, realsense,
                  "Intel RealSense colour, depth and infrared (librealsense2 loaded at run time)",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
