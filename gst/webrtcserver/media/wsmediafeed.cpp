/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "wsmediafeed.h"

#include "debugcategory.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* Two seconds of 30 fps video (and its audio): only a stalled loop thread
 * fills it. */
constexpr std::size_t kMaxQueuedFrames = 120;
/* A viewer that dropped frames asks the encoder for a key frame at most
 * this often (the feed as a whole), so a slow socket cannot make everyone's
 * stream mostly key frames. */
constexpr gint64 kKeyRequestIntervalUs = G_USEC_PER_SEC;

gint64 us_of(GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID(t) ? static_cast<gint64>(t / GST_USECOND) : 0;
}

}  // namespace

/* What the streaming threads hand to the loop thread. */
struct WsMediaFeed::Queue {
  struct Item {
    bool audio = false;
    Ref<GstBuffer> buffer;
    GstClockTime running_time = GST_CLOCK_TIME_NONE;
  };
  std::mutex lock;
  std::deque<Item> items;
  bool gap = false;       /* items were dropped: everyone waits for a key frame */
  bool scheduled = false; /* a drain is on its way to the loop thread */
  MediaConfig video, audio;
  bool avc = false; /* H.264 in 4-byte length-prefixed form */
  /* Timestamps go out as running time: x264enc's are 1000 hours ahead of
   * its segment, audio's are not, and a page lines them up. */
  GstSegment video_segment, audio_segment;
  std::function<void()> wake;
};

namespace
{

struct TapData {
  std::shared_ptr<void> queue; /* WsMediaFeed::Queue */
  bool audio;
};

}  // namespace

WsMediaFeed::WsMediaFeed(GstBin *bin, MediaFanout &fanout, EventLoop &loop)
    : bin_(bin), fanout_(fanout), loop_(loop), queue_(std::make_shared<Queue>())
{
}

WsMediaFeed::~WsMediaFeed()
{
  std::lock_guard<std::mutex> guard(queue_->lock);
  queue_->wake = nullptr;
}

void WsMediaFeed::add(const std::string &id, SendBinary send,
                      std::function<void(const std::string &)> on_ended)
{
  Viewer v;
  v.send = std::move(send);
  v.on_ended = std::move(on_ended);
  v.stats.id = id;
  v.stats.created_us = g_get_monotonic_time();
  {
    std::lock_guard<std::mutex> guard(lock_);
    viewers_[id] = std::move(v);
    count_ = viewers_.size();
  }
  if (!video_.sink)
    attach();
  /* A key frame on join, as for a WebRTC viewer. */
  fanout_.request_key_unit("a WebSocket media viewer joined");
  last_key_request_us_ = g_get_monotonic_time();
}

bool WsMediaFeed::remove(const std::string &id)
{
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (!viewers_.erase(id))
      return false;
    count_ = viewers_.size();
  }
  if (count_ == 0)
    detach();
  return true;
}

void WsMediaFeed::end_all(const std::string &reason)
{
  std::map<std::string, Viewer> ended;
  {
    std::lock_guard<std::mutex> guard(lock_);
    ended.swap(viewers_);
    count_ = 0;
  }
  detach();
  for (auto &entry : ended) {
    if (entry.second.on_ended)
      entry.second.on_ended(reason);
  }
}

bool WsMediaFeed::has(const std::string &id) const
{
  std::lock_guard<std::mutex> guard(lock_);
  return viewers_.count(id) > 0;
}

std::vector<WsMediaFeed::ViewerStats> WsMediaFeed::stats() const
{
  std::vector<ViewerStats> out;
  std::lock_guard<std::mutex> guard(lock_);
  for (const auto &entry : viewers_)
    out.push_back(entry.second.stats);
  return out;
}

/* Streaming threads: caps say what the configs are; each buffer's
 * reference goes into the queue (the fakesink behind drops it). */
static GstPadProbeReturn on_tap(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *tap = static_cast<TapData *>(data);
  auto *queue = static_cast<WsMediaFeed::Queue *>(tap->queue.get());
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
      const GstSegment *segment;
      gst_event_parse_segment(event, &segment);
      std::lock_guard<std::mutex> guard(queue->lock);
      gst_segment_copy_into(segment, tap->audio ? &queue->audio_segment : &queue->video_segment);
      return GST_PAD_PROBE_OK;
    }
    if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
      return GST_PAD_PROBE_OK;
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    std::lock_guard<std::mutex> guard(queue->lock);
    if (tap->audio) {
      queue->audio.codec = "opus";
      queue->audio.sample_rate = 48000;
      queue->audio.channels = 1;
      gst_structure_get_int(s, "rate", &queue->audio.sample_rate);
      gst_structure_get_int(s, "channels", &queue->audio.channels);
    } else {
      /* H.264's exact string comes from the SPS of each key frame (drain). */
      queue->video.codec = gst_structure_has_name(s, "video/x-vp8")   ? "vp8"
                           : gst_structure_has_name(s, "video/x-vp9") ? "vp09.00.10.08"
                                                                      : "avc1.42e01f";
      queue->avc = g_strcmp0(gst_structure_get_string(s, "stream-format"), "avc") == 0;
      gst_structure_get_int(s, "width", &queue->video.width);
      gst_structure_get_int(s, "height", &queue->video.height);
    }
    return GST_PAD_PROBE_OK;
  }
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> guard(queue->lock);
    if (queue->items.size() >= kMaxQueuedFrames) {
      queue->items.pop_front();
      queue->gap = true;
    }
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    const GstSegment &segment = tap->audio ? queue->audio_segment : queue->video_segment;
    const GstClockTime running =
        segment.format == GST_FORMAT_TIME
            ? gst_segment_to_running_time(&segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer))
            : GST_BUFFER_PTS(buffer);
    queue->items.push_back({tap->audio, Ref<GstBuffer>::ref(buffer), running});
    if (!queue->scheduled && queue->wake) {
      queue->scheduled = true;
      wake = queue->wake;
    }
  }
  if (wake)
    wake();
  return GST_PAD_PROBE_OK;
}

/* Loop thread: everything queued, to every viewer whose socket takes it. */
void WsMediaFeed::drain()
{
  std::deque<Queue::Item> items;
  MediaConfig video, audio;
  bool gap, avc;
  {
    std::lock_guard<std::mutex> guard(queue_->lock);
    items.swap(queue_->items);
    queue_->scheduled = false;
    gap = queue_->gap;
    queue_->gap = false;
    video = queue_->video;
    audio = queue_->audio;
    avc = queue_->avc;
  }
  std::lock_guard<std::mutex> guard(lock_);
  if (gap) {
    GST_WARNING_OBJECT(bin_, "WebSocket media: the loop thread fell behind; frames dropped");
    for (auto &entry : viewers_) {
      entry.second.waiting_key = true;
      entry.second.video_dropped = entry.second.audio_dropped = true;
    }
  }
  bool want_key = false;
  for (const Queue::Item &item : items) {
    GstBuffer *buffer = item.buffer.get();
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
      continue;
    std::string annexb;
    const guint8 *data = map.data;
    std::size_t size = map.size;
    if (!item.audio && avc) {
      annexb = h264_avc_to_annexb(map.data, map.size);
      data = reinterpret_cast<const guint8 *>(annexb.data());
      size = annexb.size();
    }
    MediaFrameHeader header;
    header.kind = item.audio ? MediaKind::Audio : MediaKind::Video;
    const bool key = item.audio || !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
    header.flags = key ? kMediaFlagKey : 0;
    header.timestamp_us = us_of(item.running_time);
    header.duration_us = static_cast<guint32>(us_of(GST_BUFFER_DURATION(buffer)));
    if (!item.audio && key) {
      const std::string codec = h264_codec_string(data, size);
      if (!codec.empty())
        video.codec = codec;
      video_config_ = write_media_config(MediaKind::VideoConfig, video);
    }
    if (item.audio && audio_config_.empty())
      audio_config_ = write_media_config(MediaKind::AudioConfig, audio);
    const std::string plain = write_media_frame(header, data, size);
    header.flags |= kMediaFlagDiscont;
    const std::string after_gap = write_media_frame(header, data, size);
    gst_buffer_unmap(buffer, &map);

    for (auto &entry : viewers_) {
      Viewer &v = entry.second;
      bool &dropped = item.audio ? v.audio_dropped : v.video_dropped;
      if (item.audio) {
        if (!v.audio_config && !(v.audio_config = v.send(audio_config_)))
          continue;
      } else {
        if (v.waiting_key && !key) {
          v.stats.frames_dropped++;
          dropped = true;
          continue;
        }
        if (v.video_config != video_config_) {
          if (!v.send(video_config_)) {
            v.stats.frames_dropped++;
            v.waiting_key = dropped = true;
            continue;
          }
          v.video_config = video_config_;
        }
      }
      const std::string &message = dropped ? after_gap : plain;
      if (v.send(message)) {
        v.stats.frames_sent++;
        v.stats.bytes_sent += message.size();
        dropped = false;
        if (!item.audio)
          v.waiting_key = false;
      } else {
        v.stats.frames_dropped++;
        dropped = true;
        if (!item.audio) {
          /* Asked once when it starts waiting: a socket that stays full
           * must not make everyone's stream key frames. */
          want_key = want_key || !v.waiting_key;
          v.waiting_key = true;
        }
      }
    }
  }
  const gint64 now = g_get_monotonic_time();
  if (want_key && now - last_key_request_us_ >= kKeyRequestIntervalUs) {
    last_key_request_us_ = now;
    fanout_.request_key_unit("a WebSocket media viewer dropped frames");
  }
}

void WsMediaFeed::attach()
{
  std::weak_ptr<WsMediaFeed> weak = weak_from_this();
  EventLoop &loop = loop_;
  {
    std::lock_guard<std::mutex> guard(queue_->lock);
    queue_->items.clear();
    queue_->scheduled = false;
    queue_->gap = false;
    gst_segment_init(&queue_->video_segment, GST_FORMAT_UNDEFINED);
    gst_segment_init(&queue_->audio_segment, GST_FORMAT_UNDEFINED);
    queue_->wake = [weak, &loop]() {
      loop.invoke([weak]() {
        if (auto feed = weak.lock())
          feed->drain();
      });
    };
  }
  if (!attach_tap(video_, fanout_.request_video_pad(), "wsmedia-video-sink", false))
    return;
  if (fanout_.state().audio)
    attach_tap(audio_, fanout_.request_audio_pad(), "wsmedia-audio-sink", true);
}

bool WsMediaFeed::attach_tap(Tap &tap, Ref<GstPad> tee_pad, const char *name, bool audio)
{
  if (!tee_pad)
    return false;
  GstElement *sink = gst_element_factory_make("fakesink", name);
  if (!sink) {
    MediaFanout::release_tee_pad(tee_pad);
    return false;
  }
  g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "qos", FALSE,
               nullptr);
  gst_bin_add(bin_, sink);
  Ref<GstPad> sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(sink, "sink"));
  auto *data = new TapData{queue_, audio};
  gst_pad_add_probe(
      sinkpad.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_tap, data, [](gpointer d) { delete static_cast<TapData *>(d); });
  gst_element_sync_state_with_parent(sink);
  gst_pad_link(tee_pad.get(), sinkpad.get());
  tap.tee_pad = std::move(tee_pad);
  tap.sink = sink;
  return true;
}

void WsMediaFeed::detach_tap(Tap &tap)
{
  if (!tap.sink)
    return;
  Ref<GstPad> sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(tap.sink, "sink"));
  gst_pad_unlink(tap.tee_pad.get(), sinkpad.get());
  MediaFanout::release_tee_pad(tap.tee_pad);
  gst_element_set_state(tap.sink, GST_STATE_NULL);
  gst_bin_remove(bin_, tap.sink);
  tap.sink = nullptr;
  tap.tee_pad = Ref<GstPad>();
}

void WsMediaFeed::detach()
{
  detach_tap(video_);
  detach_tap(audio_);
  std::lock_guard<std::mutex> guard(queue_->lock);
  queue_->items.clear();
  queue_->wake = nullptr;
  video_config_.clear();
  audio_config_.clear();
}

}  // namespace livecast
