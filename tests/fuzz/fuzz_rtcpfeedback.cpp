/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A viewer's RTCP feedback FCI (the payload after the SSRCs), read as a
 * REMB and as transport-cc feedback, then given to the estimator that
 * takes them. The input is the FCI.
 */
#include "bandwidthestimator.h"
#include "fuzz_backend.h"
#include "rtcpfeedback.h"

using namespace livecast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  std::string error;
  uint64_t bps = 0;
  if (parse_remb(data, size, bps, error)) {
    FUZZ_CHECK(error.empty());
    BandwidthEstimator remb;
    remb.on_remb(bps, 0);
    FUZZ_CHECK(remb.target_bps() <= EstimatorConfig().max_bps);
  } else {
    FUZZ_CHECK(!error.empty());
  }
  TwccFeedback fb;
  if (!parse_twcc_feedback(data, size, fb, error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(error.empty());
  FUZZ_CHECK(fb.status_count > 0);
  FUZZ_CHECK(fb.packets.size() == fb.status_count);
  for (std::size_t i = 0; i < fb.packets.size(); i++)
    FUZZ_CHECK(fb.packets[i].seq == static_cast<uint16_t>(fb.base_seq + i));
  /* Whatever a viewer reports, the estimate stays within its bounds. */
  BandwidthEstimator estimator;
  for (int i = 0; i < 200; i++)
    estimator.on_packet_sent(static_cast<uint16_t>(fb.base_seq + i), 1200, i * 1000);
  estimator.on_twcc_feedback(fb, 250000);
  estimator.on_twcc_feedback(fb, 300000);
  const BandwidthEstimate e = estimator.estimate();
  FUZZ_CHECK(e.target_bps >= EstimatorConfig().min_bps &&
             e.target_bps <= EstimatorConfig().max_bps);
  return 0;
}
