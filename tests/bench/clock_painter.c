/* livecast benchmarks
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * clock_painter: paints the wall clock (Unix time in ms) as the barcode of
 * clockcode.h in the top left corner of an X display, every --interval ms
 * (default 2), for the glass-to-glass benchmark (bench_glass.mjs).
 *
 *   clock_painter [--display :N] [--interval MS] [--seconds S]
 *
 * The rest of the screen is filled grey once. Each tick draws the code into
 * a pixmap and copies it to the root window in one request, so a capture
 * (another client's request) sees the old code or the new one, never half
 * of each; XSync makes sure the server has drawn it before the next tick.
 * The painted value is the clock read just before the copy: a frame showing
 * it was grabbed at that time or up to one interval later. Prints "ready"
 * after the first tick; ends after --seconds (default: never), on
 * SIGTERM/SIGINT (exit 0) or when the display goes away (exit 1).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clockcode.h"
#include "xclient.h"

static uint64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
  const char *display = NULL;
  double interval_ms = 2, seconds = 0;
  for (int i = 1; i < argc; i++) {
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--display") && value) {
      display = value;
    } else if (!strcmp(argv[i], "--interval") && value && atof(value) > 0) {
      interval_ms = atof(value);
    } else if (!strcmp(argv[i], "--seconds") && value) {
      seconds = atof(value);
    } else {
      fprintf(stderr, "usage: clock_painter [--display :N] [--interval MS] [--seconds S]\n");
      return 2;
    }
    i++;
  }

  Display *dpy = XOpenDisplay(display);
  if (!dpy) {
    fprintf(stderr, "clock_painter: cannot open display '%s'\n",
            display ? display : (getenv("DISPLAY") ? getenv("DISPLAY") : ""));
    return 1;
  }
  xclient_watch();

  const int screen = DefaultScreen(dpy);
  const Window root = RootWindow(dpy, screen);
  const unsigned width = (unsigned)DisplayWidth(dpy, screen);
  const unsigned height = (unsigned)DisplayHeight(dpy, screen);
  const unsigned long white = WhitePixel(dpy, screen), black = BlackPixel(dpy, screen);
  GC gc = XCreateGC(dpy, root, 0, NULL);
  XSetForeground(dpy, gc, 0x606060);
  XFillRectangle(dpy, root, gc, 0, 0, width, height);
  Pixmap code = XCreatePixmap(dpy, root, CLOCKCODE_WIDTH, CLOCKCODE_HEIGHT,
                              (unsigned)DefaultDepth(dpy, screen));

  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  const time_t start = next.tv_sec;
  unsigned long ticks = 0;
  XRectangle ones[CLOCKCODE_BITS];
  while (!stop) {
    if (seconds > 0 && next.tv_sec - start >= seconds)
      break;
    const uint64_t ms = wall_ms();
    const uint64_t bits = clockcode_encode(ms);
    int n = 0;
    for (int i = 0; i < CLOCKCODE_BITS; i++) {
      if (bits >> (CLOCKCODE_BITS - 1 - i) & 1) {
        ones[n].x = (short)((i % CLOCKCODE_COLS) * CLOCKCODE_CELL);
        ones[n].y = (short)((i / CLOCKCODE_COLS) * CLOCKCODE_CELL);
        ones[n].width = ones[n].height = CLOCKCODE_CELL;
        n++;
      }
    }
    XSetForeground(dpy, gc, black);
    XFillRectangle(dpy, code, gc, 0, 0, CLOCKCODE_WIDTH, CLOCKCODE_HEIGHT);
    XSetForeground(dpy, gc, white);
    XFillRectangles(dpy, code, gc, ones, n);
    XCopyArea(dpy, code, root, gc, 0, 0, CLOCKCODE_WIDTH, CLOCKCODE_HEIGHT, 0, 0);
    XSync(dpy, False);
    if (ticks++ == 0) {
      printf("ready\n");
      fflush(stdout);
    }
    next.tv_nsec += (long)(interval_ms * 1e6);
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
  XFreePixmap(dpy, code);
  XFreeGC(dpy, gc);
  XCloseDisplay(dpy);
  return 0;
}
