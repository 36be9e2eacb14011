/* livecast benchmarks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One WHEP viewer for benchmarks run from scripts: an in-process webrtcbin
 * (tests/common/whepreceiver) that decodes H.264 like a real viewer.
 *
 *   whep_watch URL SECONDS [--twcc] [--no-decode] [--local ADDRESS]
 *
 * Prints "session /whep/<id>" once the answer is in, then "frames N" (frames
 * decoded so far) every half second and once at the end, then ends the
 * session with DELETE. --twcc offers transport-cc
 * (the viewer sends TWCC feedback, as a browser does: what the sink's rung
 * controller reads); --no-decode counts depayloaded frames instead (cheap:
 * many viewers on one machine); --local: the address ICE gathers on
 * (default 127.0.0.1; a namespace's own address behind a shaped link). Exit 1 when the session
 * cannot be set up. Opens sockets: run it inside tests/netns-run.sh.
 */
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "whepreceiver.h"

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  bool twcc = false, decode = true;
  const char *local = "127.0.0.1";
  int positional = 0;
  const char *args[2] = {nullptr, nullptr};
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--twcc") == 0)
      twcc = true;
    else if (std::strcmp(argv[i], "--no-decode") == 0)
      decode = false;
    else if (std::strcmp(argv[i], "--local") == 0 && i + 1 < argc)
      local = argv[++i];
    else if (positional < 2)
      args[positional++] = argv[i];
    else
      positional++;
  }
  if (positional != 2) {
    std::fprintf(stderr,
                 "usage: whep_watch URL SECONDS [--twcc] [--no-decode] [--local ADDRESS]\n");
    return 2;
  }
  const std::string url = args[0];
  const double seconds = std::atof(args[1]);
  WhepReceiver rx(url, "H264", decode);
  rx.transport_cc = twcc;
  rx.local_address = local;
  std::string error;
  if (!rx.start(error)) {
    std::fprintf(stderr, "whep_watch: %s\n", error.c_str());
    return 1;
  }
  /* The session's resource (/whep/<id>): the id is its name in /stats. */
  std::printf("session %s\n", rx.location().c_str());
  std::fflush(stdout);
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
