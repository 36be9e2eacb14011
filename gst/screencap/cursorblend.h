/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Drawing the mouse pointer into a captured frame: portable, shared by the
 * capture backends (XFixes, DXGI pointer shapes and ScreenCaptureKit all end
 * up as a premultiplied ARGB image at a position).
 */
#pragma once

#include <glib.h>

#include <vector>

namespace livecast {

struct CursorImage {
  /* Top-left corner in frame coordinates (pointer position minus hotspot
   * minus the captured area's origin); may be partly or wholly outside. */
  int x = 0, y = 0;
  int width = 0, height = 0;
  /* Premultiplied ARGB, 0xAARRGGBB, row after row. */
  std::vector<guint32> argb;
};

/* Composites @cursor over a BGRx/BGRA frame (alpha "over"), clipped. */
void blend_cursor(guint8 *frame, int width, int height, int stride, const CursorImage &cursor);

}  // namespace livecast
