/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The playout-delay RTP header extension
 * (http://www.webrtc.org/experiments/rtp-hdrext/playout-delay): the sender
 * tells the receiver the least and the most time a frame may wait in its
 * jitter buffer. Three bytes, two 12-bit fields in units of 10 ms:
 *
 *    0                   1                   2
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3
 *   |       MIN delay       |       MAX delay       |
 *
 * With min = max = 0 Chromium renders each frame as soon as it is decoded
 * (tests/bench/bench_glass.mjs, suite diagnose, measures it). GStreamer
 * 1.22 has no such extension: this is a GstRTPHeaderExtension of the
 * plugin's own, made by type (playout_delay_extension_new), not an element
 * factory other pipelines would find by its URI.
 */
#pragma once

#include <gst/gst.h>
#include <gst/rtp/rtp.h>

namespace livecast
{

extern const char kPlayoutDelayUri[];
/* The largest delay the 12-bit fields hold: 4095 × 10 ms. */
constexpr guint kPlayoutDelayMaxMs = 40950;

GType playout_delay_extension_get_type();

/* A new extension (floating reference, as from an element factory) with
 * @id that writes @min_ms and @max_ms (rounded down to 10 ms, capped at
 * kPlayoutDelayMaxMs) into every packet. Its properties "min-delay" and
 * "max-delay" (ms) may change while it writes. */
GstRTPHeaderExtension *playout_delay_extension_new(guint id, guint min_ms, guint max_ms);

}  // namespace livecast
