/* livecast benchmarks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Figures for webrtcserversink, printed, never gating:
 *  - time to first frame: from the WHEP POST to the first decoded frame in
 *    an in-process webrtcbin viewer, median of 10;
 *  - fan-out: CPU of the sending process (gst-launch-1.0, 720p30 H.264)
 *    serving 1 viewer and then 8 viewers in the same run, and their ratio;
 *  - capacity: memory and CPU per connected viewer at 720p30, and how many
 *    viewers are served at once before the slowest drops below 25 frames/s
 *    (stepping up, bounded; the viewers run on the same machine).
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

#include "procstat.h"
#include "whepreceiver.h"

namespace
{

double median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v.empty() ? -1
                   : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

pid_t spawn_sender(int port, const char *caps, const std::string &props = "")
{
  const std::string pipeline = std::string("videotestsrc is-live=true pattern=ball ! ") + caps +
                               " ! webrtcserversink port=" + std::to_string(port) + " " + props;
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

struct Load {
  double cores = 0;
  double slowest_fps = 0;
  long rss_kb = 0;
};

/* The sender's CPU and memory over @seconds while @viewers watch, and the
 * slowest viewer's frame rate. */
Load measure_load(pid_t sender, const std::string &url, int viewers, int seconds)
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
  Load load;
  const double c0 = cpu_seconds(sender);
  const gint64 t0 = g_get_monotonic_time();
  std::vector<guint> f0;
  for (auto &rx : rxs)
    f0.push_back(rx->frames());
  g_usleep(seconds * G_USEC_PER_SEC);
  const double elapsed = (g_get_monotonic_time() - t0) / 1e6;
  load.cores = (cpu_seconds(sender) - c0) / elapsed;
  load.rss_kb = rss_kb(sender);
  guint min_frames = G_MAXUINT;
  for (std::size_t i = 0; i < rxs.size(); i++)
    min_frames = std::min(min_frames, rxs[i]->frames() - f0[i]);
  load.slowest_fps = rxs.empty() ? 0 : min_frames / elapsed;
  for (auto &rx : rxs)
    rx->stop_session();
  return load;
}

void bench_capacity()
{
  const int port = 18203;
  pid_t sender = spawn_sender(port, "video/x-raw,width=1280,height=720,framerate=30/1",
                              "max-viewers=0 max-pending=0 max-offers-per-second=0");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  g_print("capacity (720p30 H.264, sender process; viewers are webrtcbin receivers in this "
          "process, so they share the machine):\n");
  /* The reference: one viewer (the encoder runs, the valve is open). */
  const Load one = measure_load(sender, url, 1, 5);
  g_usleep(G_USEC_PER_SEC);
  const Load sixteen = measure_load(sender, url, 16, 5);
  const double mem_per_viewer_mb = (sixteen.rss_kb - one.rss_kb) / 15.0 / 1024.0;
  const double cpu_per_viewer = (sixteen.cores - one.cores) / 15.0;
  g_print("  memory per connected viewer: %.2f MB (sender %.1f MB with 1 viewer, %.1f MB with 16); "
          "ratio to the 1-viewer sender: %.3f\n",
          mem_per_viewer_mb, one.rss_kb / 1024.0, sixteen.rss_kb / 1024.0,
          mem_per_viewer_mb * 1024.0 / one.rss_kb);
  g_print("  CPU per viewer: %.4f cores (%.3f with 1 viewer, %.3f with 16); ratio to the "
          "1-viewer sender (the encoder): %.3f\n",
          cpu_per_viewer, one.cores, sixteen.cores, cpu_per_viewer / one.cores);
  int served = 0;
  for (int n : {8, 16, 24, 32, 48, 64}) {
    g_usleep(G_USEC_PER_SEC);
    const Load l = measure_load(sender, url, n, 5);
    g_print("  %d viewers: slowest %.1f frames/s, sender %.2f cores\n", n, l.slowest_fps, l.cores);
    if (l.slowest_fps < 25)
      break;
    served = n;
  }
  stop_sender(sender);
  g_print("viewers served at once with every one >= 25 frames/s: %d%s (of the steps 8..64)\n",
          served, served == 64 ? " or more" : "");
}

/* CPU cores the sender uses over @seconds while @viewers watch. */
double sender_cores(pid_t sender, const std::string &url, int viewers, int seconds)
{
  const Load l = measure_load(sender, url, viewers, seconds);
  g_print("  %d viewer(s): sender uses %.3f cores; slowest viewer got %.1f frames/s\n", viewers,
          l.cores, l.slowest_fps);
  return l.cores;
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
  bench_capacity();
  return 0;
}
