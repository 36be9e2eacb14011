/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small helpers for the launcher: unique_ptr holders for GLib/GStreamer
 * objects and a few string utilities. Kept local to the launcher on purpose:
 * it only needs "own this, free it at scope end".
 */
#pragma once

#include <gst/gst.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace livecast
{

/* Deleter that calls a C free function; `template <auto>` lets one type cover
 * g_free, g_error_free, gst_object_unref, ... */
template <auto FreeFn>
struct CFree {
  template <typename T>
  void operator()(T *p) const
  {
    if (p)
      FreeFn(p);
  }
};

/* Every holder takes over a reference the caller already owns (transfer full). */
using GCharPtr = std::unique_ptr<gchar, CFree<g_free>>;
using GErrorPtr = std::unique_ptr<GError, CFree<g_error_free>>;
using GKeyFilePtr = std::unique_ptr<GKeyFile, CFree<g_key_file_unref>>;
using GOptionContextPtr = std::unique_ptr<GOptionContext, CFree<g_option_context_free>>;
using GstElementPtr = std::unique_ptr<GstElement, CFree<gst_object_unref>>;
using GstBusPtr = std::unique_ptr<GstBus, CFree<gst_object_unref>>;
using GstPadPtr = std::unique_ptr<GstPad, CFree<gst_object_unref>>;
using GstMessagePtr = std::unique_ptr<GstMessage, CFree<gst_message_unref>>;
using GstStructurePtr = std::unique_ptr<GstStructure, CFree<gst_structure_free>>;

/* Owns a GError* filled in through an out-parameter:
 *   GErrorHolder err; foo (..., err.out ()); if (err) ... err->message */
class GErrorHolder
{
 public:
  GError **out() { return &error_; }
  explicit operator bool() const { return error_ != nullptr; }
  const GError *operator->() const { return error_; }
  const char *message() const { return error_ ? error_->message : ""; }
  ~GErrorHolder() { g_clear_error(&error_); }

 private:
  GError *error_ = nullptr;
};

/* Parses a whole string as an unsigned decimal number in [min, max]. */
std::optional<guint64> parse_unsigned(std::string_view text, guint64 min, guint64 max);

/* Quotes a value for the gst-launch syntax when it needs it. Values made only
 * of "safe" characters (letters, digits and -_.,:/@%+) are left bare so the
 * printed pipeline can also be pasted after `gst-launch-1.0` in a shell. */
std::string launch_quote(std::string_view value);

/* True for characters that need no quoting in a URL query or a shell. */
bool is_url_safe(std::string_view text);

}  // namespace livecast
