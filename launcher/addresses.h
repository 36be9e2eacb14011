/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where viewers reach the stream: the host to print for a bind address, and
 * this machine's addresses when it listens on all of them.
 */
#pragma once

#include <string>
#include <vector>

namespace livecast
{

/* The host part of the URL to print: a wildcard bind is reachable on loopback. */
std::string url_host(const std::string &bind);
bool is_loopback(const std::string &bind);
/* 0.0.0.0 or ::. */
bool is_wildcard(const std::string &bind);
/* Addresses other machines may use to reach a wildcard bind. */
std::vector<std::string> external_ipv4_addresses();

}  // namespace livecast
