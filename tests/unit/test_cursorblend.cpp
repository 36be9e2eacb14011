/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cursor compositing, shared by the capture backends: exact pixel values.
 */
#include <glib.h>

#include <vector>

#include "cursorblend.h"

using livecast::blend_cursor;
using livecast::CursorImage;

namespace {

constexpr int kW = 8, kH = 6, kStride = kW * 4;

std::vector<guint8> grey_frame()
{
  /* BGRx, every pixel (100, 100, 100). */
  std::vector<guint8> f(kStride * kH);
  for (int i = 0; i < kW * kH; i++) {
    f[i * 4 + 0] = f[i * 4 + 1] = f[i * 4 + 2] = 100;
    f[i * 4 + 3] = 0xff;
  }
  return f;
}

const guint8 *pixel(const std::vector<guint8> &f, int x, int y)
{
  return f.data() + y * kStride + x * 4;
}

void test_opaque_transparent_and_half()
{
  std::vector<guint8> f = grey_frame();
  CursorImage c;
  c.x = 2;
  c.y = 1;
  c.width = 3;
  c.height = 1;
  /* Opaque red, fully transparent, half-transparent white (premultiplied 0x80). */
  c.argb = {0xffff0000, 0x00000000, 0x80808080};
  blend_cursor(f.data(), kW, kH, kStride, c);
  const guint8 *red = pixel(f, 2, 1);
  g_assert_cmpuint(red[2], ==, 255);
  g_assert_cmpuint(red[1], ==, 0);
  g_assert_cmpuint(red[0], ==, 0);
  const guint8 *clear = pixel(f, 3, 1);
  g_assert_cmpuint(clear[0], ==, 100);
  /* 128 + 100 * 127 / 255 = 128 + 50 */
  const guint8 *half = pixel(f, 4, 1);
  g_assert_cmpuint(half[0], ==, 178);
  g_assert_cmpuint(half[1], ==, 178);
  g_assert_cmpuint(half[2], ==, 178);
  /* Untouched elsewhere, padding byte kept. */
  g_assert_cmpuint(pixel(f, 5, 1)[2], ==, 100);
  g_assert_cmpuint(red[3], ==, 0xff);
}

void test_clipped_at_every_edge()
{
  for (int pos : {-2, kW - 1}) {
    std::vector<guint8> f = grey_frame();
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
    g_assert_cmpint(green, ==, 1);
  }
  /* Wholly outside: nothing happens (and nothing is written out of bounds). */
  std::vector<guint8> f = grey_frame();
  CursorImage far;
  far.x = 100;
  far.y = -100;
  far.width = 2;
  far.height = 2;
  far.argb.assign(4, 0xffffffff);
  blend_cursor(f.data(), kW, kH, kStride, far);
  g_assert_true(f == grey_frame());
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/cursorblend/opaque-transparent-half", test_opaque_transparent_and_half);
  g_test_add_func("/cursorblend/clipped", test_clipped_at_every_edge);
  return g_test_run();
}
