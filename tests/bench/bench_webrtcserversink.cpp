/* livecast benchmarks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Figures for webrtcserversink, printed, never gating:
 *  - time to first frame: from the WHEP POST to the first decoded frame in
 *    an in-process webrtcbin viewer, median of 10;
 *  - fan-out: CPU of the sending process (gst-launch-1.0, 720p30 H.264)
 *    serving 1 viewer and then 8 viewers in the same run, and their ratio.
 * Runs inside the private network namespace (tests/netns-run.sh).
 */
#include <gst/gst.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "whepreceiver.h"

namespace
{

double median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v.empty() ? -1
                   : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

/* CPU seconds (user + system) used so far by process @pid. */
double cpu_seconds(pid_t pid)
{
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(content.substr(content.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> f; i++) {
    if (i == 14)
      utime = std::stoull(f);
    if (i == 15) {
      stime = std::stoull(f);
      break;
    }
  }
  return double(utime + stime) / sysconf(_SC_CLK_TCK);
}

pid_t spawn_sender(int port, const char *caps)
{
  const std::string pipeline = std::string("videotestsrc is-live=true pattern=ball ! ") + caps +
                               " ! webrtcserversink port=" + std::to_string(port);
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<std::string> args = {"gst-launch-1.0", "-q"};
    std::istringstream in(pipeline);
    for (std::string w; in >> w;)
      args.push_back(w);
    std::vector<char *> argv;
    for (auto &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("gst-launch-1.0", argv.data());
    _exit(127);
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  for (int i = 0; i < 100; i++) {
    HttpResult r = http_request("GET", url + "/stats");
    if (r.status == 200 && r.body.find("\"codec\":\"H264\"") != std::string::npos)
      break;
    g_usleep(100000);
  }
  return pid;
}

void stop_sender(pid_t pid)
{
  kill(pid, SIGINT);
  int status;
  for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
    g_usleep(100000);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
}

void bench_time_to_first_frame()
{
  const int port = 18201;
  pid_t sender = spawn_sender(port, "video/x-raw,width=1280,height=720,framerate=30/1");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  std::vector<double> times;
  for (int i = 0; i < 10; i++) {
    WhepReceiver rx(url, "H264");
    std::string error;
    if (!rx.start(error) || !rx.wait_frames(1, 5000)) {
      g_printerr("run %d failed: %s\n", i, error.c_str());
      continue;
    }
    times.push_back(rx.first_frame_ms());
    rx.stop_session();
  }
  stop_sender(sender);
  const double m = median(times);
  g_print(
      "time to first frame (in-process webrtcbin, 720p30 H.264, %zu runs): median %.0f ms, "
      "min %.0f ms, max %.0f ms; ratio to the 300 ms target: %.2f\n",
      times.size(), m, times.empty() ? -1 : *std::min_element(times.begin(), times.end()),
      times.empty() ? -1 : *std::max_element(times.begin(), times.end()), m / 300.0);
}

/* CPU cores the sender uses over @seconds while @viewers watch. */
double sender_cores(pid_t sender, const std::string &url, int viewers, int seconds)
{
  std::vector<std::unique_ptr<WhepReceiver>> rxs;
  for (int i = 0; i < viewers; i++) {
    rxs.push_back(std::make_unique<WhepReceiver>(url, "H264", false));
    std::string error;
    if (!rxs.back()->start(error))
      g_printerr("viewer %d: %s\n", i, error.c_str());
  }
  for (auto &rx : rxs)
    rx->wait_frames(30, 10000);
  const double c0 = cpu_seconds(sender);
  const gint64 t0 = g_get_monotonic_time();
  std::vector<guint> f0;
  for (auto &rx : rxs)
    f0.push_back(rx->frames());
  g_usleep(seconds * G_USEC_PER_SEC);
  const double cores = (cpu_seconds(sender) - c0) / ((g_get_monotonic_time() - t0) / 1e6);
  guint min_frames = G_MAXUINT;
  for (std::size_t i = 0; i < rxs.size(); i++)
    min_frames = std::min(min_frames, rxs[i]->frames() - f0[i]);
  g_print("  %d viewer(s): sender uses %.3f cores; slowest viewer got %.1f frames/s\n", viewers,
          cores, min_frames / double(seconds));
  for (auto &rx : rxs)
    rx->stop_session();
  return cores;
}

void bench_fan_out()
{
  const int port = 18202;
  pid_t sender = spawn_sender(port, "video/x-raw,width=1280,height=720,framerate=30/1");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  g_print("fan-out (720p30 H.264, CPU of the sending process):\n");
  const double one = sender_cores(sender, url, 1, 10);
  g_usleep(2 * G_USEC_PER_SEC);
  const double eight = sender_cores(sender, url, 8, 10);
  stop_sender(sender);
  g_print("fan-out ratio, 8 viewers / 1 viewer: %.2f (target <= 1.5)\n", eight / one);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  bench_time_to_first_frame();
  bench_fan_out();
  return 0;
}
