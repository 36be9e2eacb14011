/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "transportcc.h"

#include <gst/rtp/rtp.h>

#include <cstdlib>
#include <cstring>

namespace livecast
{

const char kTransportCcUri[] =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

int transport_cc_extension_id(const GstSDPMedia *media)
{
  if (!media)
    return -1;
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(a->key, "extmap") != 0 || !a->value)
      continue;
    /* "<id>[/<direction>] <uri> [<attributes>]" */
    const char *v = a->value;
    char *end = nullptr;
    const long id = std::strtol(v, &end, 10);
    if (end == v || id < 1 || id > 14) /* one-byte header ids only */
      continue;
    const char *space = std::strchr(end, ' ');
    if (!space)
      continue;
    const char *uri = space + 1;
    const std::size_t n = std::strlen(kTransportCcUri);
    if (std::strncmp(uri, kTransportCcUri, n) == 0 && (uri[n] == '\0' || uri[n] == ' '))
      return static_cast<int>(id);
  }
  return -1;
}

Ref<GstCaps> caps_with_transport_cc(const GstCaps *caps, int id)
{
  GstCaps *copy = gst_caps_copy(caps);
  const std::string field = "extmap-" + std::to_string(id);
  for (guint i = 0; i < gst_caps_get_size(copy); i++)
    gst_structure_set(gst_caps_get_structure(copy, i), field.c_str(), G_TYPE_STRING,
                      kTransportCcUri, nullptr);
  return Ref<GstCaps>::adopt(copy);
}

bool add_transport_cc(GstElement *payloader, int id, std::string &error)
{
  if (!payloader || !GST_IS_RTP_BASE_PAYLOAD(payloader)) {
    error = "not an RTP payloader";
    return false;
  }
  GstRTPHeaderExtension *ext = gst_rtp_header_extension_create_from_uri(kTransportCcUri);
  if (ext)
    gst_object_ref_sink(ext);
  if (!ext) {
    error = "the GStreamer element \"rtphdrexttwcc\" (gst-plugins-good, rtpmanager) is missing";
    return false;
  }
  gst_rtp_header_extension_set_id(ext, static_cast<guint>(id));
  g_signal_emit_by_name(payloader, "add-extension", ext);
  gst_object_unref(ext);
  return true;
}

}  // namespace livecast
