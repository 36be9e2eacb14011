/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cursorblend.h"

#include <algorithm>

namespace livecast {

void blend_cursor(guint8 *frame, int width, int height, int stride, const CursorImage &cursor)
{
  const int x0 = std::max(cursor.x, 0), y0 = std::max(cursor.y, 0);
  const int x1 = std::min(cursor.x + cursor.width, width);
  const int y1 = std::min(cursor.y + cursor.height, height);
  for (int y = y0; y < y1; y++) {
    const guint32 *src = cursor.argb.data() + static_cast<std::size_t>(y - cursor.y) * cursor.width;
    guint8 *dst = frame + static_cast<std::size_t>(y) * stride;
    for (int x = x0; x < x1; x++) {
      const guint32 p = src[x - cursor.x];
      const guint a = p >> 24;
      if (a == 0)
        continue;
      guint8 *d = dst + x * 4; /* B, G, R, x */
      const guint inv = 255 - a;
      /* Premultiplied "over": out = src + dst * (1 - alpha). */
      d[0] = static_cast<guint8>((p & 0xff) + (d[0] * inv + 127) / 255);
      d[1] = static_cast<guint8>(((p >> 8) & 0xff) + (d[1] * inv + 127) / 255);
      d[2] = static_cast<guint8>(((p >> 16) & 0xff) + (d[2] * inv + 127) / 255);
    }
  }
}

}  // namespace livecast
