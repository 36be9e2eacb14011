/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The binary media messages of /ws (protocol/mediaframe.h): any bytes
 * through the header parser, the H.264 codec string and the avc to Annex B
 * conversion; what parses writes back to the same bytes.
 */
#include <cstring>

#include "fuzz_backend.h"
#include "protocol/mediaframe.h"

using namespace livecast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  MediaFrameHeader header;
  std::string error;
  if (parse_media_frame(data, size, header, error)) {
    const std::string again =
        write_media_frame(header, data + kMediaFrameHeaderBytes, size - kMediaFrameHeaderBytes);
    FUZZ_CHECK(again.size() == size && memcmp(again.data(), data, size) == 0);
  } else {
    FUZZ_CHECK(!error.empty() && error.back() == '.');
  }
  const std::string codec = h264_codec_string(data, size);
  FUZZ_CHECK(codec.empty() || (codec.size() == 11 && codec.compare(0, 5, "avc1.") == 0));
  const std::string annexb = h264_avc_to_annexb(data, size);
  /* Each 4-byte length becomes a 4-byte start code: same size, or refused. */
  FUZZ_CHECK(annexb.empty() || annexb.size() == size);
  return 0;
}
