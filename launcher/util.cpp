/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "util.h"

namespace livecast
{

std::optional<guint64> parse_unsigned(std::string_view text, guint64 min, guint64 max)
{
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  guint64 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    const guint64 digit = static_cast<guint64>(c - '0');
    if (value > (G_MAXUINT64 - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  if (value < min || value > max)
    return std::nullopt;
  return value;
}

static bool is_launch_safe_char(char c)
{
  return g_ascii_isalnum(c) || std::string_view("-_.,:/@%+").find(c) != std::string_view::npos;
}

std::string launch_quote(std::string_view value)
{
  bool safe = !value.empty();
  for (char c : value)
    safe = safe && is_launch_safe_char(c);
  if (safe)
    return std::string(value);

  /* gst_parse_launch strips the quotes and one level of backslashes. */
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

bool is_url_safe(std::string_view text)
{
  for (char c : text) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != '~')
      return false;
  }
  return true;
}

}  // namespace livecast
