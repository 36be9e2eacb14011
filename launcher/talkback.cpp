/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "talkback.h"

#include "util.h"

namespace livecast
{

void play_viewer_microphone(GstBin *pipeline, GstPad *pad, std::string &line)
{
  const char *custom = g_getenv("LIVECAST_TALKBACK_SINK");
  const std::string description = std::string(
                                      "queue max-size-time=500000000 leaky=downstream ! "
                                      "audioconvert ! audioresample ! ") +
                                  (custom && *custom ? custom : "autoaudiosink");
  GErrorHolder err;
  GstElement *player = gst_parse_bin_from_description(description.c_str(), TRUE, err.out());
  if (!player || err) {
    if (player)
      gst_object_unref(player);
    line = std::string("livecast: warning: cannot play a viewer's microphone: ") + err.message();
    return;
  }
  const std::string name = std::string("player-") + GST_PAD_NAME(pad);
  gst_object_set_name(GST_OBJECT(player), name.c_str());
  g_object_set(player, "async-handling", TRUE, nullptr);
  gst_bin_add(pipeline, player);
  GstPadPtr sinkpad(gst_element_get_static_pad(player, "sink"));
  if (gst_pad_link(pad, sinkpad.get()) != GST_PAD_LINK_OK) {
    gst_bin_remove(pipeline, player);
    line = "livecast: warning: cannot link a viewer's microphone to the speakers";
    return;
  }
  gst_element_sync_state_with_parent(player);
  line = "A viewer is talking (" + std::string(GST_PAD_NAME(pad) + 9, 0, 8) + "…)";
}

void stop_viewer_microphone(GstBin *pipeline, GstPad *pad)
{
  const std::string name = std::string("player-") + GST_PAD_NAME(pad);
  GstElement *player = gst_bin_get_by_name(pipeline, name.c_str());
  if (!player)
    return;
  /* Not from this (streaming or server) thread: from the main loop. */
  g_idle_add(
      [](gpointer data) -> gboolean {
        auto *player = static_cast<GstElement *>(data);
        gst_element_set_state(player, GST_STATE_NULL);
        if (GstObject *parent = gst_object_get_parent(GST_OBJECT(player))) {
          gst_bin_remove(GST_BIN(parent), player);
          gst_object_unref(parent);
        }
        gst_object_unref(player);
        return G_SOURCE_REMOVE;
      },
      player);
}

}  // namespace livecast
