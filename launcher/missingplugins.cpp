/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "missingplugins.h"

#include <gst/pbutils/pbutils.h>

#include <cstring>

#include "util.h"

namespace livecast
{

void MissingPlugins::note(GstMessage *msg)
{
  if (!gst_is_missing_plugin_message(msg))
    return;
  Missing m;
  GCharPtr desc(gst_missing_plugin_message_get_description(msg));
  m.description = desc ? desc.get() : "an unknown plug-in";
  const GstStructure *s = gst_message_get_structure(msg);
  const GValue *detail = gst_structure_get_value(s, "detail");
  if (detail && GST_VALUE_HOLDS_CAPS(detail)) {
    const GstCaps *caps = gst_value_get_caps(detail);
    if (caps && !gst_caps_is_empty(caps) && !gst_caps_is_any(caps))
      m.media_type = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  }
  missing_.push_back(std::move(m));
}

/* decodebin's "missing a plug-in" error is generic: say which decoder, or that
 * the input simply has no video. It names what it missed in element messages,
 * or (for streams it was told not to expose) only in the debug text, as
 * "Missing decoder: NAME (caps)". Returns an empty string when nothing is known. */
std::string MissingPlugins::explain(const char *dbg, const std::string &input_name) const
{
  std::vector<Missing> missing = missing_;
  const char *const marker = "Missing decoder: ";
  for (const char *p = dbg; p && (p = strstr(p, marker)); p++) {
    /* The name may hold parentheses too ("H.264 (High 4:4:4 Profile)"): the
     * caps start at the first " (" followed by a media type. */
    const char *name = p + strlen(marker);
    const char *line_end = name + strcspn(name, "\n");
    for (const char *open = strstr(name, " ("); open && open < line_end;
         open = strstr(open + 2, " (")) {
      const std::string type(open + 2, strcspn(open + 2, ",) \n"));
      if (type.find('/') != std::string::npos) {
        missing.push_back({std::string(name, open) + " decoder", type});
        break;
      }
    }
  }
  std::string video, others;
  for (size_t i = 0; i < missing.size(); i++) {
    const Missing &m = missing[i];
    /* uridecodebin repeats decodebin's list in its own message. */
    bool seen = false;
    for (size_t j = 0; j < i; j++)
      seen = seen || missing[j].description == m.description;
    if (seen)
      continue;
    if (m.media_type.rfind("video/", 0) == 0) {
      video += (video.empty() ? "" : ", ") + m.description;
    } else {
      std::string kind = m.description; /* "MPEG-4 AAC decoder" -> "MPEG-4 AAC" */
      const std::string suffix = " decoder";
      if (kind.size() > suffix.size() &&
          kind.compare(kind.size() - suffix.size(), suffix.size(), suffix) == 0)
        kind.resize(kind.size() - suffix.size());
      others += (others.empty() ? "" : ", ") + kind;
    }
  }
  if (!video.empty())
    return "missing a GStreamer plug-in: " + video;
  if (!others.empty())
    return "found no video stream in " + input_name + " (it has " + others +
           "); livecast streams video only";
  return "";
}

}  // namespace livecast
