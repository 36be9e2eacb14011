/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * xpaint: a tiny X11 client the screencapsrc tests drive to put known
 * pixels on the screen. It maps one black override-redirect window over the
 * whole screen (no window manager needed, nothing on top of it), prints
 * "ready", then reads commands from stdin, one per line:
 *
 *   rect X Y W H RRGGBB   fill a rectangle
 *   clear                 back to black
 *   cursor argb|default   set a translucent ARGB cursor (see set_argb_cursor)
 *                         on the window, or go back to the server's default
 *   quit
 *
 * and answers each with "ok" (or "error: ...") once the X server has
 * executed it (XSync), so a capture started after the answer sees it.
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#ifdef HAVE_XRENDER
#include <X11/extensions/Xrender.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Display *dpy;
static Window win;
static Pixmap canvas;
static GC gc;
static int screen_w, screen_h;

static void reply(const char *msg)
{
  fputs(msg, stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

/* Pixel value of 0xRRGGBB in the default visual (TrueColor in Xvfb). */
static unsigned long pixel_of(unsigned long rgb)
{
  XColor c;
  c.red = ((rgb >> 16) & 0xff) * 0x101;
  c.green = ((rgb >> 8) & 0xff) * 0x101;
  c.blue = (rgb & 0xff) * 0x101;
  c.flags = DoRed | DoGreen | DoBlue;
  if (!XAllocColor(dpy, DefaultColormap(dpy, DefaultScreen(dpy)), &c))
    return BlackPixel(dpy, DefaultScreen(dpy));
  return c.pixel;
}

static void fill(int x, int y, int w, int h, unsigned long rgb)
{
  XSetForeground(dpy, gc, pixel_of(rgb));
  XFillRectangle(dpy, canvas, gc, x, y, (unsigned)w, (unsigned)h);
  /* The canvas is the window's background: clearing repaints from it. */
  XClearArea(dpy, win, x, y, (unsigned)w, (unsigned)h, False);
}

#ifdef HAVE_XRENDER
/* A 32x32 cursor with hotspot (5,9), in premultiplied ARGB as the server
 * stores it, made so alpha blending and hotspot can be checked exactly:
 *   rows 0-15:  columns 0-15 opaque red, columns 16-31 blue at alpha 0x80;
 *   rows 16-31: columns 0-15 white at alpha 0x40, columns 16-31 transparent.
 * The test (test_screencapsrc.cpp, cursor_argb_pixel) mirrors this. */
static int set_argb_cursor(void)
{
  enum { SIZE = 32, XHOT = 5, YHOT = 9 };
  static unsigned int argb[SIZE * SIZE];
  for (int y = 0; y < SIZE; y++)
    for (int x = 0; x < SIZE; x++)
      argb[y * SIZE + x] =
          y < 16 ? (x < 16 ? 0xffff0000u : 0x80000080u) : (x < 16 ? 0x40404040u : 0u);
  XRenderPictFormat *fmt = XRenderFindStandardFormat(dpy, PictStandardARGB32);
  if (!fmt)
    return 0;
  Pixmap pm = XCreatePixmap(dpy, win, SIZE, SIZE, 32);
  GC pgc = XCreateGC(dpy, pm, 0, NULL);
  XImage *img = XCreateImage(dpy, DefaultVisual(dpy, DefaultScreen(dpy)), 32, ZPixmap, 0,
                             (char *)argb, SIZE, SIZE, 32, SIZE * 4);
  XPutImage(dpy, pm, pgc, img, 0, 0, 0, 0, SIZE, SIZE);
  img->data = NULL; /* static storage: not XDestroyImage's to free */
  XDestroyImage(img);
  Picture pict = XRenderCreatePicture(dpy, pm, fmt, 0, NULL);
  Cursor cursor = XRenderCreateCursor(dpy, pict, XHOT, YHOT);
  XDefineCursor(dpy, win, cursor);
  XFreeCursor(dpy, cursor);
  XRenderFreePicture(dpy, pict);
  XFreeGC(dpy, pgc);
  XFreePixmap(dpy, pm);
  return 1;
}
#endif

int main(void)
{
  dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "xpaint: cannot open display \"%s\"\n", XDisplayName(NULL));
    return 1;
  }
  const int scr = DefaultScreen(dpy);
  const Window root = RootWindow(dpy, scr);
  screen_w = DisplayWidth(dpy, scr);
  screen_h = DisplayHeight(dpy, scr);

  /* Drawing goes to a pixmap used as the window background, so the server
   * itself restores any exposed area (e.g. around a resolution change). */
  canvas = XCreatePixmap(dpy, root, (unsigned)screen_w, (unsigned)screen_h,
                         (unsigned)DefaultDepth(dpy, scr));
  gc = XCreateGC(dpy, canvas, 0, NULL);
  XSetForeground(dpy, gc, BlackPixel(dpy, scr));
  XFillRectangle(dpy, canvas, gc, 0, 0, (unsigned)screen_w, (unsigned)screen_h);

  XSetWindowAttributes attrs;
  attrs.override_redirect = True;
  attrs.background_pixmap = canvas;
  win = XCreateWindow(dpy, root, 0, 0, (unsigned)screen_w, (unsigned)screen_h, 0, CopyFromParent,
                      InputOutput, CopyFromParent, CWOverrideRedirect | CWBackPixmap, &attrs);
  XMapRaised(dpy, win);
  XSync(dpy, False);
  reply("ready");

  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    int x, y, w, h;
    char colour[16];
    if (sscanf(line, "rect %d %d %d %d %15s", &x, &y, &w, &h, colour) == 5) {
      char *end;
      const unsigned long rgb = strtoul(colour, &end, 16);
      if (*end || strlen(colour) != 6 || w <= 0 || h <= 0) {
        reply("error: bad rect");
        continue;
      }
      fill(x, y, w, h, rgb);
    } else if (strncmp(line, "clear", 5) == 0) {
      fill(0, 0, screen_w, screen_h, 0);
    } else if (strncmp(line, "cursor default", 14) == 0) {
      XUndefineCursor(dpy, win);
    } else if (strncmp(line, "cursor argb", 11) == 0) {
#ifdef HAVE_XRENDER
      if (!set_argb_cursor()) {
        reply("error: no ARGB32 picture format");
        continue;
      }
#else
      reply("error: built without XRender");
      continue;
#endif
    } else if (strncmp(line, "quit", 4) == 0) {
      reply("ok");
      break;
    } else {
      reply("error: unknown command");
      continue;
    }
    XSync(dpy, False);
    reply("ok");
  }
  XCloseDisplay(dpy);
  return 0;
}
