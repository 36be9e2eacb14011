/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DTLS fingerprints: parsing a=fingerprint and matching a certificate.
 * The certificate and its fingerprints were made with the openssl command
 * line tool (`openssl req -x509 -newkey ec …`, `openssl x509 -fingerprint
 * -sha256`), an implementation independent of ours.
 */
#include <gst/gst.h>

#include <string>

#include "testutil.h"

#include "dtlsfingerprint.h"
#include "offers.h"
#include "sdpoffer.h"

using namespace livecast;

static const char kCertificate[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhzCCAS2gAwIBAgIUNzhj6wVgibuUYTGi60boSTF02NUwCgYIKoZIzj0EAwIw\n"
    "GDEWMBQGA1UEAwwNbGl2ZWNhc3QtdGVzdDAgFw0yNjEyMDMxMjQ0MjlaGA8yMTI2\n"
    "MTEwOTEyNDQyOVowGDEWMBQGA1UEAwwNbGl2ZWNhc3QtdGVzdDBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABBwAp7FSORfqIRlOiUpjSijNapqSpIPtqf1XcITPgvDB\n"
    "4TmEFEcDPmmA6nRGLsuun+Okk5smTLfnesF6iUUea96jUzBRMB0GA1UdDgQWBBS+\n"
    "47Uu61zpg+ZDx0Famabwj8O+WjAfBgNVHSMEGDAWgBS+47Uu61zpg+ZDx0Famabw\n"
    "j8O+WjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDgdD/I47h2\n"
    "DWKhzKUdFRFpGgLHYpDqHDWX+ABUBDSpqwIgdLKJCMZxwl/TRcriastXRQKthaXO\n"
    "SYvlGuYVcK4gn8A=\n"
    "-----END CERTIFICATE-----\n";

static const char kSha1[] = "sha-1 D8:E5:5A:30:2C:37:E9:DD:CB:99:17:1B:5E:DB:8B:D3:A8:BA:02:47";
static const char kSha256[] =
    "sha-256 6E:BD:69:9C:04:78:78:D4:B4:8B:88:5A:DE:79:18:E9:B8:A6:13:8F:9D:CD:FE:37:BB:DE:05:AD:"
    "6F:2D:71:40";
static const char kSha384[] =
    "sha-384 C0:A3:45:96:E2:4A:07:ED:B5:6A:1A:E4:44:2E:C8:40:1E:AE:99:77:99:CD:7D:08:3E:7D:A0:B4:"
    "45:F2:9A:04:3A:20:AD:DC:DA:83:FA:9E:04:15:F2:76:59:AB:4B:FF";
static const char kSha512[] =
    "sha-512 5A:C4:E7:01:43:4A:CA:3B:D3:AA:65:C1:FF:86:CC:68:01:39:E3:7B:01:A7:62:98:41:F4:36:74:"
    "05:11:61:3D:58:C1:AA:02:EF:A9:74:6C:76:34:27:CE:63:E4:4B:C6:B2:54:FC:94:80:31:40:4F:D6:46:14:"
    "A6:5C:04:18:86";

static DtlsFingerprint parsed(const char *value)
{
  DtlsFingerprint f;
  g_assert_true(parse_dtls_fingerprint(value, f));
  return f;
}

static void test_parse()
{
  DtlsFingerprint f = parsed(kSha256);
  ASSERT_STR_EQ(f.algorithm, "sha-256");
  g_assert_cmpuint(f.digest.size(), ==, 32);
  g_assert_cmpuint(f.digest[0], ==, 0x6e);
  g_assert_cmpuint(f.digest[31], ==, 0x40);
  /* Upper-case hash names and lower-case hex are the same fingerprint. */
  DtlsFingerprint g = parsed(
      "SHA-256 6e:bd:69:9c:04:78:78:d4:b4:8b:88:5a:de:79:18:e9:b8:a6:13:8f:"
      "9d:cd:fe:37:bb:de:05:ad:6f:2d:71:40\r");
  ASSERT_STR_EQ(g.algorithm, "sha-256");
  g_assert_true(g.digest == f.digest);

  DtlsFingerprint bad;
  for (const char *value : {"", "sha-256", "sha-256 ", " 6E:BD", "sha-256 6E:BD:", "sha-256 6E-BD",
                            "sha-256 6EBD", "sha-256 6G:BD", "sha-256 6E::BD", "sha-256 6E:B"})
    g_assert_false(parse_dtls_fingerprint(value, bad));
}

static void test_certificate_matches_each_algorithm()
{
  std::string why;
  for (const char *value : {kSha1, kSha256, kSha384, kSha512})
    g_assert_true(certificate_matches_fingerprints(kCertificate, {parsed(value)}, why));
  /* One matching fingerprint among others is enough. */
  g_assert_true(certificate_matches_fingerprints(kCertificate,
                                                 {parsed("sha-256 00:11"), parsed(kSha384)}, why));
}

static void test_certificate_mismatch()
{
  std::string why;
  std::string other = kSha256;
  other[8] = '7'; /* 6E -> 7E */
  g_assert_false(certificate_matches_fingerprints(kCertificate, {parsed(other.c_str())}, why));
  g_assert_true(why.find("does not match") != std::string::npos);
  /* A fingerprint of another hash's length under this name never matches. */
  std::string sha1_as_256 = std::string("sha-256") + (kSha1 + 5);
  g_assert_false(
      certificate_matches_fingerprints(kCertificate, {parsed(sha1_as_256.c_str())}, why));
}

static void test_unsupported_or_unreadable()
{
  std::string why;
  g_assert_false(certificate_matches_fingerprints(kCertificate, {parsed("md5 00:11:22")}, why));
  g_assert_true(why.find("sha-256") != std::string::npos);
  g_assert_false(certificate_matches_fingerprints(kCertificate, {}, why));
  g_assert_false(certificate_matches_fingerprints("", {parsed(kSha256)}, why));
  g_assert_true(why.find("no readable") != std::string::npos);
  std::string broken = kCertificate;
  broken[100] = '!'; /* not base64 */
  g_assert_false(certificate_matches_fingerprints(broken, {parsed(kSha256)}, why));
  std::string truncated(kCertificate, 200);
  g_assert_false(certificate_matches_fingerprints(truncated, {parsed(kSha256)}, why));
}

static std::string with_fingerprint_lines(std::string sdp, const std::string &lines)
{
  /* Every a=fingerprint of the offer is replaced by @lines at the same place. */
  std::string out;
  std::size_t pos = 0;
  bool placed = false;
  while (pos < sdp.size()) {
    std::size_t end = sdp.find("\r\n", pos);
    if (end == std::string::npos)
      end = sdp.size();
    const std::string line = sdp.substr(pos, end - pos);
    if (line.rfind("a=fingerprint:", 0) == 0) {
      if (!placed)
        out += lines;
      placed = true;
    } else {
      out += line + "\r\n";
    }
    pos = end + 2;
  }
  return out;
}

static void test_offer_fingerprints()
{
  OfferCheck c = check_offer(kChromiumOffer, SentVideo{});
  g_assert_true(c.ok);
  g_assert_cmpuint(c.dtls_fingerprints.size(), ==, 1);
  ASSERT_STR_EQ(c.dtls_fingerprints[0].algorithm, "sha-256");
  g_assert_cmpuint(c.dtls_fingerprints[0].digest.size(), ==, 32);

  OfferCheck malformed = check_offer(
      with_fingerprint_lines(kChromiumOffer, "a=fingerprint:sha-256 not-hex\r\n"), SentVideo{});
  g_assert_false(malformed.ok);
  g_assert_cmpint(malformed.status, ==, 400);
  g_assert_true(malformed.message.find("fingerprint") != std::string::npos);

  OfferCheck md5 = check_offer(
      with_fingerprint_lines(kChromiumOffer, "a=fingerprint:md5 00:11:22:33\r\n"), SentVideo{});
  g_assert_false(md5.ok);
  g_assert_cmpint(md5.status, ==, 400);
  g_assert_true(md5.message.find("sha-256") != std::string::npos);

  /* Two lines, one we can check: accepted, both kept. */
  OfferCheck two =
      check_offer(with_fingerprint_lines(kChromiumOffer, std::string("a=fingerprint:md5 "
                                                                     "00:11\r\n") +
                                                             "a=fingerprint:" + kSha256 + "\r\n"),
                  SentVideo{});
  g_assert_true(two.ok);
  g_assert_cmpuint(two.dtls_fingerprints.size(), ==, 2);
}

static void test_session_level_fallback()
{
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new_from_text(
      (std::string("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=fingerprint:") + kSha256 +
       "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
       "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=fingerprint:" +
       kSha1 + "\r\n")
          .c_str(),
      &sdp);
  std::vector<DtlsFingerprint> first = sdp_dtls_fingerprints(sdp, 0);
  g_assert_cmpuint(first.size(), ==, 1);
  ASSERT_STR_EQ(first[0].algorithm, "sha-256");
  std::vector<DtlsFingerprint> second = sdp_dtls_fingerprints(sdp, 1);
  g_assert_cmpuint(second.size(), ==, 1);
  ASSERT_STR_EQ(second[0].algorithm, "sha-1");
  g_assert_cmpuint(sdp_dtls_fingerprints(sdp, 7).size(), ==, 1); /* no such m-line: session */
  gst_sdp_message_free(sdp);
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/dtlsfingerprint/parse", test_parse);
  g_test_add_func("/dtlsfingerprint/matches-each-algorithm",
                  test_certificate_matches_each_algorithm);
  g_test_add_func("/dtlsfingerprint/mismatch", test_certificate_mismatch);
  g_test_add_func("/dtlsfingerprint/unsupported-or-unreadable", test_unsupported_or_unreadable);
  g_test_add_func("/dtlsfingerprint/offer", test_offer_fingerprints);
  g_test_add_func("/dtlsfingerprint/session-level-fallback", test_session_level_fallback);
  return g_test_run();
}
