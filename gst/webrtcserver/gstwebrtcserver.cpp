/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The webrtcserver plugin: webrtcserversink.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstwebrtcserversink.h"

static gboolean plugin_init(GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER(webrtcserversink, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, webrtcserver,
                  "Serve a live stream to web browsers over WebRTC (WHEP and a viewer page)",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
