/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A scripted stand-in for the DXGI core (dxgiduplicator.h), so that the
 * GStreamer adapter (backends/dxgi/dxgicapture.cpp) is built and tested on
 * Linux: what next_frame() returns comes from the script, compose() fills
 * the frame with the number of the current picture.
 */
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "dxgiduplicator.h"

namespace fake_dxgi {

struct Script {
  bool open_ok = true;
  std::string open_error = "no such monitor";
  bool clamped = false;
  int width = 64, height = 32;
  /* Returned by next_frame() in turn; Unchanged once empty. */
  std::deque<livecast::dxgi::FrameStatus> statuses;
  /* New sizes taken on each Resized. */
  std::deque<std::pair<int, int>> sizes;
  /* Recorded: */
  livecast::dxgi::DuplicatorOptions options;
  std::vector<unsigned> timeouts;
  int picture = 0; /* bumped by each NewFrame; compose() writes it in every byte */
  bool unlocked = false;
  int closes = 0;
};

Script &script();

}  // namespace fake_dxgi
