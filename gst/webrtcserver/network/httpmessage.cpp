/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "httpmessage.h"

#include <glib.h>

#include <algorithm>

namespace livecast
{

const std::string &HttpRequest::header(const std::string &name) const
{
  static const std::string empty;
  auto it = headers.find(name);
  return it == headers.end() ? empty : it->second;
}

std::string HttpResponse::header(const std::string &name) const
{
  for (const auto &h : headers) {
    if (g_ascii_strcasecmp(h.first.c_str(), name.c_str()) == 0)
      return h.second;
  }
  return {};
}

HttpResponse HttpResponse::error(int status, std::string message)
{
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(message);
  if (r.body.empty() || r.body.back() != '\n')
    r.body += '\n';
  return r;
}

std::string media_type(const std::string &content_type)
{
  std::string t = content_type.substr(0, content_type.find(';'));
  auto end = t.find_last_not_of(" \t");
  t = end == std::string::npos ? std::string() : t.substr(0, end + 1);
  auto start = t.find_first_not_of(" \t");
  if (start == std::string::npos)
    return {};
  t = t.substr(start);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(g_ascii_tolower(c)); });
  return t;
}

}  // namespace livecast
