/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one place that decides which RTP header extensions a viewer's video
 * carries. The same choice goes into the answer (the transceiver's codec
 * preferences: webrtcbin 1.22 answers an a=extmap only when they name it)
 * and onto the payloader, which writes the extensions into every packet:
 *  - transport-cc (transportcc.h): Chromium sends transport-wide feedback
 *    instead of REMB alone, which media/viewerfeedback.h reads;
 *  - playout-delay (playoutdelay.h), min = max = the sink's playout-delay:
 *    Chromium shows each frame as soon as it is decoded.
 * Each keeps the id the viewer's offer gave it; only one-byte ids (1-14)
 * are used (the payloader would otherwise switch every packet to two-byte
 * headers, which needs a=extmap-allow-mixed), and an id is never used twice.
 * When we make the offer ourselves (client mode) the ids are fixed
 * (our_video_extmaps).
 */
#pragma once

#include <gst/gst.h>
#include <gst/rtp/rtp.h>

#include <string>
#include <vector>

#include "gstrefptr.h"
#include "sdpoffer.h"

namespace livecast
{

constexpr int kMaxOneByteExtensionId = 14;

/* The extensions of one viewer's video and their ids (-1: not carried). */
struct VideoExtensions {
  int transport_cc_id = -1;
  int playout_delay_id = -1;
  guint playout_delay_ms = 0; /* min = max */
};

/* From the extmaps the offer's video section names (OfferedVideo::extmaps):
 * transport-cc whenever offered, playout-delay when offered and
 * @playout_delay_ms >= 0 (-1: the sink's playout-delay is off). */
VideoExtensions choose_video_extensions(const std::vector<RtpExtmap> &offered,
                                        int playout_delay_ms);

/* The extmaps our own offer names, with fixed ids, as a viewer's would. */
std::vector<RtpExtmap> our_video_extmaps();

/* A copy of @caps (application/x-rtp) with extmap-<id> = @uri. */
Ref<GstCaps> caps_with_extmap(const GstCaps *caps, int id, const char *uri);
/* A copy of @caps naming every extension of @ext (codec preferences). */
Ref<GstCaps> caps_with_extensions(const GstCaps *caps, const VideoExtensions &ext);

/* Hands @ext (a floating or owned reference, taken) to @payloader (a
 * GstRTPBasePayload). False and @error when it is not one. */
bool add_extension(GstElement *payloader, GstRTPHeaderExtension *ext, std::string &error);
/* Makes @payloader write every extension of @ext. */
bool add_extensions(GstElement *payloader, const VideoExtensions &ext, std::string &error);

}  // namespace livecast
