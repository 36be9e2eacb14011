/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * screen_painter: keeps an X display's picture moving, for capture
 * benchmarks and end-to-end tests (a real X client, cheaper and steadier
 * than a shell loop of xsetroot).
 *
 *   screen_painter [--display :N] [--rate HZ] [--mode box|full] [--seconds S]
 *
 * Draws straight onto the root window (Xvfb has no window manager):
 *   box   a 320x320 square moving diagonally over a background whose colour
 *         changes every second; only the square's old and new places change
 *         each tick (a small damaged area, like a moving window);
 *   full  the whole screen filled with a new colour each tick (every pixel
 *         changes: the worst case for a capture and an encoder).
 * --rate ticks per second (default 60; 0: as fast as the X server answers).
 * Each tick ends with XSync, so the X server has drawn it before the next.
 * Prints "ready" once the first tick is drawn. Ends after --seconds (default:
 * never), on SIGTERM/SIGINT, or when the display goes away (exit 0 for the
 * first two, 1 for the last).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xclient.h"

static unsigned long colour(unsigned n)
{
  /* Saturated colours that differ in every channel from one to the next. */
  static const unsigned long table[] = {0xe6194b, 0x3cb44b, 0xffe119, 0x4363d8, 0xf58231,
                                        0x911eb4, 0x46f0f0, 0xf032e6, 0xbcf60c, 0x008080};
  return table[n % (sizeof table / sizeof table[0])];
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  const char *display = NULL;
  double rate = 60, seconds = 0;
  int full = 0;
  for (int i = 1; i < argc; i++) {
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--display") && value) {
      display = value;
    } else if (!strcmp(argv[i], "--rate") && value) {
      rate = atof(value);
    } else if (!strcmp(argv[i], "--seconds") && value) {
      seconds = atof(value);
    } else if (!strcmp(argv[i], "--mode") && value &&
               (!strcmp(value, "box") || !strcmp(value, "full"))) {
      full = !strcmp(value, "full");
    } else {
      fprintf(stderr,
              "usage: screen_painter [--display :N] [--rate HZ] [--mode box|full] "
              "[--seconds S]\n");
      return 2;
    }
    i++;
  }

  Display *dpy = XOpenDisplay(display);
  if (!dpy) {
    fprintf(stderr, "screen_painter: cannot open display '%s'\n",
            display ? display : (getenv("DISPLAY") ? getenv("DISPLAY") : ""));
    return 1;
  }
  xclient_watch();

  const int screen = DefaultScreen(dpy);
  const Window root = RootWindow(dpy, screen);
  const int width = DisplayWidth(dpy, screen), height = DisplayHeight(dpy, screen);
  GC gc = XCreateGC(dpy, root, 0, NULL);
  const int box = 320;
  int x = 0, y = 0, dx = 7, dy = 5;
  unsigned tick = 0, background = 0;
  const double start = now_s();
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);

  while (!stop) {
    const double t = now_s() - start;
    if (seconds > 0 && t >= seconds)
      break;
    if (full) {
      XSetForeground(dpy, gc, colour(tick));
      XFillRectangle(dpy, root, gc, 0, 0, (unsigned)width, (unsigned)height);
    } else {
      const unsigned bg = (unsigned)t;
      if (tick == 0 || bg != background) {
        background = bg;
        XSetForeground(dpy, gc, (colour(bg) >> 1) & 0x7f7f7f); /* darker than the boxes */
        XFillRectangle(dpy, root, gc, 0, 0, (unsigned)width, (unsigned)height);
      } else {
        XSetForeground(dpy, gc, (colour(background) >> 1) & 0x7f7f7f);
        XFillRectangle(dpy, root, gc, x, y, box, box); /* where the box was */
      }
      x += dx;
      y += dy;
      if (x < 0 || x + box > width) {
        dx = -dx;
        x += 2 * dx;
      }
      if (y < 0 || y + box > height) {
        dy = -dy;
        y += 2 * dy;
      }
      XSetForeground(dpy, gc, colour(tick / 8 + 3));
      XFillRectangle(dpy, root, gc, x, y, box, box);
    }
    XSync(dpy, False);
    if (tick++ == 0) {
      printf("ready\n");
      fflush(stdout);
    }
    if (rate > 0) {
      const long step = (long)(1e9 / rate);
      next.tv_nsec += step;
      while (next.tv_nsec >= 1000000000L) {
        next.tv_nsec -= 1000000000L;
        next.tv_sec++;
      }
      struct timespec cur;
      clock_gettime(CLOCK_MONOTONIC, &cur);
      if (cur.tv_sec > next.tv_sec + 1) /* far behind (suspended?): do not race to catch up */
        next = cur;
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR && !stop) {
      }
    }
  }
  XFreeGC(dpy, gc);
  XCloseDisplay(dpy);
  return 0;
}
