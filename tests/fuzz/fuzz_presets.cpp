/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A presets file (the installed one, $LIVECAST_PRESETS, or the user's in
 * $XDG_CONFIG_HOME/livecast): PresetStore::load reads the input as the
 * installed file, then every preset's source goes through
 * expand_placeholders as the launcher calls it; the whole input is also
 * expanded as a source line of its own.
 */
#include <glib/gstdio.h>

#include "fuzz_backend.h"
#include "presets.h"

#include <string>
#include <vector>

using namespace livecast;

namespace
{
std::string dir;

const std::vector<Placeholder> &placeholders()
{
  static const std::vector<Placeholder> list = {
      {"width", std::string("1280"), "--size is not given"},
      {"height", std::string("720"), "--size is not given"},
      {"fps", std::nullopt, "the preset has no fps= and --fps is not given"},
      {"caps", std::string("video/x-raw,width=1280,height=720"), ""},
      {"uri", std::string("file:///tmp/a%20b.mp4"), ""},
      {"file", std::nullopt, "needs --file PATH"},
      {"capture", std::string(), ""},
  };
  return list;
}

void expand(const std::string &source)
{
  std::string out, error;
  if (!expand_placeholders(source, placeholders(), out, error)) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  FUZZ_CHECK(error.empty());
  /* Nothing that was a placeholder is left: values hold no braces. */
  for (const Placeholder &p : placeholders())
    FUZZ_CHECK(!p.value || p.value->empty() || !uses_placeholder(source, p.name) ||
               out.find(*p.value) != std::string::npos);
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
  fuzz::init_gstreamer();
  const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir();
  gchar *tmpl = g_build_filename(base, "livecast-fuzz-presets-XXXXXX", nullptr);
  dir = g_mkdtemp(tmpl) ? tmpl : "";
  g_free(tmpl);
  FUZZ_CHECK(!dir.empty());
  atexit([]() {
    gchar *file = g_build_filename(dir.c_str(), "presets.ini", nullptr);
    g_unlink(file);
    g_free(file);
    g_rmdir(dir.c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const std::string text(reinterpret_cast<const char *>(data), size);
  PresetPaths paths;
  gchar *file = g_build_filename(dir.c_str(), "presets.ini", nullptr);
  paths.installed = file;
  paths.installed_from_env = true;
  paths.user = dir + "/no-such-user-file.ini";
  g_free(file);
  FUZZ_CHECK(g_file_set_contents(paths.installed.c_str(), text.data(),
                                 static_cast<gssize>(text.size()), nullptr));

  PresetStore store;
  std::string error;
  std::vector<std::string> warnings;
  if (store.load(paths, error, warnings)) {
    FUZZ_CHECK(!store.all().empty());
    for (const Preset &p : store.all()) {
      FUZZ_CHECK(store.find(p.name) != nullptr);
      FUZZ_CHECK(!p.source.empty());
      expand(p.source);
    }
    (void)store.names();
  } else {
    FUZZ_CHECK(!error.empty());
  }
  expand(text);
  return 0;
}
