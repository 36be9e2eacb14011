/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A very small test harness for the portable capture code: no GLib, so the
 * same test programs also build with mingw-w64 for Windows (and run under
 * Wine where it is installed). TEST(name) defines a case, CHECK and CHECK_EQ
 * fail it with the values involved; main() is run_tests(argc, argv).
 * Exit status 0 when every case passed, 1 otherwise.
 */
#pragma once

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace check {

struct Case {
  const char *name;
  void (*run)();
};

inline std::vector<Case> &cases()
{
  static std::vector<Case> all;
  return all;
}

inline bool &current_failed()
{
  static bool failed = false;
  return failed;
}

struct Registration {
  Registration(const char *name, void (*run)()) { cases().push_back(Case{name, run}); }
};

inline void report(const char *file, int line, const std::string &what)
{
  std::fprintf(stderr, "  %s:%d: %s\n", file, line, what.c_str());
  current_failed() = true;
}

/* Numbers print as numbers (uint8_t too), anything else needs operator<<. */
template <typename T, typename std::enable_if<std::is_arithmetic<T>::value, int>::type = 0>
auto printable(const T &v) -> decltype(+v)
{
  return +v;
}
template <typename T, typename std::enable_if<!std::is_arithmetic<T>::value, int>::type = 0>
const T &printable(const T &v)
{
  return v;
}

template <typename A, typename B>
bool equal(const A &a, const B &b, const char *file, int line, const char *ea, const char *eb)
{
  if (a == b)
    return true;
  std::ostringstream s;
  s << ea << " == " << eb << " failed: " << printable(a) << " != " << printable(b);
  report(file, line, s.str());
  return false;
}

/* Runs every case, or those whose name contains argv[1]. */
inline int run_tests(int argc, char **argv)
{
  int failed = 0, ran = 0;
  for (const Case &c : cases()) {
    if (argc > 1 && !std::strstr(c.name, argv[1]))
      continue;
    current_failed() = false;
    c.run();
    ran++;
    std::printf("%s %s\n", current_failed() ? "FAIL" : "ok  ", c.name);
    failed += current_failed();
  }
  std::printf("%d of %d passed\n", ran - failed, ran);
  return failed == 0 && ran > 0 ? 0 : 1;
}

}  // namespace check

#define TEST(name)                                                   \
  static void name();                                                \
  static const check::Registration name##_registration(#name, name); \
  static void name()

/* Both end the current case on failure. */
#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) {                                                  \
      check::report(__FILE__, __LINE__, "CHECK(" #cond ") failed"); \
      return;                                                       \
    }                                                               \
  } while (0)
#define CHECK_EQ(a, b)                                       \
  do {                                                       \
    if (!check::equal((a), (b), __FILE__, __LINE__, #a, #b)) \
      return;                                                \
  } while (0)
