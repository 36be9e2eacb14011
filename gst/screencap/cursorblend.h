/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Drawing the mouse pointer into a captured frame: portable, shared by the
 * capture backends. XFixes cursors, DXGI pointer shapes (see pointershape.h)
 * and anything else end up as a premultiplied ARGB image at a position, plus,
 * for the inverting pointers Windows still has, a mask XORed into the screen.
 *
 * Plain C++ (no GLib, no GStreamer): the Windows capture core is built with
 * it where there is no GLib.
 */
#pragma once

#include <cstdint>
#include <vector>

namespace livecast {

struct CursorImage {
  /* Top-left corner in frame coordinates (pointer position minus hotspot
   * minus the captured area's origin); may be partly or wholly outside. */
  int x = 0, y = 0;
  int width = 0, height = 0;
  /* Premultiplied ARGB, 0xAARRGGBB, row after row. */
  std::vector<std::uint32_t> argb;
  /* Empty, or one 0x00RRGGBB per pixel XORed into the frame after @argb is
   * blended: how monochrome and masked-colour pointers invert the screen. */
  std::vector<std::uint32_t> xor_rgb;
};

/* Composites @cursor over a BGRx/BGRA frame, clipped: each pixel becomes
 * (argb over frame) ^ xor_rgb. The fourth byte of the frame is left as is. */
void blend_cursor(std::uint8_t *frame, int width, int height, int stride,
                  const CursorImage &cursor);

}  // namespace livecast
