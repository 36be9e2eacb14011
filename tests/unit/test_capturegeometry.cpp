/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Rectangles, monitor mapping, region resolution, move/dirty rectangles
 * clipped to a captured area, rotated scan-out: portable, exact.
 */
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "capturegeometry.h"
#include "check.h"

using namespace livecast;

namespace livecast {
std::ostream &operator<<(std::ostream &s, const Rect &r)
{
  return s << r.width << "x" << r.height << "+" << r.x << "+" << r.y;
}
}  // namespace livecast

namespace {

/* A picture of 32-bit pixels, for reference computations. */
struct Picture {
  int width = 0, height = 0;
  std::vector<std::uint32_t> px;
  Picture(int w, int h) : width(w), height(h), px(static_cast<std::size_t>(w) * h) {}
  std::uint32_t &at(int x, int y) { return px[static_cast<std::size_t>(y) * width + x]; }
  std::uint32_t at(int x, int y) const { return px[static_cast<std::size_t>(y) * width + x]; }
  std::uint8_t *bytes() { return reinterpret_cast<std::uint8_t *>(px.data()); }
  int stride() const { return width * 4; }
  Picture crop(const Rect &r) const
  {
    Picture out(r.width, r.height);
    for (int y = 0; y < r.height; y++)
      for (int x = 0; x < r.width; x++)
        out.at(x, y) = at(r.x + x, r.y + y);
    return out;
  }
};

/* The desktop's own semantics, independent of the code under test: moves
 * one after another, each as if through a temporary copy. */
void reference_move(Picture &p, const MoveRect &m)
{
  Picture before = p;
  for (int y = 0; y < m.dst.height; y++)
    for (int x = 0; x < m.dst.width; x++)
      p.at(m.dst.x + x, m.dst.y + y) = before.at(m.src_x + x, m.src_y + y);
}

int count_covered(const std::vector<Rect> &rects, int x, int y)
{
  int n = 0;
  for (const Rect &r : rects)
    n += x >= r.x && x < r.right() && y >= r.y && y < r.bottom();
  return n;
}

}  // namespace

TEST(intersect_and_translate)
{
  CHECK_EQ(intersect(Rect{0, 0, 10, 10}, Rect{5, 6, 10, 10}), (Rect{5, 6, 5, 4}));
  CHECK(intersect(Rect{0, 0, 10, 10}, Rect{10, 0, 5, 5}).empty()); /* touching edges */
  CHECK(intersect(Rect{0, 0, 0, 10}, Rect{0, 0, 5, 5}).empty());
  CHECK_EQ(translate(Rect{1, 2, 3, 4}, -1, 5), (Rect{0, 7, 3, 4}));
}

TEST(subtract_is_exact_and_disjoint)
{
  const Rect a{2, 3, 9, 7};
  const Rect cuts[] = {{4, 5, 3, 2}, {0, 0, 5, 5},   {8, 8, 10, 10},
                       {2, 3, 9, 7}, {20, 20, 2, 2}, {0, 4, 30, 2}};
  for (const Rect &b : cuts) {
    std::vector<Rect> out;
    subtract(a, b, out);
    for (int y = 0; y < 14; y++)
      for (int x = 0; x < 14; x++) {
        const bool in_a = x >= a.x && x < a.right() && y >= a.y && y < a.bottom();
        const bool in_b = x >= b.x && x < b.right() && y >= b.y && y < b.bottom();
        CHECK_EQ(count_covered(out, x, y), in_a && !in_b ? 1 : 0);
      }
  }
}

TEST(monitor_mapping)
{
  std::vector<MonitorInfo> monitors = {
      {"DISPLAY2", Rect{-1280, 0, 1280, 1024}, false},
      {"DISPLAY1", Rect{0, 0, 1920, 1080}, true},
  };
  std::string error;
  CHECK_EQ(select_monitor(monitors, -1, error), 1); /* -1: the primary one */
  CHECK_EQ(select_monitor(monitors, 0, error), 0);  /* else enumeration order */
  CHECK_EQ(select_monitor(monitors, 1, error), 1);
  CHECK(error.empty());
  CHECK_EQ(select_monitor(monitors, 2, error), -1);
  CHECK_EQ(error, std::string("There are 2 monitors (0: DISPLAY2 1280x1024-1280+0, "
                              "1: DISPLAY1 1920x1080+0+0 (primary)); monitor 2 does not exist"));
  monitors[1].primary = false;
  CHECK_EQ(select_monitor(monitors, -1, error), 0); /* none marked: the first */
  monitors.resize(1);
  CHECK_EQ(select_monitor(monitors, 3, error), -1);
  CHECK(error.find("There is 1 monitor (") == 0);
  monitors.clear();
  CHECK_EQ(select_monitor(monitors, -1, error), -1);
  CHECK_EQ(error, std::string("No monitor is attached to the desktop"));
}

TEST(region_resolution)
{
  Rect area;
  bool clamped = true;
  std::string error;
  CHECK(resolve_region(1920, 1080, 0, 0, 0, 0, area, clamped, error));
  CHECK_EQ(area, (Rect{0, 0, 1920, 1080}));
  CHECK(!clamped);
  CHECK(resolve_region(1920, 1080, 100, 50, 640, 480, area, clamped, error));
  CHECK_EQ(area, (Rect{100, 50, 640, 480}));
  CHECK(!clamped);
  CHECK(resolve_region(1920, 1080, 1800, 50, 0, 0, area, clamped, error)); /* to the edges */
  CHECK_EQ(area, (Rect{1800, 50, 120, 1030}));
  CHECK(!clamped);
  CHECK(resolve_region(1920, 1080, 1800, 1000, 200, 200, area, clamped, error));
  CHECK_EQ(area, (Rect{1800, 1000, 120, 80}));
  CHECK(clamped);
  CHECK(!resolve_region(1920, 1080, 1920, 0, 10, 10, area, clamped, error));
  CHECK_EQ(error, std::string("The capture region starts at 1920,0, outside the 1920x1080 area "
                              "it is taken from"));
}

TEST(dirty_rects_clipped_to_area)
{
  const Rect area{100, 100, 50, 40};
  const DamagePlan plan =
      plan_damage({}, {Rect{0, 0, 10, 10}, Rect{90, 90, 20, 20}, Rect{140, 130, 100, 100}}, area);
  CHECK(plan.moves.empty());
  CHECK_EQ(plan.fetch.size(), 2u);
  CHECK_EQ(plan.fetch[0], (Rect{0, 0, 10, 10}));
  CHECK_EQ(plan.fetch[1], (Rect{40, 30, 10, 10}));
}

TEST(move_inside_area)
{
  /* A scroll by 10 rows up, wholly inside. */
  const Rect area{0, 0, 100, 100};
  const DamagePlan plan = plan_damage({MoveRect{10, 20, Rect{10, 10, 50, 50}}}, {}, area);
  CHECK_EQ(plan.moves.size(), 1u);
  CHECK_EQ(plan.moves[0].src_x, 10);
  CHECK_EQ(plan.moves[0].src_y, 20);
  CHECK_EQ(plan.moves[0].dst, (Rect{10, 10, 50, 50}));
  CHECK(plan.fetch.empty());
}

TEST(move_from_outside_area_is_fetched)
{
  /* Area x 20..60; content moves 30 px right, from x 0..40 to 30..70. In
   * the area, x 30..50 shows what was at 0..20, outside: fetched (local
   * 10..30). x 50..60 shows what was at 20..30, inside: moved (local 0..10
   * to 30..40). */
  const Rect area{20, 0, 40, 10};
  const DamagePlan plan = plan_damage({MoveRect{0, 0, Rect{30, 0, 40, 10}}}, {}, area);
  CHECK_EQ(plan.moves.size(), 1u);
  CHECK_EQ(plan.moves[0].src_x, 0);
  CHECK_EQ(plan.moves[0].src_y, 0);
  CHECK_EQ(plan.moves[0].dst, (Rect{30, 0, 10, 10}));
  CHECK_EQ(plan.fetch.size(), 1u);
  CHECK_EQ(plan.fetch[0], (Rect{10, 0, 20, 10}));
}

TEST(move_reading_pixels_still_to_fetch)
{
  /* Move 1 brings pixels from outside into local 0..10 (to fetch); move 2
   * copies local 0..10 on to 30..40: those must be fetched as well. */
  const Rect area{0, 0, 50, 10};
  const DamagePlan plan = plan_damage(
      {MoveRect{-10, 0, Rect{0, 0, 10, 10}}, MoveRect{0, 0, Rect{30, 0, 10, 10}}}, {}, area);
  CHECK_EQ(plan.moves.size(), 1u);
  CHECK_EQ(plan.moves[0].dst, (Rect{30, 0, 10, 10}));
  CHECK_EQ(plan.fetch.size(), 2u);
  CHECK_EQ(plan.fetch[0], (Rect{0, 0, 10, 10}));
  CHECK_EQ(plan.fetch[1], (Rect{30, 0, 10, 10}));
}

TEST(overlapping_moves_exact)
{
  /* Every direction by one pixel, source and destination overlapping. */
  const MoveRect moves[] = {
      {1, 1, Rect{1, 0, 5, 5}}, /* up */
      {1, 0, Rect{1, 1, 5, 5}}, /* down */
      {1, 1, Rect{0, 1, 5, 5}}, /* left */
      {0, 1, Rect{1, 1, 5, 5}}, /* right */
      {0, 0, Rect{1, 1, 5, 5}}, /* down and right */
  };
  for (const MoveRect &m : moves) {
    Picture p(7, 7);
    for (int i = 0; i < 49; i++)
      p.px[i] = 0xff000000u | i;
    Picture expected = p;
    reference_move(expected, m);
    apply_move(p.bytes(), p.stride(), m);
    for (int i = 0; i < 49; i++)
      CHECK_EQ(p.px[i], expected.px[i]);
  }
}

TEST(random_updates_reproduce_the_desktop)
{
  /* A desktop changes by random moves (scrolls, window drags) and dirty
   * rectangles; a copy of a random area kept up to date through
   * plan_damage must equal the same area of the new desktop, pixel for
   * pixel. */
  std::mt19937 rng(1234);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int W = 40, H = 30;
  for (int round = 0; round < 400; round++) {
    Picture desktop(W, H);
    for (auto &v : desktop.px)
      v = rng() | 0xff000000u;
    const Rect area{uniform(0, 20), uniform(0, 15), uniform(1, 20), uniform(1, 15)};
    Picture retained = desktop.crop(area);

    std::vector<MoveRect> moves;
    std::vector<Rect> dirty;
    Picture next = desktop;
    for (int i = uniform(0, 3); i > 0; i--) {
      MoveRect m;
      m.dst = Rect{uniform(0, W - 1), uniform(0, H - 1), 0, 0};
      m.dst.width = uniform(1, W - m.dst.x);
      m.dst.height = uniform(1, H - m.dst.y);
      m.src_x = uniform(0, W - m.dst.width);
      m.src_y = uniform(0, H - m.dst.height);
      moves.push_back(m);
      reference_move(next, m);
    }
    for (int i = uniform(0, 3); i > 0; i--) {
      Rect r{uniform(0, W - 1), uniform(0, H - 1), 0, 0};
      r.width = uniform(1, W - r.x);
      r.height = uniform(1, H - r.y);
      dirty.push_back(r);
      for (int y = r.y; y < r.bottom(); y++)
        for (int x = r.x; x < r.right(); x++)
          next.at(x, y) = rng() | 0xff000000u;
    }

    const DamagePlan plan = plan_damage(moves, dirty, area);
    for (const MoveRect &m : plan.moves) {
      CHECK(intersect(m.dst, Rect{0, 0, area.width, area.height}) == m.dst);
      CHECK(m.src_x >= 0 && m.src_y >= 0 && m.src_x + m.dst.width <= area.width &&
            m.src_y + m.dst.height <= area.height);
      apply_move(retained.bytes(), retained.stride(), m);
    }
    Picture image = next.crop(area);
    for (const Rect &r : plan.fetch)
      copy_rect(image.bytes(), image.stride(), retained.bytes(), retained.stride(), r);
    for (int y = 0; y < area.height; y++)
      for (int x = 0; x < area.width; x++)
        CHECK_EQ(retained.at(x, y), image.at(x, y));
  }
}

TEST(rotation_matches_dxgi_rects)
{
  /* Microsoft's duplication sample turns a rectangle of the desktop image
   * into desktop coordinates (W, H: the desktop's size) like this:
   *   90: left = W - bottom, top = left, right = W - top, bottom = right
   *  180: left = W - right, top = H - bottom, right = W - left, bottom = H - top
   *  270: left = top, top = H - right, right = bottom, bottom = H - left
   * Check desktop_to_image() agrees pixel by pixel. */
  const int W = 5, H = 3;
  for (Rotation rot : {Rotation::Rotate90, Rotation::Rotate180, Rotation::Rotate270}) {
    int iw, ih;
    rotated_image_size(rot, W, H, iw, ih);
    for (int iy = 0; iy < ih; iy++)
      for (int ix = 0; ix < iw; ix++) {
        /* The image pixel as a 1x1 rectangle, into desktop coordinates. */
        const int l = ix, t = iy, r = ix + 1, b = iy + 1;
        int dl = 0, dt = 0;
        if (rot == Rotation::Rotate90) {
          dl = W - b;
          dt = l;
        } else if (rot == Rotation::Rotate180) {
          dl = W - r;
          dt = H - b;
        } else {
          dl = t;
          dt = H - r;
        }
        int jx, jy;
        desktop_to_image(rot, W, H, dl, dt, jx, jy);
        CHECK_EQ(jx, ix);
        CHECK_EQ(jy, iy);
      }
  }
}

TEST(rotated_copy_of_an_area)
{
  /* A 4x3 desktop shown rotated 90 degrees: the image is 3x4. Copying a
   * region back out gives the desktop's pixels upright. */
  const int W = 4, H = 3;
  for (Rotation rot :
       {Rotation::Identity, Rotation::Rotate90, Rotation::Rotate180, Rotation::Rotate270}) {
    int iw, ih;
    rotated_image_size(rot, W, H, iw, ih);
    Picture image(iw, ih);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int ix, iy;
        desktop_to_image(rot, W, H, x, y, ix, iy);
        image.at(ix, iy) = static_cast<std::uint32_t>(y * 10 + x);
      }
    const Rect area{1, 1, 3, 2};
    Picture out(area.width, area.height);
    copy_rotated(image.bytes(), image.stride(), rot, W, H, area, out.bytes(), out.stride());
    for (int y = 0; y < area.height; y++)
      for (int x = 0; x < area.width; x++)
        CHECK_EQ(out.at(x, y), static_cast<std::uint32_t>((area.y + y) * 10 + area.x + x));
  }
}

int main(int argc, char **argv)
{
  return check::run_tests(argc, argv);
}
