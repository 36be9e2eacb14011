/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rung switch of a viewer's branch, driven by hand: buffers (key or
 * delta, with their PTS) pushed into two or three rungs from test pads, the
 * output caught by a test pad. Checked: one rung passes at a time; a switch
 * happens at a key frame of the target only; the output's PTS never goes
 * back; the current rung waits for a target that lags behind, and passes
 * nothing while the viewer moves down (nor the target, for a hold); the new
 * rung's caps go out before its first frame; key frame requests go to the
 * right rung; a target that never sends a key frame does not freeze the
 * viewer.
 */
#include <gst/gst.h>
#include <gst/video/video.h>

#include <string>
#include <vector>

#include "rungswitch.h"

namespace
{

struct Out {
  std::vector<std::pair<GstClockTime, bool>> frames; /* PTS, key */
  std::vector<std::string> caps;                     /* caps strings, in order */
};

struct Rig {
  GstElement *sw;
  GstPad *out;
  std::vector<GstPad *> in;
  std::vector<int> key_requests;
  Out seen;

  explicit Rig(int rungs)
  {
    sw = rung_switch_new("switch");
    gst_object_ref_sink(sw);
    out = gst_pad_new("out", GST_PAD_SINK);
    gst_pad_set_element_private(out, this);
    gst_pad_set_chain_function(out, [](GstPad *pad, GstObject *, GstBuffer *b) {
      auto *rig = static_cast<Rig *>(gst_pad_get_element_private(pad));
      rig->seen.frames.emplace_back(GST_BUFFER_PTS(b),
                                    !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT));
      gst_buffer_unref(b);
      return GST_FLOW_OK;
    });
    gst_pad_set_event_function(out, [](GstPad *pad, GstObject *, GstEvent *e) -> gboolean {
      auto *rig = static_cast<Rig *>(gst_pad_get_element_private(pad));
      if (GST_EVENT_TYPE(e) == GST_EVENT_CAPS) {
        GstCaps *caps;
        gst_event_parse_caps(e, &caps);
        gchar *text = gst_caps_to_string(caps);
        rig->seen.caps.emplace_back(text);
        g_free(text);
      }
      gst_event_unref(e);
      return TRUE;
    });
    /* Like a payloader: any caps. */
    gst_pad_set_query_function(out, [](GstPad *pad, GstObject *parent, GstQuery *q) -> gboolean {
      if (GST_QUERY_TYPE(q) == GST_QUERY_ACCEPT_CAPS) {
        gst_query_set_accept_caps_result(q, TRUE);
        return TRUE;
      }
      return gst_pad_query_default(pad, parent, q);
    });
    gst_pad_set_active(out, TRUE);
    GstPad *src = gst_element_get_static_pad(sw, "src");
    g_assert_cmpint(gst_pad_link(src, out), ==, GST_PAD_LINK_OK);
    gst_object_unref(src);
    for (int r = 0; r < rungs; r++) {
      GstPad *sink = rung_switch_add_rung(sw, static_cast<guint>(r));
      GstPad *p = gst_pad_new(("in" + std::to_string(r)).c_str(), GST_PAD_SRC);
      gst_pad_set_element_private(p, this);
      g_object_set_data(G_OBJECT(p), "rung", GINT_TO_POINTER(r));
      gst_pad_set_event_function(p, [](GstPad *pad, GstObject *, GstEvent *e) -> gboolean {
        auto *rig = static_cast<Rig *>(gst_pad_get_element_private(pad));
        if (gst_video_event_is_force_key_unit(e))
          rig->key_requests.push_back(GPOINTER_TO_INT(g_object_get_data(G_OBJECT(pad), "rung")));
        gst_event_unref(e);
        return TRUE;
      });
      gst_pad_set_active(p, TRUE);
      g_assert_cmpint(gst_pad_link(p, sink), ==, GST_PAD_LINK_OK);
      in.push_back(p);
      /* Each rung's stream: start, its own size, one segment. */
      gst_pad_push_event(p, gst_event_new_stream_start("rung"));
      GstCaps *caps = gst_caps_new_simple("video/x-h264", "width", G_TYPE_INT, 1280 >> r, nullptr);
      gst_pad_push_event(p, gst_event_new_caps(caps));
      gst_caps_unref(caps);
      GstSegment segment;
      gst_segment_init(&segment, GST_FORMAT_TIME);
      gst_pad_push_event(p, gst_event_new_segment(&segment));
    }
    gst_element_set_state(sw, GST_STATE_PLAYING);
  }
  ~Rig()
  {
    gst_element_set_state(sw, GST_STATE_NULL);
    for (GstPad *p : in)
      gst_object_unref(p);
    gst_object_unref(out);
    gst_object_unref(sw);
  }
  /* Frame @n (33 ms apart) of rung @r. */
  void push(int r, int n, bool key)
  {
    GstBuffer *b = gst_buffer_new();
    GST_BUFFER_PTS(b) = n * 33 * GST_MSECOND;
    if (!key)
      GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
    g_assert_cmpint(gst_pad_push(in[r], b), ==, GST_FLOW_OK);
  }
  std::vector<int> frame_numbers() const
  {
    std::vector<int> out_numbers;
    for (const auto &f : seen.frames)
      out_numbers.push_back(static_cast<int>(f.first / (33 * GST_MSECOND)));
    return out_numbers;
  }
};

void assert_increasing(const Rig &rig)
{
  for (std::size_t i = 1; i < rig.seen.frames.size(); i++)
    g_assert_cmpuint(rig.seen.frames[i].first, >, rig.seen.frames[i - 1].first);
}

void test_starts_at_key_frame()
{
  Rig rig(2);
  rung_switch_set_target(rig.sw, 0);
  g_assert_cmpint(rung_switch_get_current(rig.sw), ==, -1);
  rig.push(0, 0, false); /* no key frame yet: nothing goes out */
  rig.push(1, 0, true);  /* another rung: nothing either */
  rig.push(0, 1, true);
  rig.push(0, 2, false);
  g_assert_true((rig.frame_numbers() == std::vector<int>{1, 2}));
  g_assert_true(rig.seen.frames[0].second);
  g_assert_cmpint(rung_switch_get_current(rig.sw), ==, 0);
  g_assert_cmpuint(rig.seen.caps.size(), ==, 1);
  g_assert_true(rig.seen.caps[0].find("width=(int)1280") != std::string::npos);
  /* The target was asked for a key frame. */
  g_assert_true(!rig.key_requests.empty() && rig.key_requests[0] == 0);
}

void test_switch_down_target_ahead()
{
  Rig rig(2);
  rung_switch_set_target(rig.sw, 0);
  rig.push(0, 0, true);
  rig.push(0, 1, false);
  rig.key_requests.clear();
  rung_switch_set_target(rig.sw, 1);
  g_assert_true((rig.key_requests == std::vector<int>{1}));
  /* The small rung encodes faster: it is ahead, with delta frames first. */
  rig.push(1, 2, false);
  /* The old rung: nothing more of it while moving down (the link does not
   * carry it; the target's key frame must not queue behind it). */
  rig.push(0, 2, false);
  g_assert_true((rig.frame_numbers() == std::vector<int>{0, 1}));
  rig.push(1, 3, true);  /* the switch */
  rig.push(0, 3, false); /* old rung: dropped from now on */
  rig.push(1, 4, false);
  rig.push(0, 4, false);
  g_assert_true((rig.frame_numbers() == std::vector<int>{0, 1, 3, 4}));
  g_assert_true(rig.seen.frames[2].second); /* frame 3 came from rung 1's key frame */
  g_assert_cmpint(rung_switch_get_current(rig.sw), ==, 1);
  g_assert_cmpint(rung_switch_get_pending(rig.sw), ==, -1);
  /* The new rung's caps (its size) went out before its first frame. */
  g_assert_cmpuint(rig.seen.caps.size(), ==, 2);
  g_assert_true(rig.seen.caps[1].find("width=(int)640") != std::string::npos);
  assert_increasing(rig);
}

void test_switch_up_target_lags()
{
  Rig rig(2);
  rung_switch_set_target(rig.sw, 1);
  for (int n = 0; n < 5; n++)
    rig.push(1, n, n == 0);
  rung_switch_set_target(rig.sw, 0);
  rig.key_requests.clear();
  /* The big rung lags: its key frame for frame 3 comes after the small rung
   * showed 4. Not shown (it would go back in time); a new key frame is
   * asked for, and the small rung waits for the big one to catch up. */
  rig.push(0, 3, true);
  g_assert_true((rig.key_requests == std::vector<int>{0}));
  rig.push(1, 5, false); /* held: the target is at 3 */
  rig.push(0, 4, false);
  rig.push(1, 6, false); /* held */
  rig.push(0, 5, false);
  rig.push(0, 6, true); /* the switch */
  rig.push(1, 7, false);
  rig.push(0, 7, false);
  g_assert_true((rig.frame_numbers() == std::vector<int>{0, 1, 2, 3, 4, 6, 7}));
  g_assert_cmpint(rung_switch_get_current(rig.sw), ==, 0);
  assert_increasing(rig);
}

void test_key_frame_requests_go_to_shown_next()
{
  Rig rig(3);
  rung_switch_set_target(rig.sw, 2);
  rig.push(2, 0, true);
  rig.key_requests.clear();
  GstPad *src = gst_element_get_static_pad(rig.sw, "src");
  /* A viewer's PLI, coming up from the payloader. */
  g_assert_true(gst_pad_send_event(
      src, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0)));
  gst_object_unref(src);
  g_assert_true((rig.key_requests == std::vector<int>{2}));
  /* While a switch is pending, the PLI is for the target: its key frame is
   * the next picture the viewer gets. */
  rung_switch_set_target(rig.sw, 1);
  rig.key_requests.clear();
  src = gst_element_get_static_pad(rig.sw, "src");
  g_assert_true(gst_pad_send_event(
      src, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0)));
  gst_object_unref(src);
  g_assert_true((rig.key_requests == std::vector<int>{1}));
}

/* A switch down with a hold: nothing at all goes out for the hold (the
 * bottleneck drains), then the target is asked for a key frame and the
 * switch happens at it. */
void test_switch_down_holds()
{
  Rig rig(2);
  rung_switch_set_target(rig.sw, 0);
  rig.push(0, 0, true);
  rig.key_requests.clear();
  rung_switch_set_target_after(rig.sw, 1, 150000);
  g_assert_true(rig.key_requests.empty()); /* not yet */
  rig.push(1, 1, true);  /* within the hold: not even a key frame */
  rig.push(0, 1, false); /* the old rung: nothing more of it */
  g_assert_true((rig.frame_numbers() == std::vector<int>{0}));
  g_assert_true(rig.key_requests.empty());
  g_usleep(200000);
  rig.push(1, 2, false); /* the hold is over: a key frame is asked for */
  g_assert_true((rig.key_requests == std::vector<int>{1}));
  rig.push(1, 3, true);
  rig.push(1, 4, false);
  g_assert_true((rig.frame_numbers() == std::vector<int>{0, 3, 4}));
  g_assert_cmpint(rung_switch_get_current(rig.sw), ==, 1);
  /* Up never waits: the key frame is asked for at once. */
  rig.key_requests.clear();
  rung_switch_set_target_after(rig.sw, 0, 150000);
  g_assert_true((rig.key_requests == std::vector<int>{0}));
}

/* A target that delivers no key frame (a request lost, a rung that never
 * starts) does not freeze the viewer: a second after the switch the current
 * rung goes on, no further than the target once it sends, and the target is
 * asked again until its key frame comes. */
void test_switch_down_target_silent()
{
  Rig rig(2);
  rung_switch_set_target(rig.sw, 0);
  rig.push(0, 0, true);
  rung_switch_set_target(rig.sw, 1);
  rig.push(0, 1, false); /* moving down: held */
  g_assert_true((rig.frame_numbers() == std::vector<int>{0}));
  g_usleep(1100000);
  rig.key_requests.clear();
  rig.push(0, 2, false); /* the target is silent: the old rung goes on */
  rig.push(1, 3, false); /* the target sends, still no key frame: asked again */
  g_assert_true((rig.key_requests == std::vector<int>{1}));
  rig.push(0, 3, false); /* level with the target: passes */
  rig.push(0, 4, false); /* ahead of it: held */
  rig.push(1, 5, false); /* asked a second ago: not asked again yet */
  g_assert_cmpuint(rig.key_requests.size(), ==, 1);
  rig.push(1, 6, true); /* the switch */
  rig.push(0, 7, false);
  rig.push(1, 7, false);
  g_assert_true((rig.frame_numbers() == std::vector<int>{0, 2, 3, 6, 7}));
  g_assert_cmpint(rung_switch_get_current(rig.sw), ==, 1);
  g_assert_cmpint(rung_switch_get_pending(rig.sw), ==, -1);
  assert_increasing(rig);
}

void test_back_to_current_cancels()
{
  Rig rig(2);
  rung_switch_set_target(rig.sw, 0);
  rig.push(0, 0, true);
  rung_switch_set_target(rig.sw, 1);
  g_assert_cmpint(rung_switch_get_pending(rig.sw), ==, 1);
  rung_switch_set_target(rig.sw, 0);
  g_assert_cmpint(rung_switch_get_pending(rig.sw), ==, -1);
  rig.push(1, 1, true); /* no longer wanted: dropped */
  rig.push(0, 1, false);
  g_assert_true((rig.frame_numbers() == std::vector<int>{0, 1}));
  g_assert_cmpint(rung_switch_get_current(rig.sw), ==, 0);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/rungswitch/starts-at-key-frame", test_starts_at_key_frame);
  g_test_add_func("/rungswitch/switch-down-target-ahead", test_switch_down_target_ahead);
  g_test_add_func("/rungswitch/switch-up-target-lags", test_switch_up_target_lags);
  g_test_add_func("/rungswitch/key-frame-requests-go-to-shown-next",
                  test_key_frame_requests_go_to_shown_next);
  g_test_add_func("/rungswitch/switch-down-holds", test_switch_down_holds);
  g_test_add_func("/rungswitch/switch-down-target-silent", test_switch_down_target_silent);
  g_test_add_func("/rungswitch/back-to-current-cancels", test_back_to_current_cancels);
  return g_test_run();
}
