/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h264aud.h"

#include <cstring>
#include <vector>

namespace livecast
{

namespace
{

constexpr guint8 kNalAud = 9;

struct Nal {
  gsize start; /* first byte of the unit's prefix (start code or length) */
  gsize end;   /* one past its last byte */
  guint8 type;
};

/* The units of a byte-stream access unit, each with its start code. */
bool split_byte_stream(const guint8 *data, gsize size, std::vector<Nal> &out)
{
  auto start_code_at = [&](gsize i) -> gsize {
    if (i + 3 <= size && data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1)
      return 3;
    if (i + 4 <= size && data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 0 && data[i + 3] == 1)
      return 4;
    return 0;
  };
  gsize i = 0;
  gsize len = start_code_at(0);
  if (len == 0)
    return false;
  while (i < size) {
    const gsize payload = i + len;
    if (payload >= size)
      return false;
    gsize next = payload;
    gsize next_len = 0;
    while (next < size && (next_len = start_code_at(next)) == 0)
      next++;
    out.push_back({i, next, static_cast<guint8>(data[payload] & 0x1f)});
    i = next;
    len = next_len;
  }
  return true;
}

/* The units of an avc access unit (4-byte big-endian lengths). */
bool split_avc(const guint8 *data, gsize size, std::vector<Nal> &out)
{
  gsize i = 0;
  while (i < size) {
    if (i + 5 > size)
      return false;
    const gsize n = (gsize(data[i]) << 24) | (gsize(data[i + 1]) << 16) |
                    (gsize(data[i + 2]) << 8) | gsize(data[i + 3]);
    if (n == 0 || n > size - i - 4)
      return false;
    out.push_back({i, i + 4 + n, static_cast<guint8>(data[i + 4] & 0x1f)});
    i += 4 + n;
  }
  return true;
}

}  // namespace

GstBuffer *h264_without_aud(GstBuffer *buffer, bool avc)
{
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return buffer;
  std::vector<Nal> nals;
  const bool ok =
      avc ? split_avc(map.data, map.size, nals) : split_byte_stream(map.data, map.size, nals);
  bool has_aud = false;
  for (const Nal &n : nals)
    has_aud = has_aud || n.type == kNalAud;
  if (!ok || !has_aud) {
    gst_buffer_unmap(buffer, &map);
    return buffer;
  }
  gsize kept = 0;
  for (const Nal &n : nals)
    kept += n.type == kNalAud ? 0 : n.end - n.start;
  GstBuffer *out = gst_buffer_new_allocate(nullptr, kept, nullptr);
  gst_buffer_copy_into(
      out, buffer,
      static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS |
                                      GST_BUFFER_COPY_META),
      0, -1);
  GstMapInfo omap;
  gst_buffer_map(out, &omap, GST_MAP_WRITE);
  gsize at = 0;
  for (const Nal &n : nals) {
    if (n.type == kNalAud)
      continue;
    std::memcpy(omap.data + at, map.data + n.start, n.end - n.start);
    at += n.end - n.start;
  }
  gst_buffer_unmap(out, &omap);
  gst_buffer_unmap(buffer, &map);
  gst_buffer_unref(buffer);
  return out;
}

}  // namespace livecast
