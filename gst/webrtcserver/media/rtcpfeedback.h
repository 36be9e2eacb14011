/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a viewer tells us about its link, as RTCP feedback payloads (FCI):
 *
 * Transport-wide congestion control feedback (RTPFB, FMT 15,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01): which of our
 * packets a viewer received, and when, on its own clock.
 *
 *   base sequence number (16) | packet status count (16)
 *   reference time (24, x 64 ms) | feedback packet count (8)
 *   packet chunks (16 bits each): run length (0 | status 2 | length 13)
 *     or status vector (1 | 0 | 14 x 1-bit) / (1 | 1 | 7 x 2-bit)
 *   receive deltas: 1 byte (unsigned) for "small", 2 bytes (signed) for
 *     "large or negative", in 250 us units; none for "not received"
 *   padding up to 32 bits
 *
 * REMB (PSFB, FMT 15, draft-alvestrand-rmcat-remb-03): the bitrate the
 * viewer's own estimator allows, for viewers without transport-cc.
 *
 *   "REMB" | number of SSRCs (8) | exponent (6) | mantissa (18) | SSRCs
 *
 * The input comes from viewers, so anything malformed is an error with a
 * reason, never a read past the end.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace livecast
{

struct TwccPacketReport {
  uint16_t seq = 0;
  bool received = false;
  /* Arrival on the viewer's clock: reference time plus the deltas, in
   * microseconds (may be negative with a negative first delta). Only
   * differences between packets mean anything. */
  int64_t arrival_us = 0;
};

struct TwccFeedback {
  uint16_t base_seq = 0;
  uint16_t status_count = 0;
  /* The 24-bit reference time as sent, in 64 ms units (wraps at 2^24). */
  uint32_t reference_time = 0;
  uint8_t feedback_count = 0;
  /* One entry per status: base_seq, base_seq + 1, ... (wrapping). */
  std::vector<TwccPacketReport> packets;
};

/* Parses the FCI of one transport-cc feedback packet (@data, @size bytes,
 * the RTCP header and the two SSRCs excluded). False and @error (one
 * sentence) when it is malformed. */
bool parse_twcc_feedback(const uint8_t *data, std::size_t size, TwccFeedback &out,
                         std::string &error);

/* Parses the FCI of an application-layer feedback packet that is a REMB:
 * the bitrate in bits per second. False and @error when it is not a REMB
 * or is malformed. */
bool parse_remb(const uint8_t *data, std::size_t size, uint64_t &bps, std::string &error);

}  // namespace livecast
