/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Windows pointer shapes (monochrome AND/XOR masks, colour with straight
 * alpha, masked colour) decoded and drawn: exact pixel values.
 */
#include <cstdint>
#include <vector>

#include "check.h"
#include "pointershape.h"

using namespace livecast;

namespace {

/* A 16x2 BGRx frame, every pixel B=10 G=20 R=30. */
constexpr int kW = 16, kH = 2, kStride = kW * 4;

std::vector<std::uint8_t> frame()
{
  std::vector<std::uint8_t> f(kStride * kH);
  for (int i = 0; i < kW * kH; i++) {
    f[i * 4 + 0] = 10;
    f[i * 4 + 1] = 20;
    f[i * 4 + 2] = 30;
    f[i * 4 + 3] = 0xff;
  }
  return f;
}

/* The B, G, R of pixel (x, y) as 0xBBGGRR, for compact checks. */
std::uint32_t bgr(const std::vector<std::uint8_t> &f, int x, int y)
{
  const std::uint8_t *p = f.data() + y * kStride + x * 4;
  return static_cast<std::uint32_t>(p[0]) << 16 | p[1] << 8 | p[2];
}

}  // namespace

TEST(monochrome_truth_table)
{
  /* 4 pixels wide, 1 row: AND bits 0011, XOR bits 0101 (MSB = pixel 0);
   * rows padded to a pitch of 4 bytes, padding filled with garbage. */
  const std::uint8_t shape[] = {
      0x30, 0xaa, 0xaa, 0xaa, /* AND */
      0x50, 0x55, 0x55, 0x55, /* XOR */
  };
  CursorImage c;
  CHECK(decode_pointer_shape(PointerShapeType::Monochrome, shape, sizeof shape, 4, 2, 4, c));
  CHECK_EQ(c.width, 4);
  CHECK_EQ(c.height, 1);
  std::vector<std::uint8_t> f = frame();
  c.x = 1;
  blend_cursor(f.data(), kW, kH, kStride, c);
  CHECK_EQ(bgr(f, 0, 0), 0x0a141eu); /* left of the pointer: untouched */
  CHECK_EQ(bgr(f, 1, 0), 0x000000u); /* AND 0, XOR 0: black */
  CHECK_EQ(bgr(f, 2, 0), 0xffffffu); /* AND 0, XOR 1: white */
  CHECK_EQ(bgr(f, 3, 0), 0x0a141eu); /* AND 1, XOR 0: transparent */
  CHECK_EQ(bgr(f, 4, 0), 0xf5ebe1u); /* AND 1, XOR 1: 255-10, 255-20, 255-30 */
  CHECK_EQ(f[4 * 4 + 3], 0xff);
}

TEST(monochrome_second_byte_and_rows)
{
  /* 10 pixels wide (2 bytes a row), 2 rows: pixel 9 of row 1 is bit 6 of
   * the second byte. Everything transparent except that pixel, inverted. */
  std::vector<std::uint8_t> shape(2 * 2 * 2, 0);
  for (int i = 0; i < 4; i++)
    shape[i] = 0xff;               /* AND mask all set */
  shape[2 * 2 + 1 * 2 + 1] = 0x40; /* XOR mask, row 1, byte 1, bit 6 */
  CursorImage c;
  CHECK(
      decode_pointer_shape(PointerShapeType::Monochrome, shape.data(), shape.size(), 10, 4, 2, c));
  CHECK_EQ(c.height, 2);
  std::vector<std::uint8_t> f = frame();
  blend_cursor(f.data(), kW, kH, kStride, c);
  for (int y = 0; y < kH; y++)
    for (int x = 0; x < kW; x++)
      CHECK_EQ(bgr(f, x, y), x == 9 && y == 1 ? 0xf5ebe1u : 0x0a141eu);
}

TEST(colour_straight_alpha)
{
  /* B G R A: opaque, transparent, half (B200 G100 R50 A128). */
  const std::uint8_t shape[] = {
      1, 2, 3, 255, 9, 9, 9, 0, 200, 100, 50, 128,
  };
  CursorImage c;
  CHECK(decode_pointer_shape(PointerShapeType::Color, shape, sizeof shape, 3, 1, 12, c));
  CHECK(c.xor_rgb.empty());
  /* Premultiplied: 200*128/255 = 100.4 -> 100, 100*128/255 = 50.2 -> 50, 50*128/255 = 25.1 -> 25.
   */
  CHECK_EQ(c.argb[2], 0x80193264u); /* A R G B */
  std::vector<std::uint8_t> f = frame();
  blend_cursor(f.data(), kW, kH, kStride, c);
  CHECK_EQ(bgr(f, 0, 0), 0x010203u);
  CHECK_EQ(bgr(f, 1, 0), 0x0a141eu);
  /* 100 + 10*127/255 = 105, 50 + 20*127/255 = 60, 25 + 30*127/255 = 40. */
  CHECK_EQ(bgr(f, 2, 0), 0x693c28u);
}

TEST(masked_colour_replace_and_xor)
{
  /* Mask 0: replace; mask 0xFF: XOR (0xFF,0x0F,0x00 and nothing at all). */
  const std::uint8_t shape[] = {
      1, 2, 3, 0, 0xff, 0x0f, 0x00, 0xff, 0, 0, 0, 0xff,
  };
  CursorImage c;
  CHECK(decode_pointer_shape(PointerShapeType::MaskedColor, shape, sizeof shape, 3, 1, 12, c));
  std::vector<std::uint8_t> f = frame();
  c.y = 1;
  blend_cursor(f.data(), kW, kH, kStride, c);
  CHECK_EQ(bgr(f, 0, 1), 0x010203u);
  CHECK_EQ(bgr(f, 1, 1), 0xf51b1eu); /* 10^255, 20^15, 30^0 */
  CHECK_EQ(bgr(f, 2, 1), 0x0a141eu); /* XOR with 0: transparent */
  CHECK_EQ(bgr(f, 0, 0), 0x0a141eu);
}

TEST(masked_colour_without_xor_keeps_no_mask)
{
  const std::uint8_t shape[] = {1, 2, 3, 0, 0, 0, 0, 0xff};
  CursorImage c;
  CHECK(decode_pointer_shape(PointerShapeType::MaskedColor, shape, sizeof shape, 2, 1, 8, c));
  CHECK(c.xor_rgb.empty());
}

TEST(inconsistent_shapes_rejected)
{
  const std::uint8_t data[64] = {};
  CursorImage c;
  c.width = 5;
  /* Pitch shorter than a row, buffer too short, odd monochrome height, empty, huge. */
  CHECK(!decode_pointer_shape(PointerShapeType::Color, data, sizeof data, 4, 1, 15, c));
  CHECK_EQ(c.width, 0);
  CHECK(!decode_pointer_shape(PointerShapeType::Color, data, sizeof data, 4, 5, 16, c));
  CHECK(decode_pointer_shape(PointerShapeType::Color, data, sizeof data, 4, 4, 16, c));
  CHECK(!decode_pointer_shape(PointerShapeType::Monochrome, data, sizeof data, 8, 3, 1, c));
  CHECK(!decode_pointer_shape(PointerShapeType::Monochrome, data, sizeof data, 9, 2, 1, c));
  CHECK(!decode_pointer_shape(PointerShapeType::MaskedColor, data, sizeof data, 0, 1, 4, c));
  CHECK(!decode_pointer_shape(PointerShapeType::Color, nullptr, 0, 1, 1, 4, c));
  CHECK(!decode_pointer_shape(PointerShapeType::Color, data, sizeof data, 100000, 1, 400000, c));
  CHECK(c.argb.empty());
}

int main(int argc, char **argv)
{
  return check::run_tests(argc, argv);
}
