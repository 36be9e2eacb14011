/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * decodebin's "missing a plug-in" error, explained: which decoder was
 * missing, or that the input has no video at all.
 */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace livecast
{

class MissingPlugins
{
 public:
  /* Keeps what a missing-plugin element message names (others are ignored). */
  void note(GstMessage *msg);
  /* One line for the error's debug text @dbg, with @input_name for "the
   * input has no video"; "" when nothing is known. */
  std::string explain(const char *dbg, const std::string &input_name) const;

 private:
  struct Missing {
    std::string description;
    std::string media_type;
  };
  std::vector<Missing> missing_;
};

}  // namespace livecast
