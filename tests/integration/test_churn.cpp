/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Churn: 200 viewers join and leave a running sender in batches of 10, half
 * of them with DELETE and half vanishing without a word. Every one must get
 * frames; afterwards /stats reports 0 viewers within the reaping window, the
 * sender's open file descriptors are back where they started (within 5) and
 * its resident memory grew by less than 30 MB; a vanished viewer is reaped
 * within 10 s.
 *
 * The sender is a gst-launch-1.0 process of its own, so its descriptors and
 * memory are measured alone; the viewers are webrtcbin receivers in this
 * process. Runs inside the private network namespace (tests/netns-run.sh).
 */
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "procstat.h"
#include "whepreceiver.h"

namespace
{

/* LIVECAST_CHURN_VIEWERS and LIVECAST_CHURN_MODE (both, delete, vanish)
 * narrow it down when looking for a leak. */
constexpr int kViewers = 200;
constexpr int kBatch = 10;
constexpr int kPort = 18097;
constexpr gint64 kReapLimitUs = 10 * G_USEC_PER_SEC;
/* A batch every 1.5 s: viewers come and go over a minute, as they would, and
 * the vanished ones (reaped after ~9 s) overlap with a few batches, not all. */
constexpr gint64 kBatchIntervalUs = 1500 * 1000;
constexpr gint64 kSettleUs = 6 * G_USEC_PER_SEC;

gint64 now_us()
{
  return g_get_monotonic_time();
}

int open_fds(GPid pid)
{
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR *d = opendir(dir.c_str());
  if (!d)
    return -1;
  int n = 0;
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] != '.')
      n++;
  }
  closedir(d);
  return n;
}

/* "socket:12, anon_inode:[eventfd]:30, ...": what the descriptors are, to
 * tell a leak's kind from the test output. */
std::string fd_kinds(GPid pid)
{
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::map<std::string, int> kinds;
  if (DIR *d = opendir(dir.c_str())) {
    while (struct dirent *e = readdir(d)) {
      if (e->d_name[0] == '.')
        continue;
      gchar *target = g_file_read_link((dir + "/" + e->d_name).c_str(), nullptr);
      std::string kind = target ? target : "?";
      g_free(target);
      const auto bracket = kind.find(":[");
      if (bracket != std::string::npos && kind.rfind("anon_inode", 0) != 0)
        kind = kind.substr(0, bracket);
      kinds[kind]++;
    }
    closedir(d);
  }
  std::string out;
  for (const auto &k : kinds)
    out += (out.empty() ? "" : ", ") + k.first + ":" + std::to_string(k.second);
  return out;
}


/* /stats "viewers", or -1 when the server does not answer. */
int stats_viewers(const std::string &url)
{
  HttpResult r = http_request("GET", url + "/stats");
  if (r.status != 200)
    return -1;
  JsonParser *parser = json_parser_new();
  int viewers = -1;
  if (json_parser_load_from_data(parser, r.body.c_str(), -1, nullptr))
    viewers = static_cast<int>(
        json_object_get_int_member(json_node_get_object(json_parser_get_root(parser)), "viewers"));
  g_object_unref(parser);
  return viewers;
}

/* Waits (bounded) until /stats says @want viewers; the time it took, or -1. */
gint64 wait_viewers(const std::string &url, int want, gint64 timeout_us)
{
  const gint64 start = now_us();
  while (now_us() - start < timeout_us) {
    if (stats_viewers(url) == want)
      return now_us() - start;
    g_usleep(100 * 1000);
  }
  return -1;
}

void test_churn()
{
  const std::string url = "http://127.0.0.1:" + std::to_string(kPort);
  /* The limits a test client on one address would hit are lifted; what is
   * measured is what 200 sessions leave behind. */
  gchar *argv[] = {
      const_cast<gchar *>("gst-launch-1.0"), const_cast<gchar *>("-q"),
      const_cast<gchar *>("videotestsrc"), const_cast<gchar *>("is-live=true"),
      const_cast<gchar *>("pattern=ball"), const_cast<gchar *>("!"),
      const_cast<gchar *>("video/x-raw,width=320,height=240,framerate=30/1"),
      const_cast<gchar *>("!"), const_cast<gchar *>("webrtcserversink"),
      g_strdup_printf("port=%d", kPort), const_cast<gchar *>("max-viewers=100"),
      const_cast<gchar *>("max-offers-per-second=0"), nullptr};
  GPid pid = 0;
  GError *err = nullptr;
  g_assert_true(g_spawn_async(nullptr, argv, nullptr,
                              static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH |
                                                       G_SPAWN_DO_NOT_REAP_CHILD),
                              nullptr, nullptr, &pid, &err));
  g_assert_no_error(err);
  g_free(argv[9]);
  struct Reaper {
    GPid pid;
    void stop()
    {
      if (!pid)
        return;
      kill(pid, SIGINT);
      for (int i = 0; i < 50 && waitpid(pid, nullptr, WNOHANG) == 0; i++)
        g_usleep(100 * 1000);
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      g_spawn_close_pid(pid);
      pid = 0;
    }
    ~Reaper() { stop(); }
  } reaper{pid};
  /* Failing stops the sender first: an abort() skips destructors, and a
   * sender left running keeps the namespace (and the test) alive. */
  static Reaper *current = nullptr;
  current = &reaper;
  auto fail = [](const std::string &message) {
    current->stop();
    g_error("%s", message.c_str());
  };
  const char *env_count = g_getenv("LIVECAST_CHURN_VIEWERS");
  const int viewers = env_count ? atoi(env_count) : kViewers;
  const std::string mode = g_getenv("LIVECAST_CHURN_MODE") ? g_getenv("LIVECAST_CHURN_MODE") : "both";
  if (wait_viewers(url, 0, 10 * G_USEC_PER_SEC) < 0)
    fail("the sender did not serve /stats within 10 s");

  /* One viewer first: what is created once (DTLS certificate, encoder) is
   * not churn. */
  {
    WhepReceiver warm(url, "H264", false);
    std::string error;
    if (!warm.start(error) || !warm.wait_frames(10, 10000) || warm.stop_session() != 200)
      fail("the first viewer did not play: " + error);
  }
  if (wait_viewers(url, 0, 5 * G_USEC_PER_SEC) < 0)
    fail("the first viewer was not removed");
  g_usleep(500 * 1000);
  g_print("# descriptors at the start: %s\n", fd_kinds(pid).c_str());
  const int fds0 = open_fds(pid);
  const long rss0 = rss_kb(pid);
  g_print("# before: %d fds, %ld kB resident\n", fds0, rss0);

  int deleted = 0, vanished = 0, peak = 0;
  guint min_frames = G_MAXUINT;
  const gint64 start = now_us();
  gint64 last_vanish_us = 0;
  const int rounds = g_getenv("LIVECAST_CHURN_ROUNDS") ? atoi(g_getenv("LIVECAST_CHURN_ROUNDS")) : 1;
  for (int round = 0; round < rounds; round++) {
  if (round > 0) {
    wait_viewers(url, 0, kReapLimitUs + G_USEC_PER_SEC);
    g_usleep(500 * 1000);
    g_print("# after round %d: %ld kB resident (%+.1f MB)\n", round, rss_kb(pid),
            (rss_kb(pid) - rss0) / 1024.0);
  }
  for (int done = 0; done < viewers; done += kBatch) {
    const gint64 batch_start = now_us();
    std::vector<std::unique_ptr<WhepReceiver>> batch;
    for (int i = 0; i < kBatch; i++) {
      batch.push_back(std::make_unique<WhepReceiver>(url, "H264", false));
      std::string error;
      if (!batch.back()->start(error))
        fail("viewer " + std::to_string(done + i) + ": " + error);
    }
    for (int i = 0; i < kBatch; i++) {
      if (!batch[i]->wait_frames(5, 15000))
        fail("viewer " + std::to_string(done + i) + " got " + std::to_string(batch[i]->frames()) +
             " frames in 15 s");
    }
    peak = MAX(peak, stats_viewers(url));
    for (int i = 0; i < kBatch; i++) {
      min_frames = MIN(min_frames, batch[i]->frames());
      const bool by_delete = mode == "delete" || (mode == "both" && i % 2 == 0);
      if (by_delete) {
        if (batch[i]->stop_session() != 200)
          fail("DELETE of viewer " + std::to_string(done + i) + " failed");
        deleted++;
      } else {
        batch[i]->vanish();
        vanished++;
      }
    }
    last_vanish_us = now_us();
    const gint64 rest = kBatchIntervalUs - (now_us() - batch_start);
    if (rest > 0 && done + kBatch < viewers)
      g_usleep(rest);
  }
  }
  const double churn_s = (now_us() - start) / 1e6;
  const gint64 reaped = wait_viewers(url, 0, kReapLimitUs + G_USEC_PER_SEC);
  const gint64 since_vanish = now_us() - last_vanish_us;
  /* Branches are disposed just after they are reaped, and the sink hands
   * freed memory back to the system at most every 5 s: measure after that. */
  g_usleep(kSettleUs);
  if (const char *hold = g_getenv("LIVECAST_CHURN_HOLD"))
    g_usleep(atoi(hold) * G_USEC_PER_SEC);
  g_print("# descriptors before the last measure: %s\n", fd_kinds(pid).c_str());
  const int fds1 = open_fds(pid);
  const long rss1 = rss_kb(pid);
  g_print("# %d viewers in %.1f s (%d with DELETE, %d vanished), each got >= %u frames before "
          "leaving, at most %d at once\n",
          deleted + vanished, churn_s, deleted, vanished, min_frames, peak);
  g_print("# after: /stats 0 viewers %.1f s after the last vanished ones; %d fds (%+d), %ld kB "
          "resident (%+.1f MB)\n",
          reaped >= 0 ? since_vanish / 1e6 : -1.0, fds1, fds1 - fds0, rss1, (rss1 - rss0) / 1024.0);
  reaper.stop();
  if (reaped < 0)
    g_error("/stats still reports viewers %.0f s after the last vanished ones", since_vanish / 1e6);
  g_assert_cmpint(since_vanish, <=, kReapLimitUs + G_USEC_PER_SEC);
  g_assert_cmpint(std::abs(fds1 - fds0), <=, 5);
  g_assert_cmpint(rss1 - rss0, <, 30 * 1024);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  if (!g_getenv("LIVECAST_IN_NETNS")) {
    g_print("1..0 # SKIP opens sockets: run through tests/netns-run.sh\n");
    return 77;
  }
  g_test_add_func("/churn/200-viewers", test_churn);
  return g_test_run();
}
