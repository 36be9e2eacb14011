/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reading a viewer's SDP offer: is it a valid offer, and which of its
 * payload types carries the codec we send? Pure functions on top of GstSdp,
 * no network and no GStreamer pipeline, so they are unit-tested directly.
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <memory>
#include <string>
#include <vector>

#include "dtlsfingerprint.h"
#include "gstrefptr.h"

namespace livecast
{

enum class VideoCodec { H264, VP8, VP9 };

/* "H264", "VP8", "VP9": the RTP encoding name. */
const char *video_codec_encoding_name(VideoCodec codec);

/* What the stream sends: the codec and, for H.264, its profile as GStreamer
 * names it ("constrained-baseline", "main", "high", ...). webrtcbin matches
 * H.264 payload types by exact profile, so an offer is answered with the
 * payload type of the very profile the stream is in. */
struct SentVideo {
  VideoCodec codec = VideoCodec::H264;
  std::string h264_profile = "constrained-baseline";
  /* The input is raw video, encoded here (false: passed through as it came). */
  bool encoded_here = false;
  /* A viewer whose offer lacks @codec but has VP8 gets VP8, encoded for it
   * from the same raw input (media/mediafanout.h): raw input, another
   * codec than VP8, and vp8enc and rtpvp8pay present. */
  bool vp8_on_demand = false;
};

/* One a=extmap of a media section: "<id>[/<direction>] <uri> [<attributes>]". */
struct RtpExtmap {
  int id = 0;
  std::string uri;
};

/* Every a=extmap @media declares, in order (malformed ones left out). */
std::vector<RtpExtmap> media_extmaps(const GstSDPMedia *media);

/* What the answer will send: the offer's m-line and payload type for our codec. */
struct OfferedVideo {
  /* The codec this viewer gets: the stream's own, or VP8 on demand. */
  VideoCodec codec = VideoCodec::H264;
  guint mline = 0;
  std::string mid;
  int payload_type = -1;
  /* application/x-rtp caps describing the chosen payload type exactly as the
   * offer declares it (fmtp and rtcp-fb included): used as the transceiver's
   * codec preferences so the answer mirrors the viewer's payload type. */
  Ref<GstCaps> caps;
  /* H.264: the offer's profile-level-id, echoed in the answer. */
  std::string profile_level_id;
  /* ICE credentials of the offer, to recognise an ICE restart in a trickle PATCH. */
  std::string ice_ufrag;
  std::string ice_pwd;
  /* mid of every m-line, in order, to map trickled candidates to m-line indexes. */
  std::vector<std::string> mids;
  /* The RTP header extensions the offer's video section names (rtpextensions.h
   * picks those the viewer's video carries). */
  std::vector<RtpExtmap> extmaps;
};

/* The offer's Opus audio section, if any: what we send there and whether
 * the viewer sends its microphone (talkback). */
struct OfferedAudio {
  bool present = false; /* an audio section offering Opus */
  guint mline = 0;
  std::string mid;
  int payload_type = -1;
  Ref<GstCaps> caps;            /* as OfferedVideo::caps */
  bool viewer_receives = false; /* recvonly or sendrecv */
  bool viewer_sends = false;    /* sendonly or sendrecv */
};

/* An SDP message parsed once and shared by everything that reads it (an
 * offer travels from a signalling front end to its viewer as this value,
 * ARCHITECTURE.md, Sessions). Read-only once shared. */
using SharedSdp = std::shared_ptr<GstSDPMessage>;

/* A viewer's offer text, parsed: the message, or why it is not an offer. */
struct ParsedOffer {
  SharedSdp sdp;       /* null when refused */
  int status = 0;      /* 400 when refused */
  std::string message; /* one sentence when refused */
};

/* Parses an offer text: UTF-8, starts with v=, parses as SDP. */
ParsedOffer parse_offer(const std::string &sdp_text);

struct OfferCheck {
  bool ok = false;
  /* HTTP status for a refused offer: 400 malformed, 406 no common codec. */
  int status = 0;
  /* One sentence telling the viewer what was wrong. */
  std::string message;
  OfferedVideo video;
  OfferedAudio audio;
  /* The viewer's DTLS fingerprints (of its video section, else the
   * session's), which its certificate must match. */
  std::vector<DtlsFingerprint> dtls_fingerprints;
  /* The offer that was checked; null for an offer of our own. */
  SharedSdp sdp;
};

/* Checks a parsed offer and picks the payload type for @sent: the stream's
 * own codec wherever the offer lists it (one encoding for every viewer is
 * the point), else VP8 when @sent allows it on demand. */
OfferCheck check_offer(const ParsedOffer &offer, const SentVideo &sent);
/* parse_offer() then check_offer(). */
OfferCheck check_offer(const std::string &sdp_text, const SentVideo &sent);

/* GstSdp turns profile-level-id into a "profile" caps field and loses the
 * level, so webrtcbin's answer has none (or, once the payloader has caps,
 * the SPS's own) and browsers could read the default (baseline, level 1.0).
 * Sets the offer's own value in @answer, replacing any other. */
void complete_answer_fmtp(GstSDPMessage *answer, const OfferedVideo &video);

/* One candidate from a trickle-ICE SDP fragment (RFC 8840). */
struct TrickleCandidate {
  std::string mid;       /* may be empty: then mline applies */
  int mline = -1;        /* index of the m-line, or -1 if unknown */
  std::string candidate; /* "candidate:..." without the "a=" prefix */
};

struct SdpFragment {
  bool ok = false;
  std::string error;
  std::string ice_ufrag;
  std::string ice_pwd;
  bool end_of_candidates = false;
  std::vector<TrickleCandidate> candidates;
};

/* Parses an application/trickle-ice-sdpfrag body. */
SdpFragment parse_sdp_fragment(const std::string &text);

}  // namespace livecast
