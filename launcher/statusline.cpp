/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "statusline.h"

#include "util.h"

#ifdef G_OS_UNIX
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace livecast
{

namespace
{

constexpr size_t kDefaultColumns = 80; /* a terminal that does not say */

/* Each limit's name (the sink's property and the launcher's option) and its
 * stats field, in the order of Stats. */
struct LimitNames {
  const char *name;
  const char *refused_field;
};
constexpr LimitNames kNames[kLimitCount] = {
    {"max-viewers", "refused-max-viewers"},
    {"max-pending", "refused-max-pending"},
    {"max-offers-per-second", "refused-rate"},
};

std::string format_bitrate(guint64 bps)
{
  char buf[64];
  if (bps >= 1000000)
    g_snprintf(buf, sizeof buf, "%.2f Mbit/s", static_cast<double>(bps) / 1e6);
  else
    g_snprintf(buf, sizeof buf, "%.0f kbit/s", static_cast<double>(bps) / 1e3);
  return buf;
}

/* "viewers 3 · 29.9 fps · 1.52 Mbit/s" */
std::string format_counts(const Stats &s)
{
  /* The sink encodes nothing while nobody watches: say so rather than "0 fps". */
  if (s.viewers == 0 && s.bitrate == 0)
    return "viewers 0 \u00b7 waiting for the first viewer (encoder idle)";
  char fps[32];
  g_snprintf(fps, sizeof fps, "%.1f", s.fps);
  return "viewers " + std::to_string(s.viewers) + " \u00b7 " + fps + " fps \u00b7 " +
         format_bitrate(s.bitrate);
}

/* " · WHIP publishing" when the sink publishes (its session is one of the viewers). */
std::string format_whip(const Stats &s)
{
  if (s.whip_state.empty() || s.whip_state == "off")
    return "";
  return " \u00b7 WHIP " + s.whip_state;
}

/* " · rungs 2/1/0": viewers on each rung, the top (full size) first; only
 * with a ladder and someone on it (a viewer still connecting is on none). */
std::string format_rungs(const Stats &s)
{
  guint on = 0;
  for (guint n : s.rung_viewers)
    on += n;
  if (s.rung_viewers.size() < 2 || on == 0)
    return "";
  std::string text = " \u00b7 rungs ";
  for (size_t i = 0; i < s.rung_viewers.size(); i++)
    text += (i ? "/" : "") + std::to_string(s.rung_viewers[i]);
  return text;
}

/* The figures, the viewers per rung and the publish state. */
std::string format_figures(const Stats &s)
{
  return format_counts(s) + format_rungs(s) + format_whip(s);
}

size_t width_of(const std::string &line)
{
  return static_cast<size_t>(g_utf8_strlen(line.c_str(), -1));
}

}  // namespace

Stats read_sink_stats(GstElement *sink)
{
  Stats s;
  GObjectClass *klass = G_OBJECT_GET_CLASS(sink);
  for (size_t i = 0; i < kLimitCount; i++) {
    GParamSpec *spec = g_object_class_find_property(klass, kNames[i].name);
    if (spec && spec->value_type == G_TYPE_UINT)
      g_object_get(sink, kNames[i].name, &s.limits[i], nullptr);
  }
  if (g_object_class_find_property(klass, "stats")) {
    GstStructure *st = nullptr;
    g_object_get(sink, "stats", &st, nullptr);
    GstStructurePtr holder(st);
    if (st) {
      gst_structure_get_uint(st, "viewers", &s.viewers);
      gst_structure_get_double(st, "encoded-fps", &s.fps);
      gst_structure_get_uint64(st, "encoded-bitrate", &s.bitrate);
      for (size_t i = 0; i < kLimitCount; i++)
        gst_structure_get_uint64(st, kNames[i].refused_field, &s.refused[i]);
      if (const gchar *whip = gst_structure_get_string(st, "whip-state"))
        s.whip_state = whip;
      const GValue *rungs = gst_structure_get_value(st, "rung-viewers");
      if (rungs && GST_VALUE_HOLDS_ARRAY(rungs)) {
        for (guint i = 0; i < gst_value_array_get_size(rungs); i++) {
          const GValue *n = gst_value_array_get_value(rungs, i);
          s.rung_viewers.push_back(G_VALUE_HOLDS_UINT(n) ? g_value_get_uint(n) : 0);
        }
      }
      return s;
    }
  }
  if (g_object_class_find_property(klass, "viewers"))
    g_object_get(sink, "viewers", &s.viewers, nullptr);
  return s;
}

void StatusLine::update(const Stats &stats)
{
  grew_ = false;
  guint64 most = 0;
  for (size_t i = 0; i < kLimitCount; i++) {
    const guint64 before = have_previous_ ? stats_.refused[i] : 0;
    if (stats.refused[i] > before) {
      grew_ = true;
      /* Several in one second: name the one that turned most away. */
      if (stats.refused[i] - before > most) {
        most = stats.refused[i] - before;
        last_ = i;
      }
    }
  }
  stats_ = stats;
  have_previous_ = true;
}

std::string StatusLine::format(size_t columns) const
{
  const std::string figures = format_figures(stats_);
  guint64 refused = 0;
  for (guint64 n : stats_.refused)
    refused += n;
  if (refused == 0 && (columns == 0 || width_of(figures) < columns))
    return figures;

  /* The longest that fits: which limit and how to raise it, which limit, or
   * only how many. */
  std::string candidates[3];
  size_t count = 0;
  if (refused > 0) {
    const std::string away = figures + " \u00b7 " + std::to_string(refused) + " turned away";
    const std::string name = kNames[last_].name;
    const std::string limit = name + " " + std::to_string(stats_.limits[last_]);
    candidates[count++] = away + " (" + limit + ": raise it with --" + name + ")";
    candidates[count++] = away + " (" + limit + ")";
    candidates[count++] = away;
  } else {
    candidates[count++] = figures;
  }
  if (columns == 0)
    return candidates[0];
  for (size_t i = 0; i < count; i++) {
    if (width_of(candidates[i]) < columns)
      return candidates[i];
  }
  /* A very narrow terminal: cut the shortest, marking the cut. */
  if (columns < 2)
    return "";
  GCharPtr cut(g_utf8_substring(candidates[count - 1].c_str(), 0, static_cast<glong>(columns - 2)));
  return std::string(cut.get()) + "\u2026";
}

size_t terminal_columns()
{
#ifdef G_OS_UNIX
  struct winsize ws {
  };
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
#endif
  const char *env = g_getenv("COLUMNS");
  if (env) {
    auto v = parse_unsigned(env, 1, 10000);
    if (v)
      return static_cast<size_t>(*v);
  }
  return kDefaultColumns;
}

}  // namespace livecast
