/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the tests' small X clients (screen_painter, clock_painter) share:
 * a stop flag set by SIGTERM/SIGINT, and an exit(1) when the display goes
 * away. Include it once, from the program's own file.
 */
#ifndef LIVECAST_XCLIENT_H
#define LIVECAST_XCLIENT_H

#include <X11/Xlib.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
  (void)sig;
  stop = 1;
}

static int on_io_error(Display *dpy)
{
  (void)dpy;
  fprintf(stderr, "%s: the display went away\n", program_invocation_short_name);
  exit(1);
}

/* Sets the handlers above. */
static inline void xclient_watch(void)
{
  XSetIOErrorHandler(on_io_error);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
}

#endif
