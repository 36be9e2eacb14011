/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rtcpfeedback.h"

namespace livecast
{

namespace
{

constexpr std::size_t kHeaderBytes = 8;
constexpr int64_t kReferenceUnitUs = 64000;
constexpr int64_t kDeltaUnitUs = 250;

enum Status : uint8_t { kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2, kReserved = 3 };

uint16_t read16(const uint8_t *p)
{
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

bool fail(std::string &error, const std::string &why, const char *what = "transport-cc feedback")
{
  error = std::string("malformed ") + what + ": " + why + ".";
  return false;
}

}  // namespace

bool parse_twcc_feedback(const uint8_t *data, std::size_t size, TwccFeedback &out,
                         std::string &error)
{
  out = TwccFeedback();
  if (!data || size < kHeaderBytes)
    return fail(error, "shorter than its 8-byte header");
  out.base_seq = read16(data);
  out.status_count = read16(data + 2);
  out.reference_time = (static_cast<uint32_t>(data[4]) << 16) | (data[5] << 8) | data[6];
  out.feedback_count = data[7];
  if (out.status_count == 0)
    return fail(error, "it reports no packet");

  /* The chunks: one status per reported packet. */
  std::vector<uint8_t> statuses;
  statuses.reserve(out.status_count);
  std::size_t pos = kHeaderBytes;
  while (statuses.size() < out.status_count) {
    if (pos + 2 > size)
      return fail(error,
                  "its packet chunks end before " + std::to_string(out.status_count) + " statuses");
    const uint16_t chunk = read16(data + pos);
    pos += 2;
    const std::size_t left = out.status_count - statuses.size();
    if ((chunk & 0x8000) == 0) {
      const uint8_t status = (chunk >> 13) & 0x3;
      if (status == kReserved)
        return fail(error, "a run-length chunk has the reserved status 3");
      const std::size_t run = chunk & 0x1fff;
      statuses.insert(statuses.end(), run < left ? run : left, status);
    } else if ((chunk & 0x4000) == 0) {
      for (int bit = 13; bit >= 0 && statuses.size() < out.status_count; bit--)
        statuses.push_back((chunk >> bit) & 0x1);
    } else {
      for (int shift = 12; shift >= 0 && statuses.size() < out.status_count; shift -= 2) {
        const uint8_t status = (chunk >> shift) & 0x3;
        if (status == kReserved)
          return fail(error, "a status vector chunk has the reserved status 3");
        statuses.push_back(status);
      }
    }
  }

  /* The receive deltas, in the order of the packets received. */
  out.packets.resize(out.status_count);
  int64_t arrival = static_cast<int64_t>(out.reference_time) * kReferenceUnitUs;
  for (std::size_t i = 0; i < statuses.size(); i++) {
    TwccPacketReport &p = out.packets[i];
    p.seq = static_cast<uint16_t>(out.base_seq + i);
    if (statuses[i] == kNotReceived)
      continue;
    int64_t delta = 0;
    if (statuses[i] == kSmallDelta) {
      if (pos + 1 > size)
        return fail(error, "its receive deltas end early");
      delta = data[pos];
      pos += 1;
    } else {
      if (pos + 2 > size)
        return fail(error, "its receive deltas end early");
      delta = static_cast<int16_t>(read16(data + pos));
      pos += 2;
    }
    arrival += delta * kDeltaUnitUs;
    p.received = true;
    p.arrival_us = arrival;
  }
  /* What follows can only be the padding to 32 bits. */
  if (size - pos > 3)
    return fail(error, std::to_string(size - pos) + " bytes follow the last receive delta");
  error.clear();
  return true;
}

bool parse_remb(const uint8_t *data, std::size_t size, uint64_t &bps, std::string &error)
{
  bps = 0;
  if (!data || size < 8)
    return fail(error, "shorter than 8 bytes", "REMB");
  if (data[0] != 'R' || data[1] != 'E' || data[2] != 'M' || data[3] != 'B')
    return fail(error, "it does not start with \"REMB\"", "REMB");
  const std::size_t ssrcs = data[4];
  if (size < 8 + 4 * ssrcs)
    return fail(error, "it lists more SSRCs than it carries", "REMB");
  const unsigned exponent = data[5] >> 2;
  const uint64_t mantissa = (static_cast<uint64_t>(data[5] & 0x3) << 16) | (data[6] << 8) | data[7];
  /* 18 bits shifted by up to 63: keep what fits, anything larger is "no limit". */
  bps = exponent > 45 ? UINT64_MAX : mantissa << exponent;
  error.clear();
  return true;
}

}  // namespace livecast
