/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The screencap plugin: screencapsrc.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstscreencapsrc.h"

static gboolean plugin_init(GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER(screencapsrc, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, screencap,
                  "Live screen capture (XShm on X11)", plugin_init, VERSION, GST_LICENSE,
                  GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
