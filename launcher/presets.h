/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Presets: named sources with defaults, read from a keyfile. The installed
 * file comes first; the user's file may add presets or replace whole ones.
 */
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace livecast
{

struct Preset {
  std::string name;
  std::string description;
  std::string source; /* gst-launch fragment ending in raw video, with {placeholders} */
  bool needs_file = false;
  /* Defaults as written in the file; checked when the preset is used, so one
   * broken preset does not keep the others from working. */
  std::optional<std::string> width, height, fps, codec, bitrate;
  std::optional<std::string> ladder; /* webrtcserversink's ladder: none, camera or screen */
  /* The sink's admission limits (unset: the sink's own defaults). */
  std::optional<std::string> max_viewers, max_pending, max_offers_per_second;
  std::string origin; /* file the preset came from, for messages */
  bool from_user = false;
};

struct PresetPaths {
  std::string installed;           /* $LIVECAST_PRESETS or LIVECAST_DATADIR/presets.ini */
  bool installed_from_env = false; /* an explicit path must exist */
  std::string user;                /* $XDG_CONFIG_HOME/livecast/presets.ini */

  static PresetPaths from_environment();
};

class PresetStore
{
 public:
  /* Reads both files. Returns false with a one-line message on an error the
   * user must fix (unreadable or malformed file, no presets at all). Problems
   * worth a mention but not fatal are appended to `warnings`. */
  bool load(const PresetPaths &paths, std::string &error, std::vector<std::string> &warnings);

  const Preset *find(std::string_view name) const;
  const std::vector<Preset> &all() const { return presets_; }
  /* "test, file" — for messages. */
  std::string names() const;

 private:
  bool load_file(const std::string &path, bool user, std::string &error,
                 std::vector<std::string> &warnings);

  std::vector<Preset> presets_;
};

/* Replaces {name} placeholders in `text`. Only {lower-case-identifier} is a
 * placeholder, so caps lists such as { I420, NV12 } pass through untouched.
 * An unknown name, or a known one without a value, is an error (naming the
 * placeholder and, for a missing value, what to do). A placeholder whose value
 * is empty takes one blank after it along ("src {props} ! x" -> "src ! x"). */
struct Placeholder {
  std::string name;
  std::optional<std::string> value;
  std::string missing_hint; /* what to do when the value is missing */
};
bool expand_placeholders(const std::string &text, const std::vector<Placeholder> &placeholders,
                         std::string &out, std::string &error);
/* Whether `text` holds the placeholder {name}. */
bool uses_placeholder(const std::string &text, const std::string &name);

}  // namespace livecast
