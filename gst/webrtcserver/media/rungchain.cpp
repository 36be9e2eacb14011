/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rungchain.h"

#include "debugcategory.h"
#include "gstrefptr.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* What our H.264 encoders give: every browser decodes constrained baseline. */
constexpr const char *kH264EncoderCaps =
    "video/x-h264, profile=(string)constrained-baseline, stream-format=(string)byte-stream";

/* libvpx's threads split a frame in token partitions: up to 720p one thread
 * is faster on a small machine (2 cores: 89 frames of 300 at 720p30 with two
 * threads, all 300 with one; tests/bench/bench_glass.mjs), bigger pictures
 * need a second. */
gint vpx_threads(int width, int height)
{
  const gint cpus = static_cast<gint>(g_get_num_processors());
  return width * height > 1280 * 720 && cpus > 2 ? 2 : 1;
}

/* The queue in front of an encoder of raw video answers the input's caps,
 * accept-caps and serialized queries itself: the input thread (one for the
 * whole stream) must never wait for an encoder's thread, and through it for
 * the viewers' branches. A caps query would go on through the encoder into
 * the viewers' payloaders; an ALLOCATION query waits for the queue's thread
 * to take it. videoconvert, videoscale and videorate take any raw video, so
 * the answer is what the chain would have given. */
GstPadProbeReturn answer_raw_queries(GstPad *, GstPadProbeInfo *info, gpointer)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
  Ref<GstCaps> raw = Ref<GstCaps>::adopt(gst_caps_new_empty_simple("video/x-raw"));
  if (answer_caps_query(query, raw.get()))
    return GST_PAD_PROBE_HANDLED;
  /* Answered empty: upstream allocates on its own. */
  return GST_QUERY_IS_SERIALIZED(query) ? GST_PAD_PROBE_HANDLED : GST_PAD_PROBE_OK;
}

/* Leaky and two frames long: a slow encoder drops old raw frames instead of
 * stalling a live source. */
void make_raw_queue(GstElement *queue)
{
  g_object_set(queue, "max-size-buffers", 2, "max-size-bytes", 0, "max-size-time",
               G_GUINT64_CONSTANT(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(queue), "leaky", "downstream");
  Ref<GstPad> sink = Ref<GstPad>::adopt(gst_element_get_static_pad(queue, "sink"));
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, answer_raw_queries, nullptr,
                    nullptr);
}

/* SPS and PPS with every key frame: a viewer may start at any of them. */
GstElement *make_parser(GstBin *bin, const char *name)
{
  GstElement *parse = make_chain_element(bin, "h264parse", name);
  if (parse)
    g_object_set(parse, "config-interval", -1, nullptr);
  return parse;
}

/* Real-time encoders: no look-ahead, a key frame at least every
 * key_int_max frames and whenever a force-key-unit event asks. */
GstElement *make_encoder(GstBin *bin, VideoCodec codec, const EncoderParams &params, int width,
                         int height, const char *name)
{
  GstElement *enc = nullptr;
  switch (codec) {
    case VideoCodec::H264:
      enc = make_chain_element(bin, "x264enc", name);
      if (enc) {
        gst_util_set_object_arg(G_OBJECT(enc), "tune", "zerolatency");
        gst_util_set_object_arg(G_OBJECT(enc), "speed-preset", "ultrafast");
        /* No access unit delimiters: see h264aud.h. */
        g_object_set(enc, "bitrate", params.bitrate_kbps, "key-int-max", params.key_int_max, "aud",
                     FALSE, nullptr);
      }
      break;
    case VideoCodec::VP8:
    case VideoCodec::VP9:
      enc = make_chain_element(bin, codec == VideoCodec::VP8 ? "vp8enc" : "vp9enc", name);
      if (enc) {
        /* deadline 1: libvpx's real-time mode; error-resilient: a lost
         * packet spoils one frame's probabilities, not every later one. */
        gst_util_set_object_arg(G_OBJECT(enc), "end-usage", "cbr");
        g_object_set(
            enc, "deadline", G_GINT64_CONSTANT(1), "cpu-used", params.vpx_cpu_used, "lag-in-frames",
            0, "target-bitrate", static_cast<gint>(params.bitrate_kbps * 1000), "keyframe-max-dist",
            static_cast<gint>(params.key_int_max), "threads", vpx_threads(width, height), nullptr);
        gst_util_set_object_arg(G_OBJECT(enc), "error-resilient", "default");
      }
      break;
  }
  return enc;
}

/* Adds a capsfilter of @caps (taken) to @chain. */
bool add_caps_filter(GstBin *bin, std::vector<GstElement *> &chain, const std::string &name,
                     GstCaps *caps)
{
  GstElement *filter = make_chain_element(bin, "capsfilter", name.c_str());
  if (filter)
    g_object_set(filter, "caps", caps, nullptr);
  gst_caps_unref(caps);
  chain.push_back(filter);
  return filter != nullptr;
}

/* A whole chain (@ok) starts with its valve closed; one that is not is
 * thrown away (false). */
bool close_valve_or_discard(EncodingChain &chain, bool ok)
{
  if (!ok) {
    discard_elements(chain.elements);
    chain = EncodingChain();
    return false;
  }
  gst_util_set_object_arg(G_OBJECT(chain.valve()), "drop-mode", "forward-sticky-events");
  set_chain_open(chain.valve(), false);
  return true;
}

}  // namespace

GstElement *make_chain_element(GstBin *bin, const char *factory, const char *name)
{
  GstElement *e = gst_element_factory_make(factory, name);
  if (!e)
    GST_ELEMENT_ERROR(bin, CORE, MISSING_PLUGIN,
                      ("The GStreamer element \"%s\" is missing; install the plugin that "
                       "provides it (see the livecast README).",
                       factory),
                      (nullptr));
  return e;
}

void discard_elements(const std::vector<GstElement *> &elements)
{
  for (GstElement *e : elements) {
    if (e)
      gst_object_unref(gst_object_ref_sink(e));
  }
}

bool answer_caps_query(GstQuery *query, GstCaps *accepted)
{
  if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
    GstCaps *filter;
    gst_query_parse_caps(query, &filter);
    Ref<GstCaps> result = filter ? Ref<GstCaps>::adopt(gst_caps_intersect_full(
                                       filter, accepted, GST_CAPS_INTERSECT_FIRST))
                                 : Ref<GstCaps>::ref(accepted);
    gst_query_set_caps_result(query, result.get());
    return true;
  }
  if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
    GstCaps *caps;
    gst_query_parse_accept_caps(query, &caps);
    gst_query_set_accept_caps_result(query, gst_caps_is_subset(caps, accepted));
    return true;
  }
  return false;
}

void set_encoder_bitrate(GstElement *encoder, guint kbps)
{
  if (!encoder)
    return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), "target-bitrate"))
    g_object_set(encoder, "target-bitrate", static_cast<gint>(kbps * 1000), nullptr);
  else
    g_object_set(encoder, "bitrate", kbps, nullptr);
}

bool build_stream_chain(GstBin *bin, const GstStructure *input, VideoCodec codec,
                        const EncoderParams &params, EncodingChain &chain)
{
  const bool raw = gst_structure_has_name(input, "video/x-raw");
  auto add = [&chain](GstElement *e) {
    chain.elements.push_back(e);
    return e != nullptr;
  };
  bool ok = add(make_chain_element(bin, "valve", "valve"));
  GstElement *queue = ok ? make_chain_element(bin, "queue", "encoder-queue") : nullptr;
  ok = ok && add(queue);
  if (ok && raw) {
    make_raw_queue(queue);
    ok = add(make_chain_element(bin, "videoconvert", "convert"));
    int width = 0, height = 0;
    gst_structure_get_int(input, "width", &width);
    gst_structure_get_int(input, "height", &height);
    chain.encoder = ok ? make_encoder(bin, codec, params, width, height, "encoder") : nullptr;
    ok = ok && add(chain.encoder);
    if (ok && codec == VideoCodec::H264)
      ok = add_caps_filter(bin, chain.elements, "encoder-caps",
                           gst_caps_from_string(kH264EncoderCaps));
  } else if (ok) {
    g_object_set(queue, "max-size-buffers", 30, "max-size-bytes", 0, "max-size-time",
                 G_GUINT64_CONSTANT(0), nullptr);
  }
  if (ok && codec == VideoCodec::H264)
    ok = add(make_parser(bin, "parser"));
  return close_valve_or_discard(chain, ok);
}

bool build_rung_chain(GstBin *bin, const GstStructure *input, const RungSpec &spec,
                      VideoCodec codec, const EncoderParams &params, const std::string &suffix,
                      EncodingChain &chain)
{
  auto name = [&suffix](const char *base) { return std::string(base) + suffix; };
  auto add = [&chain](GstElement *e) {
    chain.elements.push_back(e);
    return e != nullptr;
  };
  bool ok = add(make_chain_element(bin, "valve", name("valve").c_str()));
  GstElement *queue =
      ok ? make_chain_element(bin, "queue", name("encoder-queue").c_str()) : nullptr;
  ok = ok && add(queue);
  if (ok)
    make_raw_queue(queue);
  gint fps_n = 0, fps_d = 1;
  if (ok && spec.half_rate && gst_structure_get_fraction(input, "framerate", &fps_n, &fps_d) &&
      fps_n > 0) {
    GstElement *rate = make_chain_element(bin, "videorate", name("rate").c_str());
    ok = add(rate);
    if (ok)
      g_object_set(rate, "drop-only", TRUE, nullptr);
    ok = ok && add_caps_filter(bin, chain.elements, name("rate-caps"),
                               gst_caps_new_simple("video/x-raw", "framerate", GST_TYPE_FRACTION,
                                                   fps_n, fps_d * 2, nullptr));
  }
  ok = ok && add(make_chain_element(bin, "videoscale", name("scale").c_str()));
  ok = ok && add_caps_filter(bin, chain.elements, name("scale-caps"),
                             gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, spec.width,
                                                 "height", G_TYPE_INT, spec.height, nullptr));
  ok = ok && add(make_chain_element(bin, "videoconvert", name("convert").c_str()));
  EncoderParams rung_params = params;
  rung_params.bitrate_kbps = spec.bitrate_kbps;
  chain.encoder =
      ok ? make_encoder(bin, codec, rung_params, spec.width, spec.height, name("encoder").c_str())
         : nullptr;
  ok = ok && add(chain.encoder);
  if (ok && codec == VideoCodec::H264) {
    ok = add_caps_filter(bin, chain.elements, name("encoder-caps"),
                         gst_caps_from_string(kH264EncoderCaps));
    ok = ok && add(make_parser(bin, name("parser").c_str()));
  }
  return close_valve_or_discard(chain, ok);
}

bool start_chain(GstBin *bin, const std::vector<GstElement *> &chain, GstElement *from,
                 GstElement *to, const char *what)
{
  for (GstElement *e : chain)
    gst_bin_add(bin, e);
  std::vector<GstElement *> linked = chain;
  linked.push_back(to);
  for (std::size_t i = 0; i + 1 < linked.size(); i++) {
    if (!gst_element_link(linked[i], linked[i + 1])) {
      GST_ELEMENT_ERROR(bin, CORE, NEGOTIATION, ("Could not link the %s chain.", what),
                        ("%s -> %s", GST_ELEMENT_NAME(linked[i]), GST_ELEMENT_NAME(linked[i + 1])));
      return false;
    }
  }
  /* Downstream first, so nothing is pushed into an element still in NULL,
   * and linked to @from only then: the input thread pushing into a pad not
   * yet active gets FLUSHING, which the tee hands upstream, and a live
   * source stops for good on it (every rung at 0 fps as a rung started,
   * tests/browser/ladder.test.mjs). */
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    gst_element_sync_state_with_parent(*it);
  Ref<GstPad> from_src = Ref<GstPad>::adopt(gst_element_request_pad_simple(from, "src_%u"));
  Ref<GstPad> first_sink = Ref<GstPad>::adopt(gst_element_get_static_pad(chain[0], "sink"));
  if (!from_src || gst_pad_link(from_src.get(), first_sink.get()) != GST_PAD_LINK_OK) {
    GST_ELEMENT_ERROR(bin, CORE, NEGOTIATION, ("Could not link the %s chain.", what),
                      ("%s -> %s", GST_ELEMENT_NAME(from), GST_ELEMENT_NAME(chain[0])));
    return false;
  }
  return true;
}

void set_chain_open(GstElement *valve, bool open)
{
  if (valve)
    g_object_set(valve, "drop", open ? FALSE : TRUE, nullptr);
}

}  // namespace livecast
