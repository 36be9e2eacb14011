/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rsloader.h"

#include <gmodule.h>
#include <gst/gst.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(rs_loader_debug);
#define GST_CAT_DEFAULT rs_loader_debug

namespace livecast::rs
{

namespace
{

constexpr int kOldestMinor = (kOldestApiVersion % 10000) / 100;
/* Minor versions tried by name, newest first. librealsense2 2.57 is current;
 * the headroom covers releases to come. */
constexpr int kNewestMinorTried = 99;

std::string version_to_string(int v)
{
  return std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." +
         std::to_string(v % 100);
}

/* The names the platform's loader resolves, most likely first. */
std::vector<std::string> default_names()
{
  std::vector<std::string> names;
#if defined(G_OS_WIN32)
  names.push_back("realsense2.dll");
#elif defined(__APPLE__)
  names.push_back("librealsense2.dylib");
  names.push_back("librealsense2.2.dylib");
#else
  /* The SONAME changes with every minor release (librealsense2.so.2.50);
   * librealsense2.so is only there with the development package. */
  names.push_back("librealsense2.so");
  for (int minor = kNewestMinorTried; minor >= kOldestMinor; minor--)
    names.push_back("librealsense2.so.2." + std::to_string(minor));
#endif
  return names;
}

/* Opens @name and fills a table from it. Returns nullptr with @why set when
 * it cannot be opened or is not a usable librealsense2. */
std::unique_ptr<Api> open_library(const std::string &name, std::string &why, bool &opened)
{
  opened = false;
  GModule *module =
      g_module_open(name.c_str(), GModuleFlags(G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL));
  if (!module) {
    why = g_module_error();
    return nullptr;
  }
  opened = true;
  /* Never unloaded: librealsense2 keeps threads and frames alive. */
  g_module_make_resident(module);

  auto api = std::make_unique<Api>();
  api->path = g_module_name(module);
#define LIVECAST_RS2_LOAD(fn)                                                  \
  if (!g_module_symbol(module, #fn, reinterpret_cast<gpointer *>(&api->fn))) { \
    why = api->path + " is not a usable librealsense2: it has no " #fn;        \
    return nullptr;                                                            \
  }
  LIVECAST_RS2_REQUIRED_FUNCTIONS(LIVECAST_RS2_LOAD)
#undef LIVECAST_RS2_LOAD
#define LIVECAST_RS2_LOAD_OPTIONAL(fn)                                                        \
  if (!g_module_symbol(module, #fn, reinterpret_cast<gpointer *>(&api->fn))) {                \
    GST_INFO("%s has no %s (an older librealsense2): doing without", api->path.c_str(), #fn); \
    api->fn = nullptr;                                                                        \
  }
  LIVECAST_RS2_OPTIONAL_FUNCTIONS(LIVECAST_RS2_LOAD_OPTIONAL)
#undef LIVECAST_RS2_LOAD_OPTIONAL

  rs2_error *e = nullptr;
  api->version = api->rs2_get_api_version(&e);
  const std::string msg = api->take_error(e);
  if (!msg.empty()) {
    why = api->path + ": rs2_get_api_version failed: " + msg;
    return nullptr;
  }
  if (api->version / 10000 != kOldestApiVersion / 10000 || api->version < kOldestApiVersion) {
    why = "librealsense2 " + api->version_string() + " at " + api->path +
          " is not supported; realsensesrc needs librealsense2 " +
          version_to_string(kOldestApiVersion) + " or a newer 2.x";
    return nullptr;
  }
  GST_INFO("loaded librealsense2 %s from %s", api->version_string().c_str(), api->path.c_str());
  return api;
}

std::mutex loaded_lock;
/* Loaded tables by the name they were asked for ("" for the search). Never
 * freed: the library stays loaded. The map itself is never destroyed either:
 * a static map would be torn down at exit under a capture thread that may
 * still use its tables, and would leave the tables unreachable. */
std::map<std::string, Api *> &loaded = *new std::map<std::string, Api *>();

}  // namespace

std::string Api::version_string() const
{
  return version_to_string(version);
}

std::string Api::take_error(rs2_error *error) const
{
  if (!error)
    return "";
  const char *m = rs2_get_error_message(error);
  std::string text = m ? m : "unknown error";
  const char *fn = rs2_get_failed_function(error);
  GST_DEBUG("librealsense2 error in %s: %s", fn ? fn : "?", text.c_str());
  rs2_free_error(error);
  return text;
}

const Api *load_library(const std::string &path, std::string &error, std::string &detail)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(rs_loader_debug, "realsenseloader", 0, "librealsense2 run-time loader");
    g_once_init_leave(&once, 1);
  }

  std::string explicit_path = path;
  const char *origin = "the library-path property";
  if (explicit_path.empty()) {
    const char *env = g_getenv(kLibraryEnv);
    if (env && *env) {
      explicit_path = env;
      origin = kLibraryEnv;
    }
  }

  std::lock_guard<std::mutex> guard(loaded_lock);
  auto it = loaded.find(explicit_path);
  if (it != loaded.end())
    return it->second;

  std::string why;
  bool opened = false;
  if (!explicit_path.empty()) {
    std::unique_ptr<Api> api = open_library(explicit_path, why, opened);
    if (!api) {
      error = std::string("Cannot use ") + explicit_path + " as librealsense2 (set by " + origin +
              "): " + why + ".";
      detail = why;
      return nullptr;
    }
    return loaded[explicit_path] = api.release();
  }

  const std::vector<std::string> names = default_names();
  for (const std::string &name : names) {
    std::unique_ptr<Api> api = open_library(name, why, opened);
    if (api)
      return loaded[explicit_path] = api.release();
    GST_LOG("%s: %s", name.c_str(), why.c_str());
    if (opened) {
      /* There, but unusable (too old, or something else by that name). */
      error = "The installed " + why +
              ": install a newer librealsense2 package (from Intel's apt repository, see "
              "https://github.com/IntelRealSense/librealsense/blob/master/doc/"
              "distribution_linux.md).";
      detail = why;
      return nullptr;
    }
  }
  error =
      "librealsense2 is not installed: install Intel's librealsense2 package (from Intel's apt "
      "repository, see "
      "https://github.com/IntelRealSense/librealsense/blob/master/doc/distribution_linux.md), or "
      "set the library-path property or " +
      std::string(kLibraryEnv) + " to the librealsense2 library file.";
  detail = "tried " + names.front() +
           (names.size() > 2 ? ", " + names[1] + " ... " + names.back() : "") +
           " where the dynamic loader looks (LD_LIBRARY_PATH, ld.so.cache, the system "
           "library directories); last error: " +
           why;
  return nullptr;
}

}  // namespace livecast::rs
