/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The picture of the captured area as it stands, kept up to date from
 * desktop updates that say what moved and what changed (DXGI Desktop
 * Duplication's move and dirty rectangles), with the pointer drawn on top
 * only in the frames handed out. Portable and GStreamer-free: the Windows
 * core feeds it, the unit tests check its pixels natively.
 */
#pragma once

#include <cstdint>
#include <vector>

#include "capturegeometry.h"
#include "cursorblend.h"

namespace livecast {

class FrameAssembler
{
 public:
  /* A new size, or a new duplication whose first image is all there is:
   * the next update fetches the whole area. The picture starts black. */
  void reset(int width, int height);
  /* The retained picture can no longer be trusted (a fetch failed halfway). */
  void invalidate() { valid_ = false; }
  int width() const { return width_; }
  int height() const { return height_; }
  bool has_picture() const { return valid_; }

  /* Starts a desktop update of @area (desktop coordinates, @area's size is
   * the assembler's) that brought @moves and @dirty (desktop coordinates):
   * applies the moves to the retained picture and returns the rectangles to
   * fetch from the new desktop image with store(), in area coordinates.
   * That is the whole area when @full, before the first picture, or when the
   * pieces add up to more than half of it (one copy beats many). The
   * caller stores them all, or calls invalidate(). */
  std::vector<Rect> begin_update(const std::vector<MoveRect> &moves, const std::vector<Rect> &dirty,
                                 const Rect &area, bool full);
  /* Copies @rects of @src, an image of the captured area (its pixel 0,0 is
   * the area's top-left corner), into the picture. */
  void store(const std::uint8_t *src, int src_stride, const std::vector<Rect> &rects);
  /* Direct access for callers that fill the whole picture themselves
   * (rotated outputs); call picture_replaced() afterwards. */
  std::uint8_t *picture() { return picture_.data(); }
  int stride() const { return width_ * 4; }
  void picture_replaced() { valid_ = true; }

  /* The pointer: its shape's top-left corner in area coordinates. Each
   * returns whether what compose() draws changed. */
  bool set_pointer_position(bool visible, int x, int y);
  bool set_pointer_shape(CursorImage shape);
  bool pointer_visible() const { return pointer_visible_; }

  /* The picture, with the pointer when @draw_pointer, into @dst (rows
   * @dst_stride bytes apart, 4 bytes per pixel). */
  void compose(std::uint8_t *dst, int dst_stride, bool draw_pointer) const;

 private:
  int width_ = 0, height_ = 0;
  std::vector<std::uint8_t> picture_;
  bool valid_ = false;
  bool pointer_visible_ = false;
  CursorImage pointer_;
};

}  // namespace livecast
