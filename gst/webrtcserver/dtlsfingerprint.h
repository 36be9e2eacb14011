/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DTLS fingerprints (RFC 8122, a=fingerprint): reading them from SDP and
 * checking a peer's certificate against them. webrtcbin (1.22) never
 * compares the certificate a peer shows in the DTLS handshake with the
 * fingerprint of its SDP, so without this check anyone between the viewer
 * and us could stand in for either. Pure functions, unit-tested.
 */
#pragma once

#include <gst/sdp/sdp.h>

#include <string>
#include <vector>

namespace livecast
{

struct DtlsFingerprint {
  std::string algorithm; /* lower case, as in SDP: "sha-256", "sha-1", … */
  std::vector<unsigned char> digest;
};

/* Parses the value of an a=fingerprint line ("sha-256 AB:CD:…"). false when
 * it is not a hash name followed by colon-separated hex bytes. */
bool parse_dtls_fingerprint(const std::string &value, DtlsFingerprint &out);

/* Whether @algorithm is one this file can compute (sha-1, sha-256, sha-384,
 * sha-512). */
bool dtls_fingerprint_algorithm_supported(const std::string &algorithm);

/* Every well-formed a=fingerprint of @sdp's m-line @mline, falling back to
 * the session level when the media section has none. */
std::vector<DtlsFingerprint> sdp_dtls_fingerprints(const GstSDPMessage *sdp, guint mline);

/* Whether the first certificate of @pem (PEM text, as dtlssrtpdec's
 * peer-pem gives it) hashes to one of @expected, comparing only the
 * algorithms supported here. false with @why (one sentence) otherwise,
 * including when no expected fingerprint has a supported algorithm. */
bool certificate_matches_fingerprints(const std::string &pem,
                                      const std::vector<DtlsFingerprint> &expected,
                                      std::string &why);

}  // namespace livecast
