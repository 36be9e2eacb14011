/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/json.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace livecast
{

namespace
{

bool is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The four hex digits of a \u escape at @at, or -1. */
long unicode_escape(const std::string &text, std::size_t at)
{
  if (at + 4 > text.size())
    return -1;
  long value = 0;
  for (std::size_t k = at; k < at + 4; k++) {
    const int digit = hex_value(text[k]);
    if (digit < 0)
      return -1;
    value = value * 16 + digit;
  }
  return value;
}

/* One string from its opening quote at @i; @i ends after the closing one.
 * JSON allows only the escapes \" \\ \/ \b \f \n \r \t and \uXXXX; json-glib
 * also takes octal and other escapes and turns them into bytes that are not
 * UTF-8, and lone surrogates into bytes that are not either. */
bool scan_string(const std::string &text, std::size_t &i, std::string &error)
{
  for (i++; i < text.size(); i++) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"') {
      i++;
      return true;
    }
    if (c < 0x20) {
      error = "The message has a control character inside a string; JSON needs it escaped.";
      return false;
    }
    if (c != '\\')
      continue;
    if (++i >= text.size())
      break;
    const char e = text[i];
    if (std::strchr("\"\\/bfnrt", e) && e != '\0')
      continue;
    if (e != 'u') {
      error = "The message has an escape JSON does not allow in a string";
      if (e > 0x20 && e < 0x7f)
        error += std::string(" (\\") + e + ")";
      error += ".";
      return false;
    }
    const long unit = unicode_escape(text, i + 1);
    if (unit < 0) {
      error = "The message has a \\u escape without four hex digits.";
      return false;
    }
    if (unit == 0) {
      error = "The message contains a NUL character (\\u0000) in a string.";
      return false;
    }
    i += 4;
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      error = "The message has a \\u escape that is a lone low surrogate.";
      return false;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const long low = text.compare(i + 1, 2, "\\u") == 0 ? unicode_escape(text, i + 3) : -1;
      if (low < 0xdc00 || low > 0xdfff) {
        error = "The message has a \\u escape that is a high surrogate without its low half.";
        return false;
      }
      i += 6;
    }
  }
  /* Not closed: json-glib says where. */
  return true;
}

/* One number token from @i (a '-' or a digit): the JSON grammar
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? where json-glib also takes
 * hex, octal, "1." and ".5"; whole numbers must fit in 64 bits, because
 * json-glib wraps larger ones around silently. */
bool scan_number(const std::string &text, std::size_t &i, std::string &error)
{
  const std::size_t begin = i;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                             text[i] == '+' || text[i] == '-'))
    i++;
  const std::string token = text.substr(begin, i - begin);
  std::size_t k = 0;
  const bool negative = k < token.size() && token[k] == '-';
  if (negative)
    k++;
  const std::size_t int_begin = k;
  if (k < token.size() && token[k] == '0') {
    k++;
  } else {
    while (k < token.size() && is_digit(token[k]))
      k++;
  }
  const std::size_t int_digits = k - int_begin;
  bool whole = true;
  bool ok = int_digits > 0;
  if (ok && k < token.size() && token[k] == '.') {
    whole = false;
    const std::size_t frac = ++k;
    while (k < token.size() && is_digit(token[k]))
      k++;
    ok = k > frac;
  }
  if (ok && k < token.size() && (token[k] == 'e' || token[k] == 'E')) {
    whole = false;
    k++;
    if (k < token.size() && (token[k] == '+' || token[k] == '-'))
      k++;
    const std::size_t exp = k;
    while (k < token.size() && is_digit(token[k]))
      k++;
    ok = k > exp;
  }
  const std::string shown = token.size() > 24 ? token.substr(0, 24) + "…" : token;
  if (!ok || k != token.size()) {
    error = "The message has a number JSON does not allow (" + shown + ").";
    return false;
  }
  if (whole) {
    const std::string digits = token.substr(int_begin, int_digits);
    const char *limit = negative ? "9223372036854775808" : "9223372036854775807";
    if (digits.size() > 19 || (digits.size() == 19 && digits > limit)) {
      error = "The message has a whole number outside the 64-bit range (" + shown + ").";
      return false;
    }
  }
  return true;
}

}  // namespace

bool check_json_text(const std::string &text, std::string &error)
{
  int depth = 0;
  bool value_done = false; /* the top-level value has ended */
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (is_blank(c)) {
      i++;
      continue;
    }
    if (depth == 0 && value_done) {
      /* json-glib would take the last of several values (and leak the others). */
      error = "The message is not valid JSON (there is more after its one value).";
      return false;
    }
    if (c == '"') {
      if (!scan_string(text, i, error))
        return false;
    } else if (c == '-' || is_digit(c)) {
      if (!scan_number(text, i, error))
        return false;
    } else if (c >= 'a' && c <= 'z') {
      /* true, false or null; json-glib rejects any other word. */
      while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i])))
        i++;
    } else if (c == '[' || c == '{') {
      if (++depth > kJsonMaxDepth) {
        error = "The message nests arrays or objects deeper than " + std::to_string(kJsonMaxDepth) +
                " levels.";
        return false;
      }
      i++;
      continue;
    } else if (c == ']' || c == '}') {
      depth--;
      i++;
    } else if (c == ':' || c == ',') {
      i++;
      continue;
    } else {
      /* json-glib also reads comments, single quotes and more. */
      const unsigned char u = static_cast<unsigned char>(c);
      error = "The message is not valid JSON (unexpected ";
      error += u > 0x20 && u < 0x7f ? std::string("\"") + c + "\"" : std::string("character");
      error += " at byte " + std::to_string(i) + ").";
      return false;
    }
    if (depth == 0)
      value_done = true;
  }
  return true;
}

JsonWriter &JsonWriter::open(char bracket)
{
  separate();
  out_ += bracket;
  has_value_.push_back(false);
  return *this;
}

JsonWriter &JsonWriter::close(char bracket)
{
  out_ += bracket;
  has_value_.pop_back();
  return *this;
}

JsonWriter &JsonWriter::key(std::string_view name)
{
  separate();
  write_string(name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter &JsonWriter::string(std::string_view value)
{
  separate();
  write_string(value);
  return *this;
}

JsonWriter &JsonWriter::integer(gint64 value)
{
  separate();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter &JsonWriter::number(double value)
{
  separate();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  /* The shortest form that reads back exactly: 0.1, not 0.10000000000000001. */
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  for (int digits = 1; digits <= 17; digits++) {
    char format[8];
    std::snprintf(format, sizeof format, "%%.%dg", digits);
    g_ascii_formatd(number, sizeof number, format, value);
    if (g_ascii_strtod(number, nullptr) == value)
      break;
  }
  out_ += number;
  /* Still a double when read back: 30.0, not 30. */
  if (!std::strpbrk(number, ".eE"))
    out_ += ".0";
  return *this;
}

JsonWriter &JsonWriter::boolean(bool value)
{
  separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter &JsonWriter::null()
{
  separate();
  out_ += "null";
  return *this;
}

JsonWriter &JsonWriter::node(JsonNode *value)
{
  switch (JSON_NODE_TYPE(value)) {
    case JSON_NODE_OBJECT: {
      JsonObjectIter iter;
      const gchar *name = nullptr;
      JsonNode *member = nullptr;
      begin_object();
      json_object_iter_init_ordered(&iter, json_node_get_object(value));
      while (json_object_iter_next_ordered(&iter, &name, &member))
        key(name).node(member);
      return end_object();
    }
    case JSON_NODE_ARRAY: {
      JsonArray *array = json_node_get_array(value);
      begin_array();
      for (guint i = 0; i < json_array_get_length(array); i++)
        node(json_array_get_element(array, i));
      return end_array();
    }
    case JSON_NODE_NULL:
      return null();
    case JSON_NODE_VALUE:
      break;
  }
  const GType type = json_node_get_value_type(value);
  if (type == G_TYPE_STRING && json_node_get_string(value))
    return string(json_node_get_string(value));
  if (type == G_TYPE_INT64)
    return integer(json_node_get_int(value));
  if (type == G_TYPE_BOOLEAN)
    return boolean(json_node_get_boolean(value));
  if (type == G_TYPE_DOUBLE)
    return number(json_node_get_double(value));
  return null();
}

void JsonWriter::separate()
{
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_value_.empty())
    return;
  if (has_value_.back())
    out_ += ',';
  has_value_.back() = true;
}

void JsonWriter::write_string(std::string_view value)
{
  out_ += '"';
  for (const char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out_ += escaped;
        } else {
          out_ += ch;
        }
    }
  }
  out_ += '"';
}

std::string json_text(JsonNode *root)
{
  JsonWriter writer;
  writer.node(root);
  return writer.text();
}

}  // namespace livecast
