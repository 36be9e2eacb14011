/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cursor compositing, shared by the capture backends: exact pixel values.
 * Portable (check.h, no GLib): also built for Windows by the cross test.
 */
#include <cstdint>
#include <vector>

#include "check.h"
#include "cursorblend.h"

using livecast::blend_cursor;
using livecast::CursorImage;

namespace {

constexpr int kW = 8, kH = 6, kStride = kW * 4;

std::vector<std::uint8_t> grey_frame()
{
  /* BGRx, every pixel (100, 100, 100). */
  std::vector<std::uint8_t> f(kStride * kH);
  for (int i = 0; i < kW * kH; i++) {
    f[i * 4 + 0] = f[i * 4 + 1] = f[i * 4 + 2] = 100;
    f[i * 4 + 3] = 0xff;
  }
  return f;
}

const std::uint8_t *pixel(const std::vector<std::uint8_t> &f, int x, int y)
{
  return f.data() + y * kStride + x * 4;
}

}  // namespace

TEST(opaque_transparent_and_half)
{
  std::vector<std::uint8_t> f = grey_frame();
  CursorImage c;
  c.x = 2;
  c.y = 1;
  c.width = 3;
  c.height = 1;
  /* Opaque red, fully transparent, half-transparent white (premultiplied 0x80). */
  c.argb = {0xffff0000, 0x00000000, 0x80808080};
  blend_cursor(f.data(), kW, kH, kStride, c);
  const std::uint8_t *red = pixel(f, 2, 1);
  CHECK_EQ(red[2], 255);
  CHECK_EQ(red[1], 0);
  CHECK_EQ(red[0], 0);
  const std::uint8_t *clear = pixel(f, 3, 1);
  CHECK_EQ(clear[0], 100);
  /* 128 + 100 * 127 / 255 = 128 + 50 */
  const std::uint8_t *half = pixel(f, 4, 1);
  CHECK_EQ(half[0], 178);
  CHECK_EQ(half[1], 178);
  CHECK_EQ(half[2], 178);
  /* Untouched elsewhere, padding byte kept. */
  CHECK_EQ(pixel(f, 5, 1)[2], 100);
  CHECK_EQ(red[3], 0xff);
}

TEST(clipped_at_every_edge)
{
  for (int pos : {-2, kW - 1}) {
    std::vector<std::uint8_t> f = grey_frame();
    CursorImage c;
    c.x = pos;
    c.y = pos < 0 ? -2 : kH - 1;
    c.width = 3;
    c.height = 3;
    c.argb.assign(9, 0xff00ff00);
    blend_cursor(f.data(), kW, kH, kStride, c);
    int green = 0;
    for (int y = 0; y < kH; y++)
      for (int x = 0; x < kW; x++)
        green += pixel(f, x, y)[1] == 255;
    /* Only the overlapping 1x1 corner lands in the frame. */
    CHECK_EQ(green, 1);
  }
  /* Wholly outside: nothing happens (and nothing is written out of bounds). */
  std::vector<std::uint8_t> f = grey_frame();
  CursorImage far;
  far.x = 100;
  far.y = -100;
  far.width = 2;
  far.height = 2;
  far.argb.assign(4, 0xffffffff);
  blend_cursor(f.data(), kW, kH, kStride, far);
  CHECK(f == grey_frame());
}

TEST(xor_after_blend)
{
  std::vector<std::uint8_t> f = grey_frame();
  CursorImage c;
  c.x = 0;
  c.y = 0;
  c.width = 3;
  c.height = 1;
  /* Inverted screen; opaque black then inverted (white); blue-only XOR. */
  c.argb = {0x00000000, 0xff000000, 0x00000000};
  c.xor_rgb = {0x00ffffff, 0x00ffffff, 0x000000ff};
  blend_cursor(f.data(), kW, kH, kStride, c);
  CHECK_EQ(pixel(f, 0, 0)[0], 155);
  CHECK_EQ(pixel(f, 0, 0)[2], 155);
  CHECK_EQ(pixel(f, 1, 0)[1], 255);
  CHECK_EQ(pixel(f, 2, 0)[0], 100 ^ 0xff);
  CHECK_EQ(pixel(f, 2, 0)[1], 100);
  CHECK_EQ(pixel(f, 2, 0)[2], 100);
  CHECK_EQ(pixel(f, 2, 0)[3], 0xff); /* the XOR never touches the fourth byte */
}

TEST(malformed_image_draws_nothing)
{
  std::vector<std::uint8_t> f = grey_frame();
  CursorImage c;
  c.width = 4;
  c.height = 4;
  c.argb.assign(3, 0xffffffff); /* 3 pixels for a 4x4 image */
  blend_cursor(f.data(), kW, kH, kStride, c);
  CHECK(f == grey_frame());
}

int main(int argc, char **argv)
{
  return check::run_tests(argc, argv);
}
