/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "dtlsfingerprint.h"

#include <glib.h>

#include <cstring>

namespace livecast
{

namespace
{

bool checksum_type_for(const std::string &algorithm, GChecksumType &type)
{
  if (algorithm == "sha-1")
    type = G_CHECKSUM_SHA1;
  else if (algorithm == "sha-256")
    type = G_CHECKSUM_SHA256;
  else if (algorithm == "sha-384")
    type = G_CHECKSUM_SHA384;
  else if (algorithm == "sha-512")
    type = G_CHECKSUM_SHA512;
  else
    return false;
  return true;
}

int hex_value(char c)
{
  return g_ascii_xdigit_value(c);
}

/* The DER bytes of the first certificate in @pem; empty if there is none. */
std::vector<unsigned char> first_certificate_der(const std::string &pem)
{
  static const char begin[] = "-----BEGIN CERTIFICATE-----";
  static const char end[] = "-----END CERTIFICATE-----";
  const std::size_t b = pem.find(begin);
  if (b == std::string::npos)
    return {};
  const std::size_t body = b + std::strlen(begin);
  const std::size_t e = pem.find(end, body);
  if (e == std::string::npos)
    return {};
  std::string base64;
  for (std::size_t i = body; i < e; i++) {
    const char c = pem[i];
    if (g_ascii_isalnum(c) || c == '+' || c == '/' || c == '=')
      base64 += c;
    else if (!g_ascii_isspace(c))
      return {};
  }
  if (base64.empty() || base64.size() % 4 != 0)
    return {};
  gsize len = 0;
  guchar *der = g_base64_decode(base64.c_str(), &len);
  std::vector<unsigned char> out(der, der + len);
  g_free(der);
  return out;
}

}  // namespace

bool dtls_fingerprint_algorithm_supported(const std::string &algorithm)
{
  GChecksumType type;
  return checksum_type_for(algorithm, type);
}

bool parse_dtls_fingerprint(const std::string &value, DtlsFingerprint &out)
{
  out = DtlsFingerprint();
  const std::size_t space = value.find(' ');
  if (space == 0 || space == std::string::npos)
    return false;
  gchar *lower = g_ascii_strdown(value.substr(0, space).c_str(), -1);
  out.algorithm = lower;
  g_free(lower);
  std::size_t i = value.find_first_not_of(' ', space);
  if (i == std::string::npos)
    return false;
  std::size_t last = value.find_last_not_of(" \t\r\n");
  const std::string hex = value.substr(i, last - i + 1);
  /* "AB:CD:…": pairs of hex digits separated by single colons */
  if (hex.size() < 2 || (hex.size() + 1) % 3 != 0)
    return false;
  for (std::size_t p = 0; p < hex.size(); p += 3) {
    const int hi = hex_value(hex[p]), lo = hex_value(hex[p + 1]);
    if (hi < 0 || lo < 0 || (p + 2 < hex.size() && hex[p + 2] != ':'))
      return false;
    out.digest.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return true;
}

std::vector<DtlsFingerprint> sdp_dtls_fingerprints(const GstSDPMessage *sdp, guint mline)
{
  std::vector<DtlsFingerprint> out;
  auto collect = [&out](const char *value) {
    DtlsFingerprint f;
    if (value && parse_dtls_fingerprint(value, f))
      out.push_back(std::move(f));
  };
  if (mline < gst_sdp_message_medias_len(sdp)) {
    const GstSDPMedia *media = gst_sdp_message_get_media(sdp, mline);
    for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
      if (g_strcmp0(a->key, "fingerprint") == 0)
        collect(a->value);
    }
  }
  if (out.empty()) {
    for (guint i = 0; i < gst_sdp_message_attributes_len(sdp); i++) {
      const GstSDPAttribute *a = gst_sdp_message_get_attribute(sdp, i);
      if (g_strcmp0(a->key, "fingerprint") == 0)
        collect(a->value);
    }
  }
  return out;
}

bool certificate_matches_fingerprints(const std::string &pem,
                                      const std::vector<DtlsFingerprint> &expected,
                                      std::string &why)
{
  const std::vector<unsigned char> der = first_certificate_der(pem);
  if (der.empty()) {
    why = "The peer showed no readable DTLS certificate.";
    return false;
  }
  bool compared = false;
  for (const DtlsFingerprint &f : expected) {
    GChecksumType type;
    if (!checksum_type_for(f.algorithm, type))
      continue;
    compared = true;
    GChecksum *sum = g_checksum_new(type);
    g_checksum_update(sum, der.data(), static_cast<gssize>(der.size()));
    std::vector<unsigned char> digest(static_cast<std::size_t>(g_checksum_type_get_length(type)));
    gsize len = digest.size();
    g_checksum_get_digest(sum, digest.data(), &len);
    g_checksum_free(sum);
    digest.resize(len);
    if (digest == f.digest)
      return true;
  }
  why = compared ? "The peer's DTLS certificate does not match the fingerprint in its SDP."
                 : "The SDP has no DTLS fingerprint with a hash this server can check "
                   "(sha-1, sha-256, sha-384 or sha-512).";
  return false;
}

}  // namespace livecast
