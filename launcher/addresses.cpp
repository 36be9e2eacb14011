/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "addresses.h"

#include <gio/gio.h>

#ifdef G_OS_UNIX
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#endif

namespace livecast
{

std::string url_host(const std::string &bind)
{
  if (bind == "0.0.0.0")
    return "127.0.0.1";
  if (bind == "::")
    return "[::1]";
  if (bind.find(':') != std::string::npos)
    return "[" + bind + "]";
  return bind;
}

bool is_loopback(const std::string &bind)
{
  GInetAddress *address = g_inet_address_new_from_string(bind.c_str());
  const bool loopback = address && g_inet_address_get_is_loopback(address);
  if (address)
    g_object_unref(address);
  return loopback;
}

bool is_wildcard(const std::string &bind)
{
  return bind == "0.0.0.0" || bind == "::";
}

std::vector<std::string> external_ipv4_addresses()
{
  std::vector<std::string> out;
#ifdef G_OS_UNIX
  struct ifaddrs *list = nullptr;
  if (getifaddrs(&list) != 0)
    return out;
  for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET)
      continue;
    if ((ifa->ifa_flags & IFF_LOOPBACK) || !(ifa->ifa_flags & IFF_UP))
      continue;
    char buf[INET_ADDRSTRLEN];
    auto *sin = reinterpret_cast<struct sockaddr_in *>(ifa->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf))
      out.emplace_back(buf);
  }
  freeifaddrs(list);
#endif
  return out;
}

}  // namespace livecast
