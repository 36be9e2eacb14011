/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pointer shapes as Windows hands them out (DXGI Desktop Duplication's
 * GetFramePointerShape, also GetIconInfo bitmaps), turned into the
 * CursorImage that blend_cursor() draws. Portable and GStreamer-free so that
 * it is unit-tested natively; the DXGI backend maps its shape type onto
 * PointerShapeType and passes the buffer through unchanged.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "cursorblend.h"

namespace livecast {

enum class PointerShapeType {
  /* 1 bit per pixel, most significant bit leftmost. @height counts the rows
   * of two masks: the AND mask (height/2 rows) then the XOR mask. A pixel
   * becomes (screen AND and) XOR xor on every colour channel: black, white,
   * transparent or the screen inverted. */
  Monochrome,
  /* 32 bits per pixel, B G R A bytes, straight (not premultiplied) alpha:
   * Microsoft's reference blends it with SRC_ALPHA / INV_SRC_ALPHA. */
  Color,
  /* 32 bits per pixel, B G R and a mask byte: 0 → the colour replaces the
   * screen pixel, 0xFF → the colour is XORed into the screen pixel. */
  MaskedColor,
};

/* Largest pointer accepted, in either direction: real ones are at most
 * 256x256; anything bigger is a corrupt shape, not a memory request. */
constexpr int kMaxPointerSize = 1024;

/* Decodes @data (@size bytes, rows @pitch bytes apart) into @out, whose
 * position is left at 0,0 for the caller to place. Returns false and leaves
 * @out empty when the dimensions do not fit the data. */
bool decode_pointer_shape(PointerShapeType type, const std::uint8_t *data, std::size_t size,
                          int width, int height, int pitch, CursorImage &out);

}  // namespace livecast
