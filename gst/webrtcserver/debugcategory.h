/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The debug category of webrtcserversink, shared by its parts
 * (GST_DEBUG=webrtcserversink:5). Defined in debugcategory.cpp, initialised
 * by debug_category_init() before the element's parts log anything.
 */
#pragma once

#include <gst/gst.h>

GST_DEBUG_CATEGORY_EXTERN(livecast_webrtcserversink_debug);

namespace livecast
{
void debug_category_init();
}
