/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * JSON in and out. In: check_json_text, a strict lexer run on outside text
 * before json-glib parses it. Out: JsonWriter, the one writer of every JSON
 * text livecast sends (/config, /stats, the answers of POST /offer, every
 * WebSocket message, what the relay forwards), json-glib trees included.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/glibptr.h"

namespace livecast
{

/* Deepest nesting of arrays and objects check_json_text lets through: the
 * parser is recursive, so a hostile "[[[[…" must not reach it. */
constexpr int kJsonMaxDepth = 32;

/* What json-glib cannot be trusted with, checked on the text before parsing
 * it. json-glib reads more than JSON (comments, single quotes, hex and octal
 * numbers, octal escapes, lone surrogates) and some of it comes out as bytes
 * that are not UTF-8 or as numbers wrapped around. So this is a strict JSON
 * lexer: strings with only JSON's escapes and no \u0000 (strings come out
 * NUL-terminated, cut short), numbers in JSON's grammar with whole numbers
 * in 64 bits, nesting no deeper than kJsonMaxDepth, and one value
 * (json-glib keeps the last and leaks the others). The grammar itself is
 * left to json-glib. false with @error set (one sentence about "the
 * message"). */
bool check_json_text(const std::string &text, std::string &error);

using JsonNodePtr = std::unique_ptr<JsonNode, CFree<json_node_unref>>;

/* Writes compact JSON text, value by value:
 *
 *   JsonWriter w;
 *   w.begin_object().key("type").string("error").key("status").integer(429).end_object();
 *   send(w.text());
 *
 * Strings are escaped as JSON needs (", \, control characters), the rest of
 * UTF-8 is written as it is. Integers are written as such; doubles in the
 * shortest form that reads back exactly, with ".0" when whole (30.0), and
 * non-finite ones as null (json-glib's generator writes 1e21 as "1e+21.0"
 * and infinity as "inf", neither of them JSON). The caller keeps the shape
 * well formed: a key before each value in an object, every container
 * closed. */
class JsonWriter
{
 public:
  JsonWriter &begin_object() { return open('{'); }
  JsonWriter &end_object() { return close('}'); }
  JsonWriter &begin_array() { return open('['); }
  JsonWriter &end_array() { return close(']'); }
  /* The name of the object member whose value comes next. */
  JsonWriter &key(std::string_view name);
  JsonWriter &string(std::string_view value);
  JsonWriter &integer(gint64 value);
  JsonWriter &number(double value);
  JsonWriter &boolean(bool value);
  JsonWriter &null();
  /* A json-glib tree as it is (not consumed), members in their order. */
  JsonWriter &node(JsonNode *value);

  const std::string &text() const { return out_; }

 private:
  JsonWriter &open(char bracket);
  JsonWriter &close(char bracket);
  /* Writes the comma between two values of a container. */
  void separate();
  void write_string(std::string_view value);

  std::string out_;
  /* One entry per open container: whether it has a value yet. */
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

/* Compact JSON text of @root (not consumed), as JsonWriter writes it. */
std::string json_text(JsonNode *root);

}  // namespace livecast
