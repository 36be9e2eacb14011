/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "streamconfig.h"

#include "util.h"

#include "protocol/iceserver.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <cerrno>
#include <tuple>
#include <fcntl.h>

namespace livecast
{

namespace
{

constexpr guint kMinSide = 16, kMaxSide = 8192;
constexpr guint kMinFps = 1, kMaxFps = 240;
constexpr guint kMinBitrate = 16, kMaxBitrate = 100000;
constexpr guint kMaxMonitor = 63;
constexpr guint kMaxCoord = 32767;   /* X11 coordinates are 16-bit signed */
constexpr guint kMaxLimit = 1000000; /* max-viewers and co.; 0 is "no limit" */

/* Where a value came from, for messages: "--fps" or "preset 'test' (path): fps". */
struct Origin {
  std::string what;
  std::string describe(const std::string &value) const { return what + " '" + value + "'"; }
};

Origin option_origin(const char *option)
{
  return Origin{std::string("--") + option};
}

Origin preset_origin(const Preset &p, const char *key)
{
  return Origin{"preset '" + p.name + "' (" + p.origin + "): " + key};
}

bool check_number(const std::string &text, const Origin &origin, guint min, guint max,
                  const char *unit, guint &out, std::string &error)
{
  auto v = parse_unsigned(text, min, max);
  if (!v) {
    error = origin.describe(text) + " is not a whole number from " + std::to_string(min) + " to " +
            std::to_string(max) + unit;
    return false;
  }
  out = static_cast<guint>(*v);
  return true;
}

bool parse_size(const std::string &text, guint &w, guint &h, std::string &error)
{
  const size_t x = text.find_first_of("xX");
  std::optional<guint64> pw, ph;
  if (x != std::string::npos) {
    pw = parse_unsigned(std::string_view(text).substr(0, x), kMinSide, kMaxSide);
    ph = parse_unsigned(std::string_view(text).substr(x + 1), kMinSide, kMaxSide);
  }
  if (!pw || !ph) {
    error = "--size '" + text + "' is not WIDTHxHEIGHT with each side from " +
            std::to_string(kMinSide) + " to " + std::to_string(kMaxSide) +
            "; use e.g. --size 1280x720";
    return false;
  }
  w = static_cast<guint>(*pw);
  h = static_cast<guint>(*ph);
  return true;
}

bool parse_monitor(const std::string &text, int &out, std::string &error)
{
  auto v = parse_unsigned(text, 0, kMaxMonitor);
  if (!v) {
    error = "--monitor '" + text + "' is not a monitor number from 0 to " +
            std::to_string(kMaxMonitor) +
            " (0 is the first monitor in XRandR order, as `xrandr --listmonitors` shows; leave "
            "--monitor out for the whole screen)";
    return false;
  }
  out = static_cast<int>(*v);
  return true;
}

/* X,Y,W,H: X and Y from 0, W and H from kMinSide or 0 ("to the edge"). */
bool parse_region(const std::string &text, std::array<guint, 4> &out, std::string &error)
{
  std::vector<std::string_view> parts;
  std::string_view rest(text);
  for (;;) {
    const size_t comma = rest.find(',');
    parts.push_back(rest.substr(0, comma));
    if (comma == std::string_view::npos)
      break;
    rest.remove_prefix(comma + 1);
  }
  bool ok = parts.size() == 4;
  for (size_t i = 0; ok && i < 4; i++) {
    auto v = parse_unsigned(parts[i], 0, i < 2 ? kMaxCoord : kMaxSide);
    ok = v && (i < 2 || *v == 0 || *v >= kMinSide);
    if (ok)
      out[i] = static_cast<guint>(*v);
  }
  if (!ok) {
    error = "--region '" + text + "' is not X,Y,WIDTH,HEIGHT with X and Y from 0 to " +
            std::to_string(kMaxCoord) + " and WIDTH and HEIGHT from " + std::to_string(kMinSide) +
            " to " + std::to_string(kMaxSide) + " (or 0: to the edge); use e.g. --region " +
            "0,0,1280,720";
    return false;
  }
  return true;
}

/* The screencapsrc properties the {capture} placeholder stands for: only
 * those the options set, so the element's defaults apply otherwise. */
std::string capture_properties(const StreamConfig &c)
{
  std::string props;
  auto add = [&props](const std::string &p) { props += (props.empty() ? "" : " ") + p; };
  if (c.monitor)
    add("monitor=" + std::to_string(*c.monitor));
  if (c.region) {
    const auto &r = *c.region;
    add("x=" + std::to_string(r[0]) + " y=" + std::to_string(r[1]));
    if (r[2])
      add("width=" + std::to_string(r[2]));
    if (r[3])
      add("height=" + std::to_string(r[3]));
  }
  if (!c.show_cursor)
    add("show-cursor=false");
  return props;
}

bool check_codec(const std::string &text, const Origin &origin, std::string &out,
                 std::string &error)
{
  GCharPtr lower(g_ascii_strdown(text.c_str(), -1));
  const std::string c = lower.get();
  if (c == "h264" || c == "h.264" || c == "avc") {
    out = "h264";
    return true;
  }
  if (c == "vp8" || c == "vp9") {
    out = c;
    return true;
  }
  error = origin.describe(text) + " is not a supported codec; use h264, vp8 or vp9";
  return false;
}

bool check_bind(const std::string &text, std::string &out, std::string &error)
{
  if (text == "localhost") {
    out = "127.0.0.1";
    return true;
  }
  GInetAddress *addr = g_inet_address_new_from_string(text.c_str());
  if (!addr) {
    error = "--bind '" + text +
            "' is not an IP address; use 127.0.0.1 (this machine only), 0.0.0.0 (every "
            "interface) or one of this machine's addresses";
    return false;
  }
  g_object_unref(addr);
  out = text;
  return true;
}

/* Checks the file the way the pipeline will read it, so a typo gets a clear
 * message naming the file instead of a decoder error later. */
bool check_file(const std::string &path, std::string &absolute, std::string &error)
{
  if (path.empty()) {
    error = "--file needs a path to a media file";
    return false;
  }
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR)) {
    error = "cannot read --file '" + path + "': it is a directory, not a media file";
    return false;
  }
  const int fd = g_open(path.c_str(), O_RDONLY, 0);
  if (fd < 0) {
    const int saved = errno;
    error = "cannot read --file '" + path + "': " + g_strerror(saved);
    return false;
  }
  g_close(fd, nullptr);
  GCharPtr abs(g_canonicalize_filename(path.c_str(), nullptr));
  absolute = abs.get();
  return true;
}

bool check_token(const std::string &token, std::string &error)
{
  if (token.empty() || token.size() > 256 || !is_url_safe(token)) {
    error = "--token must be 1 to 256 characters from A-Z a-z 0-9 . _ ~ - (it goes into the URL)";
    return false;
  }
  return true;
}

bool check_stun(const std::string &text, std::string &out, std::string &error)
{
  IceServer server;
  if (!check_ice_server_option("--stun", text, server, error))
    return false;
  out = server.url;
  return true;
}

bool check_turn(const std::string &url, std::string &error)
{
  IceServer server;
  if (!check_ice_server_option("--turn", url, server, error))
    return false;
  bool ok = url.size() < 512;
  /* Characters that would break the array syntax of the turn-servers property. */
  for (char c : url)
    ok = ok && !g_ascii_isspace(c) && std::string_view("\"\\,<>").find(c) == std::string_view::npos;
  if (!ok) {
    error = "--turn \"" + url +
            "\" is too long or has a character the sink's turn-servers list cannot carry (a "
            "space, \" \\ , < or >); %-escape it.";
    return false;
  }
  return true;
}

std::string file_uri(const std::string &absolute)
{
  /* Percent-encode everything but unreserved characters and '/', so the URI is
   * safe both in the gst-launch syntax and pasted into a shell. */
  GCharPtr escaped(g_uri_escape_string(absolute.c_str(), "/", FALSE));
  return std::string("file://") + escaped.get();
}

std::string raw_caps(const StreamConfig &c)
{
  std::string caps = "video/x-raw";
  if (c.width && c.height)
    caps += ",width=" + std::to_string(*c.width) + ",height=" + std::to_string(*c.height);
  if (c.fps)
    caps += ",framerate=" + std::to_string(*c.fps) + "/1";
  return caps;
}

std::optional<std::string> number_or_none(const std::optional<guint> &v)
{
  if (!v)
    return std::nullopt;
  return std::to_string(*v);
}

/* max-viewers, max-pending, max-offers-per-second: the preset's value, then
 * the option's; each only when given, so the sink's defaults apply otherwise. */
struct LimitOption {
  const char *name; /* the preset key, the option without "--", the property */
  const std::optional<std::string> Preset::*preset_value;
  const std::optional<std::string> CommandLine::*option_value;
  std::optional<guint> StreamConfig::*target;
};

constexpr LimitOption kLimitOptions[] = {
    {"max-viewers", &Preset::max_viewers, &CommandLine::max_viewers, &StreamConfig::max_viewers},
    {"max-pending", &Preset::max_pending, &CommandLine::max_pending, &StreamConfig::max_pending},
    {"max-offers-per-second", &Preset::max_offers_per_second, &CommandLine::max_offers_per_second,
     &StreamConfig::max_offers_per_second},
};

bool resolve_limits(const Preset &preset, const CommandLine &cl, StreamConfig &c,
                    std::string &error)
{
  for (const LimitOption &l : kLimitOptions) {
    guint v = 0;
    const auto &from_preset = preset.*l.preset_value;
    if (from_preset) {
      if (!check_number(*from_preset, preset_origin(preset, l.name), 0, kMaxLimit, " (0: no limit)",
                        v, error))
        return false;
      c.*l.target = v;
    }
    const auto &from_option = cl.*l.option_value;
    if (from_option) {
      if (!check_number(*from_option, option_origin(l.name), 0, kMaxLimit, " (0: no limit)", v,
                        error))
        return false;
      c.*l.target = v;
    }
  }
  return true;
}

bool build_pipeline(const Preset &preset, StreamConfig &c, std::string &error)
{
  const std::vector<Placeholder> placeholders = {
      {"width", number_or_none(c.width), "no width is set; pass --size WxH"},
      {"height", number_or_none(c.height), "no height is set; pass --size WxH"},
      {"fps", number_or_none(c.fps), "no frame rate is set; pass --fps N"},
      {"caps", raw_caps(c), ""},
      {"file", c.file.empty() ? std::nullopt : std::optional(launch_quote(c.file)),
       "no file is given; pass --file PATH"},
      {"uri", c.file.empty() ? std::nullopt : std::optional(file_uri(c.file)),
       "no file is given; pass --file PATH"},
      {"capture", capture_properties(c), ""},
  };
  std::string source;
  if (!expand_placeholders(preset.source, placeholders, source, error)) {
    error = "preset '" + preset.name + "' (" + preset.origin + "): " + error;
    return false;
  }

  std::string sink = std::string("webrtcserversink name=") + kSinkName;
  sink += " port=" + std::to_string(c.port);
  sink += " bind-address=" + launch_quote(c.bind);
  sink += " video-codec=" + c.codec;
  sink += " bitrate=" + std::to_string(c.bitrate_kbps);
  if (!c.ladder.empty())
    sink += " ladder=" + c.ladder;
  if (!c.token.empty())
    sink += " token=" + launch_quote(c.token);
  if (!c.stun.empty())
    sink += " stun-server=" + launch_quote(c.stun);
  if (!c.turn.empty()) {
    /* A GstValueArray: <"a","b">, quoted once more so a shell keeps it whole. */
    std::string array = "<";
    for (const std::string &t : c.turn)
      array += (array.size() > 1 ? ",\"" : "\"") + t + "\"";
    sink += " turn-servers=" + launch_quote(array + ">");
  }
  if (c.relay_only)
    sink += " ice-transport-policy=relay";
  if (c.talkback)
    sink += " talkback=true";
  if (!c.signaling_url.empty())
    sink += " signaling-url=" + launch_quote(c.signaling_url) + " room=" + launch_quote(c.room);
  if (!c.whip_url.empty())
    sink += " whip-url=" + launch_quote(c.whip_url);
  if (!c.whip_token.empty())
    sink += " whip-token=" + launch_quote(c.whip_token);
  if (!c.tls_cert.empty())
    sink += " tls-certificate=" + launch_quote(c.tls_cert);
  if (!c.tls_key.empty())
    sink += " tls-key=" + launch_quote(c.tls_key);
  for (const LimitOption &l : kLimitOptions) {
    if (c.*l.target)
      sink += std::string(" ") + l.name + "=" + std::to_string(*(c.*l.target));
  }

  c.pipeline = source + " ! " + sink;
  /* Sound into the sink's audio_0; it is encoded to Opus there. */
  if (c.audio) {
    c.pipeline += *c.audio == "test" ? " audiotestsrc is-live=true wave=sine freq=440 volume=0.3"
                                     : " autoaudiosrc";
    c.pipeline +=
        " ! audioconvert ! audioresample ! queue max-size-time=200000000 leaky=downstream ! " +
        std::string(kSinkName) + ".audio_0";
  }
  return true;
}

}  // namespace

std::string StreamConfig::summary() const
{
  std::string s;
  if (width && height)
    s += std::to_string(*width) + "x" + std::to_string(*height);
  else if (region && (*region)[2] && (*region)[3])
    s += std::to_string((*region)[2]) + "x" + std::to_string((*region)[3]);
  else if (captures_screen)
    s += monitor ? "monitor " + std::to_string(*monitor) + "'s size" : "the screen's size";
  else
    s += "source size";
  s += fps ? " at " + std::to_string(*fps) + " fps" : " at source rate";
  s += codec == "h264" ? ", H.264" : codec == "vp8" ? ", VP8" : ", VP9";
  s += " at " + std::to_string(bitrate_kbps) + " kbit/s";
  if (audio)
    s += *audio == "test" ? ", a 440 Hz tone" : ", sound";
  if (talkback)
    s += ", talkback";
  return s;
}

std::string default_preset_name(const PresetStore &store)
{
  /* A screen is what people most often want to share; capture it when there
   * is one and the screencap plugin is installed to capture it with. */
  const char *display = g_getenv("DISPLAY");
  if (store.find("screen") && display && *display) {
    GstElementFactory *factory = gst_element_factory_find("screencapsrc");
    if (factory) {
      gst_object_unref(factory);
      return "screen";
    }
  }
  if (store.find("test") || store.all().empty())
    return "test";
  return store.all().front().name;
}

bool check_ice_server_option(const std::string &option, const std::string &text, IceServer &out,
                             std::string &error)
{
  const bool want_turn = option == "--turn";
  std::string url = text;
  /* "host:port" and the browser's "stun:host:port" are what people type. */
  if (!want_turn && url.find("://") == std::string::npos)
    url = "stun://" + (url.rfind("stun:", 0) == 0 ? url.substr(5) : url);
  if (!parse_ice_server(url, out, error)) {
    error = option + ": " + error;
    return false;
  }
  if (out.is_turn() != want_turn) {
    error = option + " \"" + text + "\" is a " + (want_turn ? "STUN" : "TURN") + " server; use " +
            (want_turn ? "--stun" : "--turn") + " for it.";
    return false;
  }
  return true;
}

namespace
{

/* The preset named by --preset, else the one --file implies, else the default. */
const Preset *choose_preset(const CommandLine &cl, const PresetStore &store, std::string &error)
{
  /* The preset first: its defaults fill what the options leave open. */
  std::string name;
  if (cl.preset)
    name = *cl.preset;
  else if (cl.file && store.find("file"))
    name = "file"; /* `livecast --file x.mp4` means the file preset */
  else
    name = default_preset_name(store);
  const Preset *preset = store.find(name);
  if (!preset) {
    error = "unknown preset '" + name + "'; available: " + store.names() +
            " (see livecast --list-presets)";
    return nullptr;
  }
  return preset;
}

/* The preset's own size, fps, codec and bitrate: defaults the options override. */
bool apply_preset_defaults(const Preset &preset, StreamConfig &c, std::string &error)
{
  guint v = 0;
  if (preset.width || preset.height) {
    if (!preset.width || !preset.height) {
      error = "preset '" + preset.name + "' (" + preset.origin +
              "): set both width and height, or neither";
      return false;
    }
    if (!check_number(*preset.width, preset_origin(preset, "width"), kMinSide, kMaxSide, "", v,
                      error))
      return false;
    c.width = v;
    if (!check_number(*preset.height, preset_origin(preset, "height"), kMinSide, kMaxSide, "", v,
                      error))
      return false;
    c.height = v;
  }
  if (preset.fps) {
    if (!check_number(*preset.fps, preset_origin(preset, "fps"), kMinFps, kMaxFps, "", v, error))
      return false;
    c.fps = v;
  }
  if (preset.codec && !check_codec(*preset.codec, preset_origin(preset, "codec"), c.codec, error))
    return false;
  if (preset.bitrate && !check_number(*preset.bitrate, preset_origin(preset, "bitrate"),
                                      kMinBitrate, kMaxBitrate, " kbit/s", c.bitrate_kbps, error))
    return false;
  if (preset.ladder) {
    if (*preset.ladder != "none" && *preset.ladder != "camera" && *preset.ladder != "screen") {
      error = preset_origin(preset, "ladder").describe(*preset.ladder) +
              " is not a ladder; use none, camera or screen";
      return false;
    }
    c.ladder = *preset.ladder;
  }
  return true;
}

/* --file and --loop, for the presets that read a file. */
bool resolve_file(const Preset &preset, const CommandLine &cl, StreamConfig &c, std::string &error)
{
  if (cl.file && !preset.needs_file) {
    error = "preset '" + preset.name + "' does not read a file; use --preset file --file PATH";
    return false;
  }
  if (cl.loop && !preset.needs_file) {
    error = "--loop repeats a file; use it with --preset file --file PATH";
    return false;
  }
  if (preset.needs_file) {
    if (!cl.file) {
      error = "preset '" + preset.name + "' needs --file PATH (the media file to stream)";
      return false;
    }
    if (!check_file(*cl.file, c.file, error))
      return false;
  }
  c.loop = cl.loop;
  return true;
}

/* --monitor, --region, --no-cursor: only for presets that pass them on through {capture}. */
bool resolve_screen(const Preset &preset, const CommandLine &cl, StreamConfig &c,
                    std::string &error)
{
  c.captures_screen = uses_placeholder(preset.source, "capture");
  const char *screen_option = cl.monitor     ? "--monitor"
                              : cl.region    ? "--region"
                              : cl.no_cursor ? "--no-cursor"
                                             : nullptr;
  if (screen_option && !c.captures_screen) {
    error = std::string(screen_option) + " only applies to screen capture, and preset '" +
            preset.name + "' does not capture the screen (use --preset screen)";
    return false;
  }
  if (cl.monitor) {
    int m = 0;
    if (!parse_monitor(*cl.monitor, m, error))
      return false;
    c.monitor = m;
  }
  if (cl.region) {
    std::array<guint, 4> r{};
    if (!parse_region(*cl.region, r, error))
      return false;
    c.region = r;
  }
  c.show_cursor = !cl.no_cursor;
  return true;
}

/* --size, --fps, --codec, --bitrate. */
bool resolve_picture(const CommandLine &cl, StreamConfig &c, std::string &error)
{
  guint v = 0;
  if (cl.size) {
    guint w = 0, h = 0;
    if (!parse_size(*cl.size, w, h, error))
      return false;
    c.width = w;
    c.height = h;
  }
  if (cl.fps) {
    if (!check_number(*cl.fps, option_origin("fps"), kMinFps, kMaxFps, " frames per second", v,
                      error))
      return false;
    c.fps = v;
  }
  if (cl.codec && !check_codec(*cl.codec, option_origin("codec"), c.codec, error))
    return false;
  if (cl.bitrate && !check_number(*cl.bitrate, option_origin("bitrate"), kMinBitrate, kMaxBitrate,
                                  " kbit/s", c.bitrate_kbps, error))
    return false;
  return true;
}

/* --port, --bind, --token, --stun, --turn, --relay-only. */
bool resolve_network(const CommandLine &cl, StreamConfig &c, std::string &error)
{
  if (cl.port && !check_number(*cl.port, option_origin("port"), 0, 65535, " (0 picks a free port)",
                               c.port, error))
    return false;
  if (cl.bind && !check_bind(*cl.bind, c.bind, error))
    return false;
  if (cl.token) {
    if (!check_token(*cl.token, error))
      return false;
    c.token = *cl.token;
  }
  if (cl.stun && !check_stun(*cl.stun, c.stun, error))
    return false;
  for (const std::string &t : cl.turn) {
    if (!check_turn(t, error))
      return false;
    c.turn.push_back(t);
  }
  if (cl.relay_only && c.turn.empty()) {
    error =
        "--relay-only needs a TURN server to relay through; add --turn "
        "turn://USER:PASSWORD@HOST:PORT";
    return false;
  }
  c.relay_only = cl.relay_only;
  return true;
}

/* --audio, --talkback. */
bool resolve_audio(const CommandLine &cl, StreamConfig &c, std::string &error)
{
  if (cl.audio) {
    if (!cl.audio->empty() && *cl.audio != "test") {
      error = "--audio takes no value (the default sound input) or =test (a tone), not '" +
              *cl.audio + "'";
      return false;
    }
    c.audio = *cl.audio;
  }
  c.talkback = cl.talkback;
  return true;
}

/* --signaling-url, --room: client mode. */
bool resolve_client_mode(const CommandLine &cl, StreamConfig &c, std::string &error)
{
  if (cl.room && !cl.signaling_url) {
    error = "--room names a room on a signaling relay; add --signaling-url ws://HOST:PORT/ws";
    return false;
  }
  if (cl.signaling_url) {
    const std::string &u = *cl.signaling_url;
    if (!g_str_has_prefix(u.c_str(), "ws://") && !g_str_has_prefix(u.c_str(), "wss://")) {
      error = "--signaling-url must start with ws:// or wss://, not '" + u + "'";
      return false;
    }
    c.signaling_url = u;
    c.room = cl.room ? *cl.room : "livecast";
  }
  return true;
}

/* --whip, --whip-token: WHIP publishing. */
bool resolve_whip(const CommandLine &cl, StreamConfig &c, std::string &error)
{
  if (cl.whip_token && !cl.whip) {
    error = "--whip-token is the token of a WHIP endpoint; add --whip URL";
    return false;
  }
  if (cl.whip) {
    const std::string &u = *cl.whip;
    if (!g_str_has_prefix(u.c_str(), "http://") && !g_str_has_prefix(u.c_str(), "https://")) {
      error = "--whip must start with http:// or https://, not '" + u + "'";
      return false;
    }
    c.whip_url = u;
    c.whip_token = cl.whip_token ? *cl.whip_token : "";
  }
  return true;
}

/* --tls-cert, --tls-key: absolute paths of files that exist. */
bool resolve_tls(const CommandLine &cl, StreamConfig &c, std::string &error)
{
  if (cl.tls_key && !cl.tls_cert) {
    error = "--tls-key needs --tls-cert FILE (the certificate it belongs to)";
    return false;
  }
  for (const auto &[option, value, target] : {std::tuple{"--tls-cert", cl.tls_cert, &c.tls_cert},
                                              std::tuple{"--tls-key", cl.tls_key, &c.tls_key}}) {
    if (!value)
      continue;
    if (!g_file_test(value->c_str(), G_FILE_TEST_IS_REGULAR)) {
      error = std::string(option) + " " + *value + ": no such file";
      return false;
    }
    GCharPtr absolute(g_canonicalize_filename(value->c_str(), nullptr));
    *target = absolute.get();
  }
  return true;
}

bool check_even_size(const StreamConfig &c, std::string &error)
{
  /* x264 encodes 4:2:0 only, which needs even sides; say so instead of
   * letting the encoder fail on the first frame. */
  if (c.codec == "h264" && c.width && c.height && (*c.width % 2 || *c.height % 2)) {
    error = "H.264 needs an even width and height, not " + std::to_string(*c.width) + "x" +
            std::to_string(*c.height) + "; use e.g. --size " + std::to_string(*c.width & ~1u) +
            "x" + std::to_string(*c.height & ~1u);
    return false;
  }
  /* The same for a region sent at its own size. (A whole screen or monitor
   * of odd size is only known when capturing: the encoder says so then.) */
  if (c.codec == "h264" && !c.width && c.region && ((*c.region)[2] % 2 || (*c.region)[3] % 2)) {
    const auto &r = *c.region;
    error = "H.264 needs an even width and height, and --region gives " + std::to_string(r[2]) +
            "x" + std::to_string(r[3]) + "; use e.g. --region " + std::to_string(r[0]) + "," +
            std::to_string(r[1]) + "," + std::to_string(r[2] & ~1u) + "," +
            std::to_string(r[3] & ~1u) + " (or scale it with --size)";
    return false;
  }
  return true;
}

}  // namespace

bool resolve_config(const CommandLine &cl, const PresetStore &store, StreamConfig &c,
                    std::string &error)
{
  /* The preset first: its defaults fill what the options leave open; then
   * the options, in the order of --help. */
  const Preset *preset = choose_preset(cl, store, error);
  if (!preset)
    return false;
  c.preset = preset->name;
  return apply_preset_defaults(*preset, c, error) && resolve_file(*preset, cl, c, error) &&
         resolve_screen(*preset, cl, c, error) && resolve_picture(cl, c, error) &&
         resolve_network(cl, c, error) && resolve_limits(*preset, cl, c, error) &&
         resolve_audio(cl, c, error) && resolve_client_mode(cl, c, error) &&
         resolve_whip(cl, c, error) && resolve_tls(cl, c, error) && check_even_size(c, error) &&
         build_pipeline(*preset, c, error);
}

bool check_display(const StreamConfig &c, std::string &error)
{
  if (!c.captures_screen)
    return true;
#if defined(G_OS_UNIX) && !defined(__APPLE__)
  /* X11, the only screen capture on these systems for now. */
  const char *display = g_getenv("DISPLAY");
  if (!display || !*display) {
    error =
        "no screen to capture: $DISPLAY is not set (run livecast inside the X11 session, or "
        "set DISPLAY, e.g. DISPLAY=:0)";
    return false;
  }
#endif
  return true;
}

}  // namespace livecast
