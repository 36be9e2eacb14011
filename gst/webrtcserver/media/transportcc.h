/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Turning transport-wide congestion control on for one viewer, the way
 * webrtcbin 1.22 needs it:
 *  - the answer must carry the offer's a=extmap for the transport-cc URI,
 *    or Chromium sends no transport-cc feedback. webrtcbin answers with the
 *    intersection of the offer's caps and the transceiver's codec
 *    preferences, and the offer's caps never carry extmap fields, so the
 *    codec preferences must: caps_with_transport_cc();
 *  - every RTP packet must already carry the extension when it reaches
 *    rtpbin: the RTPSession writes its transport-wide sequence number only
 *    into an extension that is there, and only when the send caps name it
 *    (extmap-<id>). A payloader with the rtphdrexttwcc extension does both:
 *    add_transport_cc().
 * Then viewerfeedback.h reads the sequence numbers leaving rtpbin and the
 * viewer's feedback. rtpextensions.h decides, for every viewer, whether it
 * gets the extension and with which id.
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <string>

#include "gstrefptr.h"

namespace livecast
{

extern const char kTransportCcUri[];

/* The id the offer's media section gives the transport-cc extension, or -1. */
int transport_cc_extension_id(const GstSDPMedia *media);

/* A copy of @caps (application/x-rtp) with extmap-<id> = the transport-cc URI. */
Ref<GstCaps> caps_with_transport_cc(const GstCaps *caps, int id);

/* Makes @payloader (a GstRTPBasePayload) write the extension with @id into
 * every packet. False and @error when it cannot. */
bool add_transport_cc(GstElement *payloader, int id, std::string &error);

}  // namespace livecast
