/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Turns the command line and the chosen preset into checked settings and the
 * gst-launch pipeline description (the one --print-pipeline shows and the one
 * that runs).
 */
#pragma once

#include "options.h"
#include "presets.h"
#include "protocol/iceserver.h"

#include <glib.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace livecast
{

/* Name of the sink element in every pipeline; the runner looks it up. */
inline constexpr const char *kSinkName = "sink";

struct StreamConfig {
  std::string preset;
  std::optional<guint> width, height, fps; /* unset: whatever the source gives */
  std::string codec = "h264";              /* webrtcserversink video-codec nick */
  guint bitrate_kbps = 2000;
  std::string ladder; /* webrtcserversink ladder nick; empty: the sink's default */
  guint port = 8080;
  std::string bind = "127.0.0.1";
  std::string token; /* empty: none */
  std::string stun;  /* empty: none */
  std::vector<std::string> turn;
  bool relay_only = false; /* ice-transport-policy=relay */
  std::optional<std::string> audio; /* "" the default device, "test" a tone; unset: none */
  bool talkback = false;
  std::string signaling_url, room;  /* client mode; empty: none */
  std::string whip_url, whip_token; /* WHIP publishing; empty: none */
  std::string tls_cert, tls_key;    /* absolute paths; empty: plain HTTP */
  /* The sink's admission limits (0: none); unset: the sink's own defaults. */
  std::optional<guint> max_viewers, max_pending, max_offers_per_second;
  std::string file;        /* absolute path, for presets that need one */
  bool loop = false;
  /* Screen capture, for presets whose source uses {capture}. */
  bool captures_screen = false;
  std::optional<int> monitor;                 /* unset: the whole screen */
  std::optional<std::array<guint, 4>> region; /* x, y, width, height (0: to the edge) */
  bool show_cursor = true;
  std::string pipeline;

  /* "1280x720 at 30 fps, H.264 at 2000 kbit/s" */
  std::string summary() const;
};

/* screen when the preset exists, a display is there ($DISPLAY) and the
 * screencapsrc element is installed; test otherwise. */
std::string default_preset_name(const PresetStore &store);

/* Picks the preset, merges its defaults with the options, checks every value
 * (the --file too) and builds the pipeline description. Returns false with a
 * one-line message for the user on any problem. */
bool resolve_config(const CommandLine &cl, const PresetStore &store, StreamConfig &config,
                    std::string &error);

/* --stun and --turn, of livecast and of `livecast signal`: @text parsed by
 * protocol/iceserver.h (for --stun, "HOST:PORT" and "stun:HOST:PORT" too),
 * and a server of the other kind refused. false with one line in @error
 * that names @option ("--stun" or "--turn"). */
bool check_ice_server_option(const std::string &option, const std::string &text, IceServer &out,
                             std::string &error);

/* Whether there is a display to capture, for a config that captures the
 * screen; false with a one-line message when there is clearly none (X11:
 * $DISPLAY unset). That a display can really be opened is the element's to
 * find out: it fails to start with an error naming the display. */
bool check_display(const StreamConfig &config, std::string &error);

}  // namespace livecast
