/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "presets.h"

#include "config.h"
#include "util.h"

#include <glib.h>

#include <algorithm>

namespace livecast
{

PresetPaths PresetPaths::from_environment()
{
  PresetPaths paths;
  const char *env = g_getenv("LIVECAST_PRESETS");
  if (env && *env) {
    paths.installed = env;
    paths.installed_from_env = true;
  } else {
    GCharPtr p(g_build_filename(LIVECAST_DATADIR, "presets.ini", nullptr));
    paths.installed = p.get();
  }
  GCharPtr user(g_build_filename(g_get_user_config_dir(), "livecast", "presets.ini", nullptr));
  paths.user = user.get();
  return paths;
}

static const char *const kKnownKeys[] = {
    "description",
    "source",
    "needs-file",
    "width",
    "height",
    "fps",
    "codec",
    "bitrate",
    "ladder",
    "max-viewers",
    "max-pending",
    "max-offers-per-second",
};

/* Values are taken as written (g_key_file_get_value, no keyfile escapes), so a
 * source line reads exactly like a gst-launch-1.0 command line. */
static std::optional<std::string> get_optional_string(GKeyFile *kf, const char *group,
                                                      const char *key)
{
  GCharPtr value(g_key_file_get_value(kf, group, key, nullptr));
  if (!value)
    return std::nullopt;
  /* GKeyFile keeps trailing blanks of a value; they are never meant. */
  return std::string(g_strstrip(value.get()));
}

bool PresetStore::load_file(const std::string &path, bool user, std::string &error,
                            std::vector<std::string> &warnings)
{
  GKeyFilePtr kf(g_key_file_new());
  GErrorHolder err;
  if (!g_key_file_load_from_file(kf.get(), path.c_str(), G_KEY_FILE_NONE, err.out())) {
    error = "cannot read presets file " + path + ": " + err.message();
    return false;
  }

  gsize n_groups = 0;
  GStrv groups = g_key_file_get_groups(kf.get(), &n_groups);
  std::unique_ptr<gchar *, CFree<g_strfreev>> groups_holder(groups);
  for (gsize i = 0; i < n_groups; i++) {
    const char *group = groups[i];
    Preset preset;
    preset.name = group;
    preset.origin = path;
    preset.from_user = user;

    auto source = get_optional_string(kf.get(), group, "source");
    if (!source || source->empty()) {
      error = "preset '" + preset.name + "' in " + path + " has no source= line";
      return false;
    }
    preset.source = *source;
    preset.description = get_optional_string(kf.get(), group, "description").value_or("");
    preset.width = get_optional_string(kf.get(), group, "width");
    preset.height = get_optional_string(kf.get(), group, "height");
    preset.fps = get_optional_string(kf.get(), group, "fps");
    preset.codec = get_optional_string(kf.get(), group, "codec");
    preset.bitrate = get_optional_string(kf.get(), group, "bitrate");
    preset.ladder = get_optional_string(kf.get(), group, "ladder");
    preset.max_viewers = get_optional_string(kf.get(), group, "max-viewers");
    preset.max_pending = get_optional_string(kf.get(), group, "max-pending");
    preset.max_offers_per_second = get_optional_string(kf.get(), group, "max-offers-per-second");

    if (g_key_file_has_key(kf.get(), group, "needs-file", nullptr)) {
      GErrorHolder bool_err;
      preset.needs_file = g_key_file_get_boolean(kf.get(), group, "needs-file", bool_err.out());
      if (bool_err) {
        error = "preset '" + preset.name + "' in " + path + ": needs-file must be true or false";
        return false;
      }
    }

    /* A misspelt key would otherwise be silently ignored. */
    gsize n_keys = 0;
    std::unique_ptr<gchar *, CFree<g_strfreev>> keys(
        g_key_file_get_keys(kf.get(), group, &n_keys, nullptr));
    for (gsize k = 0; k < n_keys; k++) {
      const std::string key = keys.get()[k];
      const bool known =
          std::find(std::begin(kKnownKeys), std::end(kKnownKeys), key) != std::end(kKnownKeys);
      /* Localised descriptions (description[de]) are fine too. */
      if (!known && key.rfind("description[", 0) != 0)
        warnings.push_back(path + ": preset '" + preset.name + "': unknown key '" + key +
                           "' ignored");
    }

    /* A user preset replaces the installed one of the same name as a whole. */
    auto it = std::find_if(presets_.begin(), presets_.end(),
                           [&](const Preset &p) { return p.name == preset.name; });
    if (it != presets_.end())
      *it = std::move(preset);
    else
      presets_.push_back(std::move(preset));
  }
  return true;
}

bool PresetStore::load(const PresetPaths &paths, std::string &error,
                       std::vector<std::string> &warnings)
{
  presets_.clear();
  std::string installed_problem;
  if (g_file_test(paths.installed.c_str(), G_FILE_TEST_EXISTS) || paths.installed_from_env) {
    if (!load_file(paths.installed, false, error, warnings)) {
      if (paths.installed_from_env)
        error += " (set by LIVECAST_PRESETS)";
      return false;
    }
  } else {
    installed_problem = "the installed presets file " + paths.installed +
                        " is missing (run `meson install`, use `meson devenv`, or set "
                        "LIVECAST_PRESETS to a presets.ini)";
  }

  /* The user file is optional; if it exists it must be readable and valid. */
  if (g_file_test(paths.user.c_str(), G_FILE_TEST_EXISTS)) {
    if (!load_file(paths.user, true, error, warnings))
      return false;
  }

  if (presets_.empty()) {
    error = installed_problem.empty()
                ? "no presets defined in " + paths.installed + " or " + paths.user
                : installed_problem;
    return false;
  }
  if (!installed_problem.empty())
    warnings.push_back(installed_problem);
  return true;
}

const Preset *PresetStore::find(std::string_view name) const
{
  for (const Preset &p : presets_) {
    if (p.name == name)
      return &p;
  }
  return nullptr;
}

std::string PresetStore::names() const
{
  std::string out;
  for (const Preset &p : presets_) {
    if (!out.empty())
      out += ", ";
    out += p.name;
  }
  return out;
}

static bool is_placeholder_char(char c, bool first)
{
  return (c >= 'a' && c <= 'z') || (!first && ((c >= '0' && c <= '9') || c == '-' || c == '_'));
}

bool expand_placeholders(const std::string &text, const std::vector<Placeholder> &placeholders,
                         std::string &out, std::string &error)
{
  out.clear();
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '{') {
      out += text[i++];
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && is_placeholder_char(text[j], j == i + 1))
      j++;
    if (j == i + 1 || j >= text.size() || text[j] != '}') {
      out += text[i++]; /* not a placeholder, e.g. a caps list */
      continue;
    }
    const std::string name = text.substr(i + 1, j - i - 1);
    auto it = std::find_if(placeholders.begin(), placeholders.end(),
                           [&](const Placeholder &p) { return p.name == name; });
    if (it == placeholders.end()) {
      std::string known;
      for (const Placeholder &p : placeholders)
        known += (known.empty() ? "{" : " {") + p.name + "}";
      error = "unknown placeholder {" + name + "} (known: " + known + ")";
      return false;
    }
    if (!it->value) {
      error = "the source uses {" + name + "} but " + it->missing_hint;
      return false;
    }
    out += *it->value;
    i = j + 1;
    if (it->value->empty() && !out.empty() && out.back() == ' ' && i < text.size() &&
        text[i] == ' ')
      i++;
  }
  return true;
}

bool uses_placeholder(const std::string &text, const std::string &name)
{
  return text.find("{" + name + "}") != std::string::npos;
}

}  // namespace livecast
