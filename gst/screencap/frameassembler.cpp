/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "frameassembler.h"

#include <cstddef>
#include <cstring>
#include <utility>

namespace livecast {

void FrameAssembler::reset(int width, int height)
{
  width_ = width > 0 ? width : 0;
  height_ = height > 0 ? height : 0;
  /* Opaque black, so that a frame handed out before the first image is
   * plain black rather than transparent. */
  picture_.assign(static_cast<std::size_t>(width_) * height_ * 4, 0);
  for (std::size_t i = 3; i < picture_.size(); i += 4)
    picture_[i] = 0xff;
  valid_ = false;
}

std::vector<Rect> FrameAssembler::begin_update(const std::vector<MoveRect> &moves,
                                               const std::vector<Rect> &dirty, const Rect &area,
                                               bool full)
{
  const Rect whole{0, 0, width_, height_};
  if (whole.empty())
    return {};
  if (!full && valid_) {
    DamagePlan plan = plan_damage(moves, dirty, area);
    if (total_area(plan.fetch) * 2 <= whole.area()) {
      for (const MoveRect &m : plan.moves)
        apply_move(picture_.data(), stride(), m);
      return std::move(plan.fetch);
    }
  }
  valid_ = true;
  return {whole};
}

void FrameAssembler::store(const std::uint8_t *src, int src_stride, const std::vector<Rect> &rects)
{
  const Rect whole{0, 0, width_, height_};
  for (const Rect &r : rects)
    copy_rect(src, src_stride, picture_.data(), stride(), intersect(r, whole));
}

bool FrameAssembler::set_pointer_position(bool visible, int x, int y)
{
  const bool changed =
      visible != pointer_visible_ || (visible && (x != pointer_.x || y != pointer_.y));
  pointer_visible_ = visible;
  pointer_.x = x;
  pointer_.y = y;
  return changed;
}

bool FrameAssembler::set_pointer_shape(CursorImage shape)
{
  shape.x = pointer_.x;
  shape.y = pointer_.y;
  pointer_ = std::move(shape);
  return pointer_visible_;
}

void FrameAssembler::compose(std::uint8_t *dst, int dst_stride, bool draw_pointer) const
{
  const std::size_t row_bytes = static_cast<std::size_t>(width_) * 4;
  if (dst_stride == stride()) {
    std::memcpy(dst, picture_.data(), picture_.size());
  } else {
    for (int y = 0; y < height_; y++)
      std::memcpy(dst + static_cast<std::size_t>(y) * dst_stride,
                  picture_.data() + static_cast<std::size_t>(y) * row_bytes, row_bytes);
  }
  if (draw_pointer && pointer_visible_)
    blend_cursor(dst, width_, height_, dst_stride, pointer_);
}

}  // namespace livecast
