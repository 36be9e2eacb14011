/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "loopseam.h"

namespace livecast
{

GstPadProbeReturn loop_seam_probe(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *seam = static_cast<LoopSeam *>(data);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!seam->have_segment || !GST_BUFFER_PTS_IS_VALID(buf))
      return GST_PAD_PROBE_OK;
    GstClockTime rt =
        gst_segment_to_running_time(&seam->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
    if (!GST_CLOCK_TIME_IS_VALID(rt))
      return GST_PAD_PROBE_OK;
    if (GST_BUFFER_DURATION_IS_VALID(buf))
      rt += GST_BUFFER_DURATION(buf);
    if (!GST_CLOCK_TIME_IS_VALID(seam->end) || rt > seam->end)
      seam->end = rt;
    return GST_PAD_PROBE_OK;
  }

  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  if (!event)
    return GST_PAD_PROBE_OK;
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
    seam->end = GST_CLOCK_TIME_NONE; /* a flushing seek restarts running time */
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
    GstSegment seg;
    gst_event_copy_segment(event, &seg);
    if (seg.format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID(seam->end)) {
      const GstClockTime start = gst_segment_to_running_time(&seg, GST_FORMAT_TIME, seg.start);
      if (GST_CLOCK_TIME_IS_VALID(start) && start < seam->end) {
        seg.base += seam->end - start;
        GstEvent *moved = gst_event_new_segment(&seg);
        gst_event_set_seqnum(moved, gst_event_get_seqnum(event));
        gst_event_unref(event);
        GST_PAD_PROBE_INFO_DATA(info) = moved;
      }
    }
    seam->segment = seg;
    seam->have_segment = seg.format == GST_FORMAT_TIME;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace livecast
