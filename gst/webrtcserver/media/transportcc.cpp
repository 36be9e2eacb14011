/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "transportcc.h"

#include <gst/rtp/rtp.h>

#include "rtpextensions.h"
#include "sdpoffer.h"

namespace livecast
{

const char kTransportCcUri[] =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

int transport_cc_extension_id(const GstSDPMedia *media)
{
  for (const RtpExtmap &e : media_extmaps(media)) {
    if (e.uri == kTransportCcUri && e.id <= kMaxOneByteExtensionId)
      return e.id;
  }
  return -1;
}

Ref<GstCaps> caps_with_transport_cc(const GstCaps *caps, int id)
{
  return caps_with_extmap(caps, id, kTransportCcUri);
}

bool add_transport_cc(GstElement *payloader, int id, std::string &error)
{
  GstRTPHeaderExtension *ext = gst_rtp_header_extension_create_from_uri(kTransportCcUri);
  if (!ext) {
    error = "the GStreamer element \"rtphdrexttwcc\" (gst-plugins-good, rtpmanager) is missing";
    return false;
  }
  gst_rtp_header_extension_set_id(ext, static_cast<guint>(id));
  return add_extension(payloader, ext, error);
}

}  // namespace livecast
