/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/mediaframe.h"

#include <cstdio>

#include "protocol/json.h"

namespace livecast
{

namespace
{

void put_be(std::string &out, std::size_t at, guint64 value, int bytes)
{
  for (int i = bytes - 1; i >= 0; i--) {
    out[at + i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

guint64 get_be(const guint8 *in, int bytes)
{
  guint64 v = 0;
  for (int i = 0; i < bytes; i++)
    v = (v << 8) | in[i];
  return v;
}

}  // namespace

std::string write_media_frame(const MediaFrameHeader &header, const guint8 *payload,
                              std::size_t size)
{
  std::string out(kMediaFrameHeaderBytes, '\0');
  out[0] = static_cast<char>(kMediaFrameVersion);
  out[1] = static_cast<char>(header.kind);
  out[2] = static_cast<char>(header.flags & (kMediaFlagKey | kMediaFlagDiscont));
  put_be(out, 4, static_cast<guint64>(header.timestamp_us), 8);
  put_be(out, 12, header.duration_us, 4);
  if (size)
    out.append(reinterpret_cast<const char *>(payload), size);
  return out;
}

std::string write_media_config(MediaKind kind, const MediaConfig &config)
{
  JsonWriter w;
  w.begin_object();
  w.key("codec").string(config.codec);
  if (kind == MediaKind::VideoConfig) {
    w.key("width").integer(config.width);
    w.key("height").integer(config.height);
  } else {
    w.key("sampleRate").integer(config.sample_rate);
    w.key("channels").integer(config.channels);
  }
  w.end_object();
  MediaFrameHeader header;
  header.kind = kind;
  return write_media_frame(header, reinterpret_cast<const guint8 *>(w.text().data()),
                           w.text().size());
}

bool parse_media_frame(const guint8 *message, std::size_t size, MediaFrameHeader &out,
                       std::string &error)
{
  out = MediaFrameHeader();
  if (size < kMediaFrameHeaderBytes) {
    error = "A media message is at least " + std::to_string(kMediaFrameHeaderBytes) +
            " bytes long; this one has " + std::to_string(size) + ".";
    return false;
  }
  if (message[0] != kMediaFrameVersion) {
    error = "Unknown media message version " + std::to_string(message[0]) + ".";
    return false;
  }
  if (message[1] < 1 || message[1] > 4) {
    error = "Unknown media message kind " + std::to_string(message[1]) + ".";
    return false;
  }
  if ((message[2] & ~(kMediaFlagKey | kMediaFlagDiscont)) != 0 || message[3] != 0) {
    error = "A media message has reserved bits set.";
    return false;
  }
  out.kind = static_cast<MediaKind>(message[1]);
  out.flags = message[2];
  out.timestamp_us = static_cast<gint64>(get_be(message + 4, 8));
  out.duration_us = static_cast<guint32>(get_be(message + 12, 4));
  return true;
}

std::string h264_codec_string(const guint8 *data, std::size_t size)
{
  /* The start codes 00 00 01 (and 00 00 00 01, which ends in it). */
  for (std::size_t i = 0; i + 3 < size; i++) {
    if (data[i] != 0 || data[i + 1] != 0 || data[i + 2] != 1)
      continue;
    const std::size_t nal = i + 3;
    if ((data[nal] & 0x1f) == 7 && nal + 3 < size) {
      char text[16];
      g_snprintf(text, sizeof text, "avc1.%02x%02x%02x", data[nal + 1], data[nal + 2],
                 data[nal + 3]);
      return text;
    }
    i = nal - 1;
  }
  return std::string();
}

std::string h264_avc_to_annexb(const guint8 *data, std::size_t size)
{
  std::string out;
  std::size_t at = 0;
  while (at < size) {
    if (size - at < 4)
      return std::string();
    const std::size_t length = static_cast<std::size_t>(get_be(data + at, 4));
    at += 4;
    if (length > size - at)
      return std::string();
    out.append("\0\0\0\1", 4);
    out.append(reinterpret_cast<const char *>(data + at), length);
    at += length;
  }
  return out;
}

}  // namespace livecast
