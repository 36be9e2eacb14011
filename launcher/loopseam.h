/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * --loop: the seam between two passes over a file, kept in running time.
 */
#pragma once

#include <gst/gst.h>

namespace livecast
{

/* Keeps running time strictly increasing across --loop restarts.
 *
 * After a non-flushing segment seek the demuxer starts the next pass at the
 * running time of the previous pass's last frame *start* (its segment position),
 * so the first new frame would get the same timestamp as the last old one:
 * encoders and RTP receivers take that as the same picture. This probe, on the
 * sink's input pad, moves each new segment's base so that the pass starts where
 * the previous frame ended. Touched only from the streaming thread. */
struct LoopSeam {
  GstSegment segment;
  bool have_segment = false;
  GstClockTime end = GST_CLOCK_TIME_NONE; /* running time where the last frame ended */
};

/* A pad probe (buffers, events) on the sink's input pad; @data is a LoopSeam. */
GstPadProbeReturn loop_seam_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data);

}  // namespace livecast
