/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rsdevice.h"

#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <system_error>
#include <utility>

GST_DEBUG_CATEGORY_STATIC(rs_device_debug);
#define GST_CAT_DEFAULT rs_device_debug

namespace livecast::rs
{

namespace
{

/* How long the first member that wants frames waits for the others to
 * configure their streams before the camera starts without them. */
constexpr gint64 kStartGraceUs = 1500 * G_TIME_SPAN_MILLISECOND;
/* try_wait_for_frames timeout: how soon stopping takes effect. */
constexpr unsigned kPollMs = 50;
/* Without frames for this long, check that the camera is still there. */
constexpr gint64 kPresenceCheckUs = 300 * G_TIME_SPAN_MILLISECOND;
constexpr gint64 kPresenceIntervalUs = 500 * G_TIME_SPAN_MILLISECOND;

/* Receives a librealsense2 error; frees it. */
class Rs2Error
{
 public:
  explicit Rs2Error(const Api *api) : api_(api) {}
  ~Rs2Error() { clear(); }
  Rs2Error(const Rs2Error &) = delete;
  Rs2Error &operator=(const Rs2Error &) = delete;
  /* For the next call: any earlier error is dropped. */
  rs2_error **out()
  {
    clear();
    return &e_;
  }
  explicit operator bool() const { return e_ != nullptr; }
  std::string take() { return api_->take_error(std::exchange(e_, nullptr)); }

 private:
  void clear()
  {
    if (e_)
      api_->rs2_free_error(std::exchange(e_, nullptr));
  }
  const Api *api_;
  rs2_error *e_ = nullptr;
};

template <typename T>
using Owned = std::unique_ptr<T, std::function<void(T *)>>;

struct CameraInfo {
  std::string serial, name;
};

std::string device_info(const Api *api, const rs2_device *dev, rs2_camera_info what)
{
  Rs2Error e(api);
  if (!api->rs2_supports_device_info(dev, what, e.out()) || e)
    return "";
  const char *v = api->rs2_get_device_info(dev, what, e.out());
  return v && !e ? v : "";
}

bool list_cameras(const Api *api, rs2_context *ctx, std::vector<CameraInfo> &out,
                  std::string &error)
{
  out.clear();
  Rs2Error e(api);
  Owned<rs2_device_list> list(api->rs2_query_devices(ctx, e.out()), api->rs2_delete_device_list);
  if (e) {
    error = "Cannot list RealSense cameras: " + e.take() + ".";
    return false;
  }
  const int n = api->rs2_get_device_count(list.get(), e.out());
  for (int i = 0; i < n && !e; i++) {
    Owned<rs2_device> dev(api->rs2_create_device(list.get(), i, e.out()), api->rs2_delete_device);
    if (e) {
      GST_WARNING("camera %d of %d cannot be opened: %s", i, n, e.take().c_str());
      continue;
    }
    out.push_back({device_info(api, dev.get(), RS2_CAMERA_INFO_SERIAL_NUMBER),
                   device_info(api, dev.get(), RS2_CAMERA_INFO_NAME)});
  }
  return true;
}

std::string describe_cameras(const std::vector<CameraInfo> &cams)
{
  std::string s;
  for (const CameraInfo &c : cams)
    s += (s.empty() ? "" : ", ") + c.serial + (c.name.empty() ? "" : " (" + c.name + ")");
  return s;
}

/* The stream modes and depth unit of @dev's sensors. */
bool read_sensors(const Api *api, const rs2_device *dev, std::vector<Profile> &profiles,
                  float &depth_unit, std::string &error)
{
  Rs2Error e(api);
  Owned<rs2_sensor_list> sensors(api->rs2_query_sensors(dev, e.out()), api->rs2_delete_sensor_list);
  if (e) {
    error = e.take();
    return false;
  }
  const int n = api->rs2_get_sensors_count(sensors.get(), e.out());
  for (int i = 0; i < n && !e; i++) {
    Owned<rs2_sensor> sensor(api->rs2_create_sensor(sensors.get(), i, e.out()),
                             api->rs2_delete_sensor);
    if (e) {
      GST_WARNING("sensor %d: %s", i, e.take().c_str());
      continue;
    }
    /* Only a depth sensor answers; the others set an error. */
    const float scale = api->rs2_get_depth_scale(sensor.get(), e.out());
    if (!e && scale > 0 && depth_unit == 0)
      depth_unit = scale;
    Owned<rs2_stream_profile_list> list(api->rs2_get_stream_profiles(sensor.get(), e.out()),
                                        api->rs2_delete_stream_profiles_list);
    if (e) {
      GST_WARNING("sensor %d has no stream profiles: %s", i, e.take().c_str());
      continue;
    }
    const int count = api->rs2_get_stream_profiles_count(list.get(), e.out());
    for (int j = 0; j < count && !e; j++) {
      const rs2_stream_profile *sp = api->rs2_get_stream_profile(list.get(), j, e.out());
      if (e)
        break;
      Profile p;
      int uid = 0;
      api->rs2_get_stream_profile_data(sp, &p.stream, &p.format, &p.index, &uid, &p.fps, e.out());
      if (e)
        break;
      if (p.stream != RS2_STREAM_DEPTH && p.stream != RS2_STREAM_COLOR &&
          p.stream != RS2_STREAM_INFRARED)
        continue;
      api->rs2_get_video_stream_resolution(sp, &p.width, &p.height, e.out());
      if (e) {
        e.take();
        continue;
      }
      if (std::find(profiles.begin(), profiles.end(), p) == profiles.end())
        profiles.push_back(p);
    }
    if (e)
      GST_WARNING("sensor %d: %s", i, e.take().c_str());
  }
  e.out();
  return true;
}

gint64 now_us()
{
  return g_get_monotonic_time();
}

std::mutex registry_lock;
std::map<std::pair<const Api *, std::string>, std::weak_ptr<Device>> registry;

}  // namespace

const char *stream_name(rs2_stream s)
{
  switch (s) {
    case RS2_STREAM_DEPTH:
      return "depth";
    case RS2_STREAM_COLOR:
      return "colour";
    case RS2_STREAM_INFRARED:
      return "infrared";
    default:
      return "other";
  }
}

const char *format_name(rs2_format f)
{
  switch (f) {
    case RS2_FORMAT_Z16:
      return "Z16";
    case RS2_FORMAT_YUYV:
      return "YUYV";
    case RS2_FORMAT_RGB8:
      return "RGB8";
    case RS2_FORMAT_BGR8:
      return "BGR8";
    case RS2_FORMAT_RGBA8:
      return "RGBA8";
    case RS2_FORMAT_BGRA8:
      return "BGRA8";
    case RS2_FORMAT_Y8:
      return "Y8";
    case RS2_FORMAT_Y16:
      return "Y16";
    case RS2_FORMAT_ANY:
      return "any format";
    default:
      return "other format";
  }
}

std::string describe(const Profile &p)
{
  std::string s = stream_name(p.stream);
  if (p.stream == RS2_STREAM_INFRARED)
    s += " " + std::to_string(p.index);
  return s + " " + std::to_string(p.width) + "x" + std::to_string(p.height) + " " +
         format_name(p.format) + " at " + std::to_string(p.fps) + " fps";
}

/* One librealsense2 context per loaded library, shared by its devices and
 * deleted with the last of them. */
class Device::Context
{
 public:
  Context(const Api *api, rs2_context *ctx) : api_(api), ctx_(ctx) {}
  ~Context() { api_->rs2_delete_context(ctx_); }
  rs2_context *get() const { return ctx_; }

  static std::shared_ptr<Context> get(const Api *api, std::string &error)
  {
    static std::map<const Api *, std::weak_ptr<Context>> contexts;
    /* Called with registry_lock held. */
    std::shared_ptr<Context> c = contexts[api].lock();
    if (c)
      return c;
    Rs2Error e(api);
    rs2_context *ctx = api->rs2_create_context(kOldestApiVersion, e.out());
    if (e || !ctx) {
      error = "librealsense2 " + api->version_string() + " (" + api->path +
              ") refused to start: " + e.take() + ".";
      return nullptr;
    }
    c = std::make_shared<Context>(api, ctx);
    contexts[api] = c;
    return c;
  }

 private:
  const Api *api_;
  rs2_context *ctx_;
};

struct Device::Member {
  int id = 0;
  guint timeout_ms = 0;
  bool configured = false;
  Request request;
  bool flushing = false;
  bool renegotiate = false;
  std::unique_ptr<Frame> pending;    /* newest frame not yet taken */
  guint64 last_number = G_MAXUINT64; /* frame number handed or pending */
  guint64 dropped = 0;
};

struct Device::Pipeline {
  const Api *api;
  rs2_pipeline *pipe = nullptr;
  rs2_device *playback = nullptr; /* the playback device, for its status */
  rs2_processing_block *align = nullptr;
  rs2_frame_queue *aligned = nullptr;
  bool want_unaligned = false;
  guint timeout_ms = 0;
  std::thread thread;
  std::atomic<bool> quit{false};

  explicit Pipeline(const Api *a) : api(a) {}
  ~Pipeline()
  {
    if (pipe) {
      rs2_error *e = nullptr;
      api->rs2_pipeline_stop(pipe, &e);
      /* Taken outside the log macro: it evaluates its arguments only when
       * the debug level is on, and take_error() is what frees the error. */
      const std::string message = api->take_error(e);
      if (!message.empty())
        GST_DEBUG("rs2_pipeline_stop: %s", message.c_str());
    }
    if (align)
      api->rs2_delete_processing_block(align);
    if (aligned)
      api->rs2_delete_frame_queue(aligned);
    if (playback)
      api->rs2_delete_device(playback);
    if (pipe)
      api->rs2_delete_pipeline(pipe);
  }
};

Device::Device(const Api *api, const Source &source, std::shared_ptr<Context> context)
    : api_(api), source_(source), context_(std::move(context))
{
}

std::shared_ptr<Device> Device::acquire(const Api *api, const Source &source, std::string &error)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(rs_device_debug, "realsensedevice", 0,
                            "RealSense camera shared by realsensesrc elements");
    g_once_init_leave(&once, 1);
  }

  std::lock_guard<std::mutex> guard(registry_lock);
  std::shared_ptr<Context> context = Context::get(api, error);
  if (!context)
    return nullptr;

  Source resolved = source;
  std::string key;
  if (source.file.empty()) {
    std::vector<CameraInfo> cams;
    if (!list_cameras(api, context->get(), cams, error))
      return nullptr;
    GST_INFO("%zu camera(s): %s", cams.size(), describe_cameras(cams).c_str());
    if (cams.empty()) {
      error = "No RealSense camera is connected (librealsense2 " + api->version_string() +
              " found none).";
      return nullptr;
    }
    if (source.serial.empty()) {
      resolved.serial = cams.front().serial;
    } else if (std::none_of(cams.begin(), cams.end(),
                            [&](const CameraInfo &c) { return c.serial == source.serial; })) {
      error = "No RealSense camera with serial " + source.serial + " is connected; found " +
              describe_cameras(cams) + ".";
      return nullptr;
    }
    key = "camera " + resolved.serial;
  } else {
    gchar *abs = g_canonicalize_filename(source.file.c_str(), nullptr);
    resolved.file = abs;
    g_free(abs);
    key = "file " + resolved.file;
  }

  auto &slot = registry[{api, key}];
  std::shared_ptr<Device> dev = slot.lock();
  if (dev) {
    if (dev->is_playback() && dev->source_.loop != source.loop) {
      error = "Two realsensesrc elements play " + resolved.file +
              " with different loop settings; give them the same.";
      return nullptr;
    }
    GST_INFO("sharing %s", key.c_str());
    return dev;
  }
  dev.reset(new Device(api, resolved, context));
  dev->key_ = key;
  if (!dev->open(error))
    return nullptr;
  slot = dev;
  return dev;
}

bool Device::open(std::string &error)
{
  Rs2Error e(api_);
  std::string why;
  if (!is_playback()) {
    Owned<rs2_device_list> list(api_->rs2_query_devices(context_->get(), e.out()),
                                api_->rs2_delete_device_list);
    const int n = e ? 0 : api_->rs2_get_device_count(list.get(), e.out());
    for (int i = 0; i < n; i++) {
      Owned<rs2_device> dev(api_->rs2_create_device(list.get(), i, e.out()),
                            api_->rs2_delete_device);
      if (e) {
        why = e.take();
        continue;
      }
      if (device_info(api_, dev.get(), RS2_CAMERA_INFO_SERIAL_NUMBER) != source_.serial)
        continue;
      serial_ = source_.serial;
      name_ = device_info(api_, dev.get(), RS2_CAMERA_INFO_NAME);
      if (!read_sensors(api_, dev.get(), profiles_, depth_unit_, why)) {
        error =
            "Cannot read the stream modes of the RealSense camera " + serial_ + ": " + why + ".";
        return false;
      }
      break;
    }
    if (serial_.empty()) {
      if (e)
        why = e.take();
      error = "The RealSense camera " + source_.serial + " went away while being opened" +
              (why.empty() ? std::string() : ": " + why) + ".";
      return false;
    }
  } else {
    if (!g_file_test(source_.file.c_str(), G_FILE_TEST_IS_REGULAR)) {
      error = "Cannot play " + source_.file + ": no such file.";
      return false;
    }
    Owned<rs2_config> config(api_->rs2_create_config(e.out()), api_->rs2_delete_config);
    if (!e)
      api_->rs2_config_enable_device_from_file_repeat_option(config.get(), source_.file.c_str(),
                                                             source_.loop, e.out());
    Owned<rs2_pipeline> pipe(e ? nullptr : api_->rs2_create_pipeline(context_->get(), e.out()),
                             api_->rs2_delete_pipeline);
    Owned<rs2_pipeline_profile> profile(
        e ? nullptr : api_->rs2_config_resolve(config.get(), pipe.get(), e.out()),
        api_->rs2_delete_pipeline_profile);
    Owned<rs2_device> dev(
        e ? nullptr : api_->rs2_pipeline_profile_get_device(profile.get(), e.out()),
        api_->rs2_delete_device);
    if (e || !dev) {
      error =
          "Cannot play " + source_.file + " (is it a RealSense .bag recording?): " + e.take() + ".";
      return false;
    }
    serial_ = device_info(api_, dev.get(), RS2_CAMERA_INFO_SERIAL_NUMBER);
    name_ = device_info(api_, dev.get(), RS2_CAMERA_INFO_NAME);
    if (!read_sensors(api_, dev.get(), profiles_, depth_unit_, why)) {
      error = "Cannot read the streams recorded in " + source_.file + ": " + why + ".";
      return false;
    }
  }
  GST_INFO("opened %s: %s %s, %zu stream modes, depth unit %g m", key_.c_str(), name_.c_str(),
           serial_.c_str(), profiles_.size(), double(depth_unit_));
  for (const Profile &p : profiles_)
    GST_DEBUG("  %s", describe(p).c_str());
  return true;
}

Device::~Device()
{
  stop_streaming();
  GST_INFO("closed %s", key_.c_str());
}

Device::Member *Device::find(int id)
{
  for (auto &m : members_)
    if (m->id == id)
      return m.get();
  return nullptr;
}

int Device::join(guint timeout_ms)
{
  std::lock_guard<std::mutex> guard(lock_);
  auto m = std::make_unique<Member>();
  m->id = next_id_++;
  m->timeout_ms = timeout_ms;
  members_.push_back(std::move(m));
  GST_DEBUG("%s: member %d joined (%zu)", key_.c_str(), next_id_ - 1, members_.size());
  return next_id_ - 1;
}

void Device::leave(int id)
{
  std::lock_guard<std::mutex> guard(lock_);
  members_.erase(std::remove_if(members_.begin(), members_.end(),
                                [id](const std::unique_ptr<Member> &m) { return m->id == id; }),
                 members_.end());
  GST_DEBUG("%s: member %d left (%zu)", key_.c_str(), id, members_.size());
  /* A member that was waiting for this one to configure may start now. */
  cond_.notify_all();
}

void Device::set_flushing(int id, bool flushing)
{
  std::lock_guard<std::mutex> guard(lock_);
  if (Member *m = find(id))
    m->flushing = flushing;
  cond_.notify_all();
}

guint64 Device::dropped(int id)
{
  std::lock_guard<std::mutex> guard(lock_);
  Member *m = find(id);
  return m ? m->dropped : 0;
}

bool Device::is_configured(int id)
{
  std::lock_guard<std::mutex> guard(lock_);
  Member *m = find(id);
  return m && m->configured;
}

bool Device::color_geometry(int &width, int &height)
{
  std::lock_guard<std::mutex> guard(lock_);
  for (const auto &m : members_)
    if (m->configured && m->request.profile.stream == RS2_STREAM_COLOR) {
      width = m->request.profile.width;
      height = m->request.profile.height;
      return true;
    }
  return false;
}

bool Device::configured_mode(int id, rs2_stream stream, int index, Profile &mode)
{
  std::lock_guard<std::mutex> guard(lock_);
  for (const auto &m : members_)
    if (m->id != id && m->configured && m->request.profile.stream == stream &&
        m->request.profile.index == index) {
      mode = m->request.profile;
      return true;
    }
  return false;
}

guint64 Device::configurations()
{
  std::lock_guard<std::mutex> guard(lock_);
  return configurations_;
}

bool Device::configure(int id, const Request &r, std::string &error)
{
  std::lock_guard<std::mutex> guard(lock_);
  Member *self = find(id);
  if (!self)
    return false;
  const std::string camera =
      is_playback() ? "the recording " + source_.file : "the RealSense camera " + serial_;
  std::vector<Member *> realign;
  for (const auto &m : members_) {
    if (m.get() == self || !m->configured)
      continue;
    const Request &o = m->request;
    if (o.profile.stream == r.profile.stream && o.profile.index == r.profile.index &&
        !(o.profile == r.profile)) {
      error = "Another realsensesrc streams " + describe(o.profile) + " from " + camera +
              ", and this one asks for " + describe(r.profile) +
              "; elements sharing a stream must use the same mode.";
      return false;
    }
    if (r.profile.stream == RS2_STREAM_COLOR && o.align_to_color &&
        (o.aligned_width != r.profile.width || o.aligned_height != r.profile.height)) {
      /* Aligned depth negotiated before colour did: it follows colour. */
      realign.push_back(m.get());
      continue;
    }
    if (r.align_to_color && o.profile.stream == RS2_STREAM_COLOR &&
        (r.aligned_width != o.profile.width || r.aligned_height != o.profile.height)) {
      error = "Depth aligned to colour comes in colour's geometry, " +
              std::to_string(o.profile.width) + "x" + std::to_string(o.profile.height) +
              ", and this realsensesrc asks for " + std::to_string(r.aligned_width) + "x" +
              std::to_string(r.aligned_height) + " from " + camera +
              "; give colour and depth the same width and height.";
      return false;
    }
  }
  for (Member *m : realign) {
    GST_INFO("%s: member %d aligns depth to %dx%d, colour is %dx%d now: it renegotiates",
             key_.c_str(), m->id, m->request.aligned_width, m->request.aligned_height,
             r.profile.width, r.profile.height);
    m->configured = false;
    m->renegotiate = true;
  }
  self->request = r;
  self->configured = true;
  configurations_++;
  self->last_number = G_MAXUINT64;
  GST_INFO("%s: member %d configured %s%s", key_.c_str(), id, describe(r.profile).c_str(),
           r.align_to_color ? " aligned to colour" : "");
  cond_.notify_all();
  return true;
}

bool Device::needs_start_locked() const
{
  if (failed_ || ended_)
    return false;
  for (const auto &m : members_) {
    if (!m->configured)
      continue;
    const bool covered =
        pipeline_ && std::any_of(active_.begin(), active_.end(), [&](const Request &a) {
          return a.profile == m->request.profile && a.align_to_color == m->request.align_to_color &&
                 a.aligned_width == m->request.aligned_width &&
                 a.aligned_height == m->request.aligned_height;
        });
    if (!covered)
      return true;
  }
  return false;
}

WaitResult Device::next_frame(int id, Frame &frame, std::string &error)
{
  std::unique_lock<std::mutex> lock(lock_);
  Member *m = find(id);
  if (!m) {
    error = "internal error: not a member of the device";
    return WaitResult::Error;
  }
  for (;;) {
    if (m->flushing)
      return WaitResult::Flushing;
    if (m->renegotiate) {
      m->renegotiate = false;
      m->pending.reset();
      return WaitResult::Renegotiate;
    }
    if (m->pending) {
      frame = std::move(*m->pending);
      m->pending.reset();
      return WaitResult::Frame;
    }
    if (failed_) {
      error = error_;
      return WaitResult::Error;
    }
    if (ended_)
      return WaitResult::Eos;
    if (!starting_ && m->configured && needs_start_locked()) {
      const bool all = std::all_of(members_.begin(), members_.end(),
                                   [](const std::unique_ptr<Member> &x) { return x->configured; });
      if (!start_wanted_us_)
        start_wanted_us_ = now_us();
      if (all || now_us() - start_wanted_us_ > kStartGraceUs) {
        if (!all)
          GST_WARNING("%s: starting without the members that have not configured a stream",
                      key_.c_str());
        start_streaming(lock);
        m = find(id);
        if (!m) {
          error = "internal error: left the device while starting it";
          return WaitResult::Error;
        }
        continue;
      }
    }
    cond_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

void Device::start_streaming(std::unique_lock<std::mutex> &lock)
{
  starting_ = true;
  lock.unlock();
  {
    std::lock_guard<std::mutex> control(control_lock_);
    stop_streaming();

    std::vector<Request> requests;
    guint timeout_ms = 0;
    {
      std::lock_guard<std::mutex> guard(lock_);
      for (const auto &m : members_) {
        if (!m->configured)
          continue;
        requests.push_back(m->request);
        if (m->timeout_ms && (!timeout_ms || m->timeout_ms < timeout_ms))
          timeout_ms = m->timeout_ms;
      }
    }

    /* The streams to enable: each member's, plus colour for alignment when
     * no member streams colour. */
    std::vector<Profile> enable;
    auto add = [&enable](const Profile &p) {
      for (const Profile &q : enable)
        if (q.stream == p.stream && q.index == p.index)
          return;
      enable.push_back(p);
    };
    bool want_align = false, want_unaligned = false;
    for (const Request &r : requests) {
      add(r.profile);
      if (r.align_to_color)
        want_align = true;
      else
        want_unaligned = true;
    }
    if (want_align) {
      const bool have_color = std::any_of(enable.begin(), enable.end(), [](const Profile &p) {
        return p.stream == RS2_STREAM_COLOR;
      });
      if (!have_color) {
        const Request &a = *std::find_if(requests.begin(), requests.end(),
                                         [](const Request &r) { return r.align_to_color; });
        /* The caps offered for aligned depth come from the colour modes at
         * the depth frame rate: one of them is this. */
        Profile color;
        for (const Profile &p : profiles_) {
          if (p.stream != RS2_STREAM_COLOR || p.width != a.aligned_width ||
              p.height != a.aligned_height)
            continue;
          const bool better = color.stream != RS2_STREAM_COLOR ||
                              (p.fps == a.profile.fps && color.fps != a.profile.fps) ||
                              (p.fps == color.fps && p.format == RS2_FORMAT_RGB8);
          if (better)
            color = p;
        }
        if (color.stream == RS2_STREAM_COLOR)
          add(color);
      }
    }

    std::string what;
    for (const Profile &p : enable)
      what += (what.empty() ? "" : ", ") + describe(p);
    GST_INFO("%s: starting with %s%s", key_.c_str(), what.c_str(),
             want_align ? ", depth aligned to colour" : "");

    auto p = std::make_unique<Pipeline>(api_);
    p->want_unaligned = want_unaligned;
    p->timeout_ms = timeout_ms;
    Rs2Error e(api_);
    Owned<rs2_config> config(api_->rs2_create_config(e.out()), api_->rs2_delete_config);
    if (!e) {
      if (is_playback())
        api_->rs2_config_enable_device_from_file_repeat_option(config.get(), source_.file.c_str(),
                                                               source_.loop, e.out());
      else
        api_->rs2_config_enable_device(config.get(), serial_.c_str(), e.out());
    }
    for (const Profile &pr : enable) {
      if (e)
        break;
      api_->rs2_config_enable_stream(config.get(), pr.stream, pr.index, pr.width, pr.height,
                                     pr.format, pr.fps, e.out());
    }
    if (!e)
      p->pipe = api_->rs2_create_pipeline(context_->get(), e.out());
    rs2_pipeline_profile *active = nullptr;
    if (!e)
      active = api_->rs2_pipeline_start_with_config(p->pipe, config.get(), e.out());
    if (!e && is_playback())
      p->playback = api_->rs2_pipeline_profile_get_device(active, e.out());
    if (active)
      api_->rs2_delete_pipeline_profile(active);
    if (!e && want_align) {
      p->align = api_->rs2_create_align(RS2_STREAM_COLOR, e.out());
      if (!e)
        p->aligned = api_->rs2_create_frame_queue(1, e.out());
      if (!e)
        api_->rs2_start_processing_queue(p->align, p->aligned, e.out());
    }
    if (e) {
      const std::string camera =
          is_playback() ? "play " + source_.file : "start the RealSense camera " + serial_;
      fail("Cannot " + camera + " with " + what + ": " + e.take() + ".");
    } else {
      Pipeline *raw = p.get();
      {
        std::lock_guard<std::mutex> guard(lock_);
        pipeline_ = std::move(p);
        active_ = requests;
      }
      try {
        raw->thread = std::thread([this, raw] { capture_loop(raw); });
      } catch (const std::system_error &err) {
        /* No exception leaves for the element's C callers. */
        fail(std::string("Cannot start a thread to capture from the camera: ") + err.what() + ".");
      }
    }
  }
  lock.lock();
  starting_ = false;
  start_wanted_us_ = 0;
  cond_.notify_all();
}

void Device::stop_streaming()
{
  std::unique_ptr<Pipeline> p;
  std::vector<std::unique_ptr<Frame>> old_frames;
  {
    std::lock_guard<std::mutex> guard(lock_);
    p = std::move(pipeline_);
    active_.clear();
    /* Frames of the old configuration go back before its pipeline goes. */
    for (auto &m : members_)
      if (m->pending)
        old_frames.push_back(std::move(m->pending));
  }
  old_frames.clear();
  if (!p)
    return;
  p->quit = true;
  if (p->thread.joinable())
    p->thread.join();
  const gint64 t0 = now_us();
  p.reset();
  GST_INFO("%s: stopped streaming (%" G_GINT64_FORMAT " ms)", key_.c_str(), (now_us() - t0) / 1000);
}

void Device::fail(const std::string &message)
{
  std::lock_guard<std::mutex> guard(lock_);
  if (!failed_) {
    GST_WARNING("%s: %s", key_.c_str(), message.c_str());
    failed_ = true;
    error_ = message;
  }
  cond_.notify_all();
}

bool Device::camera_present()
{
  std::vector<CameraInfo> cams;
  std::string error;
  if (!list_cameras(api_, context_->get(), cams, error))
    return false;
  return std::any_of(cams.begin(), cams.end(),
                     [this](const CameraInfo &c) { return c.serial == serial_; });
}

void Device::capture_loop(Pipeline *p)
{
  const std::string camera =
      is_playback() ? "the recording " + source_.file
                    : "the RealSense camera " + serial_ + (name_.empty() ? "" : " (" + name_ + ")");
  gint64 last_frame = now_us(), next_check = 0;
  guint64 framesets = 0;
  Rs2Error e(api_);
  while (!p->quit) {
    rs2_frame *fs = nullptr;
    const int got = api_->rs2_pipeline_try_wait_for_frames(p->pipe, &fs, kPollMs, e.out());
    const gint64 now = now_us();
    if (e) {
      if (fs)
        api_->rs2_release_frame(fs);
      fail("Lost " + camera + ": " + e.take() + ".");
      return;
    }
    if (!got || !fs) {
      if (p->quit)
        break;
      if (p->playback && !source_.loop) {
        const rs2_playback_status s =
            api_->rs2_playback_device_get_current_status(p->playback, e.out());
        if (!e && s == RS2_PLAYBACK_STATUS_STOPPED && framesets > 0) {
          GST_INFO("%s: end of the recording after %" G_GUINT64_FORMAT " framesets", key_.c_str(),
                   framesets);
          std::lock_guard<std::mutex> guard(lock_);
          ended_ = true;
          cond_.notify_all();
          return;
        }
        e.out();
      }
      const gint64 idle = now - last_frame;
      if (!is_playback() && idle > kPresenceCheckUs && now >= next_check) {
        next_check = now + kPresenceIntervalUs;
        if (!camera_present()) {
          fail("The RealSense camera " + serial_ + (name_.empty() ? "" : " (" + name_ + ")") +
               " was disconnected.");
          return;
        }
      }
      if (p->timeout_ms && idle > gint64(p->timeout_ms) * G_TIME_SPAN_MILLISECOND) {
        fail("No frames from " + camera + " for " + std::to_string(p->timeout_ms) + " ms.");
        return;
      }
      continue;
    }
    last_frame = now;
    framesets++;
    FrameRef set(api_, fs);
    const gint64 real = g_get_real_time();
    if (p->want_unaligned)
      distribute(fs, false, now, real);
    if (p->align) {
      /* rs2_process_frame takes over a reference: give it one of its own. */
      api_->rs2_frame_add_ref(fs, e.out());
      if (!e)
        api_->rs2_process_frame(p->align, fs, e.out());
      rs2_frame *out = nullptr;
      if (!e && api_->rs2_try_wait_for_frame(p->aligned, kPollMs, &out, e.out()) && out) {
        FrameRef aligned(api_, out);
        distribute(out, true, now, real);
      }
      if (e)
        GST_WARNING("%s: aligning depth to colour: %s", key_.c_str(), e.take().c_str());
    }
  }
}

void Device::distribute(rs2_frame *frameset, bool aligned, gint64 arrival_us, gint64 real_us)
{
  Rs2Error e(api_);
  const int n = api_->rs2_embedded_frames_count(frameset, e.out());
  const bool composite = !e && n > 0;
  for (int i = 0; i < (composite ? n : 1); i++) {
    Frame f;
    if (composite) {
      f.ref = FrameRef(api_, api_->rs2_extract_frame(frameset, i, e.out()));
    } else {
      api_->rs2_frame_add_ref(frameset, e.out());
      if (!e)
        f.ref = FrameRef(api_, frameset);
    }
    if (e || !f.ref) {
      GST_WARNING("%s: frame %d of the frameset: %s", key_.c_str(), i, e.take().c_str());
      continue;
    }
    rs2_frame *fr = f.ref.get();
    const rs2_stream_profile *sp = api_->rs2_get_frame_stream_profile(fr, e.out());
    rs2_stream stream = RS2_STREAM_ANY;
    rs2_format format = RS2_FORMAT_ANY;
    int index = 0, uid = 0, fps = 0;
    if (!e)
      api_->rs2_get_stream_profile_data(sp, &stream, &format, &index, &uid, &fps, e.out());
    if (e) {
      GST_WARNING("%s: frame without a stream profile: %s", key_.c_str(), e.take().c_str());
      continue;
    }
    /* In the aligned frameset only depth is new. */
    if (aligned && stream != RS2_STREAM_DEPTH)
      continue;

    bool wanted = false;
    {
      std::lock_guard<std::mutex> guard(lock_);
      for (const auto &m : members_)
        wanted =
            wanted || (m->configured && m->request.profile.stream == stream &&
                       m->request.profile.index == index && m->request.align_to_color == aligned);
    }
    if (!wanted)
      continue;

    f.data = static_cast<const guint8 *>(api_->rs2_get_frame_data(fr, e.out()));
    if (!e)
      f.width = api_->rs2_get_frame_width(fr, e.out());
    if (!e)
      f.height = api_->rs2_get_frame_height(fr, e.out());
    if (!e)
      f.stride = api_->rs2_get_frame_stride_in_bytes(fr, e.out());
    if (!e)
      f.bits_per_pixel = api_->rs2_get_frame_bits_per_pixel(fr, e.out());
    if (!e)
      f.number = api_->rs2_get_frame_number(fr, e.out());
    if (!e)
      f.timestamp_ms = api_->rs2_get_frame_timestamp(fr, e.out());
    if (!e)
      f.domain = api_->rs2_get_frame_timestamp_domain(fr, e.out());
    if (e || !f.data) {
      GST_WARNING("%s: unreadable %s frame: %s", key_.c_str(), stream_name(stream),
                  e.take().c_str());
      continue;
    }
    /* System and global timestamps are the host's wall clock at capture:
     * they tell how long ago that was. A hardware clock, or a recording's
     * old timestamps, do not: then the frame counts as captured now. */
    f.capture_us = arrival_us;
    if (f.domain == RS2_TIMESTAMP_DOMAIN_SYSTEM_TIME ||
        f.domain == RS2_TIMESTAMP_DOMAIN_GLOBAL_TIME) {
      const gint64 age = real_us - gint64(f.timestamp_ms * 1000.0);
      if (age >= 0 && age < G_TIME_SPAN_SECOND)
        f.capture_us = arrival_us - age;
    }
    if (stream == RS2_STREAM_DEPTH) {
      f.depth_unit = depth_unit_;
      if (api_->rs2_depth_frame_get_units) {
        const float u = api_->rs2_depth_frame_get_units(fr, e.out());
        if (!e && u > 0)
          f.depth_unit = u;
        e.out();
      }
    }

    std::lock_guard<std::mutex> guard(lock_);
    for (const auto &m : members_) {
      if (!m->configured || m->request.profile.stream != stream ||
          m->request.profile.index != index || m->request.align_to_color != aligned)
        continue;
      if (m->last_number == f.number)
        continue; /* the same frame again, in a newer frameset */
      /* Each member holds a reference of its own. */
      api_->rs2_frame_add_ref(fr, e.out());
      if (e) {
        GST_WARNING("%s: rs2_frame_add_ref: %s", key_.c_str(), e.take().c_str());
        continue;
      }
      auto out = std::make_unique<Frame>();
      out->ref = FrameRef(api_, fr);
      out->data = f.data;
      out->width = f.width;
      out->height = f.height;
      out->stride = f.stride;
      out->bits_per_pixel = f.bits_per_pixel;
      out->number = f.number;
      out->timestamp_ms = f.timestamp_ms;
      out->domain = f.domain;
      out->capture_us = f.capture_us;
      out->depth_unit = f.depth_unit;
      if (m->pending)
        m->dropped++;
      m->pending = std::move(out);
      m->last_number = f.number;
    }
    cond_.notify_all();
  }
}

}  // namespace livecast::rs
