/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Owners for plain GLib allocations, for code with or without GStreamer:
 * the plugins (through gst/common/gstrefptr.h), the launcher (through
 * launcher/util.h) and the protocol library. Every holder takes over a
 * pointer the caller already owns (transfer full).
 */
#pragma once

#include <glib.h>

#include <memory>
#include <string>

namespace livecast
{

/* Deleter that calls a C free function; `template <auto>` lets one type
 * cover g_free, g_error_free, g_key_file_unref, gst_object_unref, ... */
template <auto FreeFn>
struct CFree {
  template <typename T>
  void operator()(T *p) const
  {
    if (p)
      FreeFn(p);
  }
};

using GCharPtr = std::unique_ptr<gchar, CFree<g_free>>;
using GErrorPtr = std::unique_ptr<GError, CFree<g_error_free>>;
using GKeyFilePtr = std::unique_ptr<GKeyFile, CFree<g_key_file_unref>>;
using GOptionContextPtr = std::unique_ptr<GOptionContext, CFree<g_option_context_free>>;

/* Owns a GError* filled in through an out-parameter:
 *   GErrorHolder err; foo (..., err.out ()); if (err) ... err->message */
class GErrorHolder
{
 public:
  GErrorHolder() = default;
  GErrorHolder(const GErrorHolder &) = delete;
  GErrorHolder &operator=(const GErrorHolder &) = delete;
  ~GErrorHolder() { g_clear_error(&error_); }

  GError **out() { return &error_; }
  explicit operator bool() const { return error_ != nullptr; }
  const GError *operator->() const { return error_; }
  const char *message() const { return error_ ? error_->message : ""; }

 private:
  GError *error_ = nullptr;
};

/* Takes a g_malloc'ed string, returns it as std::string and frees it. */
inline std::string take_string(gchar *s)
{
  GCharPtr owner(s);
  return s ? std::string(s) : std::string();
}

}  // namespace livecast
