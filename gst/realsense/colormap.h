/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The colour maps of depthcolorize: 256 RGB colours each, from near (0) to
 * far (255).
 */
#pragma once

#include <glib.h>

#include <array>

#include "gstdepthcolorize.h"

namespace livecast
{

using Palette = std::array<std::array<guint8, 3>, 256>;

const Palette &colormap_palette(GstDepthColormap map);

}  // namespace livecast
