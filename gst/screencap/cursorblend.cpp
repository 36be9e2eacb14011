/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cursorblend.h"

#include <algorithm>
#include <cstddef>

namespace livecast {

void blend_cursor(std::uint8_t *frame, int width, int height, int stride, const CursorImage &cursor)
{
  const std::size_t pixels = static_cast<std::size_t>(std::max(cursor.width, 0)) *
                             static_cast<std::size_t>(std::max(cursor.height, 0));
  if (cursor.argb.size() < pixels)
    return; /* a malformed image draws nothing rather than reading past its end */
  const bool has_xor = cursor.xor_rgb.size() >= pixels && pixels > 0;
  const int x0 = std::max(cursor.x, 0), y0 = std::max(cursor.y, 0);
  const int x1 = std::min(cursor.x + cursor.width, width);
  const int y1 = std::min(cursor.y + cursor.height, height);
  for (int y = y0; y < y1; y++) {
    const std::size_t row = static_cast<std::size_t>(y - cursor.y) * cursor.width;
    const std::uint32_t *src = cursor.argb.data() + row;
    const std::uint32_t *inv = has_xor ? cursor.xor_rgb.data() + row : nullptr;
    std::uint8_t *dst = frame + static_cast<std::size_t>(y) * stride;
    for (int x = x0; x < x1; x++) {
      const std::uint32_t p = src[x - cursor.x];
      const unsigned a = p >> 24;
      std::uint8_t *d = dst + x * 4; /* B, G, R, x */
      if (a == 255) {
        d[0] = static_cast<std::uint8_t>(p);
        d[1] = static_cast<std::uint8_t>(p >> 8);
        d[2] = static_cast<std::uint8_t>(p >> 16);
      } else if (a != 0) {
        const unsigned rest = 255 - a;
        /* Premultiplied "over": out = src + dst * (1 - alpha), rounded;
         * saturated, for images whose colour exceeds their alpha. */
        for (int c = 0; c < 3; c++) {
          const unsigned v = ((p >> (8 * c)) & 0xff) + (d[c] * rest + 127) / 255;
          d[c] = static_cast<std::uint8_t>(std::min(v, 255u));
        }
      }
      if (inv) {
        const std::uint32_t m = inv[x - cursor.x];
        d[0] ^= static_cast<std::uint8_t>(m);
        d[1] ^= static_cast<std::uint8_t>(m >> 8);
        d[2] ^= static_cast<std::uint8_t>(m >> 16);
      }
    }
  }
}

}  // namespace livecast
