/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A trickle-ICE SDP fragment (PATCH /whep/<id>, RFC 8840): parse_sdp_fragment.
 * The input is the body.
 */
#include "fuzz_backend.h"
#include "sdpoffer.h"

using namespace livecast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string text(reinterpret_cast<const char *>(data), size);
  SdpFragment frag = parse_sdp_fragment(text);
  if (!frag.ok) {
    FUZZ_CHECK(!frag.error.empty());
    return 0;
  }
  FUZZ_CHECK(frag.error.empty());
  for (const TrickleCandidate &c : frag.candidates) {
    /* What the element hands to webrtcbin: one line, "candidate:" first. */
    FUZZ_CHECK(c.candidate.compare(0, 10, "candidate:") == 0);
    FUZZ_CHECK(c.candidate.find('\n') == std::string::npos);
    FUZZ_CHECK(c.mline >= -1);
  }
  FUZZ_CHECK(frag.ice_ufrag.find('\n') == std::string::npos);
  return 0;
}
