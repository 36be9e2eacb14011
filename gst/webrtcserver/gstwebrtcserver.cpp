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
#include "media/playoutdelay.h"

static gboolean plugin_init(GstPlugin *plugin)
{
  /* The plugin's own RTP header extension: a type, not an element factory,
   * so only webrtcserversink's payloaders use it (media/playoutdelay.h). */
  g_type_ensure(livecast::playout_delay_extension_get_type());
  return GST_ELEMENT_REGISTER(webrtcserversink, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, webrtcserver,
                  "Serve a live stream to web browsers over WebRTC (WHEP and a viewer page)",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
