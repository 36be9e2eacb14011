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
