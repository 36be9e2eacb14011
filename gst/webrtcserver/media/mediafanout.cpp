/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mediafanout.h"

#include <gst/video/video.h>

#include <algorithm>
#include <string>
#include <vector>

#include "debugcategory.h"
#include "h264aud.h"
#include "rungchain.h"

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

/* "-r<N>" for rungs below the top; the top's elements have no suffix. */
std::string rung_suffix(guint index)
{
  return index == 0 ? std::string() : "-r" + std::to_string(index);
}

/* Whether VP8 can be encoded and sent on demand (sdpoffer.h, SentVideo). */
bool vp8_available()
{
  for (const char *factory : {"vp8enc", "rtpvp8pay"}) {
    Ref<GstElementFactory> f = Ref<GstElementFactory>::adopt(gst_element_factory_find(factory));
    if (!f)
      return false;
  }
  return true;
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
    discard_elements({input_tee, end_sink, tee});
    return;
  }
  g_object_set(input_tee, "allow-not-linked", TRUE, nullptr);
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  set_end_sink_properties(end_sink, true);
  gst_bin_add_many(bin, input_tee, end_sink, tee, nullptr);
  gst_element_link(input_tee, end_sink);
  input_tee_ = input_tee;
  end_sink_ = end_sink;
  for (guint i = 0; i < rungs_.size(); i++) {
    rungs_[i].fanout = this;
    rungs_[i].index = i % kMaxRungs;
    rungs_[i].vp8 = i >= kMaxRungs;
  }
  rungs_[0].tee = tee;
  watch_tee(rungs_[0]);
}

MediaFanout::~MediaFanout()
{
  if (input_caps_)
    gst_structure_free(input_caps_);
}

/* Key frame requests from the rung's viewers, and what leaves its encoder. */
void MediaFanout::watch_tee(Rung &rung)
{
  Ref<GstPad> teesink = Ref<GstPad>::adopt(gst_element_get_static_pad(rung.tee, "sink"));
  gst_pad_add_probe(teesink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_viewer_key_unit, &rung,
                    nullptr);
  gst_pad_add_probe(
      teesink.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_tee_input, &rung, nullptr);
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
  if (state_.rungs.empty()) {
    set_encoder_bitrate(rungs_[0].encoder, kbps);
    return;
  }
  /* The ladder keeps its shape: every rung scales with the top. */
  state_.rungs = ladder_rungs(state_.rungs.size() > 1 ? settings_.ladder : Ladder::None,
                              state_.rungs[0].width, state_.rungs[0].height, kbps);
  for (guint i = 0; i < state_.rungs.size() && i < kMaxRungs; i++) {
    set_encoder_bitrate(rungs_[i].encoder, state_.rungs[i].bitrate_kbps);
    set_encoder_bitrate(rungs_[kMaxRungs + i].encoder, state_.rungs[i].bitrate_kbps);
  }
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

/* The stream's own chain (rungchain.h) between the input tee and the
 * viewers' tee, and the other rungs' tees, on the first caps. */
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
  EncodingChain chain;
  if (!build_stream_chain(bin_, s, codec, {settings.bitrate_kbps, settings.key_int_max}, chain))
    return false;
  /* The other rungs' tees exist from the start (viewers link to them at
   * once); their encoding chains come with their first viewer. */
  int width = 0, height = 0;
  gst_structure_get_int(s, "width", &width);
  gst_structure_get_int(s, "height", &height);
  const std::vector<RungSpec> rungs =
      ladder_rungs(raw ? settings.ladder : Ladder::None, width, height, settings.bitrate_kbps);
  for (guint i = 1; i < rungs.size() && i < kMaxRungs; i++) {
    if (!add_rung_tee(rungs_[i], "tee" + rung_suffix(i))) {
      discard_elements(chain.elements);
      return false;
    }
  }
  /* Raw input in another codec: VP8 on demand (sdpoffer.h, SentVideo). */
  const bool vp8_on_demand = raw && codec != VideoCodec::VP8 && vp8_available();
  for (guint i = 0; vp8_on_demand && i < rungs.size() && i < kMaxRungs; i++) {
    if (!add_rung_tee(rungs_[kMaxRungs + i], "vp8-tee" + rung_suffix(i))) {
      discard_elements(chain.elements);
      return false;
    }
  }
  if (!start_chain(bin_, chain.elements, input_tee_, rungs_[0].tee, "video encoding"))
    return false;

  std::lock_guard<std::mutex> guard(lock_);
  rungs_[0].valve = chain.valve();
  rungs_[0].encoder = chain.encoder;
  state_.rungs = rungs;
  if (raw)
    input_caps_ = gst_structure_copy(s);
  state_.started = true;
  state_.encodes = raw;
  state_.video.codec = codec;
  /* Ours is constrained baseline (the encoder caps); passed-through H.264
   * is in whatever profile the input caps say. */
  const char *profile = raw ? nullptr : gst_structure_get_string(s, "profile");
  state_.video.h264_profile = profile ? profile : "constrained-baseline";
  state_.video.encoded_here = raw;
  state_.video.vp8_on_demand = vp8_on_demand;
  state_.width = width;
  state_.height = height;
  /* A viewer may have joined before the first caps arrived. */
  const bool open = !video_consumers_.empty() && video_consumers_[0];
  set_chain_open(rungs_[0].valve, open);
  rungs_[0].rate.encoding = open;
  GST_INFO_OBJECT(bin_, "streaming %s, %s, %zu rung(s)%s", video_codec_encoding_name(codec),
                  raw ? "encoded here" : "passed through", rungs.size(),
                  vp8_on_demand ? ", VP8 on demand" : "");
  return true;
}

/* A rung's tee, for viewers to link to before its chain exists. */
bool MediaFanout::add_rung_tee(Rung &rung, const std::string &name)
{
  GstElement *tee = make_chain_element(bin_, "tee", name.c_str());
  if (!tee)
    return false;
  g_object_set(tee, "allow-not-linked", TRUE, nullptr);
  gst_bin_add(bin_, tee);
  gst_element_sync_state_with_parent(tee);
  rung.tee = tee;
  watch_tee(rung);
  return true;
}

/* The chain (rungchain.h) of the rung in @slot between the input tee and
 * its tee: built on the loop thread when the rung gets its first viewer. */
bool MediaFanout::build_rung(guint slot)
{
  const Rung &rung = rungs_[slot];
  FanoutSettings settings;
  RungSpec spec;
  Ref<GstCaps> input;
  VideoCodec codec;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (rung.index >= state_.rungs.size() || !input_caps_ || !rung.tee)
      return false;
    settings = settings_;
    spec = state_.rungs[rung.index];
    codec = rung.vp8 ? VideoCodec::VP8 : state_.video.codec;
    input = Ref<GstCaps>::adopt(gst_caps_new_full(gst_structure_copy(input_caps_), nullptr));
  }
  EncodingChain chain;
  const std::string suffix = (rung.vp8 ? "-vp8" : "") + rung_suffix(rung.index);
  EncoderParams params{settings.bitrate_kbps, settings.key_int_max};
  /* VP8 on demand is a second encoder of the same picture: the fastest
   * libvpx setting (a 720p30 encode took 2.9 s of 10 s here instead of
   * 3.9 s at 8, measured with gst-launch-1.0 on this 2-core machine). */
  if (rung.vp8)
    params.vpx_cpu_used = 16;
  if (!build_rung_chain(bin_, gst_caps_get_structure(input.get(), 0), spec, codec, params, suffix,
                        chain) ||
      !start_chain(bin_, chain.elements, input_tee_, rung.tee, "rung encoding"))
    return false;
  std::lock_guard<std::mutex> guard(lock_);
  rungs_[slot].valve = chain.valve();
  rungs_[slot].encoder = chain.encoder;
  GST_INFO_OBJECT(bin_, "%s rung %u: %dx%d%s at %u kbit/s", video_codec_encoding_name(codec),
                  rung.index, spec.width, spec.height, spec.half_rate ? " (half rate)" : "",
                  spec.bitrate_kbps);
  return true;
}

/* Where rung @rung in @codec is, or -1 (under the lock). */
gint MediaFanout::slot_of(guint rung, VideoCodec codec) const
{
  if (rung >= kMaxRungs)
    return -1;
  if (codec == state_.video.codec)
    return static_cast<gint>(rung);
  if (codec == VideoCodec::VP8 && state_.video.vp8_on_demand)
    return static_cast<gint>(kMaxRungs + rung);
  return -1;
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
    Ref<GstCaps> templ = Ref<GstCaps>::adopt(gst_pad_get_pad_template_caps(pad));
    if (answer_caps_query(query, templ.get()))
      return TRUE;
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
    GstElement *e = make_chain_element(bin_, factory, (std::string("audio-") + factory).c_str());
    if (!e) {
      discard_elements(chain);
      return false;
    }
    chain.push_back(e);
  }
  gst_util_set_object_arg(G_OBJECT(chain[0]), "drop-mode", "forward-sticky-events");
  set_chain_open(chain[0], false);
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
  if (!start_chain(bin_, chain, audio_input_tee_, audio_tee_, "audio encoding"))
    return false;
  std::lock_guard<std::mutex> guard(lock_);
  audio_valve_ = chain[0];
  set_chain_open(audio_valve_, audio_consumers_);
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
    discard_elements({input_tee, end_sink, tee});
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

Ref<GstPad> MediaFanout::request_video_pad(guint rung)
{
  std::lock_guard<std::mutex> guard(lock_);
  GstElement *tee = rung < kMaxRungs ? rungs_[rung].tee : nullptr;
  return tee ? Ref<GstPad>::adopt(gst_element_request_pad_simple(tee, "src_%u")) : Ref<GstPad>();
}

Ref<GstPad> MediaFanout::request_video_pad(guint rung, VideoCodec codec)
{
  std::lock_guard<std::mutex> guard(lock_);
  const gint slot = slot_of(rung, codec);
  GstElement *tee = slot >= 0 ? rungs_[slot].tee : nullptr;
  return tee ? Ref<GstPad>::adopt(gst_element_request_pad_simple(tee, "src_%u")) : Ref<GstPad>();
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

void MediaFanout::set_consumers(const std::vector<bool> &video_rungs,
                                const std::vector<bool> &vp8_rungs, bool audio)
{
  std::vector<bool> wanted(rungs_.size(), false);
  for (guint i = 0; i < kMaxRungs; i++) {
    wanted[i] = i < video_rungs.size() && video_rungs[i];
    wanted[kMaxRungs + i] = i < vp8_rungs.size() && vp8_rungs[i];
  }
  /* Rungs opened for the first time get their chain first (outside the
   * lock: building posts errors and links pads); the stream's own rung 0
   * is built with the first caps. */
  std::vector<guint> to_build;
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (guint i = 1; i < rungs_.size(); i++) {
      if (wanted[i] && rungs_[i].index < state_.rungs.size() && rungs_[i].tee && !rungs_[i].valve &&
          !rungs_[i].failed)
        to_build.push_back(i);
    }
  }
  for (guint i : to_build) {
    if (!build_rung(i)) {
      std::lock_guard<std::mutex> guard(lock_);
      rungs_[i].failed = true;
    }
  }
  std::lock_guard<std::mutex> guard(lock_);
  video_consumers_ = wanted;
  audio_consumers_ = audio;
  for (guint i = 0; i < rungs_.size(); i++) {
    const bool open = wanted[i];
    set_chain_open(rungs_[i].valve, open);
    rungs_[i].rate.encoding = open && rungs_[i].valve;
  }
  set_chain_open(audio_valve_, audio);
}

void MediaFanout::request_key_unit(const char *why, gint rung)
{
  std::vector<Ref<GstElement>> tees;
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (guint i = 0; i < rungs_.size(); i++) {
      const bool open = i == 0 || (i < video_consumers_.size() && video_consumers_[i]);
      if (rungs_[i].tee && (rung < 0 ? open : static_cast<guint>(rung) == i))
        tees.push_back(Ref<GstElement>::ref(rungs_[i].tee));
    }
  }
  for (const Ref<GstElement> &tee : tees) {
    Ref<GstPad> sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(tee.get(), "sink"));
    GST_DEBUG_OBJECT(bin_, "requesting a key frame from %s: %s", GST_ELEMENT_NAME(tee.get()), why);
    /* Marked so the viewers' rate limit on the tee lets it through. */
    GstStructure *s =
        gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN, TRUE, "running-time",
                          G_TYPE_UINT64, GST_CLOCK_TIME_NONE, "count", G_TYPE_UINT, 0,
                          "livecast-forced", G_TYPE_BOOLEAN, TRUE, nullptr);
    gst_pad_push_event(sinkpad.get(), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
  }
}

/* Key frame requests from viewers (PLI/FIR), which all reach the rung's
 * one encoder through its tee: at most one per kKeyUnitMinIntervalUs. */
GstPadProbeReturn MediaFanout::on_viewer_key_unit(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *rung = static_cast<Rung *>(data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!gst_video_event_is_force_key_unit(event))
    return GST_PAD_PROBE_OK;
  const gint64 now = g_get_monotonic_time();
  gboolean forced = FALSE;
  if (gst_structure_get_boolean(gst_event_get_structure(event), "livecast-forced", &forced) &&
      forced) {
    rung->last_key_unit_us = now;
    return GST_PAD_PROBE_OK;
  }
  const gint64 last = rung->last_key_unit_us;
  if (last != 0 && now - last < kKeyUnitMinIntervalUs) {
    GST_LOG_OBJECT(rung->fanout->bin_, "dropping a viewer's key frame request (rate limit)");
    return GST_PAD_PROBE_DROP;
  }
  rung->last_key_unit_us = now;
  GST_DEBUG_OBJECT(rung->fanout->bin_, "a viewer asked %srung %u for a key frame",
                   rung->vp8 ? "VP8 " : "", rung->index);
  return GST_PAD_PROBE_OK;
}

/* What reaches the viewers' tee: counted, and H.264 without access unit
 * delimiters (h264aud.h; x264enc makes none, passed-through input may). */
GstPadProbeReturn MediaFanout::on_tee_input(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *rung = static_cast<Rung *>(data);
  MediaFanout *self = rung->fanout;
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      const GstStructure *s = gst_caps_get_structure(caps, 0);
      if (rung->index == 0 && !rung->vp8)
        self->h264_form_ = !gst_structure_has_name(s, "video/x-h264") ? H264Form::None
                           : g_strcmp0(gst_structure_get_string(s, "stream-format"), "avc") == 0
                               ? H264Form::Avc
                               : H264Form::ByteStream;
    }
    return GST_PAD_PROBE_OK;
  }
  const H264Form form = rung->index == 0 && !rung->vp8 ? self->h264_form_.load() : H264Form::None;
  if (form != H264Form::None)
    GST_PAD_PROBE_INFO_DATA(info) =
        h264_without_aud(GST_PAD_PROBE_INFO_BUFFER(info), form == H264Form::Avc);
  rung->bytes += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  rung->frames++;
  return GST_PAD_PROBE_OK;
}

FanoutRates MediaFanout::update_rates()
{
  const gint64 now = g_get_monotonic_time();
  std::lock_guard<std::mutex> guard(lock_);
  const double secs =
      last_rate_us_ > 0 && now > last_rate_us_ ? (now - last_rate_us_) / double(G_USEC_PER_SEC) : 0;
  const std::size_t n =
      std::max<std::size_t>(1, std::min<std::size_t>(state_.rungs.size(), kMaxRungs));
  auto update = [secs](Rung &r) {
    const guint64 bytes = r.bytes, frames = r.frames;
    if (secs > 0) {
      r.rate.fps = (frames - r.last_frames) / secs;
      r.rate.bitrate_bps = (bytes - r.last_bytes) * 8.0 / secs;
    }
    r.last_bytes = bytes;
    r.last_frames = frames;
    return r.rate;
  };
  rates_.rungs.resize(n);
  rates_.vp8_rungs.resize(state_.video.vp8_on_demand ? n : 0);
  for (std::size_t i = 0; i < n; i++) {
    rates_.rungs[i] = update(rungs_[i]);
    if (state_.video.vp8_on_demand)
      rates_.vp8_rungs[i] = update(rungs_[kMaxRungs + i]);
  }
  rates_.fps = rungs_[0].rate.fps;
  rates_.bitrate_bps = rungs_[0].rate.bitrate_bps;
  rates_.frames = rungs_[0].frames;
  last_rate_us_ = now;
  return rates_;
}

FanoutRates MediaFanout::rates() const
{
  std::lock_guard<std::mutex> guard(lock_);
  FanoutRates r = rates_;
  r.frames = rungs_[0].frames;
  return r;
}

}  // namespace livecast
