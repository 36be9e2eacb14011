/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input of one viewer's branch when the stream is a rendition ladder:
 * it takes encoded video from any rung (one sink pad per rung linked to
 * it) and passes on one rung at a time. A switch to another rung waits for
 * a key frame of that rung, so the viewer's single payloader sees one
 * stream whose resolution changes at a key frame: its SSRC, sequence
 * numbers and timestamps (all rungs share the input's timeline) stay
 * continuous (the payloader follows running time, and each rung's segment
 * maps its encoder's own timestamps to the one running time of the input),
 * and the browser sees a new size, not a new stream
 * (ARCHITECTURE.md, "Media").
 *
 * A switch down (to a rung of a higher index: a lower bitrate) passes
 * nothing of the current rung meanwhile: the viewer moves down because its
 * link does not carry that rung, and the target's key frame must not queue
 * behind more of it. A switch up keeps the current rung going until then.
 * Neither waits for good: a target without a usable key frame a second
 * after the switch (or its hold) was asked for lets the current rung go on,
 * paced by the target, and is asked for a key frame again every second.
 *
 * Not registered as a plugin feature: the sink makes it with
 * rung_switch_new(). Key frame requests from downstream (a viewer's PLI) go
 * to the rung it is shown next (the target while a switch is pending);
 * rung_switch_set_target() asks the target rung for one.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define LIVECAST_TYPE_RUNG_SWITCH (livecast_rung_switch_get_type())
G_DECLARE_FINAL_TYPE(LivecastRungSwitch, livecast_rung_switch, LIVECAST, RUNG_SWITCH, GstElement)

GstElement *rung_switch_new(const char *name);

/* A new sink pad for rung @rung (0 = the top); owned by the element. */
GstPad *rung_switch_add_rung(GstElement *element, guint rung);
/* The sink pad of rung @rung, or null (transfer full). */
GstPad *rung_switch_get_rung_pad(GstElement *element, guint rung);
/* Switches to rung @rung at its next key frame (asked for now). */
void rung_switch_set_target(GstElement *element, guint rung);
/* The same, but a switch down passes nothing for @hold_us (microseconds)
 * before it asks for that key frame: the bottleneck drains the queue the
 * old rung left (the estimator's standing queue), so the key frame is not
 * lost at its tail. A switch up does not wait. */
void rung_switch_set_target_after(GstElement *element, guint rung, gint64 hold_us);
/* The rung being passed on (-1 before the first buffer), and the one
 * switched to next (-1 when none is pending). */
gint rung_switch_get_current(GstElement *element);
gint rung_switch_get_pending(GstElement *element);

G_END_DECLS
