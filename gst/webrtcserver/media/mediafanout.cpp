/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mediafanout.h"

#include <gst/video/video.h>

#include <vector>

#include "debugcategory.h"
#include "h264aud.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* Key frame requests from viewers (PLI/FIR) are honoured at most this often. */
constexpr gint64 kKeyUnitMinIntervalUs = 500 * 1000;

MediaFanout *fanout_of(GstObject *parent)
{
  return static_cast<MediaFanout *>(g_object_get_data(G_OBJECT(parent), "livecast-fanout"));
}

void discard(const std::vector<GstElement *> &elements)
{
  for (GstElement *e : elements) {
    if (e)
      gst_object_unref(gst_object_ref_sink(e));
  }
}

/* libvpx's threads split a frame in token partitions: up to 720p one thread
 * is faster on a small machine (2 cores: 89 frames of 300 at 720p30 with two
 * threads, all 300 with one; tests/bench/bench_glass.mjs), bigger pictures
 * need a second. */
gint vpx_threads(int width, int height)
{
  const gint cpus = static_cast<gint>(g_get_num_processors());
  return width * height > 1280 * 720 && cpus > 2 ? 2 : 1;
}

/* An end sink waits for each buffer's time (files play at their speed),
 * and the input tee hands the buffer on to the encoder only after that:
 * basesink's default 20 ms processing deadline would be 20 ms added to
 * every frame's glass-to-glass latency for a sink that does no work
 * (tests/bench/bench_glass.mjs measured it). */
void set_end_sink_properties(GstElement *end_sink, bool sync)
{
  g_object_set(end_sink, "sync", sync ? TRUE : FALSE, "async", TRUE, "enable-last-sample", FALSE,
               "processing-deadline", G_GUINT64_CONSTANT(0), nullptr);
}

}  // namespace

MediaFanout::MediaFanout(GstBin *bin) : bin_(bin)
{
  debug_category_init();
  /* The pad functions find this object through the element. */
  g_object_set_data(G_OBJECT(bin), "livecast-fanout", this);
  /* input-tee ! end-sink from the start: the element prerolls on the first
   * frame, waits for each frame's time and posts EOS, whether or not
   * anything is encoded. end-sink is the input tee's first branch, so
   * everything behind it is paced too. */
  GstElement *input_tee = gst_element_factory_make("tee", "input-tee");
  GstElement *end_sink = gst_element_factory_make("fakesink", "end-sink");
  GstElement *tee = gst_element_factory_make("tee", "tee");
  if (!input_tee || !end_sink || !tee) {
    /* coreelements is part of GStreamer itself: only a broken installation
     * gets here, and the state change says so (usable()). */
    discard({input_tee, end_sink, tee});
    return;
  }
  g_object_set(input_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  set_end_sink_properties(end_sink, true);
  gst_bin_add_many(bin, input_tee, end_sink, tee, nullptr);
  gst_element_link(input_tee, end_sink);
  input_tee_ = input_tee;
  end_sink_ = end_sink;
  tee_ = tee;
  Ref<GstPad> teesink = Ref<GstPad>::adopt(gst_element_get_static_pad(tee, "sink"));
  gst_pad_add_probe(teesink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_viewer_key_unit, this,
                    nullptr);
  gst_pad_add_probe(
      teesink.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_tee_input, this, nullptr);
}

void MediaFanout::set_settings(const FanoutSettings &settings)
{
  std::lock_guard<std::mutex> guard(lock_);
  settings_ = settings;
}

void MediaFanout::set_bitrate(guint kbps)
{
  std::lock_guard<std::mutex> guard(lock_);
  settings_.bitrate_kbps = kbps;
  apply_bitrate(kbps);
}

void MediaFanout::apply_bitrate(guint kbps)
{
  if (!encoder_)
    return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(encoder_), "target-bitrate"))
    g_object_set(encoder_, "target-bitrate", static_cast<gint>(kbps * 1000), nullptr);
  else
    g_object_set(encoder_, "bitrate", kbps, nullptr);
}

void MediaFanout::set_sync(bool sync)
{
  std::lock_guard<std::mutex> guard(lock_);
  settings_.sync = sync;
  for (GstElement *e : {end_sink_, audio_end_sink_}) {
    if (e)
      g_object_set(e, "sync", sync ? TRUE : FALSE, nullptr);
  }
}

GstElement *MediaFanout::make_element(const char *factory, const char *name)
{
  GstElement *e = gst_element_factory_make(factory, name);
  if (!e)
    GST_ELEMENT_ERROR(bin_, CORE, MISSING_PLUGIN,
                      ("The GStreamer element \"%s\" is missing; install the plugin that "
                       "provides it (see the livecast README).",
                       factory),
                      (nullptr));
  return e;
}

GstElement *MediaFanout::make_encoder(const FanoutSettings &settings, VideoCodec codec,
                                      int width, int height)
{
  GstElement *enc = nullptr;
  switch (codec) {
    case VideoCodec::H264:
      enc = make_element("x264enc", "encoder");
      if (enc) {
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        /* No access unit delimiters: see h264aud.h. */
        g_object_set(enc, "bitrate", settings.bitrate_kbps, "key-int-max", settings.key_int_max,
                     "aud", FALSE, nullptr);
      }
      break;
    case VideoCodec::VP8:
    case VideoCodec::VP9:
      enc = make_element(codec == VideoCodec::VP8 ? "vp8enc" : "vp9enc", "encoder");
      if (enc) {
        gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
        g_object_set(enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", 8, "lag-in-frames", 0,
                     "target-bitrate", static_cast<gint>(settings.bitrate_kbps * 1000),
                     "keyframe-max-dist", static_cast<gint>(settings.key_int_max), "threads",
                     vpx_threads(width, height), nullptr);
        gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
      }
      break;
  }
  return enc;
}

/* Adds @chain between a new request pad of @from (a tee) and @to, and
 * starts it. Called from the streaming thread on the first caps. */
bool MediaFanout::insert_chain(const std::vector<GstElement *> &chain, GstElement *from,
                               GstElement *to, const char *what)
{
  for (GstElement *e : chain)
    gst_bin_add(bin_, e);
  Ref<GstPad> from_src = Ref<GstPad>::adopt(gst_element_request_pad_simple(from, "src_%u"));
  Ref<GstPad> first_sink = Ref<GstPad>::adopt(gst_element_get_static_pad(chain[0], "sink"));
  gst_pad_link(from_src.get(), first_sink.get());
  std::vector<GstElement *> linked = chain;
  linked.push_back(to);
  for (std::size_t i = 0; i + 1 < linked.size(); i++) {
    if (!gst_element_link(linked[i], linked[i + 1])) {
      GST_ELEMENT_ERROR(bin_, CORE, NEGOTIATION, ("Could not link the %s chain.", what),
                        ("%s -> %s", GST_ELEMENT_NAME(linked[i]), GST_ELEMENT_NAME(linked[i + 1])));
      return false;
    }
  }
  /* Downstream first, so nothing is pushed into an element still in NULL. */
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    gst_element_sync_state_with_parent(*it);
  return true;
}

/* valve ! queue ! [videoconvert ! encoder ! capsfilter] ! [parser] between
 * the input tee and the viewers' tee, on the first caps. */
bool MediaFanout::build_video_chain(const GstCaps *caps)
{
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const char *name = gst_structure_get_name(s);
  const bool raw = g_str_equal(name, "video/x-raw");
  FanoutSettings settings;
  {
    std::lock_guard<std::mutex> guard(lock_);
    settings = settings_;
    if (state_.started) {
      if (state_.encodes != raw) {
        GST_ELEMENT_ERROR(bin_, STREAM, FORMAT,
                          ("The input changed between raw and encoded video, which is not "
                           "supported."),
                          ("new caps %" GST_PTR_FORMAT, caps));
        return false;
      }
      gst_structure_get_int(s, "width", &state_.width);
      gst_structure_get_int(s, "height", &state_.height);
      return true;
    }
  }
  const VideoCodec codec = raw                                 ? settings.codec
                           : g_str_equal(name, "video/x-h264") ? VideoCodec::H264
                           : g_str_equal(name, "video/x-vp8")  ? VideoCodec::VP8
                                                               : VideoCodec::VP9;
  std::vector<GstElement *> chain;
  auto add = [&chain](GstElement *e) {
    chain.push_back(e);
    return e != nullptr;
  };
  bool ok = add(make_element("valve", "valve"));
  GstElement *queue = ok ? make_element("queue", "encoder-queue") : nullptr;
  ok = ok && add(queue);
  GstElement *encoder = nullptr;
  if (ok && raw) {
    /* Leaky: a slow encoder drops old raw frames instead of stalling a live source. */
    g_object_set(queue, "max-size-buffers", 2, "max-size-bytes", 0, "max-size-time",
                 G_GUINT64_CONSTANT(0), nullptr);
    gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
    ok = add(make_element("videoconvert", "convert"));
    int width = 0, height = 0;
    gst_structure_get_int(s, "width", &width);
    gst_structure_get_int(s, "height", &height);
    encoder = ok ? make_encoder(settings, codec, width, height) : nullptr;
    ok = ok && add(encoder);
    if (ok && codec == VideoCodec::H264) {
      GstElement *filter = make_element("capsfilter", "encoder-caps");
      ok = add(filter);
      if (ok) {
        Ref<GstCaps> fcaps = Ref<GstCaps>::adopt(
            gst_caps_from_string("video/x-h264, profile=(string)constrained-baseline, "
                                 "stream-format=(string)byte-stream"));
        g_object_set(filter, "caps", fcaps.get(), nullptr);
      }
    }
  } else if (ok) {
    g_object_set(queue, "max-size-buffers", 30, "max-size-bytes", 0, "max-size-time",
                 G_GUINT64_CONSTANT(0), nullptr);
  }
  if (ok && codec == VideoCodec::H264) {
    GstElement *parse = make_element("h264parse", "parser");
    ok = add(parse);
    if (ok)
      g_object_set(parse, "config-interval", -1, nullptr);
  }
  if (!ok) {
    discard(chain);
    return false;
  }
  /* Drop until the first viewer: no encoding work while nobody watches. */
  gst_util_set_object_arg(G_OBJECT(chain[0]), "drop-mode", "forward-sticky-events");
  g_object_set(chain[0], "drop", TRUE, nullptr);
  if (!insert_chain(chain, input_tee_, tee_, "video encoding"))
    return false;

  std::lock_guard<std::mutex> guard(lock_);
  valve_ = chain[0];
  encoder_ = encoder;
  state_.started = true;
  state_.encodes = raw;
  state_.video.codec = codec;
  /* Ours is constrained baseline (the encoder caps); passed-through H.264
   * is in whatever profile the input caps say. */
  const char *profile = raw ? nullptr : gst_structure_get_string(s, "profile");
  state_.video.h264_profile = profile ? profile : "constrained-baseline";
  gst_structure_get_int(s, "width", &state_.width);
  gst_structure_get_int(s, "height", &state_.height);
  /* A viewer may have joined before the first caps arrived. */
  if (video_consumers_)
    g_object_set(valve_, "drop", FALSE, nullptr);
  GST_INFO_OBJECT(bin_, "streaming %s, %s", video_codec_encoding_name(codec),
                  raw ? "encoded here" : "passed through");
  return true;
}

gboolean MediaFanout::video_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  MediaFanout *self = fanout_of(parent);
  const GstEventType type = GST_EVENT_TYPE(event);
  if (type == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    if (!self->build_video_chain(caps)) {
      gst_event_unref(event);
      return FALSE;
    }
  }
  const gboolean ret = gst_pad_event_default(pad, parent, event);
  if (type == GST_EVENT_EOS && self->on_eos_)
    self->on_eos_();
  return ret;
}

gboolean MediaFanout::video_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  /* Until the encoding chain exists, what the input accepts is the template
   * (the input tee and the end sink take anything). */
  if (!fanout_of(parent)->state().started) {
    switch (GST_QUERY_TYPE(query)) {
      case GST_QUERY_CAPS: {
        GstCaps *filter;
        gst_query_parse_caps(query, &filter);
        Ref<GstCaps> templ = Ref<GstCaps>::adopt(gst_pad_get_pad_template_caps(pad));
        Ref<GstCaps> result = filter ? Ref<GstCaps>::adopt(gst_caps_intersect_full(
                                           filter, templ.get(), GST_CAPS_INTERSECT_FIRST))
                                     : templ;
        gst_query_set_caps_result(query, result.get());
        return TRUE;
      }
      case GST_QUERY_ACCEPT_CAPS: {
        GstCaps *caps;
        gst_query_parse_accept_caps(query, &caps);
        Ref<GstCaps> templ = Ref<GstCaps>::adopt(gst_pad_get_pad_template_caps(pad));
        gst_query_set_accept_caps_result(query, gst_caps_is_subset(caps, templ.get()));
        return TRUE;
      }
      default:
        break;
    }
  }
  return gst_pad_query_default(pad, parent, query);
}

/* valve ! queue ! [audioconvert ! audioresample ! opusenc] between the audio
 * input tee and the viewers' audio tee, on the first caps. */
bool MediaFanout::build_audio_chain(const GstCaps *caps)
{
  const bool raw = gst_structure_has_name(gst_caps_get_structure(caps, 0), "audio/x-raw");
  guint bitrate;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (audio_valve_)
      return true; /* opusenc and audioconvert follow new raw caps themselves */
    bitrate = settings_.audio_bitrate_kbps;
  }
  std::vector<GstElement *> chain;
  for (const char *factory :
       raw ? std::vector<const char *>{"valve", "queue", "audioconvert", "audioresample", "opusenc"}
           : std::vector<const char *>{"valve", "queue"}) {
    GstElement *e = make_element(factory, (std::string("audio-") + factory).c_str());
    if (!e) {
      discard(chain);
      return false;
    }
    chain.push_back(e);
  }
  gst_util_set_object_arg(G_OBJECT(chain[0]), "drop-mode", "forward-sticky-events");
  g_object_set(chain[0], "drop", TRUE, nullptr);
  /* Leaky and short: audio late by more than this is worth less than the next. */
  g_object_set(chain[1], "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
               static_cast<guint64>(200 * GST_MSECOND), nullptr);
  gst_util_set_object_arg(G_OBJECT(chain[1]), "leaky", "downstream");
  if (raw) {
    /* 20 ms frames, low delay, forward error correction: what browsers send too. */
    g_object_set(chain.back(), "bitrate", static_cast<gint>(bitrate * 1000), "inband-fec", TRUE,
                 nullptr);
    gst_util_set_object_arg(G_OBJECT(chain.back()), "audio-type", "restricted-lowdelay");
  }
  if (!insert_chain(chain, audio_input_tee_, audio_tee_, "audio encoding"))
    return false;
  std::lock_guard<std::mutex> guard(lock_);
  audio_valve_ = chain[0];
  if (audio_consumers_)
    g_object_set(audio_valve_, "drop", FALSE, nullptr);
  GST_INFO_OBJECT(bin_, "streaming Opus audio, %s", raw ? "encoded here" : "passed through");
  return true;
}

gboolean MediaFanout::audio_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps(event, &caps);
    if (!fanout_of(parent)->build_audio_chain(caps)) {
      gst_event_unref(event);
      return FALSE;
    }
  }
  return gst_pad_event_default(pad, parent, event);
}

GstPad *MediaFanout::add_video_input(GstPadTemplate *templ, std::function<void()> on_eos)
{
  std::lock_guard<std::mutex> guard(lock_);
  if (video_pad_ || !input_tee_)
    return nullptr;
  on_eos_ = std::move(on_eos);
  Ref<GstPad> target = Ref<GstPad>::adopt(gst_element_get_static_pad(input_tee_, "sink"));
  GstPad *pad = gst_ghost_pad_new_from_template("video_0", target.get(), templ);
  gst_pad_set_event_function(pad, video_event);
  gst_pad_set_query_function(pad, video_query);
  gst_pad_set_active(pad, TRUE);
  video_pad_ = pad;
  return pad;
}

/* audio-input-tee ! audio-end-sink (preroll, pacing, EOS, as for video) and
 * the viewers' audio tee. */
GstPad *MediaFanout::add_audio_input(GstPadTemplate *templ)
{
  std::lock_guard<std::mutex> guard(lock_);
  if (audio_pad_)
    return nullptr;
  GstElement *input_tee = gst_element_factory_make("tee", "audio-input-tee");
  GstElement *end_sink = gst_element_factory_make("fakesink", "audio-end-sink");
  GstElement *tee = gst_element_factory_make("tee", "audio-tee");
  if (!input_tee || !end_sink || !tee) {
    discard({input_tee, end_sink, tee});
    return nullptr;
  }
  g_object_set(input_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  set_end_sink_properties(end_sink, settings_.sync);
  gst_bin_add_many(bin_, input_tee, end_sink, tee, nullptr);
  gst_element_link(input_tee, end_sink);
  for (GstElement *e : {tee, end_sink, input_tee})
    gst_element_sync_state_with_parent(e);
  audio_input_tee_ = input_tee;
  audio_end_sink_ = end_sink;
  audio_tee_ = tee;
  Ref<GstPad> target = Ref<GstPad>::adopt(gst_element_get_static_pad(input_tee, "sink"));
  GstPad *pad = gst_ghost_pad_new_from_template("audio_0", target.get(), templ);
  gst_pad_set_event_function(pad, audio_event);
  gst_pad_set_active(pad, TRUE);
  audio_pad_ = pad;
  state_.audio = true;
  return pad;
}

bool MediaFanout::release_input(GstPad *pad)
{
  std::lock_guard<std::mutex> guard(lock_);
  if (pad == video_pad_)
    video_pad_ = nullptr;
  else if (pad == audio_pad_)
    audio_pad_ = nullptr;
  else
    return false;
  return true;
}

FanoutState MediaFanout::state() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return state_;
}

Ref<GstPad> MediaFanout::request_video_pad()
{
  std::lock_guard<std::mutex> guard(lock_);
  return tee_ ? Ref<GstPad>::adopt(gst_element_request_pad_simple(tee_, "src_%u")) : Ref<GstPad>();
}

Ref<GstPad> MediaFanout::request_audio_pad()
{
  std::lock_guard<std::mutex> guard(lock_);
  return audio_tee_ ? Ref<GstPad>::adopt(gst_element_request_pad_simple(audio_tee_, "src_%u"))
                    : Ref<GstPad>();
}

void MediaFanout::release_tee_pad(const Ref<GstPad> &pad)
{
  Ref<GstElement> tee = Ref<GstElement>::adopt(GST_ELEMENT(gst_pad_get_parent(pad.get())));
  if (tee)
    gst_element_release_request_pad(tee.get(), pad.get());
}

void MediaFanout::set_consumers(bool video, bool audio)
{
  std::lock_guard<std::mutex> guard(lock_);
  video_consumers_ = video;
  audio_consumers_ = audio;
  if (valve_)
    g_object_set(valve_, "drop", video ? FALSE : TRUE, nullptr);
  if (audio_valve_)
    g_object_set(audio_valve_, "drop", audio ? FALSE : TRUE, nullptr);
}

void MediaFanout::request_key_unit(const char *why)
{
  Ref<GstElement> tee;
  {
    std::lock_guard<std::mutex> guard(lock_);
    tee = Ref<GstElement>::ref(tee_);
  }
  if (!tee)
    return;
  Ref<GstPad> sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(tee.get(), "sink"));
  GST_DEBUG_OBJECT(bin_, "requesting a key frame: %s", why);
  /* Marked so the viewers' rate limit on the tee lets it through. */
  GstStructure *s =
      gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN, TRUE, "running-time",
                        G_TYPE_UINT64, GST_CLOCK_TIME_NONE, "count", G_TYPE_UINT, 0,
                        "livecast-forced", G_TYPE_BOOLEAN, TRUE, nullptr);
  last_key_unit_us_ = g_get_monotonic_time();
  gst_pad_push_event(sinkpad.get(), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
}

/* Key frame requests from viewers (PLI/FIR), which all reach the one
 * encoder through the tee: at most one per kKeyUnitMinIntervalUs. */
GstPadProbeReturn MediaFanout::on_viewer_key_unit(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *self = static_cast<MediaFanout *>(data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event))
    return GST_PAD_PROBE_OK;
  gboolean forced = FALSE;
  if (gst_structure_get_boolean(gst_event_get_structure(event), "livecast-forced", &forced) &&
      forced)
    return GST_PAD_PROBE_OK;
  const gint64 now = g_get_monotonic_time();
  const gint64 last = self->last_key_unit_us_;
  if (last != 0 && now - last < kKeyUnitMinIntervalUs) {
    GST_LOG_OBJECT(self->bin_, "dropping a viewer's key frame request (rate limit)");
    return GST_PAD_PROBE_DROP;
  }
  self->last_key_unit_us_ = now;
  GST_DEBUG_OBJECT(self->bin_, "a viewer asked for a key frame");
  return GST_PAD_PROBE_OK;
}

/* What reaches the viewers' tee: counted, and H.264 without access unit
 * delimiters (h264aud.h; x264enc makes none, passed-through input may). */
GstPadProbeReturn MediaFanout::on_tee_input(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *self = static_cast<MediaFanout *>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      const GstStructure *s = gst_caps_get_structure(caps, 0);
      self->h264_form_ = !gst_structure_has_name(s, "video/x-h264") ? H264Form::None
                         : g_strcmp0(gst_structure_get_string(s, "stream-format"), "avc") == 0
                             ? H264Form::Avc
                             : H264Form::ByteStream;
    }
    return GST_PAD_PROBE_OK;
  }
  const H264Form form = self->h264_form_;
  if (form != H264Form::None)
    GST_PAD_PROBE_INFO_DATA(info) =
        h264_without_aud(GST_PAD_PROBE_INFO_BUFFER(info), form == H264Form::Avc);
  self->out_bytes_ += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  self->out_frames_++;
  return GST_PAD_PROBE_OK;
}

FanoutRates MediaFanout::update_rates()
{
  const gint64 now = g_get_monotonic_time();
  const guint64 bytes = out_bytes_, frames = out_frames_;
  std::lock_guard<std::mutex> guard(lock_);
  if (last_rate_us_ > 0 && now > last_rate_us_) {
    const double secs = (now - last_rate_us_) / double(G_USEC_PER_SEC);
    rates_.fps = (frames - last_frames_) / secs;
    rates_.bitrate_bps = (bytes - last_bytes_) * 8.0 / secs;
  }
  rates_.frames = frames;
  last_bytes_ = bytes;
  last_frames_ = frames;
  last_rate_us_ = now;
  return rates_;
}

FanoutRates MediaFanout::rates() const
{
  std::lock_guard<std::mutex> guard(lock_);
  FanoutRates r = rates_;
  r.frames = out_frames_;
  return r;
}

}  // namespace livecast
