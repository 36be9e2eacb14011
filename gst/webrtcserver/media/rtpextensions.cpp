/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rtpextensions.h"

#include <gst/rtp/rtp.h>

#include <set>

#include "playoutdelay.h"
#include "transportcc.h"

namespace livecast
{

namespace
{

/* Our own offer's ids: any two distinct one-byte ids do. */
constexpr int kOurTransportCcId = 1;
constexpr int kOurPlayoutDelayId = 2;

}  // namespace

VideoExtensions choose_video_extensions(const std::vector<RtpExtmap> &offered, int playout_delay_ms)
{
  VideoExtensions ext;
  std::set<int> used;
  for (const RtpExtmap &e : offered) {
    if (e.id < 1 || e.id > kMaxOneByteExtensionId || used.count(e.id))
      continue;
    if (e.uri == kTransportCcUri && ext.transport_cc_id < 0) {
      ext.transport_cc_id = e.id;
      used.insert(e.id);
    } else if (e.uri == kPlayoutDelayUri && ext.playout_delay_id < 0 && playout_delay_ms >= 0) {
      ext.playout_delay_id = e.id;
      ext.playout_delay_ms = static_cast<guint>(playout_delay_ms);
      used.insert(e.id);
    }
  }
  return ext;
}

std::vector<RtpExtmap> our_video_extmaps()
{
  return {{kOurTransportCcId, kTransportCcUri}, {kOurPlayoutDelayId, kPlayoutDelayUri}};
}

Ref<GstCaps> caps_with_extmap(const GstCaps *caps, int id, const char *uri)
{
  GstCaps *copy = gst_caps_copy(caps);
  const std::string field = "extmap-" + std::to_string(id);
  for (guint i = 0; i < gst_caps_get_size(copy); i++)
    gst_structure_set(gst_caps_get_structure(copy, i), field.c_str(), G_TYPE_STRING, uri, nullptr);
  return Ref<GstCaps>::adopt(copy);
}

Ref<GstCaps> caps_with_extensions(const GstCaps *caps, const VideoExtensions &ext)
{
  Ref<GstCaps> out = Ref<GstCaps>::adopt(gst_caps_copy(caps));
  if (ext.transport_cc_id > 0)
    out = caps_with_extmap(out.get(), ext.transport_cc_id, kTransportCcUri);
  if (ext.playout_delay_id > 0)
    out = caps_with_extmap(out.get(), ext.playout_delay_id, kPlayoutDelayUri);
  return out;
}

bool add_extension(GstElement *payloader, GstRTPHeaderExtension *ext, std::string &error)
{
  /* Takes @ext over: a new GstObject is floating (playout_delay_extension_new),
   * while gst_rtp_header_extension_create_from_uri() returns a full reference
   * already (sinking that one too would leak it). */
  if (g_object_is_floating(ext))
    gst_object_ref_sink(ext);
  Ref<GstRTPHeaderExtension> owned = Ref<GstRTPHeaderExtension>::adopt(ext);
  if (!payloader || !GST_IS_RTP_BASE_PAYLOAD(payloader)) {
    error = "not an RTP payloader";
    return false;
  }
  g_signal_emit_by_name(payloader, "add-extension", ext);
  return true;
}

bool add_extensions(GstElement *payloader, const VideoExtensions &ext, std::string &error)
{
  if (ext.transport_cc_id > 0 && !add_transport_cc(payloader, ext.transport_cc_id, error))
    return false;
  if (ext.playout_delay_id > 0 &&
      !add_extension(payloader,
                     playout_delay_extension_new(static_cast<guint>(ext.playout_delay_id),
                                                 ext.playout_delay_ms, ext.playout_delay_ms),
                     error))
    return false;
  return true;
}

}  // namespace livecast
