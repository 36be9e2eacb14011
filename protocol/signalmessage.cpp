/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/signalmessage.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace livecast
{

namespace
{

struct TypeName {
  SignalMessage::Type type;
  const char *name;
};

const TypeName kTypeNames[] = {
    {SignalMessage::Type::Join, "join"},           {SignalMessage::Type::Welcome, "welcome"},
    {SignalMessage::Type::Offer, "offer"},         {SignalMessage::Type::Answer, "answer"},
    {SignalMessage::Type::Candidate, "candidate"}, {SignalMessage::Type::Bye, "bye"},
    {SignalMessage::Type::Leave, "leave"},         {SignalMessage::Type::Error, "error"},
};

std::shared_ptr<JsonNode> share_node(JsonNode *node)
{
  return std::shared_ptr<JsonNode>(node, [](JsonNode *n) {
    if (n)
      json_node_unref(n);
  });
}

/* Owns a JsonBuilder for one serialisation. */
class Builder
{
 public:
  Builder() : b_(json_builder_new()) {}
  ~Builder() { g_object_unref(b_); }
  Builder(const Builder &) = delete;
  Builder &operator=(const Builder &) = delete;

  JsonBuilder *get() const { return b_; }
  void string(const char *name, const std::string &value)
  {
    json_builder_set_member_name(b_, name);
    json_builder_add_string_value(b_, value.c_str());
  }
  void string_if_set(const char *name, const std::string &value)
  {
    if (!value.empty())
      string(name, value);
  }

 private:
  JsonBuilder *b_;
};

void write_json_string(std::string &out, const char *s)
{
  out += '"';
  for (const unsigned char *p = reinterpret_cast<const unsigned char *>(s); *p; p++) {
    switch (*p) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (*p < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", *p);
          out += escaped;
        } else {
          out += static_cast<char>(*p);
        }
    }
  }
  out += '"';
}

void write_json(std::string &out, JsonNode *node)
{
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
      JsonObjectIter iter;
      const gchar *name = nullptr;
      JsonNode *member = nullptr;
      bool first = true;
      out += '{';
      json_object_iter_init_ordered(&iter, json_node_get_object(node));
      while (json_object_iter_next_ordered(&iter, &name, &member)) {
        if (!first)
          out += ',';
        first = false;
        write_json_string(out, name);
        out += ':';
        write_json(out, member);
      }
      out += '}';
      return;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *array = json_node_get_array(node);
      out += '[';
      for (guint i = 0; i < json_array_get_length(array); i++) {
        if (i > 0)
          out += ',';
        write_json(out, json_array_get_element(array, i));
      }
      out += ']';
      return;
    }
    case JSON_NODE_NULL:
      out += "null";
      return;
    case JSON_NODE_VALUE:
      break;
  }
  const GType type = json_node_get_value_type(node);
  if (type == G_TYPE_STRING) {
    write_json_string(out, json_node_get_string(node));
  } else if (type == G_TYPE_INT64) {
    out += std::to_string(json_node_get_int(node));
  } else if (type == G_TYPE_BOOLEAN) {
    out += json_node_get_boolean(node) ? "true" : "false";
  } else if (type == G_TYPE_DOUBLE) {
    /* json-glib's own generator writes 1e+270 as "1e+270.0", which is not
     * JSON. */
    const double value = json_node_get_double(node);
    if (!std::isfinite(value)) {
      out += "null";
      return;
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
    out += number;
    if (!std::strpbrk(number, ".eE"))
      out += ".0";
  } else {
    out += "null";
  }
}

/* A number JSON cannot write back (json-glib reads 1e400 as infinity and
 * would forward it as "inf", which no receiver can parse). */
bool has_non_finite_number(JsonNode *node)
{
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
      JsonObjectIter iter;
      JsonNode *member = nullptr;
      json_object_iter_init(&iter, json_node_get_object(node));
      while (json_object_iter_next(&iter, nullptr, &member)) {
        if (has_non_finite_number(member))
          return true;
      }
      return false;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *array = json_node_get_array(node);
      for (guint i = 0; i < json_array_get_length(array); i++) {
        if (has_non_finite_number(json_array_get_element(array, i)))
          return true;
      }
      return false;
    }
    case JSON_NODE_VALUE:
      return json_node_get_value_type(node) == G_TYPE_DOUBLE &&
             !std::isfinite(json_node_get_double(node));
    case JSON_NODE_NULL:
      return false;
  }
  return false;
}

}  // namespace

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
      if (++depth > kSignalMaxDepth) {
        error = "The message nests arrays or objects deeper than " +
                std::to_string(kSignalMaxDepth) + " levels.";
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

namespace
{

bool has_control_characters(const std::string &s)
{
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f)
      return true;
  }
  return false;
}

std::string quoted_name(const char *name)
{
  return std::string("\"") + name + "\"";
}

/* Reads the member JSON-glib calls "value" of type string. Absent and null
 * are both "absent" (returns true, @present false). */
bool optional_string(JsonObject *obj, const char *name, std::string &value, bool &present,
                     std::string &error)
{
  present = false;
  value.clear();
  JsonNode *node = json_object_get_member(obj, name);
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return true;
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
    error = "The " + quoted_name(name) + " member must be a string.";
    return false;
  }
  value = json_node_get_string(node);
  present = true;
  return true;
}

bool required_string(JsonObject *obj, const char *name, const char *what, std::string &value,
                     std::string &error)
{
  bool present = false;
  if (!optional_string(obj, name, value, present, error))
    return false;
  if (!present) {
    error = std::string(what) + " needs a string member " + quoted_name(name) + ".";
    return false;
  }
  return true;
}

/* Room names and ids: 1 to kSignalMaxNameBytes bytes, no control characters. */
bool optional_name(JsonObject *obj, const char *name, std::string &value, std::string &error)
{
  bool present = false;
  if (!optional_string(obj, name, value, present, error))
    return false;
  if (present &&
      (value.empty() || value.size() > kSignalMaxNameBytes || has_control_characters(value))) {
    error = "The " + quoted_name(name) + " member must be 1 to " +
            std::to_string(kSignalMaxNameBytes) + " bytes without control characters.";
    return false;
  }
  return true;
}

bool read_sdp(JsonObject *obj, const char *what, std::string &sdp, std::string &error)
{
  if (!required_string(obj, "sdp", what, sdp, error))
    return false;
  if (sdp.compare(0, 2, "v=") != 0) {
    error = "The \"sdp\" member must be SDP text starting with \"v=0\".";
    return false;
  }
  return true;
}

bool read_candidate(JsonObject *obj, SignalCandidate &out, std::string &error)
{
  out = SignalCandidate();
  JsonNode *node = json_object_get_member(obj, "candidate");
  if (!node) {
    error =
        "A candidate message needs a \"candidate\" member (an object, or null for the end of "
        "candidates).";
    return false;
  }
  if (JSON_NODE_HOLDS_NULL(node))
    return true; /* end of candidates */
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    error =
        "The \"candidate\" member must be an object {\"candidate\", \"sdpMid\", "
        "\"sdpMLineIndex\"} or null.";
    return false;
  }
  JsonObject *c = json_node_get_object(node);
  JsonNode *line = json_object_get_member(c, "candidate");
  if (!line || !JSON_NODE_HOLDS_VALUE(line) || json_node_get_value_type(line) != G_TYPE_STRING) {
    error = "The candidate object needs a \"candidate\" string (\"\" for the end of candidates).";
    return false;
  }
  out.candidate = json_node_get_string(line);
  if (out.candidate.size() > kSignalMaxCandidateBytes) {
    error =
        "The candidate line is longer than " + std::to_string(kSignalMaxCandidateBytes) + " bytes.";
    return false;
  }
  if (!out.candidate.empty() &&
      (out.candidate.compare(0, 10, "candidate:") != 0 || has_control_characters(out.candidate))) {
    error = "The candidate line must be one line starting with \"candidate:\".";
    return false;
  }
  if (!optional_string(c, "sdpMid", out.sdp_mid, out.has_sdp_mid, error))
    return false;
  JsonNode *index = json_object_get_member(c, "sdpMLineIndex");
  if (index && !JSON_NODE_HOLDS_NULL(index)) {
    if (!JSON_NODE_HOLDS_VALUE(index) || json_node_get_value_type(index) != G_TYPE_INT64 ||
        json_node_get_int(index) < 0 || json_node_get_int(index) > 65535) {
      error = "The \"sdpMLineIndex\" member must be a whole number from 0 to 65535.";
      return false;
    }
    out.sdp_mline_index = static_cast<int>(json_node_get_int(index));
  }
  bool has_ufrag = false;
  if (!optional_string(c, "usernameFragment", out.username_fragment, has_ufrag, error))
    return false;
  if (!out.candidate.empty() && !out.has_sdp_mid && out.sdp_mline_index < 0) {
    error =
        "The candidate object needs \"sdpMid\" or \"sdpMLineIndex\" to say which media it "
        "belongs to.";
    return false;
  }
  return true;
}

bool read_ice_servers(JsonObject *obj, std::optional<std::vector<SignalIceServer>> &out,
                      std::string &error)
{
  out.reset();
  JsonNode *node = json_object_get_member(obj, "iceServers");
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return true;
  const std::string shape =
      "The \"iceServers\" member must be an array of {\"urls\", \"username\", \"credential\"} "
      "objects.";
  if (!JSON_NODE_HOLDS_ARRAY(node)) {
    error = shape;
    return false;
  }
  std::vector<SignalIceServer> servers;
  JsonArray *array = json_node_get_array(node);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *entry = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_OBJECT(entry)) {
      error = shape;
      return false;
    }
    JsonObject *e = json_node_get_object(entry);
    SignalIceServer server;
    JsonNode *urls = json_object_get_member(e, "urls");
    if (urls && JSON_NODE_HOLDS_VALUE(urls) && json_node_get_value_type(urls) == G_TYPE_STRING) {
      server.urls.emplace_back(json_node_get_string(urls));
    } else if (urls && JSON_NODE_HOLDS_ARRAY(urls)) {
      JsonArray *list = json_node_get_array(urls);
      for (guint j = 0; j < json_array_get_length(list); j++) {
        JsonNode *u = json_array_get_element(list, j);
        if (!JSON_NODE_HOLDS_VALUE(u) || json_node_get_value_type(u) != G_TYPE_STRING) {
          error = "Each ICE server's \"urls\" must be a string or an array of strings.";
          return false;
        }
        server.urls.emplace_back(json_node_get_string(u));
      }
    }
    if (server.urls.empty()) {
      error = "Each ICE server needs \"urls\": a string or a non-empty array of strings.";
      return false;
    }
    bool present = false;
    if (!optional_string(e, "username", server.username, present, error) ||
        !optional_string(e, "credential", server.credential, present, error))
      return false;
    servers.push_back(std::move(server));
  }
  out = std::move(servers);
  return true;
}

bool read_peers(JsonObject *obj, std::optional<std::vector<std::string>> &out, std::string &error)
{
  out.reset();
  JsonNode *node = json_object_get_member(obj, "peers");
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return true;
  const char *shape = "The \"peers\" member must be an array of id strings.";
  if (!JSON_NODE_HOLDS_ARRAY(node)) {
    error = shape;
    return false;
  }
  std::vector<std::string> peers;
  JsonArray *array = json_node_get_array(node);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *p = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_VALUE(p) || json_node_get_value_type(p) != G_TYPE_STRING) {
      error = shape;
      return false;
    }
    peers.emplace_back(json_node_get_string(p));
  }
  out = std::move(peers);
  return true;
}

std::string json_error_detail(const GError *err)
{
  std::string detail = err && err->message ? err->message : "unknown error";
  /* json-glib prefixes "<data>:line:column: "; keep line:column. */
  if (detail.compare(0, 7, "<data>:") == 0)
    detail = detail.substr(7);
  while (!detail.empty() && (detail.back() == '.' || detail.back() == '\n'))
    detail.pop_back();
  /* It may quote the text it choked on: keep the reply valid, printable UTF-8. */
  gchar *valid = g_utf8_make_valid(detail.c_str(), static_cast<gssize>(detail.size()));
  detail = valid;
  g_free(valid);
  for (char &c : detail) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  }
  return detail;
}

void add_candidate(Builder &b, const SignalCandidate &c)
{
  JsonBuilder *jb = b.get();
  json_builder_set_member_name(jb, "candidate");
  if (c.end_of_candidates() && !c.has_sdp_mid && c.sdp_mline_index < 0 &&
      c.username_fragment.empty()) {
    json_builder_add_null_value(jb);
    return;
  }
  json_builder_begin_object(jb);
  b.string("candidate", c.candidate);
  if (c.has_sdp_mid)
    b.string("sdpMid", c.sdp_mid);
  if (c.sdp_mline_index >= 0) {
    json_builder_set_member_name(jb, "sdpMLineIndex");
    json_builder_add_int_value(jb, c.sdp_mline_index);
  }
  b.string_if_set("usernameFragment", c.username_fragment);
  json_builder_end_object(jb);
}

void add_ice_servers(Builder &b, const std::vector<SignalIceServer> &servers)
{
  JsonBuilder *jb = b.get();
  json_builder_set_member_name(jb, "iceServers");
  json_builder_begin_array(jb);
  for (const SignalIceServer &s : servers) {
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "urls");
    json_builder_begin_array(jb);
    for (const std::string &u : s.urls)
      json_builder_add_string_value(jb, u.c_str());
    json_builder_end_array(jb);
    b.string_if_set("username", s.username);
    b.string_if_set("credential", s.credential);
    json_builder_end_object(jb);
  }
  json_builder_end_array(jb);
}

SignalMessage of_type(SignalMessage::Type type)
{
  SignalMessage m;
  m.type = type;
  m.type_name = signal_type_name(type);
  return m;
}

}  // namespace

const char *signal_type_name(SignalMessage::Type type)
{
  for (const TypeName &t : kTypeNames) {
    if (t.type == type)
      return t.name;
  }
  return "";
}

SignalMessage::Type signal_type_from_name(const std::string &name)
{
  for (const TypeName &t : kTypeNames) {
    if (name == t.name)
      return t.type;
  }
  return SignalMessage::Type::Unknown;
}

bool signal_ice_server_from_url(const std::string &url, SignalIceServer &out, std::string &error)
{
  out = SignalIceServer();
  const std::string shape = "ICE server \"" + url +
                            "\" is not stun://HOST:PORT, turn://USER:PASS@HOST:PORT or "
                            "turns://USER:PASS@HOST:PORT.";
  GError *err = nullptr;
  GUri *uri = g_uri_parse(url.c_str(), static_cast<GUriFlags>(G_URI_FLAGS_HAS_PASSWORD), &err);
  if (!uri) {
    g_clear_error(&err);
    error = shape;
    return false;
  }
  const std::string scheme = g_uri_get_scheme(uri) ? g_uri_get_scheme(uri) : "";
  const std::string host = g_uri_get_host(uri) ? g_uri_get_host(uri) : "";
  const std::string user = g_uri_get_user(uri) ? g_uri_get_user(uri) : "";
  const std::string password = g_uri_get_password(uri) ? g_uri_get_password(uri) : "";
  const std::string query = g_uri_get_query(uri) ? g_uri_get_query(uri) : "";
  const std::string path = g_uri_get_path(uri) ? g_uri_get_path(uri) : "";
  const int port = g_uri_get_port(uri);
  g_uri_unref(uri);

  const bool stun = scheme == "stun";
  const bool turn = scheme == "turn" || scheme == "turns";
  if ((!stun && !turn) || host.empty() || (!path.empty() && path != "/") ||
      (turn && (user.empty() || password.empty()))) {
    error = shape;
    return false;
  }
  std::string browser_url = scheme + ":";
  /* GUri gives IPv6 hosts without brackets. */
  browser_url += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  browser_url += ":" + std::to_string(port > 0 ? port : scheme == "turns" ? 5349 : 3478);
  if (turn && !query.empty())
    browser_url += "?" + query;
  out.urls.push_back(browser_url);
  if (turn) {
    out.username = user;
    out.credential = password;
  }
  return true;
}

SignalMessage SignalMessage::join(std::string room)
{
  SignalMessage m = of_type(Type::Join);
  m.room = std::move(room);
  return m;
}

SignalMessage SignalMessage::joined(std::string from)
{
  SignalMessage m = of_type(Type::Join);
  m.from = std::move(from);
  return m;
}

SignalMessage SignalMessage::welcome(std::string id)
{
  SignalMessage m = of_type(Type::Welcome);
  m.id = std::move(id);
  return m;
}

SignalMessage SignalMessage::offer(std::string sdp)
{
  SignalMessage m = of_type(Type::Offer);
  m.sdp = std::move(sdp);
  return m;
}

SignalMessage SignalMessage::answer(std::string sdp)
{
  SignalMessage m = of_type(Type::Answer);
  m.sdp = std::move(sdp);
  return m;
}

SignalMessage SignalMessage::ice_candidate(SignalCandidate candidate)
{
  SignalMessage m = of_type(Type::Candidate);
  m.candidate = std::move(candidate);
  return m;
}

SignalMessage SignalMessage::end_of_candidates()
{
  return of_type(Type::Candidate);
}

SignalMessage SignalMessage::bye()
{
  return of_type(Type::Bye);
}

SignalMessage SignalMessage::leave()
{
  return of_type(Type::Leave);
}

SignalMessage SignalMessage::left(std::string from)
{
  SignalMessage m = of_type(Type::Leave);
  m.from = std::move(from);
  return m;
}

SignalMessage SignalMessage::error(std::string message)
{
  SignalMessage m = of_type(Type::Error);
  m.message = std::move(message);
  return m;
}

bool parse_signal_message(const std::string &text, SignalMessage &out, std::string &error)
{
  out = SignalMessage();
  if (text.size() > kSignalMaxMessageBytes) {
    error = "The message is " + std::to_string(text.size()) + " bytes; the limit is " +
            std::to_string(kSignalMaxMessageBytes) + " bytes.";
    return false;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    error = "The message is empty; send one JSON object.";
    return false;
  }
  if (!g_utf8_validate_len(text.data(), text.size(), nullptr)) {
    error = "The message is not valid UTF-8 text.";
    return false;
  }
  if (!check_json_text(text, error))
    return false;

  JsonParser *parser = json_parser_new();
  GError *err = nullptr;
  bool parsed =
      json_parser_load_from_data(parser, text.data(), static_cast<gssize>(text.size()), &err);
  std::shared_ptr<JsonNode> root = parsed ? share_node(json_parser_steal_root(parser)) : nullptr;
  g_object_unref(parser);
  if (!parsed || !root) {
    error = "The message is not valid JSON (" + json_error_detail(err) + ").";
    if (err)
      g_error_free(err);
    return false;
  }
  if (!JSON_NODE_HOLDS_OBJECT(root.get())) {
    error = "The message must be a JSON object like {\"type\":\"offer\",\"sdp\":\"…\"}.";
    return false;
  }
  if (has_non_finite_number(root.get())) {
    error = "The message has a number too large for JSON.";
    return false;
  }
  JsonObject *obj = json_node_get_object(root.get());

  JsonNode *type = json_object_get_member(obj, "type");
  if (!type) {
    error = "The message has no \"type\" member.";
    return false;
  }
  if (!JSON_NODE_HOLDS_VALUE(type) || json_node_get_value_type(type) != G_TYPE_STRING) {
    error = "The \"type\" member must be a string.";
    return false;
  }
  SignalMessage m;
  m.type_name = json_node_get_string(type);
  m.type = signal_type_from_name(m.type_name);
  if (m.type == SignalMessage::Type::Unknown) {
    std::string shown = m.type_name.size() > 40 ? m.type_name.substr(0, 40) + "…" : m.type_name;
    if (!g_utf8_validate(shown.c_str(), -1, nullptr) || has_control_characters(shown))
      shown = "?";
    error = "Unknown message type \"" + shown +
            "\"; the types are join, welcome, offer, answer, candidate, bye, leave and error.";
    return false;
  }

  if (!optional_name(obj, "from", m.from, error) || !optional_name(obj, "to", m.to, error))
    return false;

  switch (m.type) {
    case SignalMessage::Type::Join:
      if (!optional_name(obj, "room", m.room, error))
        return false;
      break;
    case SignalMessage::Type::Welcome:
      if (!required_string(obj, "id", "A welcome message", m.id, error) ||
          !optional_name(obj, "id", m.id, error) || !optional_name(obj, "room", m.room, error) ||
          !read_peers(obj, m.peers, error) || !read_ice_servers(obj, m.ice_servers, error))
        return false;
      break;
    case SignalMessage::Type::Offer:
      if (!read_sdp(obj, "An offer", m.sdp, error))
        return false;
      break;
    case SignalMessage::Type::Answer:
      if (!read_sdp(obj, "An answer", m.sdp, error))
        return false;
      break;
    case SignalMessage::Type::Candidate:
      if (!read_candidate(obj, m.candidate, error))
        return false;
      break;
    case SignalMessage::Type::Error:
      if (!required_string(obj, "message", "An error message", m.message, error))
        return false;
      if (m.message.size() > kSignalMaxErrorBytes) {
        error = "The error's \"message\" is longer than " + std::to_string(kSignalMaxErrorBytes) +
                " bytes.";
        return false;
      }
      break;
    case SignalMessage::Type::Bye:
    case SignalMessage::Type::Leave:
    case SignalMessage::Type::Unknown:
      break;
  }
  m.json = std::move(root);
  out = std::move(m);
  return true;
}

std::string to_json(const SignalMessage &m)
{
  Builder b;
  JsonBuilder *jb = b.get();
  json_builder_begin_object(jb);
  b.string("type", m.type_name.empty() ? signal_type_name(m.type) : m.type_name);
  switch (m.type) {
    case SignalMessage::Type::Join:
      b.string_if_set("room", m.room);
      break;
    case SignalMessage::Type::Welcome:
      b.string("id", m.id);
      b.string_if_set("room", m.room);
      if (m.peers) {
        json_builder_set_member_name(jb, "peers");
        json_builder_begin_array(jb);
        for (const std::string &p : *m.peers)
          json_builder_add_string_value(jb, p.c_str());
        json_builder_end_array(jb);
      }
      if (m.ice_servers)
        add_ice_servers(b, *m.ice_servers);
      break;
    case SignalMessage::Type::Offer:
    case SignalMessage::Type::Answer:
      b.string("sdp", m.sdp);
      break;
    case SignalMessage::Type::Candidate:
      add_candidate(b, m.candidate);
      break;
    case SignalMessage::Type::Error:
      b.string("message", m.message);
      break;
    case SignalMessage::Type::Bye:
    case SignalMessage::Type::Leave:
    case SignalMessage::Type::Unknown:
      break;
  }
  b.string_if_set("from", m.from);
  b.string_if_set("to", m.to);
  json_builder_end_object(jb);
  JsonNode *root = json_builder_get_root(jb);
  std::string out = json_text(root);
  json_node_unref(root);
  return out;
}

std::string to_forwarded_json(const SignalMessage &message, const std::string &from)
{
  if (!message.json || !JSON_NODE_HOLDS_OBJECT(message.json.get())) {
    SignalMessage copy = message;
    copy.from = from;
    return to_json(copy);
  }
  /* A copy: the parsed message stays as received. */
  JsonNode *copy = json_node_copy(message.json.get());
  JsonObject *obj = json_node_get_object(copy);
  /* A copied node shares its object with the original; give it its own. */
  JsonObject *own = json_object_new();
  JsonObjectIter iter;
  const gchar *name = nullptr;
  JsonNode *value = nullptr;
  json_object_iter_init_ordered(&iter, obj);
  while (json_object_iter_next_ordered(&iter, &name, &value)) {
    if (std::strcmp(name, "from") != 0)
      json_object_set_member(own, name, json_node_copy(value));
  }
  json_object_set_string_member(own, "from", from.c_str());
  json_node_take_object(copy, own);
  std::string out = json_text(copy);
  json_node_unref(copy);
  return out;
}

std::string json_text(JsonNode *root)
{
  std::string out;
  write_json(out, root);
  return out;
}

std::string signal_error_json(const std::string &message)
{
  return to_json(SignalMessage::error(message));
}

}  // namespace livecast
