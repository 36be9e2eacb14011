/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The geometry every capture backend needs, portable and GStreamer-free so
 * that it is unit-tested natively and compiled into the Windows core:
 * rectangles, the `monitor` property mapped onto the OS's monitor list, the
 * x/y/width/height region resolved inside a monitor, DXGI-style move and
 * dirty rectangles clipped to the captured area, and rotated scan-out.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace livecast {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;

  bool empty() const { return width <= 0 || height <= 0; }
  int right() const { return x + width; }
  int bottom() const { return y + height; }
  long long area() const { return empty() ? 0 : static_cast<long long>(width) * height; }
  bool operator==(const Rect &o) const
  {
    return x == o.x && y == o.y && width == o.width && height == o.height;
  }
  bool operator!=(const Rect &o) const { return !(*this == o); }
};

/* The overlap of @a and @b; empty (0x0 at 0,0) when there is none. */
Rect intersect(const Rect &a, const Rect &b);
Rect translate(const Rect &r, int dx, int dy);
/* Appends @a minus @b to @out: at most four disjoint rectangles. */
void subtract(const Rect &a, const Rect &b, std::vector<Rect> &out);
long long total_area(const std::vector<Rect> &rects);

/* --- monitors --------------------------------------------------------- */

struct MonitorInfo {
  std::string name;
  Rect bounds; /* in virtual-desktop coordinates */
  bool primary = false;
};

/* Index into @monitors for the `monitor` property: -1 picks the primary
 * monitor (the first when none is marked), any other value is the index in
 * the order the OS lists them. -1 with @error when it does not exist. */
int select_monitor(const std::vector<MonitorInfo> &monitors, int requested, std::string &error);
/* "0: DISPLAY1 1920x1080+0+0 (primary), 1: ..." for logs and errors. */
std::string describe_monitors(const std::vector<MonitorInfo> &monitors);

/* --- the region inside a monitor --------------------------------------- */

/* The captured area inside a @bounds_width x @bounds_height monitor (or
 * screen) for the x/y/width/height properties (a size of 0 reaches the
 * edge), clamped to what exists; @clamped says that it had to be. False and
 * @error when the region starts outside. */
bool resolve_region(int bounds_width, int bounds_height, int x, int y, int width, int height,
                    Rect &area, bool &clamped, std::string &error);

/* --- damage ------------------------------------------------------------ */

/* Content moved on screen (a scroll, a dragged window): the pixels of
 * @dst's size at (@src_x, @src_y) of the previous picture now show at @dst
 * (DXGI_OUTDUPL_MOVE_RECT). */
struct MoveRect {
  int src_x = 0, src_y = 0;
  Rect dst;
};

/* What one desktop update means for a retained copy of @area: the moves to
 * apply to it, in order, then the rectangles to fetch from the new desktop
 * image. Everything is in area coordinates. A move whose source lies partly
 * outside the area, or reads pixels an earlier move left to be fetched, has
 * those destination pixels fetched instead. */
struct DamagePlan {
  std::vector<MoveRect> moves;
  std::vector<Rect> fetch;
};
DamagePlan plan_damage(const std::vector<MoveRect> &moves, const std::vector<Rect> &dirty,
                       const Rect &area);

/* Applies @move to a 4-byte-per-pixel picture, as if through a temporary
 * copy: source and destination may overlap. Both rectangles must lie inside
 * the picture (plan_damage() only produces such moves). */
void apply_move(std::uint8_t *picture, int stride, const MoveRect &move);
/* Copies @r of a 4-byte-per-pixel image at @src into the same place of @dst. */
void copy_rect(const std::uint8_t *src, int src_stride, std::uint8_t *dst, int dst_stride,
               const Rect &r);

/* --- rotated outputs --------------------------------------------------- */

/* How the desktop is turned on a rotated output: DXGI hands its desktop
 * image in the panel's own orientation, with DXGI_MODE_ROTATION saying how
 * it shows (90: a desktop column is an image row read right to left). */
enum class Rotation { Identity, Rotate90, Rotate180, Rotate270 };

/* Size of the desktop image for a desktop of @desktop_width x
 * @desktop_height shown with @rotation. */
void rotated_image_size(Rotation rotation, int desktop_width, int desktop_height, int &image_width,
                        int &image_height);
/* Where desktop pixel (@x, @y) is in that image. */
void desktop_to_image(Rotation rotation, int desktop_width, int desktop_height, int x, int y,
                      int &image_x, int &image_y);
/* Copies @area (desktop coordinates) out of an image in panel orientation
 * into @dst, upright, 4 bytes per pixel. */
void copy_rotated(const std::uint8_t *image, int image_stride, Rotation rotation, int desktop_width,
                  int desktop_height, const Rect &area, std::uint8_t *dst, int dst_stride);

}  // namespace livecast
