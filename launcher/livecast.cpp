/* livecast — stream live video to web browsers over WebRTC.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reads a preset (a gst-launch source fragment with defaults), appends
 * webrtcserversink, and runs the result until Ctrl-C, end of file or error.
 */
#include "config.h" /* generated: VERSION */

#include "options.h"
#include "presets.h"
#include "runner.h"
#ifdef LIVECAST_HAVE_SIGNAL_RELAY
#include "signalserver.h"
#endif
#include "streamconfig.h"
#include "util.h"

#include <gst/gst.h>

#include <algorithm>
#include <clocale>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace livecast;

namespace
{

int usage_error(const std::string &message)
{
  std::fprintf(stderr, "livecast: %s\n", message.c_str());
  return kExitUsage;
}

void list_presets(const PresetStore &store, const PresetPaths &paths)
{
  size_t width = 0;
  for (const Preset &p : store.all())
    width = std::max(width, p.name.size());

  const std::string fallback = default_preset_name(store);
  for (const Preset &p : store.all()) {
    std::string notes;
    if (p.name == fallback)
      notes += " (default)";
    if (p.from_user)
      notes += " [yours]";
    std::printf("  %-*s  %s%s\n", static_cast<int>(width), p.name.c_str(),
                p.description.empty() ? "(no description)" : p.description.c_str(), notes.c_str());
  }
  const bool user_exists = g_file_test(paths.user.c_str(), G_FILE_TEST_EXISTS);
  std::printf("\nInstalled presets: %s\nYour presets:      %s%s\n", paths.installed.c_str(),
              paths.user.c_str(), user_exists ? "" : " (none yet; same format)");
}

}  // namespace

int main(int argc, char **argv)
{
  /* Locale for GOption's messages and UTF-8 output, but '.' in numbers. */
  std::setlocale(LC_ALL, "");
  std::setlocale(LC_NUMERIC, "C");
  g_set_prgname("livecast");

  /* Subcommands come first; everything else is the streaming command line. */
  if (argc > 1 && std::strcmp(argv[1], "signal") == 0) {
#ifdef LIVECAST_HAVE_SIGNAL_RELAY
    return run_signal_command(argc - 1, argv + 1);
#else
    return usage_error(
        "this livecast was built without libsoup 3 and json-glib, so it has no "
        "signal command.");
#endif
  }

  const PresetPaths paths = PresetPaths::from_environment();
  CommandLine cl;
  std::string error;
  if (!parse_command_line(argc, argv, paths, cl, error))
    return usage_error(error);

  if (cl.version) {
    GCharPtr gst_version(gst_version_string());
    std::printf("livecast %s (%s)\n", VERSION, gst_version.get());
    return kExitOk;
  }

  PresetStore store;
  std::vector<std::string> warnings;
  if (!store.load(paths, error, warnings))
    return usage_error(error);
  for (const std::string &w : warnings)
    std::fprintf(stderr, "livecast: warning: %s\n", w.c_str());

  if (cl.list_presets) {
    list_presets(store, paths);
    return kExitOk;
  }

  StreamConfig config;
  if (!resolve_config(cl, store, config, error))
    return usage_error(error);

  if (cl.print_pipeline) {
    std::printf("%s\n", config.pipeline.c_str());
    return kExitOk;
  }

  if (!check_display(config, error)) {
    std::fprintf(stderr, "livecast: error: %s\n", error.c_str());
    return kExitFailure;
  }

  return run_stream(config, cl.verbose);
}
