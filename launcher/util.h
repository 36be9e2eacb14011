/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small helpers for the launcher: unique_ptr holders for GStreamer objects
 * (the GLib ones are protocol/glibptr.h's) and a few string utilities. Kept
 * local to the launcher on purpose: it only needs "own this, free it at
 * scope end".
 */
#pragma once

#include <gst/gst.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/glibptr.h"

namespace livecast
{

/* Owners for GStreamer objects; those for plain GLib allocations
 * (GCharPtr, GErrorPtr, GKeyFilePtr, GOptionContextPtr, GErrorHolder) come
 * from protocol/glibptr.h. Every holder takes over a reference the caller
 * already owns (transfer full). */
using GstElementPtr = std::unique_ptr<GstElement, CFree<gst_object_unref>>;
using GstBusPtr = std::unique_ptr<GstBus, CFree<gst_object_unref>>;
using GstPadPtr = std::unique_ptr<GstPad, CFree<gst_object_unref>>;
using GstMessagePtr = std::unique_ptr<GstMessage, CFree<gst_message_unref>>;
using GstStructurePtr = std::unique_ptr<GstStructure, CFree<gst_structure_free>>;

/* Parses a whole string as an unsigned decimal number in [min, max]. */
std::optional<guint64> parse_unsigned(std::string_view text, guint64 min, guint64 max);

/* Quotes a value for the gst-launch syntax when it needs it. Values made only
 * of "safe" characters (letters, digits and -_.,:/@%+) are left bare so the
 * printed pipeline can also be pasted after `gst-launch-1.0` in a shell. */
std::string launch_quote(std::string_view value);

/* True for characters that need no quoting in a URL query or a shell. */
bool is_url_safe(std::string_view text);

}  // namespace livecast
