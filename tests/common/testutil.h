/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include <string>

namespace testutil
{
inline std::string str(const char *s)
{
  return s ? s : "(null)";
}
inline std::string str(const std::string &s)
{
  return s;
}
}  // namespace testutil

/* String equality that copies both sides first: g_assert_cmpstr would keep
 * a pointer into a temporary std::string past its lifetime. */
#define ASSERT_STR_EQ(a, b)                                                                      \
  do {                                                                                           \
    const std::string assert_a_ = testutil::str(a), assert_b_ = testutil::str(b);                \
    if (assert_a_ != assert_b_)                                                                  \
      g_error("%s:%d: %s is \"%s\", expected \"%s\"", __FILE__, __LINE__, #a, assert_a_.c_str(), \
              assert_b_.c_str());                                                                \
  } while (0)

namespace testutil
{
/* One readable sentence, as every error livecast writes for people: starts
 * with a capital, ends with a full stop, one line, under 200 bytes. */
inline void assert_sentence(const std::string &s)
{
  g_assert_false(s.empty());
  g_assert_true(g_ascii_isupper(s[0]));
  g_assert_cmpint(s.back(), ==, '.');
  g_assert_true(s.find('\n') == std::string::npos);
  g_assert_cmpuint(s.size(), <, 200);
}
}  // namespace testutil

/* Skips counted honestly. meson reads a GLib test binary's exit status only, and g_test_skip()
 * alone leaves it 0 (OK). Cases registered with testutil::add() and skipped through these two
 * are counted; testutil::run() prints them and returns 77 (meson: SKIP) when every case that
 * ran skipped. */
namespace testutil
{
struct SkipCount {
  int ran = 0;
  std::string skipped; /* "path: why" lines */
  int count = 0;
};
inline SkipCount &skip_count()
{
  static SkipCount c;
  return c;
}

inline void skip_(const std::string &why)
{
  SkipCount &c = skip_count();
  c.count++;
  c.skipped += std::string("#   ") + str(g_test_get_path()) + ": " + why + "\n";
  g_test_skip(why.c_str());
}

/* A prerequisite the project installs (scripts/install-deps.sh --tests) is missing: a skip, and
 * a failure with LIVECAST_REQUIRE_BROWSER=1 (CI, where everything must run). */
inline void skip_missing(const std::string &why)
{
  if (g_strcmp0(g_getenv("LIVECAST_REQUIRE_BROWSER"), "1") == 0) {
    g_printerr("%s: %s; LIVECAST_REQUIRE_BROWSER=1 makes this skip a failure\n", g_test_get_path(),
               why.c_str());
    g_test_fail();
    return;
  }
  skip_(why);
}

/* Something no install here can give (e.g. the real librealsense2, which Debian 12 does not
 * package): a skip even with LIVECAST_REQUIRE_BROWSER=1, counted and printed. */
inline void skip_unavailable(const std::string &why)
{
  skip_(why);
}

/* g_test_add_func() that counts the cases that ran. */
inline void add(const char *path, void (*fn)())
{
  g_test_add_data_func(path, reinterpret_cast<gconstpointer>(fn), [](gconstpointer f) {
    skip_count().ran++;
    reinterpret_cast<void (*)()>(const_cast<gpointer>(f))();
  });
}

/* g_test_run(), then the skips: printed, and 77 when every case that ran skipped. */
inline int run()
{
  const int r = g_test_run();
  const SkipCount &c = skip_count();
  if (g_test_subprocess() || c.count == 0)
    return r;
  g_print("# SKIPPED %d of %d cases:\n%s", c.count, c.ran, c.skipped.c_str());
  return r == 0 && c.count == c.ran ? 77 : r;
}
}  // namespace testutil
