/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * network/backoff.h: 1 s doubling to 30 s (or other bounds), up to a
 * quarter more of jitter, and back to the first step after a success.
 */
#include <glib.h>

#include <set>

#include "network/backoff.h"

using namespace livecast;

static void test_doubling_with_jitter()
{
  Backoff backoff;
  const guint steps[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  for (guint step : steps) {
    const guint delay = backoff.next_ms();
    g_assert_cmpuint(delay, >=, step);
    g_assert_cmpuint(delay, <=, step + step / 4);
  }
  backoff.reset();
  const guint again = backoff.next_ms();
  g_assert_cmpuint(again, >=, 1000);
  g_assert_cmpuint(again, <=, 1250);
}

static void test_other_bounds()
{
  /* The WHIP publisher's: 0.5 s doubling to 8 s. */
  Backoff backoff(500, 8000);
  const guint steps[] = {500, 1000, 2000, 4000, 8000, 8000};
  for (guint step : steps) {
    const guint delay = backoff.next_ms();
    g_assert_cmpuint(delay, >=, step);
    g_assert_cmpuint(delay, <=, step + step / 4);
  }
  backoff.reset();
  g_assert_cmpuint(backoff.next_ms(), <=, 625);
}

static void test_jitter_spreads_clients()
{
  /* Many clients behind one restarted relay do not all come back at once. */
  std::set<guint> firsts;
  for (int i = 0; i < 50; i++) {
    Backoff client;
    for (int j = 0; j < 5; j++)
      client.next_ms();
    firsts.insert(client.next_ms());
  }
  g_assert_cmpuint(firsts.size(), >, 10);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/backoff/doubling-with-jitter", test_doubling_with_jitter);
  g_test_add_func("/backoff/other-bounds", test_other_bounds);
  g_test_add_func("/backoff/jitter-spreads-clients", test_jitter_spreads_clients);
  return g_test_run();
}
