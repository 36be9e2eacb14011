/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * protocol/json.{h,cpp}: the exact text JsonWriter writes (commas, escapes,
 * numbers), json-glib trees written back member for member, and what the
 * strict lexer check_json_text lets through and refuses.
 */
#include <glib.h>
#include <json-glib/json-glib.h>

#include <cmath>
#include <limits>
#include <string>

#include "testutil.h"

#include "protocol/json.h"

using namespace livecast;

namespace
{

JsonNodePtr parse(const std::string &text)
{
  JsonNodePtr root(json_from_string(text.c_str(), nullptr));
  g_assert_nonnull(root.get());
  return root;
}

void test_shapes()
{
  JsonWriter empty;
  empty.begin_object().end_object();
  ASSERT_STR_EQ(empty.text(), "{}");

  JsonWriter w;
  w.begin_object();
  w.key("type").string("welcome");
  w.key("list").begin_array().integer(1).begin_array().end_array().begin_object().end_object();
  w.null().boolean(true).boolean(false).end_array();
  w.key("o").begin_object().key("a").integer(-1).key("b").begin_array().string("x").end_array();
  w.end_object();
  w.end_object();
  ASSERT_STR_EQ(w.text(),
                "{\"type\":\"welcome\",\"list\":[1,[],{},null,true,false],"
                "\"o\":{\"a\":-1,\"b\":[\"x\"]}}");

  /* A value at the top, no container. */
  JsonWriter top;
  top.string("alone");
  ASSERT_STR_EQ(top.text(), "\"alone\"");
}

void test_strings()
{
  JsonWriter w;
  w.begin_array();
  w.string("q\"b\\s/n\nr\rt\tb\bf\f");
  w.string(std::string("a\x01z\x1f\x7f", 5));
  w.string(std::string("nul\0in", 6));
  w.string("Sälchen 会议室 🎥");
  w.string("");
  w.end_array();
  ASSERT_STR_EQ(w.text(),
                "[\"q\\\"b\\\\s/n\\nr\\rt\\tb\\u0008f\\u000c\","
                "\"a\\u0001z\\u001f\x7f\",\"nul\\u0000in\",\"Sälchen 会议室 🎥\",\"\"]");
  /* Names are escaped as strings are. */
  JsonWriter k;
  k.begin_object().key("a\"b\n").integer(0).end_object();
  ASSERT_STR_EQ(k.text(), "{\"a\\\"b\\n\":0}");
  /* And json-glib reads every one back as written. */
  JsonNodePtr back = parse(w.text());
  JsonArray *a = json_node_get_array(back.get());
  ASSERT_STR_EQ(json_array_get_string_element(a, 0), "q\"b\\s/n\nr\rt\tb\bf\f");
  ASSERT_STR_EQ(json_array_get_string_element(a, 3), "Sälchen 会议室 🎥");
}

void test_numbers()
{
  /* The fewest significant digits ("%.Ng") that read back as the same
   * double, so a whole number of two digits or more comes out in exponent
   * form (30 is "3e+01"); ".0" is added only where neither a point nor an
   * exponent says "double". */
  const struct {
    double value;
    const char *text;
  } doubles[] = {
      {30, "3e+01"},
      {7, "7.0"},
      {0.1, "0.1"},
      {-0.0, "-0.0"},
      {2.5e-3, "0.0025"},
      {1e21, "1e+21"},
      {1e270, "1e+270"},
      {-1.5, "-1.5"},
      {1.0 / 3, "0.3333333333333333"},
      {123456789.125, "123456789.125"},
      {5e-324, "5e-324"},
  };
  for (const auto &d : doubles) {
    JsonWriter w;
    w.number(d.value);
    ASSERT_STR_EQ(w.text(), d.text);
    /* The shortest text that reads back as the same double. */
    g_assert_true(g_ascii_strtod(w.text().c_str(), nullptr) == d.value);
  }
  /* Not numbers in JSON: null. */
  for (double bad : {std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity(), std::nan("")}) {
    JsonWriter w;
    w.number(bad);
    ASSERT_STR_EQ(w.text(), "null");
  }
  JsonWriter w;
  w.begin_array().integer(G_MAXINT64).integer(G_MININT64).integer(0).end_array();
  ASSERT_STR_EQ(w.text(), "[9223372036854775807,-9223372036854775808,0]");
}

void test_nodes()
{
  /* A parsed tree goes out member for member, in its order. */
  const std::string text =
      "{\"z\":1,\"a\":[true,null,{\"k\":\"v\"}],\"d\":0.5,\"e\":1e+270,\"n\":-7,\"s\":\"\\u00e9\"}";
  JsonNodePtr root = parse(text);
  ASSERT_STR_EQ(json_text(root.get()),
                "{\"z\":1,\"a\":[true,null,{\"k\":\"v\"}],\"d\":0.5,\"e\":1e+270,\"n\":-7,"
                "\"s\":\"é\"}");
  /* Inside a document being written, with commas around it. */
  JsonWriter w;
  w.begin_object().key("before").integer(1).key("tree").node(root.get());
  w.key("after").integer(2).end_object();
  ASSERT_STR_EQ(w.text(), "{\"before\":1,\"tree\":" + json_text(root.get()) + ",\"after\":2}");
  /* A whole double stays a double: json-glib reads 2.0 back as a double. */
  JsonNodePtr whole = parse("[2.0]");
  ASSERT_STR_EQ(json_text(whole.get()), "[2.0]");
  /* Built with json-glib's builder, too. */
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "x");
  json_builder_add_double_value(b, INFINITY);
  json_builder_end_object(b);
  JsonNodePtr built(json_builder_get_root(b));
  g_object_unref(b);
  ASSERT_STR_EQ(json_text(built.get()), "{\"x\":null}");
}

void test_lexer_accepts()
{
  std::string error;
  for (const std::string &good :
       {std::string("{}"), std::string(" [1, -0, 0.5e-3, 1E+2, \"\\ud83c\\udfa5\", true] \n"),
        std::string("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\""), std::string("9223372036854775807"),
        std::string("-9223372036854775808"), std::string("1e400"),
        std::string(kJsonMaxDepth, '[') + std::string(kJsonMaxDepth, ']'),
        std::string("{\"a\":\"") + std::string(100, '[') + "\"}"}) {
    if (!check_json_text(good, error))
      g_error("refused %s: %s", good.c_str(), error.c_str());
  }
}

void test_lexer_refuses()
{
  const struct {
    std::string text;
    const char *expected;
  } cases[] = {
      {"{} {}", "there is more after its one value"},
      {"1 2", "there is more after its one value"},
      {"[\"\\666\"]", "escape JSON does not allow in a string (\\6)"},
      {"[\"\\u12\"]", "four hex digits"},
      {"[\"\\u0000\"]", "NUL character"},
      {"[\"\\udc00\"]", "lone low surrogate"},
      {"[\"\\ud83cx\"]", "without its low half"},
      {"[\"a\x01\"]", "control character"},
      {"[010]", "number JSON does not allow (010)"},
      {"[0x10]", "number JSON does not allow (0x10)"},
      {"[1.]", "number JSON does not allow"},
      {"[-]", "number JSON does not allow"},
      {"[9223372036854775808]", "64-bit range"},
      {"[-9223372036854775809]", "64-bit range"},
      {"{'a':1}", "unexpected \"'\" at byte 1"},
      {"[1/* x */]", "unexpected \"/\" at byte 2"},
      {std::string(kJsonMaxDepth + 1, '[') + std::string(kJsonMaxDepth + 1, ']'),
       "deeper than 32 levels"},
  };
  for (const auto &c : cases) {
    std::string error;
    if (check_json_text(c.text, error))
      g_error("accepted %s", c.text.c_str());
    if (error.find(c.expected) == std::string::npos)
      g_error("%s: \"%s\" does not mention \"%s\"", c.text.c_str(), error.c_str(), c.expected);
    g_assert_true(g_ascii_isupper(error[0]));
    g_assert_cmpint(error.back(), ==, '.');
  }
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/json/shapes", test_shapes);
  g_test_add_func("/json/strings", test_strings);
  g_test_add_func("/json/numbers", test_numbers);
  g_test_add_func("/json/nodes", test_nodes);
  g_test_add_func("/json/lexer-accepts", test_lexer_accepts);
  g_test_add_func("/json/lexer-refuses", test_lexer_refuses);
  return g_test_run();
}
