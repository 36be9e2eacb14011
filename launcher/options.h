/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Command-line parsing. Values are kept as typed here and checked in
 * streamconfig.cpp, where the preset's defaults are known too.
 */
#pragma once

#include "presets.h"

#include <optional>
#include <string>
#include <vector>

namespace livecast
{

struct CommandLine {
  std::optional<std::string> preset; /* unset: screen when a display exists, else test */
  std::optional<std::string> port, bind, codec, bitrate, fps, size, token, file, stun;
  std::vector<std::string> turn; /* --turn may be repeated */
  /* Screen capture (presets whose source uses {capture}): */
  std::optional<std::string> monitor, region;
  bool no_cursor = false;
  bool relay_only = false; /* --relay-only: ICE through TURN only */
  std::optional<std::string> audio; /* --audio[=SOURCE]: "" (the default device) or "test" */
  bool talkback = false;            /* --talkback: play the viewers' microphones */
  std::optional<std::string> signaling_url, room, tls_cert, tls_key;
  std::optional<std::string> whip, whip_token; /* --whip URL [--whip-token T] */
  /* The sink's admission limits; unset: the sink's own defaults. */
  std::optional<std::string> max_viewers, max_pending, max_offers_per_second;
  bool list_presets = false;
  bool print_pipeline = false;
  bool loop = false;
  bool version = false;
  bool verbose = false;
};

/* Parses argv (GStreamer's own --gst-* options included, which also
 * initialises GStreamer). Returns false with a one-line message on a usage
 * error. `paths` only feeds the --help text. */
bool parse_command_line(int argc, char **argv, const PresetPaths &paths, CommandLine &cl,
                        std::string &error);

}  // namespace livecast
