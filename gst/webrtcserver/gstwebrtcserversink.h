/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WEBRTC_SERVER_SINK (gst_webrtc_server_sink_get_type())
G_DECLARE_FINAL_TYPE(GstWebRTCServerSink, gst_webrtc_server_sink, GST, WEBRTC_SERVER_SINK, GstBin)

#define GST_TYPE_WEBRTC_SERVER_SINK_VIDEO_CODEC (gst_webrtc_server_sink_video_codec_get_type())
GType gst_webrtc_server_sink_video_codec_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(webrtcserversink);

G_END_DECLS
