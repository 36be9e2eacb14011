/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * --talkback: each viewer's microphone (the sink's talkback_<id> pad) played
 * on this machine's speakers ($LIVECAST_TALKBACK_SINK, else autoaudiosink),
 * through a player bin that keeps its preroll to itself.
 */
#pragma once

#include <gst/gst.h>

#include <string>

namespace livecast
{

/* Plays @pad in a new bin inside @pipeline; @line says what happened (one
 * line for the terminal). */
void play_viewer_microphone(GstBin *pipeline, GstPad *pad, std::string &line);
/* Removes @pad's player (from the main loop). */
void stop_viewer_microphone(GstBin *pipeline, GstPad *pad);

}  // namespace livecast
