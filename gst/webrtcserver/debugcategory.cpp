/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "debugcategory.h"

GST_DEBUG_CATEGORY(livecast_webrtcserversink_debug);

namespace livecast
{

void debug_category_init()
{
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    GST_DEBUG_CATEGORY_INIT(livecast_webrtcserversink_debug, "webrtcserversink", 0,
                            "WebRTC server sink");
    g_once_init_leave(&done, 1);
  }
}

}  // namespace livecast
