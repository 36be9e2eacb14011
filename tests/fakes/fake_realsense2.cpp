/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A fake librealsense2: a shared library with the real SONAME pattern
 * (librealsense2.so.2.50) implementing the C API subset of
 * gst/realsense/stub/rs2.h, so realsensesrc is tested through its real
 * loading path without a camera.
 *
 * Cameras (D435-like stream modes, sensor 0 "Stereo Module" with depth and
 * infrared 1 and 2, sensor 1 "RGB Camera" with colour) produce
 * deterministic frames, paced in real time at their frame rate:
 *   colour   pixel (x,y) = R (x + 16*camera) & 255, G y & 255, B frame-number & 255
 *            (RGB8, BGR8, RGBA8/BGRA8 with alpha 255; YUYV: Y of that, U = V = 128)
 *   depth    (x,y) = 0 (no data) in column 0, else 1000*(camera+1) + 4x + y steps
 *   infrared (x,y) = (x + y + frame-number) & 255 (Y8; Y16: that << 8)
 * where camera is the camera's position in the list (0, 1, ...). Each stream
 * numbers its frames from 1; a frameset comes at every frame of the fastest
 * stream and repeats the newest frame of slower ones (as the real syncer
 * does). Frame timestamps are milliseconds in the chosen domain.
 *
 * The align block (rs2_create_align, colour only) resamples depth to the
 * colour frame's size, nearest neighbour: aligned(x,y) = depth(x*dw/cw, y*dh/ch).
 *
 * A recording (rs2_config_enable_device_from_file_repeat_option) is a text
 * file:
 *   LIVECAST-FAKE-BAG
 *   serial=FAKEBAG1
 *   frames=20
 *   depth=640x480@30
 *   color=640x480@30 RGB8
 * It plays like a camera of just those streams for that many framesets,
 * then stops (or starts again with repeat, numbering frames from 1 again).
 * Anything else is refused the way librealsense refuses a file that is not
 * a .bag.
 *
 * Environment, read when a context is created:
 *   LIVECAST_FAKE_RS_DEVICES   comma-separated serials (default
 *                              "831612070001,831612070002"; empty: none)
 *   LIVECAST_FAKE_RS_API_VERSION  the version this library reports (default 25000)
 *   LIVECAST_FAKE_RS_DEPTH_UNIT   metres per depth step (default 0.001)
 *   LIVECAST_FAKE_RS_DOMAIN    hardware | system | global (default global)
 *   LIVECAST_FAKE_RS_STRIDE_PAD  bytes of padding after every row (default 0)
 * and when a pipeline starts:
 *   LIVECAST_FAKE_RS_FAULT     timeout (no frame ever comes), unplug-after=N
 *                              (the camera vanishes after N framesets),
 *                              error-after=N (try_wait fails after N
 *                              framesets), start-error (start fails)
 *
 * Test hooks (C functions, looked up with dlsym):
 *   int livecast_fake_rs2_live_frames(void)     frames not yet released
 *   int livecast_fake_rs2_misuse(void)          releases or uses of released frames
 *   int livecast_fake_rs2_pipelines_started(void)
 *   int livecast_fake_rs2_streaming(void)       pipelines streaming now
 *   int livecast_fake_rs2_live_objects(char *what, int size)
 *                                  library objects not yet deleted (contexts, device lists,
 *                                  devices, configs, pipelines, errors...; frames aside),
 *                                  named in @what ("2 device, 1 context")
 *   void livecast_fake_rs2_unplug(const char *serial)
 */
#include "rs2.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#define FAKE_API extern "C" __attribute__((visibility("default")))

FAKE_API void livecast_fake_rs2_unplug(const char *serial);

/* Every library object an application owns (everything it must delete, frames aside: those
 * count themselves) is counted while it lives, by a last member of its struct: aggregate
 * initialisations stay as they are. Test hook livecast_fake_rs2_live_objects. */
namespace
{
enum ObjectKind {
  kError,
  kContext,
  kDeviceList,
  kDevice,
  kSensorList,
  kSensor,
  kProfileList,
  kConfig,
  kPipeline,
  kPipelineProfile,
  kFrameQueue,
  kProcessingBlock,
  kObjectKinds
};
const char *const kObjectNames[kObjectKinds] = {
    "error",       "context",          "device list",         "device",
    "sensor list", "sensor",           "stream profile list", "config",
    "pipeline",    "pipeline profile", "frame queue",         "processing block"};
std::atomic<int> live_objects[kObjectKinds];

template <ObjectKind K>
struct Counted {
  Counted() { live_objects[K]++; }
  Counted(const Counted &) { live_objects[K]++; }
  Counted &operator=(const Counted &) = default;
  ~Counted() { live_objects[K]--; }
};
}  // namespace

struct rs2_error {
  std::string message, function;
  Counted<kError> counted;
};

struct rs2_stream_profile {
  rs2_stream stream;
  rs2_format format;
  int index, uid, fps, width, height;
};

namespace
{

constexpr int kDefaultVersion = 25000;

int64_t mono_us()
{
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t real_us()
{
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string env(const char *name, const char *fallback)
{
  const char *v = getenv(name);
  return v ? v : fallback;
}

void set_error(rs2_error **error, const std::string &function, const std::string &message)
{
  if (error)
    *error = new rs2_error{message, function};
}

#define FAIL(msg)                      \
  do {                                 \
    set_error(error, __func__, (msg)); \
  } while (0)

void clear(rs2_error **error)
{
  if (error)
    *error = nullptr;
}

int bits_per_pixel(rs2_format f)
{
  switch (f) {
    case RS2_FORMAT_RGB8:
    case RS2_FORMAT_BGR8:
      return 24;
    case RS2_FORMAT_RGBA8:
    case RS2_FORMAT_BGRA8:
      return 32;
    case RS2_FORMAT_Y8:
      return 8;
    default:
      return 16; /* Z16, YUYV, Y16 */
  }
}

/* A camera, live or recorded. Profiles live in a deque: stable addresses. */
struct Camera {
  std::string serial, name;
  int ordinal = 0;
  float depth_unit = 0.001f;
  rs2_timestamp_domain domain = RS2_TIMESTAMP_DOMAIN_GLOBAL_TIME;
  int stride_pad = 0;
  bool playback = false;
  std::string file;
  int recorded_framesets = 0;
  std::deque<rs2_stream_profile> profiles;
  int next_uid = 1;

  void add(rs2_stream s, rs2_format f, int index, int w, int h, std::initializer_list<int> rates)
  {
    for (int fps : rates)
      profiles.push_back({s, f, index, next_uid++, fps, w, h});
  }
  bool sensor_has(int sensor, const rs2_stream_profile &p) const
  {
    return sensor == 0 ? p.stream != RS2_STREAM_COLOR : p.stream == RS2_STREAM_COLOR;
  }
};

std::shared_ptr<Camera> make_camera(const std::string &serial, int ordinal, float unit,
                                    rs2_timestamp_domain domain, int pad)
{
  auto c = std::make_shared<Camera>();
  c->serial = serial;
  c->name = "Intel RealSense D435 (fake)";
  c->ordinal = ordinal;
  c->depth_unit = unit;
  c->domain = domain;
  c->stride_pad = pad;
  struct Size {
    int w, h;
    std::initializer_list<int> rates;
  };
  const Size depth_sizes[] = {{1280, 720, {6, 15, 30}},
                              {848, 480, {6, 15, 30, 60, 90}},
                              {640, 480, {6, 15, 30, 60, 90}},
                              {424, 240, {6, 15, 30, 60, 90}}};
  for (const Size &s : depth_sizes) {
    c->add(RS2_STREAM_DEPTH, RS2_FORMAT_Z16, 0, s.w, s.h, s.rates);
    c->add(RS2_STREAM_INFRARED, RS2_FORMAT_Y8, 1, s.w, s.h, s.rates);
    c->add(RS2_STREAM_INFRARED, RS2_FORMAT_Y8, 2, s.w, s.h, s.rates);
  }
  c->add(RS2_STREAM_INFRARED, RS2_FORMAT_Y16, 1, 1280, 720, {15});
  c->add(RS2_STREAM_INFRARED, RS2_FORMAT_Y16, 2, 1280, 720, {15});
  const Size color_sizes[] = {{1920, 1080, {6, 15, 30}},   {1280, 720, {6, 15, 30}},
                              {848, 480, {6, 15, 30, 60}}, {640, 480, {6, 15, 30, 60}},
                              {424, 240, {6, 15, 30, 60}}, {320, 240, {6, 30, 60}}};
  const rs2_format color_formats[] = {RS2_FORMAT_RGB8, RS2_FORMAT_BGR8, RS2_FORMAT_RGBA8,
                                      RS2_FORMAT_BGRA8, RS2_FORMAT_YUYV};
  for (rs2_format f : color_formats)
    for (const Size &s : color_sizes)
      c->add(RS2_STREAM_COLOR, f, 0, s.w, s.h, s.rates);
  /* A calibration format, as real colour sensors list: never offered. */
  c->add(RS2_STREAM_COLOR, RS2_FORMAT_Y16, 0, 1920, 1080, {15});
  return c;
}

/* Global state, shared by every context. */
std::mutex state_lock;
std::set<std::string> unplugged;
std::map<std::string, int> streaming_serials;
std::atomic<int> live_frames{0}, misuse{0}, pipelines_started{0}, streaming{0};
int contexts_alive = 0;

bool is_unplugged(const Camera &c)
{
  std::lock_guard<std::mutex> guard(state_lock);
  return !c.playback && unplugged.count(c.serial);
}

}  // namespace

struct rs2_context {
  int version;
  std::vector<std::shared_ptr<Camera>> cameras;
  float unit;
  rs2_timestamp_domain domain;
  int pad;
  Counted<kContext> counted;
};

struct rs2_device_list {
  std::vector<std::shared_ptr<Camera>> cameras;
  Counted<kDeviceList> counted;
};

struct PlaybackState {
  std::atomic<rs2_playback_status> status{RS2_PLAYBACK_STATUS_STOPPED};
};

struct rs2_device {
  std::shared_ptr<Camera> camera;
  std::shared_ptr<PlaybackState> playback;
  Counted<kDevice> counted;
};

struct rs2_sensor_list {
  std::shared_ptr<Camera> camera;
  Counted<kSensorList> counted;
};

struct rs2_sensor {
  std::shared_ptr<Camera> camera;
  int which;
  Counted<kSensor> counted;
};

struct rs2_stream_profile_list {
  std::shared_ptr<Camera> camera;
  std::vector<const rs2_stream_profile *> profiles;
  Counted<kProfileList> counted;
};

struct rs2_frame {
  std::atomic<int> refs{1};
  bool dead = false;
  bool composite = false;
  std::vector<rs2_frame *> children; /* one reference each */
  std::shared_ptr<Camera> camera;
  const rs2_stream_profile *profile = nullptr;
  int width = 0, height = 0, stride = 0, bpp = 0;
  std::vector<uint8_t> data;
  unsigned long long number = 0;
  double timestamp = 0;
  rs2_timestamp_domain domain = RS2_TIMESTAMP_DOMAIN_HARDWARE_CLOCK;
  float units = 0;
};

namespace
{

rs2_frame *new_frame()
{
  live_frames++;
  return new rs2_frame();
}

/* Released frames are kept (without their pixels) so that a second release
 * or a late use is seen, not undefined behaviour. They stay reachable from
 * here (never freed on purpose), so LeakSanitizer reports only frames that
 * were never released. */
std::mutex released_lock;
std::vector<rs2_frame *> &released = *new std::vector<rs2_frame *>();

void release(rs2_frame *f)
{
  if (!f)
    return;
  if (f->dead || f->refs.load() <= 0) {
    misuse++;
    fprintf(stderr, "fake librealsense2: frame %p released once too often\n", (void *)f);
    return;
  }
  if (--f->refs == 0) {
    for (rs2_frame *c : f->children)
      release(c);
    f->children.clear();
    f->data.clear();
    f->data.shrink_to_fit();
    f->camera.reset();
    f->dead = true;
    live_frames--;
    std::lock_guard<std::mutex> guard(released_lock);
    released.push_back(f);
  }
}

bool check_alive(const rs2_frame *f, rs2_error **error, const char *fn)
{
  if (!f) {
    set_error(error, fn, "null pointer passed for argument \"frame\"");
    return false;
  }
  if (f->dead) {
    misuse++;
    fprintf(stderr, "fake librealsense2: %s on a released frame %p\n", fn, (const void *)f);
    set_error(error, fn, "frame used after it was released");
    return false;
  }
  return true;
}

void fill_frame(rs2_frame *f, const Camera &cam, const rs2_stream_profile *p, unsigned long long n)
{
  f->profile = p;
  f->width = p->width;
  f->height = p->height;
  f->bpp = bits_per_pixel(p->format);
  const int row = p->width * f->bpp / 8;
  f->stride = row + cam.stride_pad;
  f->data.assign(size_t(f->stride) * p->height, 0xee);
  f->number = n;
  for (int y = 0; y < p->height; y++) {
    uint8_t *r = f->data.data() + size_t(y) * f->stride;
    for (int x = 0; x < p->width; x++) {
      const uint8_t R = uint8_t(x + 16 * cam.ordinal), G = uint8_t(y), B = uint8_t(n);
      switch (p->format) {
        case RS2_FORMAT_RGB8:
          r[3 * x] = R, r[3 * x + 1] = G, r[3 * x + 2] = B;
          break;
        case RS2_FORMAT_BGR8:
          r[3 * x] = B, r[3 * x + 1] = G, r[3 * x + 2] = R;
          break;
        case RS2_FORMAT_RGBA8:
          r[4 * x] = R, r[4 * x + 1] = G, r[4 * x + 2] = B, r[4 * x + 3] = 255;
          break;
        case RS2_FORMAT_BGRA8:
          r[4 * x] = B, r[4 * x + 1] = G, r[4 * x + 2] = R, r[4 * x + 3] = 255;
          break;
        case RS2_FORMAT_YUYV:
          r[2 * x] = uint8_t((77 * R + 150 * G + 29 * B) >> 8);
          r[2 * x + 1] = 128;
          break;
        case RS2_FORMAT_Z16: {
          const uint16_t v = x == 0 ? 0 : uint16_t(1000 * (cam.ordinal + 1) + 4 * x + y);
          r[2 * x] = uint8_t(v & 0xff), r[2 * x + 1] = uint8_t(v >> 8);
          break;
        }
        case RS2_FORMAT_Y8:
          r[x] = uint8_t(x + y + n);
          break;
        case RS2_FORMAT_Y16:
          r[2 * x] = 0, r[2 * x + 1] = uint8_t(x + y + n);
          break;
        default:
          break;
      }
    }
  }
  if (p->stream == RS2_STREAM_DEPTH)
    f->units = cam.depth_unit;
}

/* "640x480@30" */
bool parse_mode(const std::string &text, int &w, int &h, int &fps)
{
  return sscanf(text.c_str(), "%dx%d@%d", &w, &h, &fps) == 3 && w > 0 && h > 0 && fps > 0;
}

rs2_format parse_format(const std::string &name)
{
  static const std::map<std::string, rs2_format> names = {
      {"RGB8", RS2_FORMAT_RGB8},   {"BGR8", RS2_FORMAT_BGR8}, {"RGBA8", RS2_FORMAT_RGBA8},
      {"BGRA8", RS2_FORMAT_BGRA8}, {"YUYV", RS2_FORMAT_YUYV}, {"Z16", RS2_FORMAT_Z16},
      {"Y8", RS2_FORMAT_Y8},       {"Y16", RS2_FORMAT_Y16}};
  auto it = names.find(name);
  return it == names.end() ? RS2_FORMAT_ANY : it->second;
}

std::shared_ptr<Camera> read_recording(const std::string &file, const rs2_context *ctx,
                                       std::string &why)
{
  std::ifstream in(file);
  if (!in) {
    why = "Failed to create ros reader: Error opening file: " + file;
    return nullptr;
  }
  std::string line;
  if (!std::getline(in, line) || line != "LIVECAST-FAKE-BAG") {
    why = "Failed to create ros reader: Bag unindexed: " + file;
    return nullptr;
  }
  auto c = std::make_shared<Camera>();
  c->playback = true;
  c->file = file;
  c->name = "Intel RealSense D435 (fake recording)";
  c->depth_unit = ctx->unit;
  c->domain = ctx->domain;
  c->stride_pad = ctx->pad;
  c->recorded_framesets = 10;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    int w, h, fps;
    if (key == "serial") {
      c->serial = value;
    } else if (key == "frames") {
      c->recorded_framesets = atoi(value.c_str());
    } else if (key == "depth-unit") {
      c->depth_unit = float(atof(value.c_str()));
    } else if ((key == "depth" || key == "color" || key == "infrared") &&
               parse_mode(value, w, h, fps)) {
      const size_t sp = value.find(' ');
      rs2_format f = key == "depth"   ? RS2_FORMAT_Z16
                     : key == "color" ? RS2_FORMAT_RGB8
                                      : RS2_FORMAT_Y8;
      if (sp != std::string::npos)
        f = parse_format(value.substr(sp + 1));
      const rs2_stream s = key == "depth"   ? RS2_STREAM_DEPTH
                           : key == "color" ? RS2_STREAM_COLOR
                                            : RS2_STREAM_INFRARED;
      c->add(s, f, s == RS2_STREAM_INFRARED ? 1 : 0, w, h, {fps});
    }
  }
  if (c->profiles.empty()) {
    why = "Failed to create ros reader: no streams in " + file;
    return nullptr;
  }
  return c;
}

struct Request {
  rs2_stream stream;
  int index, width, height;
  rs2_format format;
  int fps;
};

const rs2_stream_profile *match(const Camera &c, const Request &r)
{
  for (const rs2_stream_profile &p : c.profiles) {
    if (p.stream != r.stream || (r.index > 0 && p.index != r.index) ||
        (r.width && p.width != r.width) || (r.height && p.height != r.height) ||
        (r.format != RS2_FORMAT_ANY && p.format != r.format) || (r.fps && p.fps != r.fps))
      continue;
    /* RS2_FORMAT_ANY prefers the usual format, as librealsense does. */
    if (r.format == RS2_FORMAT_ANY && p.stream == RS2_STREAM_COLOR && p.format != RS2_FORMAT_RGB8)
      continue;
    return &p;
  }
  return nullptr;
}

}  // namespace

struct rs2_config {
  std::string serial, file;
  bool repeat = true;
  std::vector<Request> streams;
  Counted<kConfig> counted;
};

struct rs2_pipeline_profile {
  std::shared_ptr<Camera> camera;
  std::shared_ptr<PlaybackState> playback;
  std::vector<const rs2_stream_profile *> streams;
  Counted<kPipelineProfile> counted;
};

struct rs2_pipeline {
  rs2_context *ctx;
  bool started = false;
  std::shared_ptr<Camera> camera;
  std::shared_ptr<PlaybackState> playback;
  bool repeat = false;
  std::vector<const rs2_stream_profile *> active;
  int64_t t0_us = 0, t0_real_us = 0, period_us = 0;
  unsigned long long tick = 0;
  std::string fault;
  unsigned long long fault_after = 0;
  Counted<kPipeline> counted;
};

struct rs2_frame_queue {
  size_t capacity;
  std::mutex lock;
  std::condition_variable cond;
  std::deque<rs2_frame *> frames;
  Counted<kFrameQueue> counted;
};

struct rs2_processing_block {
  rs2_stream align_to;
  rs2_frame_queue *queue = nullptr;
  Counted<kProcessingBlock> counted;
};

namespace
{

/* Resolves @config against the context's cameras (or its recording). */
rs2_pipeline_profile *resolve(rs2_config *config, rs2_context *ctx, std::string &why)
{
  auto profile = std::make_unique<rs2_pipeline_profile>();
  if (!config->file.empty()) {
    profile->camera = read_recording(config->file, ctx, why);
    if (!profile->camera)
      return nullptr;
    profile->playback = std::make_shared<PlaybackState>();
  } else {
    for (const auto &c : ctx->cameras) {
      if (is_unplugged(*c) || (!config->serial.empty() && c->serial != config->serial))
        continue;
      profile->camera = c;
      break;
    }
    if (!profile->camera) {
      why = "No device connected";
      return nullptr;
    }
  }
  const Camera &cam = *profile->camera;
  std::vector<Request> wanted = config->streams;
  if (wanted.empty()) {
    /* Everything recorded, or depth and colour at their defaults. */
    if (cam.playback) {
      for (const rs2_stream_profile &p : cam.profiles)
        wanted.push_back({p.stream, p.index, p.width, p.height, p.format, p.fps});
    } else {
      wanted.push_back({RS2_STREAM_DEPTH, 0, 848, 480, RS2_FORMAT_Z16, 30});
      wanted.push_back({RS2_STREAM_COLOR, 0, 1280, 720, RS2_FORMAT_RGB8, 30});
    }
  }
  for (const Request &r : wanted) {
    const rs2_stream_profile *p = match(cam, r);
    if (!p) {
      why = "Couldn't resolve requests";
      return nullptr;
    }
    profile->streams.push_back(p);
  }
  return profile.release();
}

/* Frame number of @p's stream at frameset @tick (the fastest stream's
 * period is @period_us), from 1. */
unsigned long long frame_number(const rs2_stream_profile *p, unsigned long long tick,
                                int64_t period_us)
{
  const int64_t own = 1000000 / p->fps;
  return (unsigned long long)((int64_t(tick) * period_us) / own) + 1;
}

}  // namespace

/* ---- errors and version -------------------------------------------------------------- */

FAKE_API const char *rs2_get_error_message(const rs2_error *error)
{
  return error ? error->message.c_str() : "";
}

FAKE_API const char *rs2_get_failed_function(const rs2_error *error)
{
  return error ? error->function.c_str() : "";
}

FAKE_API void rs2_free_error(rs2_error *error)
{
  delete error;
}

static int library_version()
{
  return atoi(env("LIVECAST_FAKE_RS_API_VERSION", std::to_string(kDefaultVersion).c_str()).c_str());
}

FAKE_API int rs2_get_api_version(rs2_error **error)
{
  clear(error);
  return library_version();
}

static std::string version_string(int v)
{
  return std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." +
         std::to_string(v % 100);
}

/* ---- context and devices ------------------------------------------------------------- */

FAKE_API rs2_context *rs2_create_context(int api_version, rs2_error **error)
{
  clear(error);
  const int v = library_version();
  if (api_version / 10000 != v / 10000 || (api_version % 10000) / 100 > (v % 10000) / 100) {
    FAIL("API version mismatch: librealsense.so was compiled with API version " +
         version_string(v) + " but the application was compiled with " +
         version_string(api_version) +
         "! Make sure correct version of the library is installed (make install)");
    return nullptr;
  }
  auto *ctx = new rs2_context();
  ctx->version = v;
  ctx->unit = float(atof(env("LIVECAST_FAKE_RS_DEPTH_UNIT", "0.001").c_str()));
  const std::string domain = env("LIVECAST_FAKE_RS_DOMAIN", "global");
  ctx->domain = domain == "hardware" ? RS2_TIMESTAMP_DOMAIN_HARDWARE_CLOCK
                : domain == "system" ? RS2_TIMESTAMP_DOMAIN_SYSTEM_TIME
                                     : RS2_TIMESTAMP_DOMAIN_GLOBAL_TIME;
  ctx->pad = atoi(env("LIVECAST_FAKE_RS_STRIDE_PAD", "0").c_str());
  std::stringstream serials(env("LIVECAST_FAKE_RS_DEVICES", "831612070001,831612070002"));
  std::string s;
  int ordinal = 0;
  while (std::getline(serials, s, ','))
    if (!s.empty())
      ctx->cameras.push_back(make_camera(s, ordinal++, ctx->unit, ctx->domain, ctx->pad));
  std::lock_guard<std::mutex> guard(state_lock);
  if (contexts_alive++ == 0)
    unplugged.clear();
  return ctx;
}

FAKE_API void rs2_delete_context(rs2_context *context)
{
  if (!context)
    return;
  delete context;
  std::lock_guard<std::mutex> guard(state_lock);
  contexts_alive--;
}

FAKE_API rs2_device_list *rs2_query_devices(const rs2_context *context, rs2_error **error)
{
  clear(error);
  if (!context) {
    FAIL("null pointer passed for argument \"context\"");
    return nullptr;
  }
  auto *list = new rs2_device_list();
  for (const auto &c : context->cameras)
    if (!is_unplugged(*c))
      list->cameras.push_back(c);
  return list;
}

FAKE_API int rs2_get_device_count(const rs2_device_list *list, rs2_error **error)
{
  clear(error);
  return list ? int(list->cameras.size()) : 0;
}

FAKE_API rs2_device *rs2_create_device(const rs2_device_list *list, int index, rs2_error **error)
{
  clear(error);
  if (!list || index < 0 || index >= int(list->cameras.size())) {
    FAIL("out of range value for argument \"index\"");
    return nullptr;
  }
  return new rs2_device{list->cameras[index], nullptr};
}

FAKE_API void rs2_delete_device_list(rs2_device_list *list)
{
  delete list;
}

FAKE_API void rs2_delete_device(rs2_device *device)
{
  delete device;
}

FAKE_API int rs2_supports_device_info(const rs2_device *device, rs2_camera_info info,
                                      rs2_error **error)
{
  clear(error);
  return device && (info == RS2_CAMERA_INFO_NAME || info == RS2_CAMERA_INFO_SERIAL_NUMBER);
}

FAKE_API const char *rs2_get_device_info(const rs2_device *device, rs2_camera_info info,
                                         rs2_error **error)
{
  clear(error);
  if (!device) {
    FAIL("null pointer passed for argument \"device\"");
    return nullptr;
  }
  if (info == RS2_CAMERA_INFO_NAME)
    return device->camera->name.c_str();
  if (info == RS2_CAMERA_INFO_SERIAL_NUMBER)
    return device->camera->serial.c_str();
  FAIL("info not supported by the device");
  return nullptr;
}

/* ---- sensors and profiles ------------------------------------------------------------ */

FAKE_API rs2_sensor_list *rs2_query_sensors(const rs2_device *device, rs2_error **error)
{
  clear(error);
  if (!device) {
    FAIL("null pointer passed for argument \"device\"");
    return nullptr;
  }
  return new rs2_sensor_list{device->camera};
}

FAKE_API int rs2_get_sensors_count(const rs2_sensor_list *list, rs2_error **error)
{
  clear(error);
  return list ? 2 : 0;
}

FAKE_API rs2_sensor *rs2_create_sensor(const rs2_sensor_list *list, int index, rs2_error **error)
{
  clear(error);
  if (!list || index < 0 || index > 1) {
    FAIL("out of range value for argument \"index\"");
    return nullptr;
  }
  return new rs2_sensor{list->camera, index};
}

FAKE_API void rs2_delete_sensor_list(rs2_sensor_list *list)
{
  delete list;
}

FAKE_API void rs2_delete_sensor(rs2_sensor *sensor)
{
  delete sensor;
}

FAKE_API float rs2_get_depth_scale(rs2_sensor *sensor, rs2_error **error)
{
  clear(error);
  if (!sensor || sensor->which != 0) {
    FAIL("Object does not support \"librealsense::depth_sensor\" interface! ");
    return 0;
  }
  return sensor->camera->depth_unit;
}

FAKE_API rs2_stream_profile_list *rs2_get_stream_profiles(rs2_sensor *sensor, rs2_error **error)
{
  clear(error);
  if (!sensor) {
    FAIL("null pointer passed for argument \"sensor\"");
    return nullptr;
  }
  auto *list = new rs2_stream_profile_list{sensor->camera, {}};
  for (const rs2_stream_profile &p : sensor->camera->profiles)
    if (sensor->camera->sensor_has(sensor->which, p))
      list->profiles.push_back(&p);
  return list;
}

FAKE_API int rs2_get_stream_profiles_count(const rs2_stream_profile_list *list, rs2_error **error)
{
  clear(error);
  return list ? int(list->profiles.size()) : 0;
}

FAKE_API const rs2_stream_profile *rs2_get_stream_profile(const rs2_stream_profile_list *list,
                                                          int index, rs2_error **error)
{
  clear(error);
  if (!list || index < 0 || index >= int(list->profiles.size())) {
    FAIL("out of range value for argument \"index\"");
    return nullptr;
  }
  return list->profiles[index];
}

FAKE_API void rs2_delete_stream_profiles_list(rs2_stream_profile_list *list)
{
  delete list;
}

FAKE_API void rs2_get_stream_profile_data(const rs2_stream_profile *profile, rs2_stream *stream,
                                          rs2_format *format, int *index, int *unique_id,
                                          int *framerate, rs2_error **error)
{
  clear(error);
  if (!profile) {
    FAIL("null pointer passed for argument \"mode\"");
    return;
  }
  *stream = profile->stream;
  *format = profile->format;
  *index = profile->index;
  *unique_id = profile->uid;
  *framerate = profile->fps;
}

FAKE_API void rs2_get_video_stream_resolution(const rs2_stream_profile *profile, int *width,
                                              int *height, rs2_error **error)
{
  clear(error);
  if (!profile) {
    FAIL("null pointer passed for argument \"mode\"");
    return;
  }
  *width = profile->width;
  *height = profile->height;
}

/* ---- config and pipeline ------------------------------------------------------------- */

FAKE_API rs2_config *rs2_create_config(rs2_error **error)
{
  clear(error);
  return new rs2_config();
}

FAKE_API void rs2_delete_config(rs2_config *config)
{
  delete config;
}

FAKE_API void rs2_config_enable_stream(rs2_config *config, rs2_stream stream, int index, int width,
                                       int height, rs2_format format, int framerate,
                                       rs2_error **error)
{
  clear(error);
  if (!config) {
    FAIL("null pointer passed for argument \"config\"");
    return;
  }
  /* The last request for a stream wins, as documented. */
  auto &s = config->streams;
  s.erase(std::remove_if(s.begin(), s.end(),
                         [&](const Request &r) { return r.stream == stream && r.index == index; }),
          s.end());
  s.push_back({stream, index, width, height, format, framerate});
}

FAKE_API void rs2_config_enable_device(rs2_config *config, const char *serial, rs2_error **error)
{
  clear(error);
  if (!config || !serial) {
    FAIL("null pointer passed for argument \"serial\"");
    return;
  }
  config->serial = serial;
}

FAKE_API void rs2_config_enable_device_from_file_repeat_option(rs2_config *config, const char *file,
                                                               int repeat_playback,
                                                               rs2_error **error)
{
  clear(error);
  if (!config || !file) {
    FAIL("null pointer passed for argument \"file\"");
    return;
  }
  config->file = file;
  config->repeat = repeat_playback != 0;
}

FAKE_API rs2_pipeline_profile *rs2_config_resolve(rs2_config *config, rs2_pipeline *pipe,
                                                  rs2_error **error)
{
  clear(error);
  if (!config || !pipe) {
    FAIL("null pointer passed for argument \"pipe\"");
    return nullptr;
  }
  std::string why;
  rs2_pipeline_profile *p = resolve(config, pipe->ctx, why);
  if (!p)
    FAIL(why);
  return p;
}

FAKE_API rs2_pipeline *rs2_create_pipeline(rs2_context *context, rs2_error **error)
{
  clear(error);
  if (!context) {
    FAIL("null pointer passed for argument \"ctx\"");
    return nullptr;
  }
  auto *p = new rs2_pipeline();
  p->ctx = context;
  return p;
}

static void stop_pipeline(rs2_pipeline *pipe)
{
  if (!pipe->started)
    return;
  pipe->started = false;
  if (pipe->playback)
    pipe->playback->status = RS2_PLAYBACK_STATUS_STOPPED;
  streaming--;
  std::lock_guard<std::mutex> guard(state_lock);
  if (!pipe->camera->playback && --streaming_serials[pipe->camera->serial] == 0)
    streaming_serials.erase(pipe->camera->serial);
}

FAKE_API void rs2_delete_pipeline(rs2_pipeline *pipe)
{
  if (!pipe)
    return;
  stop_pipeline(pipe);
  delete pipe;
}

FAKE_API rs2_pipeline_profile *rs2_pipeline_start_with_config(rs2_pipeline *pipe,
                                                              rs2_config *config, rs2_error **error)
{
  clear(error);
  if (!pipe || !config) {
    FAIL("null pointer passed for argument \"pipe\"");
    return nullptr;
  }
  if (pipe->started) {
    FAIL("start() cannot be called before stop()");
    return nullptr;
  }
  std::string why;
  std::unique_ptr<rs2_pipeline_profile> profile(resolve(config, pipe->ctx, why));
  if (!profile) {
    FAIL(why);
    return nullptr;
  }
  const std::string fault = env("LIVECAST_FAKE_RS_FAULT", "");
  if (fault == "start-error") {
    FAIL("failed to set power state");
    return nullptr;
  }
  {
    std::lock_guard<std::mutex> guard(state_lock);
    if (!profile->camera->playback) {
      /* One process cannot open a camera twice: the sharing must happen
       * above librealsense. */
      if (streaming_serials[profile->camera->serial]++ > 0) {
        streaming_serials[profile->camera->serial]--;
        FAIL("xioctl(VIDIOC_S_FMT) failed, errno=16 Last Error: Device or resource busy");
        return nullptr;
      }
    }
  }
  pipe->camera = profile->camera;
  pipe->playback = profile->playback;
  pipe->repeat = config->repeat;
  pipe->active = profile->streams;
  int fastest = 1;
  for (const rs2_stream_profile *p : pipe->active)
    fastest = std::max(fastest, p->fps);
  pipe->period_us = 1000000 / fastest;
  pipe->t0_us = mono_us();
  pipe->t0_real_us = real_us();
  pipe->tick = 0;
  pipe->fault.clear();
  pipe->fault_after = 0;
  const size_t eq = fault.find('=');
  if (!fault.empty()) {
    pipe->fault = fault.substr(0, eq);
    if (eq != std::string::npos)
      pipe->fault_after = strtoull(fault.c_str() + eq + 1, nullptr, 10);
  }
  if (pipe->playback)
    pipe->playback->status = RS2_PLAYBACK_STATUS_PLAYING;
  pipe->started = true;
  pipelines_started++;
  streaming++;
  return profile.release();
}

FAKE_API void rs2_pipeline_stop(rs2_pipeline *pipe, rs2_error **error)
{
  clear(error);
  if (!pipe || !pipe->started) {
    FAIL("stop() cannot be called before start()");
    return;
  }
  stop_pipeline(pipe);
}

FAKE_API int rs2_pipeline_try_wait_for_frames(rs2_pipeline *pipe, rs2_frame **output_frame,
                                              unsigned int timeout_ms, rs2_error **error)
{
  clear(error);
  if (!pipe || !output_frame) {
    FAIL("null pointer passed for argument \"pipe\"");
    return 0;
  }
  *output_frame = nullptr;
  if (!pipe->started) {
    FAIL("wait_for_frames cannot be called before start()");
    return 0;
  }
  auto idle = [&]() {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return 0;
  };
  if (pipe->fault == "error-after" && pipe->tick >= pipe->fault_after) {
    FAIL("fake: USB transfer failed (the camera stopped answering)");
    return 0;
  }
  if (pipe->fault == "timeout" || is_unplugged(*pipe->camera))
    return idle();
  const Camera &cam = *pipe->camera;
  if (cam.playback && pipe->tick >= (unsigned long long)cam.recorded_framesets) {
    if (!pipe->repeat) {
      pipe->playback->status = RS2_PLAYBACK_STATUS_STOPPED;
      return idle();
    }
    pipe->tick = 0; /* from the start again */
    pipe->t0_us = mono_us();
    pipe->t0_real_us = real_us();
  }
  const int64_t due = pipe->t0_us + int64_t(pipe->tick) * pipe->period_us;
  const int64_t now = mono_us();
  if (due > now + int64_t(timeout_ms) * 1000)
    return idle();
  if (due > now)
    std::this_thread::sleep_for(std::chrono::microseconds(due - now));

  rs2_frame *set = new_frame();
  set->composite = true;
  set->camera = pipe->camera;
  for (const rs2_stream_profile *p : pipe->active) {
    const unsigned long long n = frame_number(p, pipe->tick, pipe->period_us);
    rs2_frame *f = new_frame();
    fill_frame(f, cam, p, n);
    f->camera = pipe->camera;
    const int64_t captured = pipe->t0_us + int64_t(n - 1) * (1000000 / p->fps);
    f->domain = cam.domain;
    if (cam.domain == RS2_TIMESTAMP_DOMAIN_HARDWARE_CLOCK)
      f->timestamp = double(captured - pipe->t0_us) / 1000.0 + 12345.0;
    else
      f->timestamp = double(pipe->t0_real_us + (captured - pipe->t0_us)) / 1000.0;
    set->children.push_back(f);
  }
  pipe->tick++;
  if (pipe->fault == "unplug-after" && pipe->tick >= pipe->fault_after)
    livecast_fake_rs2_unplug(cam.serial.c_str());
  *output_frame = set;
  return 1;
}

FAKE_API rs2_device *rs2_pipeline_profile_get_device(rs2_pipeline_profile *profile,
                                                     rs2_error **error)
{
  clear(error);
  if (!profile) {
    FAIL("null pointer passed for argument \"profile\"");
    return nullptr;
  }
  return new rs2_device{profile->camera, profile->playback};
}

FAKE_API void rs2_delete_pipeline_profile(rs2_pipeline_profile *profile)
{
  delete profile;
}

FAKE_API rs2_playback_status rs2_playback_device_get_current_status(const rs2_device *device,
                                                                    rs2_error **error)
{
  clear(error);
  if (!device || !device->playback) {
    FAIL("Object does not support \"librealsense::playback_device\" interface! ");
    return RS2_PLAYBACK_STATUS_UNKNOWN;
  }
  return device->playback->status;
}

/* ---- frames -------------------------------------------------------------------------- */

FAKE_API void rs2_release_frame(rs2_frame *frame)
{
  release(frame);
}

FAKE_API void rs2_frame_add_ref(rs2_frame *frame, rs2_error **error)
{
  clear(error);
  if (!check_alive(frame, error, __func__))
    return;
  frame->refs++;
}

FAKE_API int rs2_embedded_frames_count(rs2_frame *composite, rs2_error **error)
{
  clear(error);
  if (!check_alive(composite, error, __func__))
    return 0;
  if (!composite->composite) {
    FAIL("Object does not support \"librealsense::composite_frame\" interface! ");
    return 0;
  }
  return int(composite->children.size());
}

FAKE_API rs2_frame *rs2_extract_frame(rs2_frame *composite, int index, rs2_error **error)
{
  clear(error);
  if (!check_alive(composite, error, __func__))
    return nullptr;
  if (!composite->composite || index < 0 || index >= int(composite->children.size())) {
    FAIL("out of range value for argument \"index\"");
    return nullptr;
  }
  rs2_frame *f = composite->children[index];
  f->refs++; /* a new reference: the caller releases it */
  return f;
}

#define FRAME_GETTER(type, name, expr, fallback)                \
  FAKE_API type name(const rs2_frame *frame, rs2_error **error) \
  {                                                             \
    clear(error);                                               \
    if (!check_alive(frame, error, #name))                      \
      return fallback;                                          \
    return expr;                                                \
  }

FRAME_GETTER(const void *, rs2_get_frame_data, frame->data.data(), nullptr)
FRAME_GETTER(int, rs2_get_frame_width, frame->width, 0)
FRAME_GETTER(int, rs2_get_frame_height, frame->height, 0)
FRAME_GETTER(int, rs2_get_frame_stride_in_bytes, frame->stride, 0)
FRAME_GETTER(int, rs2_get_frame_bits_per_pixel, frame->bpp, 0)
FRAME_GETTER(unsigned long long, rs2_get_frame_number, frame->number, 0)
FRAME_GETTER(rs2_time_t, rs2_get_frame_timestamp, frame->timestamp, 0)
FRAME_GETTER(rs2_timestamp_domain, rs2_get_frame_timestamp_domain, frame->domain,
             RS2_TIMESTAMP_DOMAIN_HARDWARE_CLOCK)
FRAME_GETTER(const rs2_stream_profile *, rs2_get_frame_stream_profile, frame->profile, nullptr)

FAKE_API float rs2_depth_frame_get_units(const rs2_frame *frame, rs2_error **error)
{
  clear(error);
  if (!check_alive(frame, error, __func__))
    return 0;
  if (!frame->profile || frame->profile->stream != RS2_STREAM_DEPTH) {
    FAIL("Object does not support \"librealsense::depth_frame\" interface! ");
    return 0;
  }
  return frame->units;
}

/* ---- processing: align and frame queues ---------------------------------------------- */

FAKE_API rs2_frame_queue *rs2_create_frame_queue(int capacity, rs2_error **error)
{
  clear(error);
  auto *q = new rs2_frame_queue();
  q->capacity = size_t(std::max(1, capacity));
  return q;
}

FAKE_API void rs2_delete_frame_queue(rs2_frame_queue *queue)
{
  if (!queue)
    return;
  for (rs2_frame *f : queue->frames)
    release(f);
  delete queue;
}

FAKE_API int rs2_try_wait_for_frame(rs2_frame_queue *queue, unsigned int timeout_ms,
                                    rs2_frame **output_frame, rs2_error **error)
{
  clear(error);
  if (!queue || !output_frame) {
    FAIL("null pointer passed for argument \"queue\"");
    return 0;
  }
  std::unique_lock<std::mutex> lock(queue->lock);
  if (!queue->cond.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [queue] { return !queue->frames.empty(); }))
    return 0;
  *output_frame = queue->frames.front();
  queue->frames.pop_front();
  return 1;
}

FAKE_API rs2_processing_block *rs2_create_align(rs2_stream align_to, rs2_error **error)
{
  clear(error);
  if (align_to != RS2_STREAM_COLOR) {
    FAIL("the fake aligns to colour only");
    return nullptr;
  }
  return new rs2_processing_block{align_to, nullptr};
}

FAKE_API void rs2_delete_processing_block(rs2_processing_block *block)
{
  delete block;
}

FAKE_API void rs2_start_processing_queue(rs2_processing_block *block, rs2_frame_queue *queue,
                                         rs2_error **error)
{
  clear(error);
  if (!block || !queue) {
    FAIL("null pointer passed for argument \"queue\"");
    return;
  }
  block->queue = queue;
}

FAKE_API void rs2_process_frame(rs2_processing_block *block, rs2_frame *frame, rs2_error **error)
{
  clear(error);
  if (!block || !check_alive(frame, error, __func__)) {
    if (!block)
      FAIL("null pointer passed for argument \"block\"");
    return;
  }
  /* Takes over the caller's reference. */
  const rs2_frame *depth = nullptr, *color = nullptr;
  for (const rs2_frame *c : frame->children) {
    if (c->profile->stream == RS2_STREAM_DEPTH)
      depth = c;
    if (c->profile->stream == RS2_STREAM_COLOR)
      color = c;
  }
  if (!frame->composite || !depth || !color || !block->queue) {
    release(frame);
    return; /* nothing to align: no output, as librealsense */
  }
  rs2_frame *out = new_frame();
  out->composite = true;
  out->camera = frame->camera;
  rs2_frame *ad = new_frame();
  ad->camera = depth->camera;
  ad->profile = depth->profile;
  ad->width = color->width;
  ad->height = color->height;
  ad->bpp = 16;
  ad->stride = ad->width * 2;
  ad->number = depth->number;
  ad->timestamp = depth->timestamp;
  ad->domain = depth->domain;
  ad->units = depth->units;
  ad->data.resize(size_t(ad->stride) * ad->height);
  for (int y = 0; y < ad->height; y++) {
    const int sy = int(int64_t(y) * depth->height / ad->height);
    for (int x = 0; x < ad->width; x++) {
      const int sx = int(int64_t(x) * depth->width / ad->width);
      memcpy(&ad->data[size_t(y) * ad->stride + 2 * x],
             &depth->data[size_t(sy) * depth->stride + 2 * sx], 2);
    }
  }
  out->children.push_back(ad);
  for (rs2_frame *c : frame->children)
    if (c->profile->stream == RS2_STREAM_COLOR) {
      c->refs++;
      out->children.push_back(c);
    }
  release(frame);
  std::lock_guard<std::mutex> guard(block->queue->lock);
  block->queue->frames.push_back(out);
  while (block->queue->frames.size() > block->queue->capacity) {
    release(block->queue->frames.front());
    block->queue->frames.pop_front();
  }
  block->queue->cond.notify_all();
}

/* ---- test hooks ---------------------------------------------------------------------- */

FAKE_API int livecast_fake_rs2_live_frames(void)
{
  return live_frames.load();
}

FAKE_API int livecast_fake_rs2_misuse(void)
{
  return misuse.load();
}

FAKE_API int livecast_fake_rs2_pipelines_started(void)
{
  return pipelines_started.load();
}

FAKE_API int livecast_fake_rs2_streaming(void)
{
  return streaming.load();
}

FAKE_API int livecast_fake_rs2_live_objects(char *what, int size)
{
  int total = 0;
  std::string text;
  for (int k = 0; k < kObjectKinds; k++)
    if (const int n = live_objects[k].load()) {
      total += n;
      text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + kObjectNames[k];
    }
  if (what && size > 0)
    snprintf(what, size_t(size), "%s", text.c_str());
  return total;
}

FAKE_API void livecast_fake_rs2_unplug(const char *serial)
{
  std::lock_guard<std::mutex> guard(state_lock);
  unplugged.insert(serial);
}
