/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * dxgi_probe: the DXGI capture core on its own, for checking it on a real
 * Windows machine without GStreamer. Lists the monitors, captures frames
 * at a rate, counts what next_frame() said and how long it took, and
 * writes the last frame as a BMP.
 *
 *   dxgi_probe [--monitor N] [--region X,Y,W,H] [--frames N] [--fps N]
 *              [--no-cursor] [--no-damage] [--bmp FILE]
 *
 * Exit status: 0 captured, 1 capture failed, 2 bad arguments.
 */
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dxgiduplicator.h"

using namespace livecast;
using namespace livecast::dxgi;

namespace {

bool write_bmp(const std::string &path, const std::vector<std::uint8_t> &bgrx, int width,
               int height)
{
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  const std::uint32_t image_size = static_cast<std::uint32_t>(width) * height * 4;
  BITMAPFILEHEADER file = {};
  BITMAPINFOHEADER info = {};
  file.bfType = 0x4d42; /* "BM" */
  file.bfOffBits = sizeof file + sizeof info;
  file.bfSize = file.bfOffBits + image_size;
  info.biSize = sizeof info;
  info.biWidth = width;
  info.biHeight = -height; /* top-down rows, as captured */
  info.biPlanes = 1;
  info.biBitCount = 32;
  info.biCompression = BI_RGB;
  info.biSizeImage = image_size;
  const bool ok = std::fwrite(&file, sizeof file, 1, f) == 1 &&
                  std::fwrite(&info, sizeof info, 1, f) == 1 &&
                  std::fwrite(bgrx.data(), 1, image_size, f) == image_size;
  return std::fclose(f) == 0 && ok;
}

int usage()
{
  std::fprintf(stderr,
               "usage: dxgi_probe [--monitor N] [--region X,Y,W,H] [--frames N] [--fps N]\n"
               "                  [--no-cursor] [--no-damage] [--bmp FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char **argv)
{
  DuplicatorOptions options;
  int frames = 60, fps = 30;
  std::string bmp;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--monitor" && has_value) {
      options.monitor = std::atoi(argv[++i]);
    } else if (arg == "--region" && has_value) {
      if (std::sscanf(argv[++i], "%d,%d,%d,%d", &options.x, &options.y, &options.width,
                      &options.height) != 4)
        return usage();
    } else if (arg == "--frames" && has_value) {
      frames = std::atoi(argv[++i]);
    } else if (arg == "--fps" && has_value) {
      fps = std::atoi(argv[++i]);
    } else if (arg == "--no-cursor") {
      options.show_cursor = false;
    } else if (arg == "--no-damage") {
      options.use_damage = false;
    } else if (arg == "--bmp" && has_value) {
      bmp = argv[++i];
    } else {
      return usage();
    }
  }
  if (frames <= 0 || fps <= 0)
    return usage();

  std::string error;
  std::vector<MonitorInfo> monitors;
  if (!DesktopDuplicator::list_monitors(monitors, error)) {
    std::fprintf(stderr, "dxgi_probe: %s\n", error.c_str());
    return 1;
  }
  std::printf("monitors: %s\n", monitors.empty() ? "none" : describe_monitors(monitors).c_str());

  DesktopDuplicator capture([](LogLevel level, const std::string &message) {
    static const char *names[] = {"error", "warning", "info", "debug"};
    std::printf("  [%s] %s\n", names[static_cast<int>(level)], message.c_str());
  });
  if (!capture.open(options, error)) {
    std::fprintf(stderr, "dxgi_probe: %s\n", error.c_str());
    return 1;
  }
  std::printf("%s%s\n", capture.description().c_str(),
              capture.region_clamped() ? " (region clamped)" : "");

  std::vector<std::uint8_t> frame;
  int counts[5] = {};
  double busy_ms = 0;
  const auto period = std::chrono::microseconds(1000000 / fps);
  auto next = std::chrono::steady_clock::now();
  for (int n = 0; n < frames; n++) {
    std::this_thread::sleep_until(next);
    next += period;
    const auto start = std::chrono::steady_clock::now();
    FrameStatus status = capture.next_frame(n == 0 ? 500 : 0, error);
    if (status == FrameStatus::Resized) {
      std::printf("resized to %dx%d\n", capture.width(), capture.height());
      status = FrameStatus::NewFrame;
    }
    if (status == FrameStatus::Error) {
      std::fprintf(stderr, "dxgi_probe: %s\n", error.c_str());
      return 1;
    }
    counts[static_cast<int>(status)]++;
    if (status == FrameStatus::NewFrame || frame.empty()) {
      frame.resize(static_cast<std::size_t>(capture.width()) * capture.height() * 4);
      capture.compose(frame.data(), capture.width() * 4);
    }
    busy_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  std::printf("%d frames: %d new, %d unchanged; %.2f ms per frame on average\n", frames,
              counts[static_cast<int>(FrameStatus::NewFrame)],
              counts[static_cast<int>(FrameStatus::Unchanged)], busy_ms / frames);
  if (!bmp.empty()) {
    if (!write_bmp(bmp, frame, capture.width(), capture.height())) {
      std::fprintf(stderr, "dxgi_probe: could not write %s\n", bmp.c_str());
      return 1;
    }
    std::printf("last frame written to %s\n", bmp.c_str());
  }
  return 0;
}
