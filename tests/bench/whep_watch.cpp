/* livecast benchmarks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One WHEP viewer for benchmarks run from scripts: an in-process webrtcbin
 * (tests/common/whepreceiver) that decodes H.264 like a real viewer.
 *
 *   whep_watch URL SECONDS
 *
 * Prints "frames N" (frames decoded so far) every half second and once at
 * the end, then ends the session with DELETE. Exit 1 when the session cannot
 * be set up. Opens sockets: run it inside tests/netns-run.sh.
 */
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "whepreceiver.h"

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: whep_watch URL SECONDS\n");
    return 2;
  }
  const std::string url = argv[1];
  const double seconds = std::atof(argv[2]);
  WhepReceiver rx(url, "H264", true);
  std::string error;
  if (!rx.start(error)) {
    std::fprintf(stderr, "whep_watch: %s\n", error.c_str());
    return 1;
  }
  const gint64 end = g_get_monotonic_time() + static_cast<gint64>(seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time() < end) {
    g_usleep(G_USEC_PER_SEC / 2);
    std::printf("frames %u\n", rx.frames());
    std::fflush(stdout);
  }
  std::printf("frames %u\n", rx.frames());
  std::fflush(stdout);
  rx.stop_session();
  return 0;
}
