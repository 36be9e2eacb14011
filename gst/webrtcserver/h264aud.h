/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Access unit delimiters out of H.264 before RTP. rtph264pay (1.22) in
 * aggregate-mode=zero-latency sends an AUD together with what follows it up
 * to the first slice as a packet with the marker bit set, so a browser sees
 * a frame end before the key frame's slices: Chromium counts a dropped
 * frame for every key frame and completes the key frame one frame late.
 * RFC 6184 lets a sender drop AUDs; the payloaders never need them.
 */
#pragma once

#include <gst/gst.h>

namespace livecast
{

/* Removes every access unit delimiter (NAL type 9) from @buffer, an access
 * unit in byte-stream form (start codes) or, with @avc, with 4-byte length
 * prefixes. Returns a new buffer without them (timestamps, flags and metas
 * copied), or @buffer itself, untouched, when it has none or cannot be read;
 * the reference to @buffer is taken either way. */
GstBuffer *h264_without_aud(GstBuffer *buffer, bool avc);

}  // namespace livecast
