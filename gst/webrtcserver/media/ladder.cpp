/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ladder.h"

#include <algorithm>

namespace livecast
{

namespace
{

/* Below this a rung is not worth an encoder: nothing is readable. */
constexpr int kMinRungWidth = 160;
constexpr int kMinRungHeight = 90;
constexpr guint kMinRungKbps = 50;

/* Encoders want even sizes (4:2:0 chroma). */
int even(int v)
{
  return std::max(2, v & ~1);
}

guint share(guint kbps, double fraction)
{
  return std::max(kMinRungKbps, static_cast<guint>(kbps * fraction + 0.5));
}

}  // namespace

const char *ladder_name(Ladder ladder)
{
  switch (ladder) {
    case Ladder::Camera:
      return "camera";
    case Ladder::Screen:
      return "screen";
    case Ladder::None:
      break;
  }
  return "none";
}

std::vector<RungSpec> ladder_rungs(Ladder ladder, int width, int height, guint bitrate_kbps)
{
  std::vector<RungSpec> rungs;
  RungSpec top;
  top.width = width;
  top.height = height;
  top.bitrate_kbps = bitrate_kbps;
  rungs.push_back(top);
  if (ladder == Ladder::None || width < 2 * kMinRungWidth || height < 2 * kMinRungHeight)
    return rungs;
  const bool camera = ladder == Ladder::Camera;
  /* Camera: 1/2 size at 1/3, 1/4 size at 1/10 (the bits per pixel stay
   * about the same: a quarter of the pixels at a third). Screen: the full
   * size at half the frame rate and half the bitrate, then half the size
   * at half the rate and a fifth. */
  const struct {
    int divisor;
    bool half_rate;
    double share;
  } steps[2] = {{camera ? 2 : 1, !camera, camera ? 1.0 / 3 : 0.5},
                {camera ? 4 : 2, !camera, camera ? 0.1 : 0.2}};
  for (const auto &step : steps) {
    RungSpec r;
    r.width = even(width / step.divisor);
    r.height = even(height / step.divisor);
    if (r.width < kMinRungWidth || r.height < kMinRungHeight)
      break;
    r.half_rate = step.half_rate;
    r.bitrate_kbps = share(bitrate_kbps, step.share);
    rungs.push_back(r);
  }
  return rungs;
}

}  // namespace livecast
