/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * webrtcserversink end to end with real WebRTC peers (GStreamer webrtcbin
 * receivers in this process) over real HTTP on loopback. Runs inside a
 * private network namespace (tests/netns-run.sh).
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include <atomic>
#include <thread>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "testutil.h"
#include "whepreceiver.h"

namespace
{

struct Sender {
  GstElement *pipeline = nullptr;
  GstElement *sink = nullptr;
  std::string url;
  /* Counted from the server thread, read from the test's. */
  std::atomic<guint> added{0}, removed{0}, upnp_on{0};

  /* @encode: a gst-launch fragment put between the raw source and the sink
   * (an encoder, to test pass-through of encoded input). */
  explicit Sender(const std::string &sink_props, const char *size = "320x240",
                  const std::string &encode = "")
  {
    std::string w(size, std::strchr(size, 'x')), h(std::strchr(size, 'x') + 1);
    const std::string desc = "videotestsrc is-live=true pattern=ball ! video/x-raw,width=" + w +
                             ",height=" + h + ",framerate=30/1 ! " +
                             (encode.empty() ? "" : encode + " ! ") +
                             "webrtcserversink name=sink port=0 " + sink_props;
    GError *err = nullptr;
    pipeline = gst_parse_launch(desc.c_str(), &err);
    g_assert_no_error(err);
    sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    g_signal_connect(sink, "viewer-added",
                     G_CALLBACK((+[](GstElement *, const char *, GstElement *webrtcbin, Sender *s) {
                       /* Every ICE agent the sink creates has UPnP off. */
                       GObject *ice = nullptr, *agent = nullptr;
                       gboolean upnp = TRUE;
                       g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
                       g_object_get(ice, "agent", &agent, nullptr);
                       g_object_get(agent, "upnp", &upnp, nullptr);
                       g_object_unref(agent);
                       g_object_unref(ice);
                       if (upnp)
                         s->upnp_on++;
                       s->added++;
                     })),
                     this);
    g_signal_connect(sink, "viewer-removed",
                     G_CALLBACK(+[](GstElement *, const char *, Sender *s) { s->removed++; }),
                     this);
    g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=,
                    GST_STATE_CHANGE_FAILURE);
    gint port = 0;
    g_object_get(sink, "bound-port", &port, nullptr);
    g_assert_cmpint(port, >, 0);
    url = "http://127.0.0.1:" + std::to_string(port);
    /* The first caps must have reached the sink before offers are accepted. */
    for (int i = 0; i < 200 && http_request("GET", url + "/stats").body.find("\"codec\":\"\"") !=
                                   std::string::npos;
         i++)
      g_usleep(10000);
  }
  ~Sender()
  {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(sink);
    gst_object_unref(pipeline);
  }
  guint viewers() const
  {
    guint n = 0;
    g_object_get(sink, "viewers", &n, nullptr);
    return n;
  }
  bool wait_viewers(guint n, guint timeout_ms) const
  {
    for (guint i = 0; i < timeout_ms / 20; i++) {
      if (viewers() == n)
        return true;
      g_usleep(20000);
    }
    return viewers() == n;
  }
  /* Elements of @factory anywhere inside the sink. */
  int count_elements(const char *factory) const
  {
    int n = 0;
    GstIterator *it = gst_bin_iterate_recurse(GST_BIN(sink));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      GstElementFactory *f = gst_element_get_factory(GST_ELEMENT(g_value_get_object(&item)));
      if (f && g_str_equal(GST_OBJECT_NAME(f), factory))
        n++;
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return n;
  }
};

void check_whep_viewer(const char *codec_prop, const char *codec, bool level_asymmetry = true)
{
  Sender sender(std::string("video-codec=") + codec_prop);
  WhepReceiver rx(sender.url, codec);
  rx.level_asymmetry = level_asymmetry;
  std::string error;
  g_assert_true(rx.start(error) || (g_printerr("%s\n", error.c_str()), false));

  /* WHEP headers: Location to the session, ETag, trickle accepted. */
  g_assert_true(g_str_has_prefix(rx.location().c_str(), "/whep/"));
  g_assert_cmpuint(rx.location().size(), >=, 6 + 32); /* 128-bit id */
  g_assert_false(rx.post_result().header("ETag").empty());
  /* A named copy: g_assert_cmpstr keeps the pointer past a temporary's end. */
  const std::string content_type = rx.post_result().header("Content-Type");
  g_assert_cmpstr(content_type.c_str(), ==, "application/sdp");
  /* The answer mirrors the offer's payload type. */
  const std::string pt = g_str_equal(codec, "H264") ? "102" : "98"; /* as the receiver offers */
  g_assert_true(rx.answer().find("a=rtpmap:" + pt + " " + codec + "/90000") != std::string::npos);
  g_assert_true(rx.answer().find("a=sendonly") != std::string::npos);
  if (g_str_equal(codec, "H264"))
    g_assert_true(rx.answer().find("profile-level-id=42e01f") != std::string::npos);
  if (g_getenv("SHOW_ANSWER"))
    g_print("%s\n", rx.answer().c_str());
  g_assert_true(rx.answer().find("a=candidate:") != std::string::npos);

  g_assert_true(rx.wait_frames(30, 10000) ||
                (g_printerr("only %u frames decoded\n", rx.frames()), false));
  g_print("# %s: 30 frames decoded, first after %.0f ms\n", codec, rx.first_frame_ms());
  g_assert_cmpuint(sender.viewers(), ==, 1);
  g_assert_cmpuint(sender.added.load(), ==, 1);
  g_assert_cmpuint(sender.upnp_on.load(), ==, 0);

  /* Trickle PATCH is accepted. */
  g_assert_cmpint(rx.trickle(), ==, 204);

  /* /stats sees the viewer. */
  HttpResult stats = http_request("GET", sender.url + "/stats");
  g_assert_cmpint(stats.status, ==, 200);
  g_assert_true(stats.body.find("\"viewers\":1") != std::string::npos);

  /* DELETE ends it and frees the branch. */
  g_assert_cmpint(rx.stop_session(), ==, 200);
  g_assert_true(sender.wait_viewers(0, 2000));
  for (int i = 0; i < 100 && (sender.count_elements("webrtcbin") != 0 || sender.removed < 1); i++)
    g_usleep(20000);
  g_assert_cmpint(sender.count_elements("webrtcbin"), ==, 0);
  g_assert_cmpuint(sender.removed.load(), ==, 1);
  g_assert_cmpint(rx.stop_session(), ==, 404);
}

void test_whep_h264()
{
  check_whep_viewer("h264", "H264");
}

/* An offer without level-asymmetry-allowed (GstSdp then keeps the exact
 * profile-level-id, which differs from x264's) still plays. */
void test_whep_h264_strict_level()
{
  check_whep_viewer("h264", "H264", false);
}

void test_whep_vp8()
{
  check_whep_viewer("vp8", "VP8");
}

void test_whep_vp9()
{
  check_whep_viewer("vp9", "VP9");
}

/* Already-encoded input is passed through: no encoder inside the sink. */
void check_pass_through(const char *encode, const char *codec)
{
  Sender sender("", "320x240", encode);
  WhepReceiver rx(sender.url, codec);
  std::string error;
  g_assert_true(rx.start(error) || (g_printerr("%s\n", error.c_str()), false));
  g_assert_true(rx.wait_frames(30, 10000));
  /* The one encoder is upstream, outside the sink. */
  g_assert_cmpint(sender.count_elements("x264enc") + sender.count_elements("vp8enc"), ==, 0);
}

void test_pass_through_h264()
{
  /* Left alone, x264enc would pick High 4:4:4 for videotestsrc's default
   * format, which browsers cannot decode: the sink's caps steer it. */
  check_pass_through(
      "x264enc tune=zerolatency key-int-max=30 ! video/x-h264,profile=constrained-baseline ! "
      "h264parse",
      "H264");
}

void test_pass_through_vp8()
{
  check_pass_through("vp8enc deadline=1 keyframe-max-dist=30", "VP8");
}

/* Offer of a receiver that wants @codec only, for the no-common-codec case. */
std::string offer_for(const std::string &url, const char *codec)
{
  WhepReceiver rx(url, codec);
  std::string error;
  rx.start(error); /* fails at the POST, which is fine: we only want its offer */
  return rx.offer();
}

/* The value of "key":<number> or "key":true/false in @json from @from on. */
std::string json_field(const std::string &json, const std::string &key, std::size_t from = 0)
{
  const std::string needle = "\"" + key + "\":";
  const std::size_t at = json.find(needle, from);
  if (at == std::string::npos)
    return "";
  const std::size_t start = at + needle.size();
  return json.substr(start, json.find_first_of(",}", start) - start);
}

/* The /stats object of the rung @rung in @codec ("" when it is not listed). */
std::string rung_stats(const std::string &url, const char *codec, int rung)
{
  const std::string stats = http_request("GET", url + "/stats").body;
  const std::string key = "{\"rung\":" + std::to_string(rung) + ",\"codec\":\"" + codec + "\"";
  const std::size_t at = stats.find(key);
  return at == std::string::npos ? "" : stats.substr(at, stats.find('}', at) - at + 1);
}

/* An offer without H.264 but with VP8 gets VP8 encoded from the same raw
 * input, only while it watches; an H.264 viewer beside it keeps H.264. */
void test_vp8_on_demand()
{
  Sender sender("", "640x360");
  g_assert_true(rung_stats(sender.url, "VP8", 0).find("\"encoding\":false") != std::string::npos);
  g_assert_cmpint(sender.count_elements("vp8enc"), ==, 0); /* built with its first viewer */
  WhepReceiver h264(sender.url, "H264"), vp8(sender.url, "VP8");
  std::string error;
  g_assert_true(h264.start(error) || (g_printerr("%s\n", error.c_str()), false));
  g_assert_true(vp8.start(error) || (g_printerr("%s\n", error.c_str()), false));
  g_assert_true(vp8.answer().find("a=rtpmap:98 VP8/90000") != std::string::npos);
  g_assert_true(h264.answer().find("H264/90000") != std::string::npos);
  g_assert_true(h264.wait_frames(60, 10000));
  g_assert_true(vp8.wait_frames(60, 10000) ||
                (g_printerr("VP8 viewer: %u frames\n", vp8.frames()), false));
  g_assert_cmpint(sender.count_elements("vp8enc"), ==, 1);
  /* /stats: the VP8 top rung encodes for its one viewer; one H.264 viewer. */
  std::string vp8_top;
  for (int i = 0;
       i < 50 && json_field(vp8_top = rung_stats(sender.url, "VP8", 0), "viewers") != "1"; i++)
    g_usleep(100000);
  g_print("# VP8 rung 0 while watched: %s\n", vp8_top.c_str());
  /* Named: g_assert_cmpstr keeps the pointer past a temporary's end. */
  const std::string vp8_encoding = json_field(vp8_top, "encoding");
  const std::string vp8_viewers = json_field(vp8_top, "viewers");
  const std::string h264_viewers = json_field(rung_stats(sender.url, "H264", 0), "viewers");
  g_assert_cmpstr(vp8_encoding.c_str(), ==, "true");
  g_assert_cmpstr(vp8_viewers.c_str(), ==, "1");
  g_assert_cmpstr(h264_viewers.c_str(), ==, "1");

  /* The VP8 viewer leaves: its rung stops, the H.264 viewer plays on. */
  g_assert_cmpint(vp8.stop_session(), ==, 200);
  g_assert_true(sender.wait_viewers(1, 2000));
  std::string stopped;
  for (int i = 0;
       i < 50 && json_field(stopped = rung_stats(sender.url, "VP8", 0), "encoding") != "false"; i++)
    g_usleep(100000);
  g_print("# VP8 rung 0 after its viewer left: %s\n", stopped.c_str());
  const std::string stopped_encoding = json_field(stopped, "encoding");
  g_assert_cmpstr(stopped_encoding.c_str(), ==, "false");
  const guint before = h264.frames();
  g_assert_true(h264.wait_frames(before + 30, 5000));
}

/* Already-encoded input has no raw video to encode VP8 from: a VP8-only
 * offer is refused and told why. */
void test_vp8_not_for_encoded_input()
{
  Sender sender("", "320x240",
                "x264enc tune=zerolatency key-int-max=30 ! "
                "video/x-h264,profile=constrained-baseline ! h264parse");
  HttpResult r =
      http_request("POST", sender.url + "/whep", "application/sdp", offer_for(sender.url, "VP8"));
  g_print("# VP8 offer, H.264 input -> %d %s", r.status, r.body.c_str());
  g_assert_cmpint(r.status, ==, 406);
  g_assert_true(r.body.find("no raw video to encode VP8 from") != std::string::npos);
}

void test_offer_json()
{
  Sender sender("");
  WhepReceiver rx(sender.url, "H264");
  std::string error;
  g_assert_true(rx.start(error, true) || (g_printerr("%s\n", error.c_str()), false));
  g_assert_true(rx.wait_frames(30, 10000));
}

/* Several viewers share one encoder; one leaving does not disturb the others. */
void test_fan_out()
{
  Sender sender("");
  std::vector<std::unique_ptr<WhepReceiver>> rxs;
  for (int i = 0; i < 4; i++) {
    rxs.push_back(std::make_unique<WhepReceiver>(sender.url, i % 2 ? "H264" : "H264"));
    std::string error;
    g_assert_true(rxs.back()->start(error, i == 3) || (g_printerr("%s\n", error.c_str()), false));
  }
  for (auto &rx : rxs)
    g_assert_true(rx->wait_frames(30, 10000));
  g_assert_cmpint(sender.count_elements("x264enc"), ==, 1);
  g_assert_cmpint(sender.count_elements("webrtcbin"), ==, 4);

  g_assert_cmpint(rxs[0]->stop_session(), ==, 200);
  g_assert_true(sender.wait_viewers(3, 2000));
  guint before[4];
  for (int i = 1; i < 4; i++)
    before[i] = rxs[i]->frames();
  for (int i = 1; i < 4; i++)
    g_assert_true(rxs[i]->wait_frames(before[i] + 30, 5000));
}

/* A viewer's PLI makes the encoder send a key frame at once; a burst of
 * PLIs makes at most a couple (rate limit). */
void test_key_frame_on_pli()
{
  Sender sender("key-int-max=3000");
  WhepReceiver rx(sender.url, "H264");
  std::string error;
  g_assert_true(rx.start(error));
  g_assert_true(rx.wait_frames(30, 10000));
  g_usleep(G_USEC_PER_SEC); /* past the join/connect key frames and the rate limit window */
  const guint before = rx.key_frames();
  g_assert_cmpuint(before, >=, 1);
  rx.request_key_frame();
  for (int i = 0; i < 50 && rx.key_frames() == before; i++)
    g_usleep(20000);
  g_assert_cmpuint(rx.key_frames(), ==, before + 1);
  g_usleep(G_USEC_PER_SEC);
  const guint after_one = rx.key_frames();
  for (int i = 0; i < 10; i++) {
    rx.request_key_frame();
    g_usleep(10000);
  }
  g_usleep(G_USEC_PER_SEC);
  const guint burst = rx.key_frames() - after_one;
  g_print("# PLI: one key frame per request; a burst of 10 PLIs in 100 ms gave %u\n", burst);
  g_assert_cmpuint(burst, >=, 1);
  g_assert_cmpuint(burst, <=, 2);
}

/* A viewer in another process (aiortc, Chromium) printing "frames N" lines. */
struct ExternalViewer {
  GSubprocess *process = nullptr;
  std::thread reader;
  std::atomic<guint> frames{0};

  ExternalViewer(const std::vector<std::string> &argv)
  {
    std::vector<const char *> args;
    for (const auto &a : argv)
      args.push_back(a.c_str());
    args.push_back(nullptr);
    GError *err = nullptr;
    process = g_subprocess_newv(args.data(), G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err);
    g_assert_no_error(err);
    reader = std::thread([this]() {
      GDataInputStream *in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(process));
      while (gchar *line = g_data_input_stream_read_line(in, nullptr, nullptr, nullptr)) {
        if (g_str_has_prefix(line, "frames "))
          frames = static_cast<guint>(g_ascii_strtoull(line + 7, nullptr, 10));
        g_free(line);
      }
      g_object_unref(in);
    });
  }
  bool wait_frames(guint n, guint timeout_ms)
  {
    for (guint i = 0; i < timeout_ms / 50 && frames < n; i++)
      g_usleep(50000);
    return frames >= n;
  }
  ~ExternalViewer()
  {
    g_subprocess_force_exit(process);
    g_subprocess_wait(process, nullptr, nullptr);
    reader.join();
    g_object_unref(process);
  }
};

/* Four viewers of different kinds (webrtcbin over WHEP, webrtcbin over
 * JSON /offer, aiortc, Chromium playing the served page) share one encoder;
 * one leaving does not stop the others. */
void test_mixed_viewers()
{
  const char *root = g_getenv("LIVECAST_SOURCE_ROOT");
  const std::string chromium_script =
      std::string(root ? root : "..") + "/tests/integration/chromium_viewer.mjs";
  const std::string aiortc_script =
      std::string(root ? root : "..") + "/tests/integration/test_aiortc.py";
  const std::string modules =
      std::string(root ? root : "..") + "/tests/browser/node_modules/playwright-core";
  if (!g_file_test(modules.c_str(), G_FILE_TEST_IS_DIR) ||
      !g_file_test("/usr/lib/chromium/chromium", G_FILE_TEST_IS_EXECUTABLE) ||
      !g_file_test("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE)) {
    testutil::skip_missing(
        "Chromium, playwright-core or aiortc missing (scripts/install-deps.sh --tests)");
    return;
  }
  Sender sender("", "640x480");
  WhepReceiver whep(sender.url, "H264"), json_offer(sender.url, "H264");
  std::string error;
  g_assert_true(whep.start(error));
  g_assert_true(json_offer.start(error, true));
  ExternalViewer aiortc(
      {"/usr/bin/python3", aiortc_script, "--url", sender.url, "--seconds", "25"});
  ExternalViewer browser({"node", chromium_script, "--url", sender.url + "/", "--seconds", "25"});

  g_assert_true(whep.wait_frames(30, 10000));
  g_assert_true(json_offer.wait_frames(30, 10000));
  g_assert_true(aiortc.wait_frames(30, 15000) ||
                (g_printerr("aiortc: %u\n", aiortc.frames.load()), false));
  g_assert_true(browser.wait_frames(30, 20000) ||
                (g_printerr("chromium: %u\n", browser.frames.load()), false));
  g_assert_cmpuint(sender.viewers(), ==, 4);
  g_assert_cmpint(sender.count_elements("x264enc"), ==, 1);
  g_assert_cmpint(sender.count_elements("webrtcbin"), ==, 4);

  g_assert_cmpint(whep.stop_session(), ==, 200);
  g_assert_true(sender.wait_viewers(3, 2000));
  const guint j = json_offer.frames(), a = aiortc.frames, b = browser.frames;
  g_assert_true(json_offer.wait_frames(j + 30, 5000));
  g_assert_true(aiortc.wait_frames(a + 30, 5000));
  g_assert_true(browser.wait_frames(b + 30, 5000));
  g_print(
      "# mixed: webrtcbin, aiortc and Chromium kept playing after a viewer left "
      "(%u, %u, %u frames)\n",
      json_offer.frames(), aiortc.frames.load(), browser.frames.load());
}

/* A viewer that vanishes without DELETE is reaped within 10 s. */
void test_vanished_viewer()
{
  Sender sender("");
  WhepReceiver rx(sender.url, "H264");
  std::string error;
  g_assert_true(rx.start(error));
  g_assert_true(rx.wait_frames(10, 10000));
  const gint64 start = g_get_monotonic_time();
  rx.vanish();
  g_assert_true(sender.wait_viewers(0, 12000));
  const double secs = (g_get_monotonic_time() - start) / 1e6;
  g_print("# vanished viewer reaped after %.1f s\n", secs);
  g_assert_cmpfloat(secs, <=, 10.0);
}

/* End of stream ends every viewer, and the pipeline's EOS arrives promptly
 * (gst-launch-1.0 -e and the launcher wait for it). */
void test_eos_ends_viewers()
{
  Sender sender("");
  WhepReceiver a(sender.url, "H264"), b(sender.url, "H264");
  std::string error;
  g_assert_true(a.start(error));
  g_assert_true(b.start(error));
  g_assert_true(a.wait_frames(5, 10000));
  g_assert_true(b.wait_frames(5, 10000));
  const gint64 start = g_get_monotonic_time();
  gst_element_send_event(sender.pipeline, gst_event_new_eos());
  GstBus *bus = gst_element_get_bus(sender.pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 5 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const double secs = (g_get_monotonic_time() - start) / 1e6;
  g_assert_nonnull(msg);
  g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
  gst_message_unref(msg);
  gst_object_unref(bus);
  g_print("# EOS message %.2f s after EOS was sent\n", secs);
  g_assert_cmpfloat(secs, <, 2.0);
  g_assert_true(sender.wait_viewers(0, 2000));
  for (int i = 0; i < 100 && sender.removed < 2; i++)
    g_usleep(10000);
  g_assert_cmpuint(sender.removed.load(), ==, 2);
}

/* A file (non-live) prerolls, plays at its own speed and always ends with
 * EOS, even with nobody watching (it used to run through in PAUSED and lose
 * its EOS now and then). */
void test_file_plays_at_its_speed()
{
  gchar *dir = g_dir_make_tmp("livecast-file-XXXXXX", nullptr);
  gchar *path = g_build_filename(dir, "one-second.mp4", nullptr);
  const std::string make = std::string(
                               "videotestsrc num-buffers=30 ! video/x-raw,width=320,height=240,"
                               "framerate=30/1 ! x264enc ! mp4mux ! filesink location=") +
                           path;
  GstElement *maker = gst_parse_launch(make.c_str(), nullptr);
  gst_element_set_state(maker, GST_STATE_PLAYING);
  GstBus *mbus = gst_element_get_bus(maker);
  gst_message_unref(gst_bus_timed_pop_filtered(
      mbus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  gst_object_unref(mbus);
  gst_element_set_state(maker, GST_STATE_NULL);
  gst_object_unref(maker);

  gchar *uri = gst_filename_to_uri(path, nullptr);
  for (int run = 0; run < 5; run++) {
    const std::string desc =
        std::string("uridecodebin uri=") + uri + " ! videoconvert ! webrtcserversink port=0";
    GstElement *pipeline = gst_parse_launch(desc.c_str(), nullptr);
    const gint64 start = g_get_monotonic_time();
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(pipeline);
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, 5 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    const double secs = (g_get_monotonic_time() - start) / 1e6;
    g_assert_nonnull(msg);
    g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
    gst_message_unref(msg);
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    g_print("# run %d: a 1 s file ended after %.2f s\n", run, secs);
    g_assert_cmpfloat(secs, >=, 0.9);
    g_assert_cmpfloat(secs, <, 3.0);
  }
  g_free(uri);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

/* Stopping the pipeline ends every viewer and announces it. */
void test_stop_with_viewers()
{
  auto sender = std::make_unique<Sender>("");
  WhepReceiver a(sender->url, "H264"), b(sender->url, "H264");
  std::string error;
  g_assert_true(a.start(error));
  g_assert_true(b.start(error));
  g_assert_true(a.wait_frames(5, 10000));
  g_assert_true(b.wait_frames(5, 10000));
  gst_element_set_state(sender->pipeline, GST_STATE_NULL);
  g_assert_cmpuint(sender->removed.load(), ==, 2);
  g_assert_cmpint(sender->count_elements("webrtcbin"), ==, 0);
  g_assert_cmpuint(sender->viewers(), ==, 0);
}

struct BadCase {
  const char *what;
  const char *method;
  std::string path;
  std::string type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int status;
};

/* Every bad request gets its status and a one-sentence reason, and the
 * server keeps serving a good viewer afterwards. */
void test_bad_input()
{
  Sender sender("token=s3cret max-viewers=1");
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"Authorization", "Bearer s3cret"}};
  WhepReceiver probe(sender.url, "H264");
  std::string error;
  /* A real offer, refused for lack of token: used as the base of the table. */
  g_assert_false(probe.start(error));
  g_assert_cmpint(probe.post_result().status, ==, 401);
  const std::string offer = probe.offer();
  /* VP8 would be encoded on demand (test_vp8_on_demand); VP9 never is. */
  const std::string vp9_offer = offer_for(sender.url, "VP9");

  const std::vector<BadCase> cases = {
      {"missing token", "POST", "/whep", "application/sdp", offer, {}, 401},
      {"wrong token",
       "POST",
       "/whep",
       "application/sdp",
       offer,
       {{"Authorization", "Bearer nope"}},
       401},
      {"wrong content type", "POST", "/whep", "text/plain", offer, auth, 415},
      {"malformed SDP", "POST", "/whep", "application/sdp", "v=0\r\nthis is not sdp", auth, 400},
      {"not SDP at all", "POST", "/whep", "application/sdp", "hello", auth, 400},
      {"oversized body", "POST", "/whep", "application/sdp", std::string(200 * 1024, 'a'), auth,
       413},
      {"no common codec", "POST", "/whep", "application/sdp", vp9_offer, auth, 406},
      {"malformed JSON", "POST", "/offer", "application/json", "{\"sdp\":", auth, 400},
      {"unknown session PATCH", "PATCH", "/whep/0123456789abcdef",
       "application/trickle-ice-sdpfrag", "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n", auth,
       404},
      {"unknown session DELETE", "DELETE", "/whep/0123456789abcdef", "", "", auth, 404},
      {"unknown path", "GET", "/no/such/page", "", "", {}, 404},
      {"wrong method", "PUT", "/whep", "application/sdp", offer, auth, 405},
  };
  for (const auto &c : cases) {
    HttpResult r = http_request(c.method, sender.url + c.path, c.type, c.body, c.headers);
    g_print("# %-24s -> %d %s", c.what, r.status, r.body.c_str());
    if (r.status != c.status)
      g_error("%s: expected %d, got %d", c.what, c.status, r.status);
    g_assert_true(r.body.size() > 10 && r.body.find('.') != std::string::npos);
  }

  /* One viewer is the limit here: the next one gets 503 with Retry-After. */
  WhepReceiver good(sender.url, "H264");
  g_assert_true(good.start(error, false, "s3cret") || (g_printerr("%s\n", error.c_str()), false));
  WhepReceiver extra(sender.url, "H264");
  g_assert_false(extra.start(error, false, "s3cret"));
  g_print("# %-24s -> %d %s", "over max-viewers", extra.post_result().status,
          extra.post_result().body.c_str());
  g_assert_cmpint(extra.post_result().status, ==, 503);
  g_assert_false(extra.post_result().header("Retry-After").empty());

  /* After all that, the good viewer plays. */
  g_assert_true(good.wait_frames(30, 10000));
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  testutil::add("/webrtcserversink/whep-h264", test_whep_h264);
  testutil::add("/webrtcserversink/whep-h264-strict-level", test_whep_h264_strict_level);
  testutil::add("/webrtcserversink/whep-vp8", test_whep_vp8);
  testutil::add("/webrtcserversink/whep-vp9", test_whep_vp9);
  testutil::add("/webrtcserversink/pass-through-h264", test_pass_through_h264);
  testutil::add("/webrtcserversink/pass-through-vp8", test_pass_through_vp8);
  testutil::add("/webrtcserversink/offer-json", test_offer_json);
  testutil::add("/webrtcserversink/vp8-on-demand", test_vp8_on_demand);
  testutil::add("/webrtcserversink/vp8-not-for-encoded-input", test_vp8_not_for_encoded_input);
  testutil::add("/webrtcserversink/bad-input", test_bad_input);
  testutil::add("/webrtcserversink/fan-out", test_fan_out);
  testutil::add("/webrtcserversink/mixed-viewers", test_mixed_viewers);
  testutil::add("/webrtcserversink/key-frame-on-pli", test_key_frame_on_pli);
  testutil::add("/webrtcserversink/vanished-viewer", test_vanished_viewer);
  testutil::add("/webrtcserversink/stop-with-viewers", test_stop_with_viewers);
  testutil::add("/webrtcserversink/eos-ends-viewers", test_eos_ends_viewers);
  testutil::add("/webrtcserversink/file-plays-at-its-speed", test_file_plays_at_its_speed);
  return testutil::run();
}
