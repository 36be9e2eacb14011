/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "capturegeometry.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace livecast {

Rect intersect(const Rect &a, const Rect &b)
{
  const int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const int x1 = std::min(a.right(), b.right()), y1 = std::min(a.bottom(), b.bottom());
  if (a.empty() || b.empty() || x1 <= x0 || y1 <= y0)
    return Rect();
  return Rect{x0, y0, x1 - x0, y1 - y0};
}

Rect translate(const Rect &r, int dx, int dy)
{
  return Rect{r.x + dx, r.y + dy, r.width, r.height};
}

void subtract(const Rect &a, const Rect &b, std::vector<Rect> &out)
{
  const Rect cut = intersect(a, b);
  if (cut.empty()) {
    if (!a.empty())
      out.push_back(a);
    return;
  }
  /* Full-width bands above and below the cut, then what is left and right of it. */
  if (cut.y > a.y)
    out.push_back(Rect{a.x, a.y, a.width, cut.y - a.y});
  if (cut.bottom() < a.bottom())
    out.push_back(Rect{a.x, cut.bottom(), a.width, a.bottom() - cut.bottom()});
  if (cut.x > a.x)
    out.push_back(Rect{a.x, cut.y, cut.x - a.x, cut.height});
  if (cut.right() < a.right())
    out.push_back(Rect{cut.right(), cut.y, a.right() - cut.right(), cut.height});
}

long long total_area(const std::vector<Rect> &rects)
{
  long long sum = 0;
  for (const Rect &r : rects)
    sum += r.area();
  return sum;
}

int select_monitor(const std::vector<MonitorInfo> &monitors, int requested, std::string &error)
{
  if (monitors.empty()) {
    error = "No monitor is attached to the desktop";
    return -1;
  }
  if (requested < 0) {
    for (std::size_t i = 0; i < monitors.size(); i++)
      if (monitors[i].primary)
        return static_cast<int>(i);
    return 0;
  }
  if (static_cast<std::size_t>(requested) >= monitors.size()) {
    const std::string count = monitors.size() == 1
                                  ? std::string("is 1 monitor")
                                  : "are " + std::to_string(monitors.size()) + " monitors";
    error = "There " + count + " (" + describe_monitors(monitors) + "); monitor " +
            std::to_string(requested) + " does not exist";
    return -1;
  }
  return requested;
}

std::string describe_monitors(const std::vector<MonitorInfo> &monitors)
{
  std::string out;
  for (std::size_t i = 0; i < monitors.size(); i++) {
    const MonitorInfo &m = monitors[i];
    if (i > 0)
      out += ", ";
    out += std::to_string(i) + ": " + (m.name.empty() ? "?" : m.name) + " " +
           std::to_string(m.bounds.width) + "x" + std::to_string(m.bounds.height) +
           (m.bounds.x < 0 ? "" : "+") + std::to_string(m.bounds.x) + (m.bounds.y < 0 ? "" : "+") +
           std::to_string(m.bounds.y) + (m.primary ? " (primary)" : "");
  }
  return out;
}

bool resolve_region(int bounds_width, int bounds_height, int x, int y, int width, int height,
                    Rect &area, bool &clamped, std::string &error)
{
  clamped = false;
  if (bounds_width <= 0 || bounds_height <= 0) {
    error = "The screen area to capture from is empty (" + std::to_string(bounds_width) + "x" +
            std::to_string(bounds_height) + ")";
    return false;
  }
  if (x >= bounds_width || y >= bounds_height) {
    error = "The capture region starts at " + std::to_string(x) + "," + std::to_string(y) +
            ", outside the " + std::to_string(bounds_width) + "x" + std::to_string(bounds_height) +
            " area it is taken from";
    return false;
  }
  const int cx = std::clamp(x, 0, bounds_width - 1);
  const int cy = std::clamp(y, 0, bounds_height - 1);
  int w = width > 0 ? width : bounds_width - cx;
  int h = height > 0 ? height : bounds_height - cy;
  if (cx != x || cy != y || w > bounds_width - cx || h > bounds_height - cy) {
    w = std::min(w, bounds_width - cx);
    h = std::min(h, bounds_height - cy);
    clamped = true;
  }
  area = Rect{cx, cy, w, h};
  return true;
}

DamagePlan plan_damage(const std::vector<MoveRect> &moves, const std::vector<Rect> &dirty,
                       const Rect &area)
{
  DamagePlan plan;
  /* Destination pixels (desktop coordinates) that no move can bring: they
   * come from the new desktop image, which holds the final picture. */
  std::vector<Rect> unknown;
  for (const MoveRect &m : moves) {
    const Rect dst = intersect(m.dst, area);
    if (dst.empty())
      continue;
    const int dx = m.src_x - m.dst.x, dy = m.src_y - m.dst.y;
    const Rect src = intersect(translate(dst, dx, dy), area);
    const Rect copied = translate(src, -dx, -dy);
    std::vector<Rect> added;
    subtract(dst, copied, added); /* their source is outside the area */
    if (!copied.empty()) {
      plan.moves.push_back(
          MoveRect{src.x - area.x, src.y - area.y, translate(copied, -area.x, -area.y)});
      /* Copies of pixels still waiting to be fetched must be fetched too. */
      for (const Rect &u : unknown) {
        const Rect stale = intersect(u, src);
        if (!stale.empty())
          added.push_back(translate(stale, -dx, -dy));
      }
    }
    unknown.insert(unknown.end(), added.begin(), added.end());
  }
  for (const Rect &r : dirty) {
    const Rect c = intersect(r, area);
    if (!c.empty())
      plan.fetch.push_back(translate(c, -area.x, -area.y));
  }
  for (const Rect &u : unknown)
    plan.fetch.push_back(translate(u, -area.x, -area.y));
  return plan;
}

void apply_move(std::uint8_t *picture, int stride, const MoveRect &move)
{
  const Rect &d = move.dst;
  if (d.empty())
    return;
  const std::size_t row_bytes = static_cast<std::size_t>(d.width) * 4;
  /* Rows in the order that never reads a row already overwritten; memmove
   * takes care of overlap within a row. */
  const bool upward = move.src_y < d.y;
  for (int i = 0; i < d.height; i++) {
    const int row = upward ? d.height - 1 - i : i;
    std::memmove(
        picture + static_cast<std::size_t>(d.y + row) * stride + static_cast<std::size_t>(d.x) * 4,
        picture + static_cast<std::size_t>(move.src_y + row) * stride +
            static_cast<std::size_t>(move.src_x) * 4,
        row_bytes);
  }
}

void copy_rect(const std::uint8_t *src, int src_stride, std::uint8_t *dst, int dst_stride,
               const Rect &r)
{
  if (r.empty())
    return;
  const std::size_t row_bytes = static_cast<std::size_t>(r.width) * 4;
  for (int row = r.y; row < r.bottom(); row++)
    std::memcpy(
        dst + static_cast<std::size_t>(row) * dst_stride + static_cast<std::size_t>(r.x) * 4,
        src + static_cast<std::size_t>(row) * src_stride + static_cast<std::size_t>(r.x) * 4,
        row_bytes);
}

void rotated_image_size(Rotation rotation, int desktop_width, int desktop_height, int &image_width,
                        int &image_height)
{
  const bool sideways = rotation == Rotation::Rotate90 || rotation == Rotation::Rotate270;
  image_width = sideways ? desktop_height : desktop_width;
  image_height = sideways ? desktop_width : desktop_height;
}

void desktop_to_image(Rotation rotation, int desktop_width, int desktop_height, int x, int y,
                      int &image_x, int &image_y)
{
  switch (rotation) {
    default:
    case Rotation::Identity:
      image_x = x;
      image_y = y;
      break;
    case Rotation::Rotate90:
      image_x = y;
      image_y = desktop_width - 1 - x;
      break;
    case Rotation::Rotate180:
      image_x = desktop_width - 1 - x;
      image_y = desktop_height - 1 - y;
      break;
    case Rotation::Rotate270:
      image_x = desktop_height - 1 - y;
      image_y = x;
      break;
  }
}

void copy_rotated(const std::uint8_t *image, int image_stride, Rotation rotation, int desktop_width,
                  int desktop_height, const Rect &area, std::uint8_t *dst, int dst_stride)
{
  if (area.empty())
    return;
  if (rotation == Rotation::Identity) {
    for (int row = 0; row < area.height; row++)
      std::memcpy(dst + static_cast<std::size_t>(row) * dst_stride,
                  image + static_cast<std::size_t>(area.y + row) * image_stride +
                      static_cast<std::size_t>(area.x) * 4,
                  static_cast<std::size_t>(area.width) * 4);
    return;
  }
  /* One step in desktop x moves the source by (step_x, step_y) in the image. */
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  desktop_to_image(rotation, desktop_width, desktop_height, area.x, area.y, x0, y0);
  desktop_to_image(rotation, desktop_width, desktop_height, area.x + 1, area.y, x1, y1);
  const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(y1 - y0) * image_stride + (x1 - x0) * 4;
  for (int row = 0; row < area.height; row++) {
    int ix = 0, iy = 0;
    desktop_to_image(rotation, desktop_width, desktop_height, area.x, area.y + row, ix, iy);
    const std::uint8_t *s = image + static_cast<std::ptrdiff_t>(iy) * image_stride + ix * 4;
    auto *d = reinterpret_cast<std::uint32_t *>(dst + static_cast<std::size_t>(row) * dst_stride);
    for (int col = 0; col < area.width; col++, s += step)
      std::memcpy(d + col, s, 4);
  }
}

}  // namespace livecast
