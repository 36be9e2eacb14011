/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rendition ladder of webrtcserversink: up to three rungs, each one
 * encoding of the same raw input, that viewers move along by their own
 * bandwidth estimate (rungcontroller.h). Rung 0 is the input's size at the
 * configured bitrate; the others are smaller, slower or both:
 *  - camera content: half size at about a third of the bitrate, quarter
 *    size at about a tenth (motion looks fine small, a picture that
 *    stutters does not);
 *  - screen content: full size at half the frame rate first, then half
 *    size at half the frame rate (text must stay readable: a smaller
 *    picture is the last resort).
 * Pure arithmetic, no GStreamer elements: tests/unit/test_rungcontroller.cpp
 * checks it.
 */
#pragma once

#include <glib.h>

#include <vector>

namespace livecast
{

enum class Ladder { None, Camera, Screen };

struct RungSpec {
  int width = 0, height = 0; /* 0: the input's */
  bool half_rate = false;    /* every other frame of the input */
  guint bitrate_kbps = 0;
};

/* The rungs for an input of @width x @height at @bitrate_kbps; one rung
 * (the input as it is) for Ladder::None or a picture too small to shrink. */
std::vector<RungSpec> ladder_rungs(Ladder ladder, int width, int height, guint bitrate_kbps);

const char *ladder_name(Ladder ladder);

}  // namespace livecast
