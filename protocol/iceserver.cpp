/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/iceserver.h"

#include <glib.h>

#include "protocol/glibptr.h"

namespace livecast
{

namespace
{

constexpr int kStunPort = 3478;  /* RFC 8489: stun and turn */
constexpr int kTurnsPort = 5349; /* RFC 8489: stuns and turns */
/* Longest piece of a URL quoted back in an error. */
constexpr std::size_t kShownUrlBytes = 100;

/* @url as it can be quoted in a one-line message: printable UTF-8, clipped. */
std::string shown(const std::string &url)
{
  std::string out = url.size() > kShownUrlBytes ? url.substr(0, kShownUrlBytes) : url;
  GCharPtr valid(g_utf8_make_valid(out.data(), static_cast<gssize>(out.size())));
  out = valid.get();
  for (char &c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  }
  return url.size() > kShownUrlBytes ? out + "…" : out;
}

bool refuse(const std::string &url, const char *why, std::string &error)
{
  error = "ICE server \"" + shown(url) +
          "\" is not stun://HOST:PORT, turn://USER:PASS@HOST:PORT or "
          "turns://USER:PASS@HOST:PORT";
  if (why)
    error += std::string(" (") + why + ")";
  error += ".";
  return false;
}

/* A host name or an IPv4 address (RFC 3986 reg-name, without %-escapes). */
bool is_host_name(const std::string &host)
{
  for (char c : host) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~')
      return false;
  }
  return true;
}

bool is_ipv6_address(const std::string &host)
{
  for (char c : host) {
    if (!g_ascii_isxdigit(c) && c != ':' && c != '.')
      return false;
  }
  return host.find(':') != std::string::npos;
}

/* The %-escapes of @text decoded into @out; false when one is malformed or
 * the result is not printable UTF-8 (it is written into JSON and headers).
 * Other characters are taken as they are, as GLib's GUri takes them. */
bool decode(const std::string &text, std::string &out)
{
  /* GLib reads a C string: a NUL would cut it short, unseen. */
  if (text.find('\0') != std::string::npos)
    return false;
  GCharPtr decoded(g_uri_unescape_string(text.c_str(), nullptr));
  if (!decoded || !g_utf8_validate(decoded.get(), -1, nullptr))
    return false;
  out = decoded.get();
  for (unsigned char c : out) {
    if (c < 0x20 || c == 0x7f)
      return false;
  }
  return true;
}

/* 1 to 65535, decimal digits only; -1 otherwise. */
int parse_port(const std::string &text)
{
  if (text.empty() || text.size() > 5)
    return -1;
  int port = 0;
  for (char c : text) {
    if (!g_ascii_isdigit(c))
      return -1;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535 ? port : -1;
}

}  // namespace

std::string IceServer::browser_url() const
{
  std::string out = scheme + ":";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out += ":" + std::to_string(port);
  if (!transport.empty())
    out += "?transport=" + transport;
  return out;
}

std::string IceServer::gstreamer_url() const
{
  std::string out = scheme + "://";
  if (is_turn()) {
    GCharPtr user(g_uri_escape_string(username.c_str(), nullptr, FALSE));
    GCharPtr pass(g_uri_escape_string(credential.c_str(), nullptr, FALSE));
    out += std::string(user.get()) + ":" + pass.get() + "@";
  }
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out += ":" + std::to_string(port);
  if (!transport.empty())
    out += "?transport=" + transport;
  return out;
}

BrowserIceServer IceServer::browser() const
{
  return BrowserIceServer{{browser_url()}, username, credential};
}

bool parse_ice_server(const std::string &url, IceServer &out, std::string &error)
{
  out = IceServer();
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return refuse(url, nullptr, error);
  std::string scheme = url.substr(0, scheme_end);
  for (char &c : scheme)
    c = g_ascii_tolower(c);
  if (scheme != "stun" && scheme != "turn" && scheme != "turns")
    return refuse(url, nullptr, error);
  const bool turn = scheme != "stun";

  std::string rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string::npos)
    return refuse(url, "a \"#\" part", error);
  std::string query;
  const std::size_t question = rest.find('?');
  if (question != std::string::npos) {
    query = rest.substr(question + 1);
    rest.resize(question);
  }
  const std::size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    if (rest.size() != slash + 1)
      return refuse(url, "a path after the host", error);
    rest.resize(slash);
  }

  /* USER:PASS@ (TURN), then HOST[:PORT]. */
  std::string userinfo;
  bool has_userinfo = false;
  const std::size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    has_userinfo = true;
  }
  std::string host, port_text;
  if (!rest.empty() && rest[0] == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string::npos)
      return refuse(url, "an IPv6 address without its \"]\"", error);
    host = rest.substr(1, close - 1);
    const std::string after = rest.substr(close + 1);
    if (!after.empty() && after[0] != ':')
      return refuse(url, "the host is not a name or an IP address", error);
    if (!after.empty())
      port_text = after.substr(1);
    if (!is_ipv6_address(host))
      return refuse(url, "the host is not a name or an IP address", error);
  } else {
    const std::size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos)
      port_text = rest.substr(colon + 1);
    if (!is_host_name(host))
      return refuse(url, "the host is not a name or an IP address", error);
  }
  if (host.empty())
    return refuse(url, "no host", error);
  int port = turn && scheme == "turns" ? kTurnsPort : kStunPort;
  if (!port_text.empty() && (port = parse_port(port_text)) < 0)
    return refuse(url, "the port must be a number from 1 to 65535", error);

  std::string username, credential, transport;
  if (turn) {
    const std::size_t sep = userinfo.find(':');
    if (!has_userinfo || sep == std::string::npos || sep == 0 || sep + 1 == userinfo.size())
      return refuse(url, "a TURN server needs credentials", error);
    if (!decode(userinfo.substr(0, sep), username) || !decode(userinfo.substr(sep + 1), credential))
      return refuse(
          url, "the user name or password is not printable text once %-escapes are decoded", error);
    /* webrtcbin refuses every other query key and value. */
    std::size_t start = 0;
    while (start < query.size()) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string::npos)
        amp = query.size();
      const std::string param = query.substr(start, amp - start);
      if (param == "transport=udp" || param == "transport=tcp")
        transport = param.substr(10);
      else if (!param.empty())
        return refuse(url, "the one query TURN takes is ?transport=udp or ?transport=tcp", error);
      start = amp + 1;
    }
  } else if (!query.empty()) {
    return refuse(url, "a STUN server takes no query", error);
  }
  /* STUN needs no credentials: any user:pass@ is left out. */
  out.url = url;
  out.scheme = scheme;
  out.host = host;
  out.port = port;
  out.username = username;
  out.credential = credential;
  out.transport = transport;
  return true;
}

void write_ice_servers(JsonWriter &w, const std::vector<BrowserIceServer> &servers)
{
  w.begin_array();
  for (const BrowserIceServer &s : servers) {
    w.begin_object().key("urls").begin_array();
    for (const std::string &u : s.urls)
      w.string(u);
    w.end_array();
    if (!s.username.empty())
      w.key("username").string(s.username);
    if (!s.credential.empty())
      w.key("credential").string(s.credential);
    w.end_object();
  }
  w.end_array();
}

void write_ice_servers(JsonWriter &w, const std::vector<IceServer> &servers)
{
  std::vector<BrowserIceServer> browser;
  for (const IceServer &s : servers)
    browser.push_back(s.browser());
  write_ice_servers(w, browser);
}

const char *ice_transport_policy_name(IceTransportPolicy policy)
{
  return policy == IceTransportPolicy::Relay ? "relay" : "all";
}

}  // namespace livecast
