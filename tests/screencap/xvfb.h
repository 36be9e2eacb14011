/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plumbing the screencapsrc tests share (test_screencapsrc.cpp,
 * test_screencapsrc_rate.cpp): a private Xvfb per test, children that die
 * with the test, state changes that cannot hang it. Each test program
 * includes it once (its own copy, in an unnamed namespace).
 */
#pragma once

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace
{

gint64 now_ms()
{
  return g_get_monotonic_time() / 1000;
}

/* Children die with the test process, even when an assertion aborts it
 * (SIGTERM: Xvfb then removes its lock file and socket). */
void die_with_parent(gpointer)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* SIGTERM, then SIGKILL if it has not exited within @grace_ms; reaps. */
void stop_child(GPid pid, int grace_ms = 3000)
{
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 10) {
    if (waitpid(pid, nullptr, WNOHANG) == pid)
      return;
    g_usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

/* One line from @fd (without '\n') within @timeout_ms; false on timeout/EOF. */
bool read_line(int fd, std::string &buf, std::string &line, int timeout_ms)
{
  const gint64 deadline = now_ms() + timeout_ms;
  for (;;) {
    const size_t nl = buf.find('\n');
    if (nl != std::string::npos) {
      line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      return true;
    }
    const gint64 left = deadline - now_ms();
    struct pollfd p = {fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, int(left)) <= 0)
      return false;
    char chunk[256];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0)
      return false;
    buf.append(chunk, size_t(n));
  }
}

/* An Xvfb of its own; killed (and waited for) on destruction. */
class Xvfb
{
 public:
  explicit Xvfb(const char *size = "1280x720x24")
  {
    int fds[2];
    g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
    const int source_fds[] = {fds[1]}, target_fds[] = {3};
    const char *argv[] = {"Xvfb", "-displayfd", "3", "-screen", "0", size, "-nolisten", "tcp",
                          "+extension", "RANDR",
                          /* Without it the server resets when its last client
                           * leaves, forgetting monitors set with xrandr. */
                          "-noreset", nullptr};
    GError *err = nullptr;
    g_spawn_async_with_pipes_and_fds(nullptr, argv, nullptr,
                                     GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD),
                                     die_with_parent, nullptr, -1, -1, -1, source_fds, target_fds,
                                     1, &pid_, nullptr, nullptr, nullptr, &err);
    g_assert_no_error(err);
    close(fds[1]);
    std::string buf, line;
    const bool got = read_line(fds[0], buf, line, 10000);
    close(fds[0]);
    if (!got || line.empty())
      g_error("Xvfb did not report its display number within 10 s");
    number_ = atoi(line.c_str());
    name_ = ":" + line;
  }
  ~Xvfb()
  {
    stop_child(pid_);
    remove_leftovers();
  }
  Xvfb(const Xvfb &) = delete;
  Xvfb &operator=(const Xvfb &) = delete;

  const std::string &name() const { return name_; }

  /* The server vanishes at once, as in a crash. */
  void kill_now()
  {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
    remove_leftovers();
  }

 private:
  /* A killed server leaves its lock and socket behind. */
  void remove_leftovers() const
  {
    if (pid_ != 0)
      return;
    g_unlink(("/tmp/.X" + std::to_string(number_) + "-lock").c_str());
    g_unlink(("/tmp/.X11-unix/X" + std::to_string(number_)).c_str());
  }

  GPid pid_ = 0;
  int number_ = -1;
  std::string name_;
};

/* Runs @fn on a thread and fails the test if it takes over @timeout_ms:
 * a hanging state change must not hang the test run. */
template <typename T>
T bounded(const char *what, int timeout_ms, std::function<T()> fn)
{
  auto task = std::make_shared<std::packaged_task<T()>>(fn);
  std::future<T> result = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (result.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready)
    g_error("%s did not return within %d ms", what, timeout_ms);
  return result.get();
}

GstStateChangeReturn set_state(GstElement *e, GstState s, int timeout_ms = 5000)
{
  gst_object_ref(e); /* kept alive for the thread even if the test gives up */
  const GstStateChangeReturn r =
      bounded<GstStateChangeReturn>(gst_element_state_get_name(s), timeout_ms, [e, s] {
        const GstStateChangeReturn ret = gst_element_set_state(e, s);
        gst_object_unref(e);
        return ret;
      });
  return r;
}

}  // namespace
