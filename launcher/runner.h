/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs the pipeline: prints where to watch, a status line while it runs, and
 * stops cleanly on Ctrl-C/SIGTERM, end of file or error.
 */
#pragma once

#include "streamconfig.h"

namespace livecast
{

/* Exit codes, as documented in --help. */
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/* Blocks until the stream ends; returns the process exit code. */
int run_stream(const StreamConfig &config, bool verbose);

}  // namespace livecast
