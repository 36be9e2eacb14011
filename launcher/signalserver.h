/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `livecast signal`: a standalone WebSocket signaling relay with rooms
 * (libsoup 3 server on /ws, rules in signalrelay.h).
 */
#pragma once

namespace livecast
{

/* Runs the relay until SIGINT/SIGTERM. @argv[0] is "signal". Returns the
 * process exit code: 0 stopped by a signal, 1 could not listen, 2 usage. */
int run_signal_command(int argc, char **argv);

}  // namespace livecast
