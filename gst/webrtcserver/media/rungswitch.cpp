/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rungswitch.h"

#include <gst/video/video.h>

#include <map>
#include <mutex>
#include <utility>

#include "debugcategory.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace
{

/* A pending switch holds the current rung (all of it on the way down, what
 * runs ahead of a silent target on the way up) for at most this long after
 * its hold: a target whose key frame is lost or never made must not freeze
 * the viewer for good. */
constexpr gint64 kSwitchStallUs = 1 * G_USEC_PER_SEC;
/* Meanwhile the target is asked for a key frame again this often. */
constexpr gint64 kKeyFrameRetryUs = 1 * G_USEC_PER_SEC;

struct SwitchState {
  std::mutex lock;                      /* everything below */
  std::map<guint, GstPad *> pads;       /* rung -> sink pad, owned by the element */
  std::map<guint, GstSegment> segments; /* rung -> its last segment */
  gint current = -1;
  gint pending = -1;
  /* Running times, not PTS: each rung's encoder started at another moment
   * and shifts its timestamps by another amount (GstVideoEncoder puts the
   * first frame at 1000 hours), with a segment that cancels the shift. */
  GstClockTime last_pts = GST_CLOCK_TIME_NONE;   /* of the last buffer passed on */
  GstClockTime target_pts = GST_CLOCK_TIME_NONE; /* newest seen on the pending rung */
  bool resend_sticky = false;
  /* A switch down waits until then (monotonic time) before it asks the
   * target for its key frame; nothing goes out meanwhile. */
  gint64 hold_until_us = 0;
  gint64 stall_deadline_us = 0; /* kSwitchStallUs after the hold */
  gint64 next_key_ask_us = 0;   /* when the target is asked (again): the hold's end, if any */
  bool stall_logged = false;
  std::mutex push_lock; /* one rung thread pushes downstream at a time */
};

gint rung_of(GstPad *pad)
{
  return GPOINTER_TO_INT(gst_pad_get_element_private(pad));
}

}  // namespace

struct _LivecastRungSwitch {
  GstElement parent;
  GstPad *srcpad;
  SwitchState *state;
};

G_DEFINE_TYPE(LivecastRungSwitch, livecast_rung_switch, GST_TYPE_ELEMENT)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstPad *pad_of_rung(LivecastRungSwitch *self, gint rung)
{
  auto it = self->state->pads.find(static_cast<guint>(rung));
  return rung >= 0 && it != self->state->pads.end() ? it->second : nullptr;
}

/* Asks rung @pad's encoder for a key frame, past the viewers' rate limit. */
static void request_key_frame(GstPad *pad)
{
  GstEvent *event = gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0);
  gst_structure_set(gst_event_writable_structure(event), "livecast-forced", G_TYPE_BOOLEAN, TRUE,
                    nullptr);
  gst_pad_push_event(pad, event);
}

/* Decides, under the lock, what happens to a buffer of @rung: passed on
 * (true) or dropped; a switch happens here. */
static bool admit(LivecastRungSwitch *self, gint rung, GstBuffer *buffer, bool &ask_key_frame)
{
  SwitchState &s = *self->state;
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  auto segment = s.segments.find(static_cast<guint>(rung));
  if (pts != GST_CLOCK_TIME_NONE && segment != s.segments.end())
    pts = gst_segment_to_running_time(&segment->second, GST_FORMAT_TIME, pts);
  const bool key = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  const gint64 now = g_get_monotonic_time();
  if (rung == s.pending) {
    if (pts != GST_CLOCK_TIME_NONE && (s.target_pts == GST_CLOCK_TIME_NONE || pts > s.target_pts))
      s.target_pts = pts;
    if (now < s.hold_until_us)
      return false;
    /* Never back in time: the payloader's RTP timestamps follow the PTS,
     * and a browser cannot place a frame older than the last. */
    const bool in_past =
        s.last_pts != GST_CLOCK_TIME_NONE && pts != GST_CLOCK_TIME_NONE && pts <= s.last_pts;
    if (!key || in_past) {
      /* A key frame older than what went out is of no use: ask for the
       * next one. After a hold the target is asked for the first time; a
       * request can be lost (or the key frame, on its way here): ask again
       * now and then until the switch happens. */
      if ((key && in_past) || now >= s.next_key_ask_us) {
        ask_key_frame = true;
        s.next_key_ask_us = now + kKeyFrameRetryUs;
      }
      return false;
    }
    GST_DEBUG_OBJECT(self, "rung %d -> %d at %" GST_TIME_FORMAT, s.current, rung,
                     GST_TIME_ARGS(pts));
    s.current = rung;
    s.pending = -1;
    s.target_pts = GST_CLOCK_TIME_NONE;
    s.resend_sticky = true;
  } else if (rung != s.current) {
    return false;
  } else if (s.pending >= 0 && now >= s.stall_deadline_us) {
    /* The target has not delivered in time: the current rung goes on, but
     * never ahead of a target that sends (below), so its key frame, when it
     * comes, is not in the past. */
    if (!s.stall_logged) {
      s.stall_logged = true;
      GST_INFO_OBJECT(self, "rung %d: no key frame in time; rung %d goes on meanwhile", s.pending,
                      s.current);
    }
    if (s.target_pts != GST_CLOCK_TIME_NONE && pts != GST_CLOCK_TIME_NONE && pts > s.target_pts)
      return false;
  } else if (s.pending > s.current) {
    /* Moving down: the viewer's link does not carry this rung. More of it
     * only fills the bottleneck's queue, where the target's key frame would
     * be lost behind it; the picture holds until that key frame comes. */
    return false;
  } else if (s.pending >= 0 && pts != GST_CLOCK_TIME_NONE &&
             (s.target_pts == GST_CLOCK_TIME_NONE || pts > s.target_pts)) {
    /* A switch is pending: the current rung may not run ahead of the target,
     * or the target's next key frame would be in the past when it comes (a
     * short hold when the target lags, as a rung that was idle starts). */
    return false;
  }
  if (pts != GST_CLOCK_TIME_NONE)
    s.last_pts = pts;
  return true;
}

static gboolean push_sticky(GstPad *, GstEvent **event, gpointer srcpad)
{
  if (GST_EVENT_TYPE(*event) != GST_EVENT_EOS)
    gst_pad_push_event(GST_PAD(srcpad), gst_event_ref(*event));
  return TRUE;
}

static GstFlowReturn rung_switch_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  auto *self = LIVECAST_RUNG_SWITCH(parent);
  SwitchState &s = *self->state;
  bool pass, ask_key_frame = false, resend = false;
  {
    std::lock_guard<std::mutex> guard(s.lock);
    pass = admit(self, rung_of(pad), buffer, ask_key_frame);
    resend = pass && std::exchange(s.resend_sticky, false);
  }
  if (ask_key_frame)
    request_key_frame(pad);
  if (!pass) {
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  std::lock_guard<std::mutex> push(s.push_lock);
  /* The new rung's caps (its size) and segment go first. */
  if (resend)
    gst_pad_sticky_events_foreach(pad, push_sticky, self->srcpad);
  return gst_pad_push(self->srcpad, buffer);
}

static gboolean rung_switch_sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  auto *self = LIVECAST_RUNG_SWITCH(parent);
  bool current;
  {
    std::lock_guard<std::mutex> guard(self->state->lock);
    current = rung_of(pad) == self->state->current;
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
      const GstSegment *segment;
      gst_event_parse_segment(event, &segment);
      if (segment->format == GST_FORMAT_TIME)
        self->state->segments[static_cast<guint>(rung_of(pad))] = *segment;
    }
  }
  /* Other rungs' events stay on their pads (sticky ones are passed on at a
   * switch). */
  if (!current) {
    gst_event_unref(event);
    return TRUE;
  }
  std::lock_guard<std::mutex> push(self->state->push_lock);
  return gst_pad_push_event(self->srcpad, event);
}

static gboolean rung_switch_sink_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  const GstQueryType type = GST_QUERY_TYPE(query);
  if (type != GST_QUERY_CAPS && type != GST_QUERY_ACCEPT_CAPS)
    return gst_pad_query_default(pad, parent, query);
  /* Every rung answers itself, the rung shown too: a caps query comes from
   * a rung's encoder thread (and, through it, from the stream's input as a
   * rung starts), and an answer from the viewer's payloader asks its
   * webrtcbin, which may be busy under its own lock: that would hold the
   * rung for every viewer on it, or the whole stream. Every rung is the same
   * codec and profile, what the viewer's offer was checked against
   * (sdpoffer.h, check_offer); the payloader takes the caps event itself on
   * the viewer's own queue thread. */
  if (type == GST_QUERY_ACCEPT_CAPS) {
    gst_query_set_accept_caps_result(query, TRUE);
    return TRUE;
  }
  GstCaps *filter = nullptr;
  gst_query_parse_caps(query, &filter);
  GstCaps *any = gst_caps_new_any();
  gst_query_set_caps_result(query, filter ? filter : any);
  gst_caps_unref(any);
  return TRUE;
}

static gboolean rung_switch_src_event(GstPad *, GstObject *parent, GstEvent *event)
{
  auto *self = LIVECAST_RUNG_SWITCH(parent);
  GstPad *target = nullptr;
  {
    std::lock_guard<std::mutex> guard(self->state->lock);
    /* While a switch is pending, the next key frame the viewer gets is the
     * target's. */
    const SwitchState &s = *self->state;
    target = pad_of_rung(self, s.pending >= 0 ? s.pending : s.current);
    if (target)
      gst_object_ref(target);
  }
  /* A viewer's key frame request (PLI) is for the rung it is shown next. */
  if (gst_video_event_is_force_key_unit(event) && target) {
    const gboolean ret = gst_pad_push_event(target, event);
    gst_object_unref(target);
    return ret;
  }
  if (target)
    gst_object_unref(target);
  return gst_pad_event_default(self->srcpad, parent, event);
}

static gboolean rung_switch_src_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  auto *self = LIVECAST_RUNG_SWITCH(parent);
  GstPad *target = nullptr;
  {
    std::lock_guard<std::mutex> guard(self->state->lock);
    target = pad_of_rung(self, self->state->current);
    if (!target && !self->state->pads.empty())
      target = self->state->pads.begin()->second;
    if (target)
      gst_object_ref(target);
  }
  if (!target)
    return gst_pad_query_default(pad, parent, query);
  const gboolean ret = gst_pad_peer_query(target, query);
  gst_object_unref(target);
  return ret;
}

static void livecast_rung_switch_finalize(GObject *object)
{
  auto *self = LIVECAST_RUNG_SWITCH(object);
  delete self->state;
  G_OBJECT_CLASS(livecast_rung_switch_parent_class)->finalize(object);
}

static void livecast_rung_switch_init(LivecastRungSwitch *self)
{
  self->state = new SwitchState();
  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_event_function(self->srcpad, rung_switch_src_event);
  gst_pad_set_query_function(self->srcpad, rung_switch_src_query);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

static void livecast_rung_switch_class_init(LivecastRungSwitchClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = livecast_rung_switch_finalize;
  livecast::debug_category_init();
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Rung switch", "Generic",
      "Passes on one rung of a rendition ladder, switching at key frames (webrtcserversink)",
      "livecast developers");
}

GstElement *rung_switch_new(const char *name)
{
  return GST_ELEMENT(g_object_new(LIVECAST_TYPE_RUNG_SWITCH, "name", name, nullptr));
}

GstPad *rung_switch_add_rung(GstElement *element, guint rung)
{
  auto *self = LIVECAST_RUNG_SWITCH(element);
  gchar *name = g_strdup_printf("sink_%u", rung);
  GstPad *pad = gst_pad_new_from_static_template(&sink_template, name);
  g_free(name);
  gst_pad_set_element_private(pad, GINT_TO_POINTER(static_cast<gint>(rung)));
  gst_pad_set_chain_function(pad, rung_switch_chain);
  gst_pad_set_event_function(pad, rung_switch_sink_event);
  gst_pad_set_query_function(pad, rung_switch_sink_query);
  {
    std::lock_guard<std::mutex> guard(self->state->lock);
    self->state->pads[rung] = pad;
  }
  gst_pad_set_active(pad, TRUE);
  gst_element_add_pad(element, pad);
  return pad;
}

GstPad *rung_switch_get_rung_pad(GstElement *element, guint rung)
{
  auto *self = LIVECAST_RUNG_SWITCH(element);
  std::lock_guard<std::mutex> guard(self->state->lock);
  GstPad *pad = pad_of_rung(self, static_cast<gint>(rung));
  return pad ? GST_PAD(gst_object_ref(pad)) : nullptr;
}

void rung_switch_set_target(GstElement *element, guint rung)
{
  rung_switch_set_target_after(element, rung, 0);
}

void rung_switch_set_target_after(GstElement *element, guint rung, gint64 hold_us)
{
  auto *self = LIVECAST_RUNG_SWITCH(element);
  GstPad *pad = nullptr;
  {
    std::lock_guard<std::mutex> guard(self->state->lock);
    SwitchState &s = *self->state;
    if (static_cast<gint>(rung) == s.current) {
      s.pending = -1;
      return;
    }
    s.pending = static_cast<gint>(rung);
    s.target_pts = GST_CLOCK_TIME_NONE;
    const bool hold = hold_us > 0 && s.pending > s.current && s.current >= 0;
    const gint64 now = g_get_monotonic_time();
    s.hold_until_us = hold ? now + hold_us : 0;
    s.next_key_ask_us = hold ? s.hold_until_us : now + kKeyFrameRetryUs;
    s.stall_deadline_us = (hold ? s.hold_until_us : now) + kSwitchStallUs;
    s.stall_logged = false;
    if (hold)
      return;
    pad = pad_of_rung(self, s.pending);
    if (pad)
      gst_object_ref(pad);
  }
  if (pad) {
    request_key_frame(pad);
    gst_object_unref(pad);
  }
}

gint rung_switch_get_current(GstElement *element)
{
  auto *self = LIVECAST_RUNG_SWITCH(element);
  std::lock_guard<std::mutex> guard(self->state->lock);
  return self->state->current;
}

gint rung_switch_get_pending(GstElement *element)
{
  auto *self = LIVECAST_RUNG_SWITCH(element);
  std::lock_guard<std::mutex> guard(self->state->lock);
  return self->state->pending;
}
