/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where session work runs: one thread (the element's server thread), so
 * viewers are only ever added, changed and removed there, and webrtcbin's
 * callbacks (its own threads) are handed over to it. The element adapts
 * its server thread to this interface (ARCHITECTURE.md, "Threads").
 */
#pragma once

#include <glib.h>

#include <functional>

namespace livecast
{

class EventLoop
{
 public:
  virtual ~EventLoop() = default;
  /* Runs @fn on the loop thread, at once when called from it. Dropped
   * once the loop has stopped. */
  virtual void invoke(std::function<void()> fn) = 0;
  /* Runs @fn once on the loop thread after @delay_ms (not after a stop). */
  virtual void add_timeout(guint delay_ms, std::function<void()> fn) = 0;
};

/* Runs a function on the loop thread if its owner (a viewer) still exists
 * by then; what webrtcbin's callbacks go through. */
using Guarded = std::function<void(std::function<void()>)>;

}  // namespace livecast
