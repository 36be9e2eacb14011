/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Media over the page's own WebSocket (README.md, "Media over the
 * WebSocket"): the shared encoding as binary messages, one access unit or
 * one codec configuration per message. web/mediasocket.js reads the same
 * format; nothing here knows of sockets or GStreamer.
 *
 * Every message starts with a 16-byte header, integers big-endian:
 *
 *   offset size
 *      0    1   version, kMediaFrameVersion
 *      1    1   kind: 1 video config, 2 video frame, 3 audio config, 4 audio frame
 *      2    1   flags: bit 0 key frame, bit 1 frames were dropped before this one
 *      3    1   reserved, 0
 *      4    8   timestamp in microseconds (signed): the presentation time as running
 *               time, on one clock for audio and video
 *     12    4   duration in microseconds, 0 when unknown
 *     16    …   payload
 *
 * A frame's payload is one access unit: H.264 in Annex B with SPS and PPS
 * before each key frame, VP8 or VP9 frames as the encoder made them, one
 * Opus packet. A config's payload is one JSON object (UTF-8):
 *   video: {"codec":"avc1.42c01f","width":1280,"height":720}
 *   audio: {"codec":"opus","sampleRate":48000,"channels":2}
 * where "codec" is a WebCodecs codec string. A viewer gets the video config
 * before its first video frame, which is a key frame, and again whenever it
 * changes; the audio config before its first audio frame.
 */
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace livecast
{

constexpr guint8 kMediaFrameVersion = 1;
constexpr std::size_t kMediaFrameHeaderBytes = 16;

enum class MediaKind : guint8 {
  VideoConfig = 1,
  Video = 2,
  AudioConfig = 3,
  Audio = 4,
};

enum MediaFlags : guint8 {
  kMediaFlagKey = 1 << 0,
  kMediaFlagDiscont = 1 << 1,
};

struct MediaFrameHeader {
  MediaKind kind = MediaKind::Video;
  guint8 flags = 0;
  gint64 timestamp_us = 0;
  guint32 duration_us = 0;

  bool key() const { return (flags & kMediaFlagKey) != 0; }
};

/* What a config message says (its JSON payload). */
struct MediaConfig {
  std::string codec;                 /* WebCodecs codec string */
  int width = 0, height = 0;         /* video */
  int sample_rate = 0, channels = 0; /* audio */
};

/* The header followed by @size bytes of @payload, as one message. */
std::string write_media_frame(const MediaFrameHeader &header, const guint8 *payload,
                              std::size_t size);
/* A config message of @kind (VideoConfig or AudioConfig). */
std::string write_media_config(MediaKind kind, const MediaConfig &config);

/* Reads the header of @message; false (and @error, one sentence) when it is
 * shorter than a header, of another version, an unknown kind or has
 * reserved bits set. The payload follows at kMediaFrameHeaderBytes. */
bool parse_media_frame(const guint8 *message, std::size_t size, MediaFrameHeader &out,
                       std::string &error);

/* The WebCodecs codec string ("avc1.PPCCLL") of the first SPS in an Annex B
 * access unit; "" when it has none. */
std::string h264_codec_string(const guint8 *data, std::size_t size);
/* An access unit of 4-byte length-prefixed NAL units (stream-format avc)
 * in Annex B; "" when a length runs past the end. */
std::string h264_avc_to_annexb(const guint8 *data, std::size_t size);

}  // namespace livecast
