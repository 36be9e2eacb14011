/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "options.h"

#include "util.h"

#include <gst/gst.h>

namespace livecast
{

namespace
{

/* GOption fills C strings; they are moved into CommandLine and freed here. */
struct RawOptions {
  gchar *preset = nullptr, *port = nullptr, *bind = nullptr, *codec = nullptr;
  gchar *bitrate = nullptr, *fps = nullptr, *size = nullptr, *token = nullptr;
  gchar *file = nullptr, *stun = nullptr, *monitor = nullptr, *region = nullptr;
  gboolean list_presets = FALSE, print_pipeline = FALSE, loop = FALSE, version = FALSE;
  gboolean verbose = FALSE, no_cursor = FALSE, relay_only = FALSE, talkback = FALSE;
  gchar **turn = nullptr;
  gchar *signaling_url = nullptr, *room = nullptr, *tls_cert = nullptr, *tls_key = nullptr;
  gchar *max_viewers = nullptr, *max_pending = nullptr, *max_offers_per_second = nullptr;
  gchar *whip = nullptr, *whip_token = nullptr;
  std::optional<std::string> audio;

  ~RawOptions()
  {
    for (gchar *s :
         {preset, port, bind, codec, bitrate, fps, size, token, file, stun, monitor, region,
          signaling_url, room, tls_cert, tls_key, max_viewers, max_pending, max_offers_per_second,
          whip, whip_token})
      g_free(s);
    g_strfreev(turn);
  }
};

std::optional<std::string> take(gchar *s)
{
  if (!s)
    return std::nullopt;
  return std::string(s);
}

/* Whether the command line asks for help: GOption prints it while parsing,
 * before GStreamer is initialised. */
bool asks_for_help(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    const std::string_view a = argv[i];
    if (a == "--")
      break;
    if (a == "-h" || a == "-?" || a.rfind("--help", 0) == 0)
      return true;
  }
  return false;
}

/* The sink's default for one of its limits, as "; default N", read from the
 * installed element so that --help never disagrees with it; empty when the
 * element is not there. */
std::string sink_default(const char *property)
{
  GstElementFactory *factory = gst_element_factory_find("webrtcserversink");
  if (!factory)
    return "";
  std::string out;
  auto *loaded = GST_ELEMENT_FACTORY(gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory)));
  gst_object_unref(factory);
  if (!loaded)
    return "";
  const GType type = gst_element_factory_get_element_type(loaded);
  if (type != G_TYPE_INVALID) {
    gpointer klass = g_type_class_ref(type);
    GParamSpec *spec = g_object_class_find_property(G_OBJECT_CLASS(klass), property);
    if (spec && G_IS_PARAM_SPEC_UINT(spec))
      out = "; default " + std::to_string(G_PARAM_SPEC_UINT(spec)->default_value);
    g_type_class_unref(klass);
  }
  gst_object_unref(loaded);
  return out;
}

/* --help for the three limits: what each does, and the sink's default. */
struct LimitHelp {
  std::string max_viewers, max_pending, max_offers_per_second;
};

LimitHelp limit_help(bool with_defaults)
{
  auto def = [with_defaults](const char *property) {
    return with_defaults ? sink_default(property) : std::string();
  };
  LimitHelp h;
  h.max_viewers =
      "Most viewers at once; more are turned away (0: no limit" + def("max-viewers") + ")";
  h.max_pending = "Most viewers still connecting at once; more are asked to retry (0: no limit" +
                  def("max-pending") + ")";
  h.max_offers_per_second =
      "New viewers one address may start per second, in bursts of as many (0: no limit" +
      def("max-offers-per-second") + ")";
  return h;
}

std::string help_description(const PresetPaths &paths)
{
  std::string d;
  d += "Examples:\n";
  d +=
      "  livecast                                  the test pattern (or the screen) on port 8080\n";
  d += "  livecast --file talk.mp4 --loop           a file, over and over\n";
  d += "  livecast --preset screen --monitor 1 --no-cursor\n";
  d += "                                            the second monitor, no mouse pointer\n";
  d += "  livecast --region 0,0,1280,720            the top left 1280x720 of the screen\n";
  d += "  livecast --size 640x360 --fps 15 --codec vp8 --bitrate 800\n";
  d += "  livecast --bind 0.0.0.0 --token s3cret    reachable from other machines\n";
  d += "  livecast --max-viewers 300                a big audience (0: no limit)\n";
  d += "  livecast --port 0                         any free port (the URL tells which)\n";
  d += "  livecast --turn turn://USER:PASS@turn.example.org:3478 --relay-only\n";
  d +=
      "                                            viewers connect only through that TURN server\n";
  d += "  livecast --audio --talkback                sound both ways (microphone button on the page)\n";
  d += "  livecast --signaling-url wss://relay.example.org/ws --room lab\n";
  d += "                                            also serve viewers through a relay (sender behind NAT)\n";
  d += "  livecast --codec vp8 --whip http://origin:7080/whip/endpoint/livecast --whip-token T\n";
  d += "                                            also publish into Janus (deploy/janus)\n";
  d += "  gst-launch-1.0 $(livecast --print-pipeline)\n";
  d += "                                            the same pipeline, by hand\n";
  d += "\n";
  d += "Presets (sources with default size, rate, codec and bitrate):\n";
  d += "  installed: " + paths.installed +
       (paths.installed_from_env ? "  (from LIVECAST_PRESETS)\n"
                                 : "\n             (set LIVECAST_PRESETS to use another file)\n");
  d += "  yours:     " + paths.user + "\n";
  d += "             (same format; a preset there is added, or replaces the installed one)\n";
  d += "\n";
  d += "Signaling relay: livecast signal --port N (see livecast signal --help).\n";
  d += "\n";
  d += "While running, livecast prints the URL to open and a status line (viewers, frame\n";
  d += "rate, bitrate, and how many viewers a limit turned away). Ctrl-C stops it.\n";
  d += "Exit status: 0 stopped normally (Ctrl-C, SIGTERM, end of file), 1 the pipeline failed,\n";
  d += "2 wrong usage.";
  return d;
}

}  // namespace

bool parse_command_line(int argc, char **argv, const PresetPaths &paths, CommandLine &cl,
                        std::string &error)
{
  RawOptions raw;
  /* Only --help needs GStreamer this early (the sink's defaults); otherwise
   * it is initialised by its option group, which may hold --gst-* options. */
  const LimitHelp limits =
      limit_help(asks_for_help(argc, argv) && gst_init_check(nullptr, nullptr, nullptr));
  /* Numbers are taken as strings so that a bad value gets our own message
   * saying what range is accepted, not GOption's generic one. */
  const GOptionEntry entries[] = {
      {"preset", 0, 0, G_OPTION_ARG_STRING, &raw.preset, "Source preset (see --list-presets)",
       "NAME"},
      {"list-presets", 0, 0, G_OPTION_ARG_NONE, &raw.list_presets, "List the presets and exit",
       nullptr},
      {"file", 0, 0, G_OPTION_ARG_FILENAME, &raw.file,
       "Media file to stream (implies --preset file)", "PATH"},
      {"loop", 0, 0, G_OPTION_ARG_NONE, &raw.loop, "Repeat the file seamlessly instead of ending",
       nullptr},
      {"monitor", 0, 0, G_OPTION_ARG_STRING, &raw.monitor,
       "Screen: capture only this monitor (0, 1, ... in XRandR order; default: all)", "N"},
      {"region", 0, 0, G_OPTION_ARG_STRING, &raw.region,
       "Screen: capture only this rectangle (of the monitor); 0 for W or H: to the edge",
       "X,Y,W,H"},
      {"no-cursor", 0, 0, G_OPTION_ARG_NONE, &raw.no_cursor,
       "Screen: leave the mouse pointer out of the picture", nullptr},
      {"size", 0, 0, G_OPTION_ARG_STRING, &raw.size, "Picture size, e.g. 1280x720", "WxH"},
      {"fps", 0, 0, G_OPTION_ARG_STRING, &raw.fps, "Frame rate (1-240)", "N"},
      {"codec", 0, 0, G_OPTION_ARG_STRING, &raw.codec, "Video codec: h264, vp8 or vp9", "CODEC"},
      {"bitrate", 0, 0, G_OPTION_ARG_STRING, &raw.bitrate, "Video bitrate in kbit/s (16-100000)",
       "KBPS"},
      {"port", 0, 0, G_OPTION_ARG_STRING, &raw.port, "Port to serve on (default 8080; 0: any free)",
       "N"},
      {"bind", 0, 0, G_OPTION_ARG_STRING, &raw.bind,
       "Listen address (default 127.0.0.1; 0.0.0.0: all)", "ADDR"},
      {"token", 0, 0, G_OPTION_ARG_STRING, &raw.token,
       "Viewers must present this token (in the URL)", "TOKEN"},
      {"stun", 0, 0, G_OPTION_ARG_STRING, &raw.stun,
       "STUN server, e.g. stun://stun.example.org:3478", "URL"},
      {"turn", 0, 0, G_OPTION_ARG_STRING_ARRAY, &raw.turn,
       "TURN server turn://USER:PASS@HOST:PORT (repeatable)", "URL"},
      {"relay-only", 0, 0, G_OPTION_ARG_NONE, &raw.relay_only,
       "Connect viewers only through the TURN server(s): no direct or STUN paths", nullptr},
      {"max-viewers", 0, 0, G_OPTION_ARG_STRING, &raw.max_viewers, limits.max_viewers.c_str(), "N"},
      {"max-pending", 0, 0, G_OPTION_ARG_STRING, &raw.max_pending, limits.max_pending.c_str(), "N"},
      {"max-offers-per-second", 0, 0, G_OPTION_ARG_STRING, &raw.max_offers_per_second,
       limits.max_offers_per_second.c_str(), "N"},
      {"audio", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
       reinterpret_cast<gpointer>(+[](const gchar *, const gchar *value, gpointer data,
                                      GError **) -> gboolean {
         static_cast<RawOptions *>(data)->audio = value ? value : "";
         return TRUE;
       }),
       "Send sound too: the default microphone/line-in, or --audio=test for a 440 Hz tone",
       "[test]"},
      {"talkback", 0, 0, G_OPTION_ARG_NONE, &raw.talkback,
       "Let viewers talk: play each viewer's microphone here", nullptr},
      {"signaling-url", 0, 0, G_OPTION_ARG_STRING, &raw.signaling_url,
       "Also serve the viewers of a signaling relay's room (ws:// or wss://, e.g. livecast "
       "signal on a public host)",
       "URL"},
      {"room", 0, 0, G_OPTION_ARG_STRING, &raw.room,
       "Room on the signaling relay (default: livecast)", "NAME"},
      {"whip", 0, 0, G_OPTION_ARG_STRING, &raw.whip,
       "Also publish the stream to this WHIP endpoint (http:// or https://, e.g. a Janus "
       "VideoRoom behind simple-whip-server: deploy/janus)",
       "URL"},
      {"whip-token", 0, 0, G_OPTION_ARG_STRING, &raw.whip_token,
       "Bearer token for the WHIP endpoint of --whip", "TOKEN"},
      {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &raw.tls_cert,
       "Serve HTTPS/WSS with this PEM certificate (needed for the microphone off localhost)",
       "FILE"},
      {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &raw.tls_key,
       "PEM private key of --tls-cert (default: in the certificate file)", "FILE"},
      {"print-pipeline", 0, 0, G_OPTION_ARG_NONE, &raw.print_pipeline,
       "Print the pipeline for gst-launch-1.0 and exit", nullptr},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &raw.verbose,
       "Details with errors; warnings; loop restarts", nullptr},
      {"version", 0, 0, G_OPTION_ARG_NONE, &raw.version, "Print the version and exit", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };

  GOptionContextPtr ctx(g_option_context_new("- stream live video to web browsers over WebRTC"));
  g_option_context_set_summary(
      ctx.get(),
      "Serves a viewer page and WebRTC on one port: open the printed URL in a browser.\n"
      "The picture comes from a preset (see --list-presets). Without --preset, livecast\n"
      "streams the screen when a display is available and a moving test pattern otherwise.");
  g_option_context_set_description(ctx.get(), help_description(paths).c_str());
  /* A main group of our own, so that callbacks (--audio) get &raw. */
  GOptionGroup *main_group = g_option_group_new(nullptr, nullptr, nullptr, &raw, nullptr);
  g_option_group_add_entries(main_group, entries);
  g_option_context_set_main_group(ctx.get(), main_group);
  /* Owned by the context once added; also initialises GStreamer after parsing. */
  g_option_context_add_group(ctx.get(), gst_init_get_option_group());

  GErrorHolder err;
  if (!g_option_context_parse(ctx.get(), &argc, &argv, err.out())) {
    error = std::string(err.message()) + " (see livecast --help)";
    return false;
  }
  if (argc > 1) {
    error = std::string("unexpected argument '") + argv[1] +
            "' (options start with --, e.g. --preset NAME; see livecast --help)";
    return false;
  }

  cl.preset = take(raw.preset);
  cl.port = take(raw.port);
  cl.bind = take(raw.bind);
  cl.codec = take(raw.codec);
  cl.bitrate = take(raw.bitrate);
  cl.fps = take(raw.fps);
  cl.size = take(raw.size);
  cl.token = take(raw.token);
  cl.file = take(raw.file);
  cl.stun = take(raw.stun);
  cl.monitor = take(raw.monitor);
  cl.region = take(raw.region);
  cl.no_cursor = raw.no_cursor;
  cl.relay_only = raw.relay_only;
  cl.audio = raw.audio;
  cl.talkback = raw.talkback;
  cl.signaling_url = take(raw.signaling_url);
  cl.room = take(raw.room);
  cl.whip = take(raw.whip);
  cl.whip_token = take(raw.whip_token);
  cl.tls_cert = take(raw.tls_cert);
  cl.tls_key = take(raw.tls_key);
  cl.max_viewers = take(raw.max_viewers);
  cl.max_pending = take(raw.max_pending);
  cl.max_offers_per_second = take(raw.max_offers_per_second);
  for (gchar **t = raw.turn; t && *t; t++)
    cl.turn.emplace_back(*t);
  cl.list_presets = raw.list_presets;
  cl.print_pipeline = raw.print_pipeline;
  cl.loop = raw.loop;
  cl.version = raw.version;
  cl.verbose = raw.verbose;
  return true;
}

}  // namespace livecast
