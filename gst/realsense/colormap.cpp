/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "colormap.h"

#include <algorithm>
#include <cmath>

namespace livecast
{

namespace
{

guint8 to_byte(double v)
{
  return guint8(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
}

/* Turbo (Google, 2019), through its published polynomial approximation:
 * each channel a degree-5 polynomial in x. */
std::array<guint8, 3> turbo(double x)
{
  const double x2 = x * x, x3 = x2 * x, x4 = x2 * x2, x5 = x4 * x;
  const double r = 0.13572138 + 4.61539260 * x - 42.66032258 * x2 + 132.13108234 * x3 -
                   152.94239396 * x4 + 59.28637943 * x5;
  const double g = 0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 +
                   4.27729857 * x4 + 2.82956604 * x5;
  const double b = 0.10667330 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 -
                   89.90310912 * x4 + 27.34824973 * x5;
  return {to_byte(r), to_byte(g), to_byte(b)};
}

/* Jet (MATLAB's classic): dark blue, blue, cyan, yellow, red, dark red. */
std::array<guint8, 3> jet(double x)
{
  return {to_byte(1.5 - std::fabs(4 * x - 3)), to_byte(1.5 - std::fabs(4 * x - 2)),
          to_byte(1.5 - std::fabs(4 * x - 1))};
}

/* White near, dark grey far: black stays "no depth". */
std::array<guint8, 3> grayscale(double x)
{
  const guint8 v = guint8(std::lround(255.0 - x * (255.0 - 40.0)));
  return {v, v, v};
}

template <typename F>
Palette make(F f)
{
  Palette p;
  for (size_t i = 0; i < p.size(); i++)
    p[i] = f(double(i) / double(p.size() - 1));
  return p;
}

}  // namespace

const Palette &colormap_palette(GstDepthColormap map)
{
  static const Palette turbo_map = make(turbo), jet_map = make(jet), gray_map = make(grayscale);
  switch (map) {
    case GST_DEPTH_COLORMAP_JET:
      return jet_map;
    case GST_DEPTH_COLORMAP_GRAYSCALE:
      return gray_map;
    default:
      return turbo_map;
  }
}

}  // namespace livecast
