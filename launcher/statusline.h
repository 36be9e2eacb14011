/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The status line: what the sink reports once a second (viewers, frame
 * rate, bitrate, viewers on each rung of its ladder, viewers its limits
 * turned away), put into one line that fits the terminal.
 */
#pragma once

#include <gst/gst.h>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

namespace livecast
{

/* The sink's limits that turn viewers away: max-viewers, max-pending and
 * max-offers-per-second, in this order in Stats. */
inline constexpr size_t kLimitCount = 3;

struct Stats {
  guint viewers = 0;
  double fps = 0.0;
  guint64 bitrate = 0; /* bits/s */
  /* Viewers turned away so far by each limit, and each limit's value. */
  std::array<guint64, kLimitCount> refused{};
  std::array<guint, kLimitCount> limits{};
  std::string whip_state; /* the sink's WHIP publishing; "" or "off": none */
  /* Viewers on each rung of the sink's ladder, the top rung first (one
   * entry or none: no ladder). */
  std::vector<guint> rung_viewers;
};

/* Reads the figures from webrtcserversink (its stats structure when it has
 * one, else only its viewer count). */
Stats read_sink_stats(GstElement *sink);

class StatusLine
{
 public:
  /* Takes this second's figures; remembers which limit turned viewers away
   * last, for the hint. */
  void update(const Stats &stats);
  /* Whether that update saw more viewers turned away than the one before. */
  bool refusals_grew() const { return grew_; }
  /* The line, at most `columns - 1` characters wide (0: any width), so that
   * a terminal never wraps it and "\r" can rewrite it in place. */
  std::string format(size_t columns) const;

 private:
  Stats stats_;
  bool have_previous_ = false;
  bool grew_ = false;
  size_t last_ = 0; /* the limit that turned viewers away last */
};

/* Columns of the terminal on standard output ($COLUMNS, else 80, when it
 * does not say). */
size_t terminal_columns();

}  // namespace livecast
