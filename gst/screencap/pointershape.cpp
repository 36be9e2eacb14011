/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "pointershape.h"

#include <utility>

namespace livecast {

namespace {

bool fits(const std::uint8_t *data, std::size_t size, int rows, int pitch, std::size_t row_bytes)
{
  if (!data || rows <= 0 || pitch <= 0 || static_cast<std::size_t>(pitch) < row_bytes)
    return false;
  return size >= static_cast<std::size_t>(pitch) * (rows - 1) + row_bytes;
}

std::uint32_t premultiply(std::uint32_t bgra)
{
  const std::uint32_t a = bgra >> 24;
  if (a == 255)
    return bgra;
  std::uint32_t out = a << 24;
  for (int c = 0; c < 3; c++) {
    const std::uint32_t v = (bgra >> (8 * c)) & 0xff;
    out |= ((v * a + 127) / 255) << (8 * c);
  }
  return out;
}

std::uint32_t load_le32(const std::uint8_t *p)
{
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace

bool decode_pointer_shape(PointerShapeType type, const std::uint8_t *data, std::size_t size,
                          int width, int height, int pitch, CursorImage &out)
{
  out = CursorImage();
  if (width <= 0 || height <= 0 || width > kMaxPointerSize ||
      height > (type == PointerShapeType::Monochrome ? 2 : 1) * kMaxPointerSize)
    return false;

  CursorImage image;
  image.width = width;
  bool inverts = false;
  if (type == PointerShapeType::Monochrome) {
    if (height % 2 != 0 ||
        !fits(data, size, height, pitch, static_cast<std::size_t>(width + 7) / 8))
      return false;
    const int rows = height / 2;
    image.height = rows;
    image.argb.resize(static_cast<std::size_t>(width) * rows);
    image.xor_rgb.resize(image.argb.size());
    for (int y = 0; y < rows; y++) {
      const std::uint8_t *and_row = data + static_cast<std::size_t>(y) * pitch;
      const std::uint8_t *xor_row = data + static_cast<std::size_t>(y + rows) * pitch;
      for (int x = 0; x < width; x++) {
        const int bit = 7 - (x % 8);
        const bool and_bit = (and_row[x / 8] >> bit) & 1;
        const bool xor_bit = (xor_row[x / 8] >> bit) & 1;
        const std::size_t i = static_cast<std::size_t>(y) * width + x;
        if (!and_bit) {
          /* The screen is cleared: the pointer is black or white. */
          image.argb[i] = xor_bit ? 0xffffffffu : 0xff000000u;
        } else if (xor_bit) {
          image.xor_rgb[i] = 0x00ffffffu; /* the screen, inverted */
          inverts = true;
        }
      }
    }
  } else {
    if (!fits(data, size, height, pitch, static_cast<std::size_t>(width) * 4))
      return false;
    image.height = height;
    image.argb.resize(static_cast<std::size_t>(width) * height);
    if (type == PointerShapeType::MaskedColor)
      image.xor_rgb.resize(image.argb.size());
    for (int y = 0; y < height; y++) {
      const std::uint8_t *row = data + static_cast<std::size_t>(y) * pitch;
      for (int x = 0; x < width; x++) {
        const std::uint32_t pixel = load_le32(row + x * 4);
        const std::size_t i = static_cast<std::size_t>(y) * width + x;
        if (type == PointerShapeType::Color) {
          image.argb[i] = premultiply(pixel);
        } else if ((pixel >> 24) == 0) {
          image.argb[i] = 0xff000000u | (pixel & 0x00ffffffu);
        } else {
          /* Only 0xFF is documented; any other non-zero mask is taken as
           * XOR too rather than as a translucency that does not exist. */
          image.xor_rgb[i] = pixel & 0x00ffffffu;
          inverts = inverts || (pixel & 0x00ffffffu) != 0;
        }
      }
    }
  }
  if (!inverts)
    image.xor_rgb.clear(); /* nothing to XOR: blend_cursor skips the pass */
  out = std::move(image);
  return true;
}

}  // namespace livecast
