/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The retained picture the DXGI backend keeps: first image whole, then only
 * moved and dirty rectangles, pointer drawn only into handed-out frames.
 * Exact pixel values.
 */
#include <cstdint>
#include <vector>

#include "check.h"
#include "frameassembler.h"
#include "pointershape.h"

using namespace livecast;

namespace {

/* A "desktop image" of 8x6 BGRx pixels whose blue byte is its number and
 * whose green byte is @generation. */
constexpr int kDW = 8, kDH = 6;

std::vector<std::uint8_t> desktop(int generation)
{
  std::vector<std::uint8_t> d(kDW * kDH * 4);
  for (int i = 0; i < kDW * kDH; i++) {
    d[i * 4 + 0] = static_cast<std::uint8_t>(i);
    d[i * 4 + 1] = static_cast<std::uint8_t>(generation);
    d[i * 4 + 2] = 0;
    d[i * 4 + 3] = 0xff;
  }
  return d;
}

/* The part of @image (kDW wide) starting at @area's corner, as store() wants it. */
const std::uint8_t *at_area(const std::vector<std::uint8_t> &image, const Rect &area)
{
  return image.data() + (area.y * kDW + area.x) * 4;
}

std::vector<std::uint8_t> compose(const FrameAssembler &a, bool pointer)
{
  std::vector<std::uint8_t> out(a.width() * a.height() * 4, 0x55);
  a.compose(out.data(), a.width() * 4, pointer);
  return out;
}

}  // namespace

TEST(black_until_the_first_image)
{
  FrameAssembler a;
  a.reset(3, 2);
  CHECK(!a.has_picture());
  const std::vector<std::uint8_t> out = compose(a, true);
  for (int i = 0; i < 6; i++) {
    CHECK_EQ(out[i * 4 + 0], 0);
    CHECK_EQ(out[i * 4 + 2], 0);
    CHECK_EQ(out[i * 4 + 3], 0xff);
  }
}

TEST(first_update_is_whole_then_only_damage)
{
  const Rect area{2, 1, 4, 4};
  FrameAssembler a;
  a.reset(area.width, area.height);
  /* Even with a small dirty rectangle the first update fetches everything. */
  std::vector<Rect> fetch = a.begin_update({}, {Rect{2, 1, 1, 1}}, area, false);
  CHECK_EQ(fetch.size(), 1u);
  CHECK(fetch[0] == (Rect{0, 0, 4, 4}));
  std::vector<std::uint8_t> d1 = desktop(1);
  a.store(at_area(d1, area), kDW * 4, fetch);
  CHECK(a.has_picture());

  /* Generation 2 changes everything, but only desktop pixel (3,2) is
   * reported dirty (and (0,0), outside the area): only it is fetched. */
  std::vector<std::uint8_t> d2 = desktop(2);
  fetch = a.begin_update({}, {Rect{3, 2, 1, 1}, Rect{0, 0, 1, 1}}, area, false);
  CHECK_EQ(fetch.size(), 1u);
  CHECK(fetch[0] == (Rect{1, 1, 1, 1}));
  a.store(at_area(d2, area), kDW * 4, fetch);
  const std::vector<std::uint8_t> out = compose(a, false);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++) {
      const std::uint8_t *p = out.data() + (y * 4 + x) * 4;
      CHECK_EQ(p[0], (area.y + y) * kDW + area.x + x);
      CHECK_EQ(p[1], x == 1 && y == 1 ? 2 : 1);
    }
}

TEST(full_when_asked_or_when_damage_is_large)
{
  const Rect area{0, 0, 4, 4};
  FrameAssembler a;
  a.reset(4, 4);
  std::vector<std::uint8_t> d1 = desktop(1);
  a.store(d1.data(), kDW * 4, a.begin_update({}, {}, area, false));
  std::vector<Rect> fetch = a.begin_update({}, {Rect{0, 0, 1, 1}}, area, true);
  CHECK(fetch.size() == 1 && fetch[0] == (Rect{0, 0, 4, 4}));
  /* 9 of 16 pixels dirty: more than half, one whole copy instead. */
  fetch = a.begin_update({}, {Rect{0, 0, 3, 3}}, area, false);
  CHECK(fetch.size() == 1 && fetch[0] == (Rect{0, 0, 4, 4}));
  fetch = a.begin_update({}, {Rect{0, 0, 2, 4}}, area, false); /* exactly half: pieces */
  CHECK(fetch.size() == 1 && fetch[0] == (Rect{0, 0, 2, 4}));
}

TEST(scroll_moves_pixels_without_fetching_them)
{
  /* The whole 8x6 desktop; rows 1..5 move up by one, row 5 is new. */
  const Rect area{0, 0, kDW, kDH};
  FrameAssembler a;
  a.reset(kDW, kDH);
  std::vector<std::uint8_t> d1 = desktop(1);
  a.store(d1.data(), kDW * 4, a.begin_update({}, {}, area, false));
  std::vector<std::uint8_t> d2 = desktop(2); /* only row 5 is read from it */
  const std::vector<Rect> fetch =
      a.begin_update({MoveRect{0, 1, Rect{0, 0, kDW, kDH - 1}}}, {Rect{0, 5, kDW, 1}}, area, false);
  CHECK(fetch.size() == 1 && fetch[0] == (Rect{0, 5, kDW, 1}));
  a.store(d2.data(), kDW * 4, fetch);
  const std::vector<std::uint8_t> out = compose(a, false);
  for (int y = 0; y < kDH; y++)
    for (int x = 0; x < kDW; x++) {
      const std::uint8_t *p = out.data() + (y * kDW + x) * 4;
      CHECK_EQ(p[0], y < 5 ? (y + 1) * kDW + x : y * kDW + x);
      CHECK_EQ(p[1], y < 5 ? 1 : 2);
    }
}

TEST(pointer_only_in_composed_frames)
{
  const Rect area{0, 0, 4, 3};
  FrameAssembler a;
  a.reset(4, 3);
  std::vector<std::uint8_t> d1 = desktop(1);
  a.store(d1.data(), kDW * 4, a.begin_update({}, {}, area, false));
  /* A 1x1 monochrome pointer that inverts the screen. */
  const std::uint8_t invert[] = {0x80, 0x80};
  CursorImage shape;
  CHECK(decode_pointer_shape(PointerShapeType::Monochrome, invert, 2, 1, 2, 1, shape));
  CHECK(!a.set_pointer_shape(shape)); /* not visible yet: nothing to redraw */
  CHECK(a.set_pointer_position(true, 2, 1));
  CHECK(!a.set_pointer_position(true, 2, 1)); /* same place: no change */
  std::vector<std::uint8_t> out = compose(a, true);
  CHECK_EQ(out[(1 * 4 + 2) * 4 + 0], 255 - (1 * kDW + 2));
  CHECK_EQ(out[(1 * 4 + 2) * 4 + 1], 255 - 1);
  CHECK_EQ(out[(1 * 4 + 1) * 4 + 0], 1 * kDW + 1);
  /* Moved: drawn at the new place, no trail at the old one. */
  CHECK(a.set_pointer_position(true, 0, 0));
  out = compose(a, true);
  CHECK_EQ(out[0], 255);
  CHECK_EQ(out[(1 * 4 + 2) * 4 + 0], 1 * kDW + 2);
  /* Not drawn when hidden or not wanted. */
  CHECK(a.set_pointer_position(false, 0, 0));
  CHECK_EQ(compose(a, true)[0], 0);
  CHECK(a.set_pointer_position(true, 0, 0));
  CHECK_EQ(compose(a, false)[0], 0);
  /* A new shape while visible changes the frame. */
  CHECK(a.set_pointer_shape(shape));
}

TEST(compose_honours_destination_stride)
{
  FrameAssembler a;
  a.reset(2, 2);
  std::vector<std::uint8_t> d1 = desktop(1);
  a.store(d1.data(), kDW * 4, a.begin_update({}, {}, Rect{0, 0, 2, 2}, false));
  std::vector<std::uint8_t> out(3 * 4 * 2, 0x77); /* rows of 3 pixels */
  a.compose(out.data(), 12, false);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[4], 1);
  CHECK_EQ(out[8], 0x77); /* padding untouched */
  CHECK_EQ(out[12], kDW);
  CHECK_EQ(out[16], kDW + 1);
}

int main(int argc, char **argv)
{
  return check::run_tests(argc, argv);
}
