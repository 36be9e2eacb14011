/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sdpoffer.h"

#include <gst/pbutils/pbutils.h>
#include <gst/sdp/sdp.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

namespace livecast
{

namespace
{

struct SdpMessageDeleter {
  void operator()(GstSDPMessage *m) const { gst_sdp_message_free(m); }
};

bool ascii_iequals(const char *a, const char *b)
{
  return a && b && g_ascii_strcasecmp(a, b) == 0;
}

/* Value of @key in an fmtp parameter string such as
 * "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f". */
std::string fmtp_value(const std::string &params, const char *key)
{
  std::istringstream in(params);
  std::string item;
  while (std::getline(in, item, ';')) {
    auto start = item.find_first_not_of(' ');
    if (start == std::string::npos)
      continue;
    item = item.substr(start);
    auto eq = item.find('=');
    if (eq == std::string::npos)
      continue;
    if (g_ascii_strcasecmp(item.substr(0, eq).c_str(), key) == 0)
      return item.substr(eq + 1);
  }
  return {};
}

/* The fmtp parameter string for payload type @pt in @media ("" if none). */
std::string fmtp_for(const GstSDPMedia *media, int pt)
{
  const std::string prefix = std::to_string(pt) + " ";
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(attr->key, "fmtp") == 0 && attr->value &&
        g_str_has_prefix(attr->value, prefix.c_str()))
      return std::string(attr->value + prefix.size());
  }
  return {};
}

/* Encoding name and clock rate from "a=rtpmap:<pt> <name>/<rate>[/<channels>]". */
bool rtpmap_for(const GstSDPMedia *media, int pt, std::string &name, int &clock_rate)
{
  const std::string prefix = std::to_string(pt) + " ";
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(attr->key, "rtpmap") != 0 || !attr->value ||
        !g_str_has_prefix(attr->value, prefix.c_str()))
      continue;
    std::string rest(attr->value + prefix.size());
    auto slash = rest.find('/');
    name = rest.substr(0, slash);
    clock_rate = slash == std::string::npos ? 0 : std::atoi(rest.c_str() + slash + 1);
    return true;
  }
  return false;
}

const char *attribute_value(const GstSDPMessage *msg, const GstSDPMedia *media, const char *key)
{
  const char *v = gst_sdp_media_get_attribute_val(media, key);
  return v ? v : gst_sdp_message_get_attribute_val(msg, key);
}

/* The direction attribute of a media section (sendrecv when absent). */
std::string media_direction(const GstSDPMessage *msg, const GstSDPMedia *media)
{
  for (const char *dir : {"sendrecv", "sendonly", "recvonly", "inactive"}) {
    if (gst_sdp_media_get_attribute_val(media, dir))
      return dir;
  }
  for (const char *dir : {"sendrecv", "sendonly", "recvonly", "inactive"}) {
    if (gst_sdp_message_get_attribute_val(msg, dir))
      return dir;
  }
  return "sendrecv";
}

/* Whether an offered H.264 payload carries the stream's own profile with
 * packetization-mode 1 (single NAL units only would need another payloader). */
bool h264_matches(const std::string &fmtp, const std::string &profile)
{
  if (fmtp_value(fmtp, "packetization-mode") != "1")
    return false;
  std::string plid = fmtp_value(fmtp, "profile-level-id");
  if (plid.empty())
    plid = "42000a"; /* RFC 6184 default: baseline, level 1.0 */
  if (plid.size() != 6)
    return false;
  const unsigned long value = std::strtoul(plid.c_str(), nullptr, 16);
  /* profile_idc, constraint flags, level_idc: the start of an SPS. */
  const guint8 sps[3] = {static_cast<guint8>(value >> 16), static_cast<guint8>(value >> 8),
                         static_cast<guint8>(value)};
  const char *offered = gst_codec_utils_h264_get_profile(sps, sizeof sps);
  return offered && profile == offered;
}

bool codec_matches(const SentVideo &sent, const std::string &name, int clock_rate,
                   const std::string &fmtp)
{
  if (!ascii_iequals(name.c_str(), video_codec_encoding_name(sent.codec)) || clock_rate != 90000)
    return false;
  switch (sent.codec) {
    case VideoCodec::H264:
      return h264_matches(fmtp, sent.h264_profile);
    case VideoCodec::VP8:
      return true;
    case VideoCodec::VP9: {
      const std::string profile = fmtp_value(fmtp, "profile-id");
      return profile.empty() || profile == "0";
    }
  }
  return false;
}

/* The first recvonly or sendrecv video section of @msg offering @sent's
 * codec, and the first of its payload types that does (the offer lists
 * them by preference); false when there is none. */
bool find_video_payload(const GstSDPMessage *msg, const SentVideo &sent, guint &mline, int &pt)
{
  for (guint i = 0; i < gst_sdp_message_medias_len(msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media(msg, i);
    if (gst_sdp_media_get_port(media) == 0 ||
        g_strcmp0(gst_sdp_media_get_media(media), "video") != 0)
      continue;
    const std::string direction = media_direction(msg, media);
    if (direction == "sendonly" || direction == "inactive")
      continue;
    for (guint f = 0; f < gst_sdp_media_formats_len(media); f++) {
      const int format = std::atoi(gst_sdp_media_get_format(media, f));
      std::string name;
      int clock_rate = 0;
      if (rtpmap_for(media, format, name, clock_rate) &&
          codec_matches(sent, name, clock_rate, fmtp_for(media, format))) {
        mline = i;
        pt = format;
        return true;
      }
    }
  }
  return false;
}

/* Caps for one payload type, limited to what describes the codec and its
 * feedback, so webrtcbin's answer mirrors the offer's payload type. */
Ref<GstCaps> caps_for_payload(const GstSDPMedia *media, int pt)
{
  Ref<GstCaps> caps = Ref<GstCaps>::adopt(gst_sdp_media_get_caps_from_media(media, pt));
  if (!caps)
    return caps;
  caps = Ref<GstCaps>::adopt(gst_caps_make_writable(caps.release()));
  GstStructure *s = gst_caps_get_structure(caps.get(), 0);
  gst_structure_set_name(s, "application/x-rtp");
  /* The profile and level are those of our encoder's stream (checked to be
   * decodable by the viewer when scoring the offer); left in, they would
   * clash with the payloader's caps taken from the SPS and fail
   * negotiation. complete_answer_fmtp() echoes the offer's value back. */
  gst_structure_remove_fields(s, "profile-level-id", "profile", "level", nullptr);
  return caps;
}

/* Fills @audio from an audio section offering Opus (48 kHz, 2 channels as
 * RFC 7587 writes it) in a direction that carries something. */
void find_opus(const GstSDPMessage *msg, const GstSDPMedia *media, guint index, OfferedAudio &audio)
{
  const std::string direction = media_direction(msg, media);
  if (direction == "inactive")
    return;
  for (guint f = 0; f < gst_sdp_media_formats_len(media); f++) {
    const int pt = std::atoi(gst_sdp_media_get_format(media, f));
    std::string name;
    int clock_rate = 0;
    if (!rtpmap_for(media, pt, name, clock_rate) || !ascii_iequals(name.c_str(), "opus") ||
        clock_rate != 48000)
      continue;
    Ref<GstCaps> caps = caps_for_payload(media, pt);
    if (!caps)
      return;
    const char *mid = gst_sdp_media_get_attribute_val(media, "mid");
    audio.present = true;
    audio.mline = index;
    audio.mid = mid ? mid : "";
    audio.payload_type = pt;
    audio.caps = caps;
    audio.viewer_receives = direction == "recvonly" || direction == "sendrecv";
    audio.viewer_sends = direction == "sendonly" || direction == "sendrecv";
    return;
  }
}

}  // namespace

const char *video_codec_encoding_name(VideoCodec codec)
{
  switch (codec) {
    case VideoCodec::H264:
      return "H264";
    case VideoCodec::VP8:
      return "VP8";
    case VideoCodec::VP9:
      return "VP9";
  }
  return "";
}

ParsedOffer parse_offer(const std::string &sdp_text)
{
  ParsedOffer parsed;
  auto refuse = [&parsed](std::string message) {
    parsed.status = 400;
    parsed.message = std::move(message);
    return parsed;
  };
  if (sdp_text.empty())
    return refuse("The request body is empty; send an SDP offer.");
  if (sdp_text.compare(0, 2, "v=") != 0)
    return refuse("The body is not an SDP offer: it must start with \"v=0\".");
  /* GstSdp copies fmtp names and values into caps, which must be UTF-8
   * (GStreamer warns on each invalid one); SDP text is UTF-8 anyway. */
  if (!g_utf8_validate(sdp_text.data(), static_cast<gssize>(sdp_text.size()), nullptr))
    return refuse("The SDP offer is not valid UTF-8 text.");

  GstSDPMessage *raw = nullptr;
  gst_sdp_message_new(&raw);
  SharedSdp msg(raw, SdpMessageDeleter());
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8 *>(sdp_text.data()),
                                   sdp_text.size(), msg.get()) != GST_SDP_OK)
    return refuse("The SDP offer could not be parsed.");
  parsed.sdp = std::move(msg);
  return parsed;
}

OfferCheck check_offer(const std::string &sdp_text, const SentVideo &sent)
{
  return check_offer(parse_offer(sdp_text), sent);
}

OfferCheck check_offer(const ParsedOffer &offer, const SentVideo &sent)
{
  const VideoCodec codec = sent.codec;
  OfferCheck result;
  auto refuse = [&result](int status, std::string message) {
    result.ok = false;
    result.status = status;
    result.message = std::move(message);
    result.sdp.reset();
    return result;
  };
  if (!offer.sdp)
    return refuse(offer.status, offer.message);
  const SharedSdp &msg = offer.sdp;
  result.sdp = msg;

  const guint n_media = gst_sdp_message_medias_len(msg.get());
  if (n_media == 0)
    return refuse(400, "The SDP offer has no media section (m= line).");

  bool saw_video = false;
  for (guint i = 0; i < n_media; i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media(msg.get(), i);
    const char *mid = gst_sdp_media_get_attribute_val(media, "mid");
    result.video.mids.emplace_back(mid ? mid : "");

    const char *ufrag = attribute_value(msg.get(), media, "ice-ufrag");
    const char *pwd = attribute_value(msg.get(), media, "ice-pwd");
    const char *fingerprint = attribute_value(msg.get(), media, "fingerprint");
    if (!gst_sdp_media_get_media(media) || !gst_sdp_media_get_proto(media))
      return refuse(400, "An m= line of the SDP offer is incomplete.");
    if (gst_sdp_media_get_port(media) == 0)
      continue; /* rejected or bundled-only section */
    if (!ufrag || !pwd)
      return refuse(400, "The SDP offer has no ICE credentials (a=ice-ufrag and a=ice-pwd).");
    if (!fingerprint)
      return refuse(400, "The SDP offer has no DTLS fingerprint (a=fingerprint).");
    if (g_strcmp0(gst_sdp_media_get_media(media), "audio") == 0) {
      if (!result.audio.present)
        find_opus(msg.get(), media, i, result.audio);
      continue;
    }
    if (g_strcmp0(gst_sdp_media_get_media(media), "video") != 0)
      continue;
    saw_video = true;
  }

  if (!saw_video)
    return refuse(400, "The SDP offer has no video section; add a recvonly video transceiver.");
  SentVideo vp8;
  vp8.codec = VideoCodec::VP8;
  guint mline = 0;
  int pt = -1;
  result.video.codec = codec;
  if (!find_video_payload(msg.get(), sent, mline, pt)) {
    const bool offers_vp8 =
        codec != VideoCodec::VP8 && find_video_payload(msg.get(), vp8, mline, pt);
    if (!offers_vp8 || !sent.vp8_on_demand) {
      std::string message =
          std::string("The offer has no video codec this stream sends: it needs ") +
          video_codec_encoding_name(codec);
      if (codec == VideoCodec::H264)
        message += " (" + sent.h264_profile + " profile, packetization-mode=1)";
      if (sent.vp8_on_demand)
        message += " or VP8";
      message += " in a recvonly or sendrecv video section.";
      /* Why its VP8 does not help. */
      if (offers_vp8 && !sent.encoded_here)
        message += std::string(" It offers VP8, but this stream's input is already encoded ") +
                   video_codec_encoding_name(codec) +
                   ", passed through as it is: there is no raw video to encode VP8 from.";
      else if (offers_vp8)
        message += " It offers VP8, but this server has no VP8 encoder (vp8enc, rtpvp8pay).";
      return refuse(406, message);
    }
    result.video.codec = VideoCodec::VP8;
  }

  const GstSDPMedia *chosen = gst_sdp_message_get_media(msg.get(), mline);
  const char *chosen_mid = gst_sdp_media_get_attribute_val(chosen, "mid");
  result.video.mline = mline;
  result.video.mid = chosen_mid ? chosen_mid : "";
  result.video.payload_type = pt;
  result.video.ice_ufrag = attribute_value(msg.get(), chosen, "ice-ufrag");
  result.video.ice_pwd = attribute_value(msg.get(), chosen, "ice-pwd");

  const GstSDPMedia *media = gst_sdp_message_get_media(msg.get(), result.video.mline);
  result.video.caps = caps_for_payload(media, result.video.payload_type);
  result.video.extmaps = media_extmaps(media);
  if (result.video.codec == VideoCodec::H264)
    result.video.profile_level_id =
        fmtp_value(fmtp_for(media, result.video.payload_type), "profile-level-id");
  if (!result.video.caps)
    return refuse(400, "The chosen video payload type of the offer could not be read.");
  result.dtls_fingerprints = sdp_dtls_fingerprints(msg.get(), result.video.mline);
  if (result.dtls_fingerprints.empty())
    return refuse(400,
                  "The DTLS fingerprint of the SDP offer is malformed; it must read "
                  "\"a=fingerprint:sha-256 AB:CD:…\".");
  bool checkable = false;
  for (const DtlsFingerprint &f : result.dtls_fingerprints)
    checkable = checkable || dtls_fingerprint_algorithm_supported(f.algorithm);
  if (!checkable)
    return refuse(400,
                  "The DTLS fingerprint of the SDP offer uses a hash this server cannot "
                  "check; use sha-256.");
  result.ok = true;
  result.status = 0;
  return result;
}

void complete_answer_fmtp(GstSDPMessage *answer, const OfferedVideo &video)
{
  if (video.profile_level_id.empty() || video.mline >= gst_sdp_message_medias_len(answer))
    return;
  GstSDPMedia *media = const_cast<GstSDPMedia *>(gst_sdp_message_get_media(answer, video.mline));
  const std::string prefix = std::to_string(video.payload_type) + " ";
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++) {
    const GstSDPAttribute *attr = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(attr->key, "fmtp") != 0 || !attr->value ||
        !g_str_has_prefix(attr->value, prefix.c_str()))
      continue;
    const std::string params(attr->value + prefix.size());
    /* Whatever webrtcbin took from our SPS (when the payloader had caps in
     * time) gives way to the value the viewer offered for this profile. */
    std::string kept;
    gchar **items = g_strsplit(params.c_str(), ";", -1);
    for (gchar **item = items; *item; item++) {
      std::string p = *item;
      p.erase(0, p.find_first_not_of(' '));
      if (p.empty() || g_ascii_strncasecmp(p.c_str(), "profile-level-id=", 17) == 0)
        continue;
      kept += (kept.empty() ? "" : ";") + p;
    }
    g_strfreev(items);
    GstSDPAttribute replacement; /* its strings are taken over by the media */
    const std::string value =
        prefix + kept + (kept.empty() ? "" : ";") + "profile-level-id=" + video.profile_level_id;
    gst_sdp_attribute_set(&replacement, "fmtp", value.c_str());
    gst_sdp_media_replace_attribute(media, i, &replacement);
    return;
  }
  const std::string value = prefix + "profile-level-id=" + video.profile_level_id;
  gst_sdp_media_add_attribute(media, "fmtp", value.c_str());
}

std::vector<RtpExtmap> media_extmaps(const GstSDPMedia *media)
{
  std::vector<RtpExtmap> out;
  if (!media)
    return out;
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
    if (g_strcmp0(a->key, "extmap") != 0 || !a->value)
      continue;
    const char *v = a->value;
    char *end = nullptr;
    const long id = std::strtol(v, &end, 10);
    if (end == v || id < 1 || id > 255 || (*end != '/' && *end != ' '))
      continue;
    const char *uri = std::strchr(end, ' ');
    if (!uri || !uri[1])
      continue;
    uri++;
    const char *uri_end = std::strchr(uri, ' ');
    out.push_back(
        RtpExtmap{static_cast<int>(id), uri_end ? std::string(uri, uri_end) : std::string(uri)});
  }
  return out;
}

SdpFragment parse_sdp_fragment(const std::string &text)
{
  SdpFragment frag;
  std::istringstream in(text);
  std::string line;
  std::string current_mid;
  int current_mline = -1;
  int mline_counter = -1;
  bool any_line = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    any_line = true;
    if (line.size() < 2 || line[1] != '=') {
      frag.error = "Line \"" + line.substr(0, 40) + "\" is not an SDP line.";
      return frag;
    }
    if (line[0] == 'm') {
      mline_counter++;
      current_mline = mline_counter;
      current_mid.clear();
      continue;
    }
    if (line[0] != 'a')
      continue;
    const std::string attr = line.substr(2);
    if (attr.rfind("ice-ufrag:", 0) == 0) {
      frag.ice_ufrag = attr.substr(10);
    } else if (attr.rfind("ice-pwd:", 0) == 0) {
      frag.ice_pwd = attr.substr(8);
    } else if (attr.rfind("mid:", 0) == 0) {
      current_mid = attr.substr(4);
    } else if (attr == "end-of-candidates") {
      frag.end_of_candidates = true;
    } else if (attr.rfind("candidate:", 0) == 0) {
      /* foundation component transport priority address port "typ" type */
      std::istringstream fields(attr.substr(10));
      std::vector<std::string> parts;
      std::string part;
      while (fields >> part)
        parts.push_back(part);
      if (parts.size() < 8 || parts[6] != "typ") {
        frag.error = "Candidate \"" + attr.substr(0, 60) + "\" is malformed.";
        return frag;
      }
      TrickleCandidate c;
      c.mid = current_mid;
      c.mline = current_mline;
      c.candidate = attr;
      frag.candidates.push_back(std::move(c));
    }
  }
  if (!any_line) {
    frag.error = "The trickle-ICE fragment is empty.";
    return frag;
  }
  frag.ok = true;
  return frag;
}

}  // namespace livecast
