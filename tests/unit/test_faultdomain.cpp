/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * media/faultdomain.h with real elements: a consumer branch that fails
 * (identity error-after) behind a guarded input leaves the tee, the source
 * and another consumer running to the end; the same branch behind a plain
 * ghost pad stops them (the control: what happened before the guard). A
 * sealed transport lets only DTLS and STUN out once its branch failed.
 */
#include <gst/gst.h>

#include <memory>
#include <string>

#include "media/faultdomain.h"

using namespace livecast;

namespace
{

constexpr int kBuffers = 60;

struct Run {
  int good_buffers = 0;
  bool eos = false;
  int branch_errors = 0;   /* errors posted from inside the tagged branch */
  int pipeline_errors = 0; /* errors from anywhere else */
  std::string branch_id;
};

void on_handoff(GstElement *, GstBuffer *, GstPad *, gpointer data)
{
  static_cast<Run *>(data)->good_buffers++;
}

/* videotestsrc ! tee ! queue ! fakesink(good), and the tee into a branch bin
 * whose identity fails after 5 buffers, guarded or not. */
Run run(bool guarded, std::shared_ptr<BranchGuard> guard)
{
  GstElement *pipeline = gst_parse_launch(
      "videotestsrc num-buffers=60 ! video/x-raw,width=64,height=48,framerate=30/1 ! "
      "tee name=t allow-not-linked=true ! queue ! fakesink name=good signal-handoffs=true "
      "sync=false",
      nullptr);
  g_assert_nonnull(pipeline);
  Run result;
  GstElement *good = gst_bin_get_by_name(GST_BIN(pipeline), "good");
  g_signal_connect(good, "handoff", G_CALLBACK(on_handoff), &result);
  gst_object_unref(good);

  GstElement *branch = gst_bin_new("viewer-branch");
  GstElement *failing = gst_element_factory_make("identity", nullptr);
  g_object_set(failing, "error-after", 5, nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(branch), failing, sink, nullptr);
  g_assert_true(gst_element_link(failing, sink));
  if (guarded) {
    add_guarded_input(branch, "sink", failing, guard);
    tag_branch(branch, "viewer-1", guard);
  } else {
    GstPad *target = gst_element_get_static_pad(failing, "sink");
    gst_element_add_pad(branch, gst_ghost_pad_new("sink", target));
    gst_object_unref(target);
  }
  gst_bin_add(GST_BIN(pipeline), branch);
  GstElement *tee = gst_bin_get_by_name(GST_BIN(pipeline), "t");
  g_assert_true(gst_element_link(tee, branch));
  gst_object_unref(tee);

  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  const gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  while (!result.eos && g_get_monotonic_time() < deadline) {
    GstMessage *msg = gst_bus_timed_pop_filtered(
        bus, 100 * GST_MSECOND, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
      result.eos = true;
    } else {
      BranchTag tag;
      if (find_branch(GST_OBJECT(pipeline), GST_MESSAGE_SRC(msg), tag)) {
        result.branch_errors++;
        result.branch_id = tag.id;
      } else {
        result.pipeline_errors++;
        /* The unguarded control: the error reached the pipeline and the
         * source stopped; nothing more will come. */
      }
    }
    gst_message_unref(msg);
    if (!guarded && result.pipeline_errors > 0)
      break;
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return result;
}

void test_failed_branch_is_contained()
{
  auto guard = std::make_shared<BranchGuard>();
  Run r = run(true, guard);
  g_assert_true(r.eos);
  g_assert_cmpint(r.good_buffers, ==, kBuffers);
  g_assert_true(guard->failed.load());
  /* Its error is recognised as the branch's, by tag. */
  g_assert_cmpint(r.branch_errors, ==, 1);
  g_assert_cmpint(r.pipeline_errors, ==, 0);
  g_assert_cmpstr(r.branch_id.c_str(), ==, "viewer-1");
}

void test_unguarded_branch_stops_everyone()
{
  /* What the guard prevents: the tee hands the branch's error upstream and
   * the other consumer sees only the first few buffers. */
  Run r = run(false, nullptr);
  g_assert_false(r.eos);
  g_assert_cmpint(r.good_buffers, <, kBuffers);
  g_assert_cmpint(r.pipeline_errors, >=, 1);
}

void test_find_branch_outside()
{
  GstElement *bin = gst_bin_new("element");
  GstElement *shared = gst_element_factory_make("identity", "shared");
  GstElement *branch = gst_bin_new("branch");
  GstElement *inner = gst_element_factory_make("identity", "inner");
  gst_bin_add(GST_BIN(branch), inner);
  gst_bin_add_many(GST_BIN(bin), shared, branch, nullptr);
  tag_branch(branch, "v7", std::make_shared<BranchGuard>());
  BranchTag tag;
  g_assert_true(find_branch(GST_OBJECT(bin), GST_OBJECT(inner), tag));
  g_assert_cmpstr(tag.id.c_str(), ==, "v7");
  g_assert_true(find_branch(GST_OBJECT(bin), GST_OBJECT(branch), tag));
  g_assert_false(find_branch(GST_OBJECT(bin), GST_OBJECT(shared), tag));
  g_assert_false(find_branch(GST_OBJECT(bin), GST_OBJECT(bin), tag));
  gst_object_unref(bin);
}

/* The bytes that leave a sealed transport: a DTLS record (first byte 22), an RTP
 * packet (128), an RTCP packet (129) and STUN (0), pushed once
 * before and once after the guard failed, singly and as one list. */
std::string through_sealed_transport(bool as_list)
{
  GstElement *pipeline =
      gst_parse_launch("appsrc name=in format=time ! appsink name=out sync=false", nullptr);
  GstElement *in = gst_bin_get_by_name(GST_BIN(pipeline), "in");
  GstElement *out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  GstPad *sink = gst_element_get_static_pad(out, "sink");
  auto guard = std::make_shared<BranchGuard>();
  seal_transport(sink, guard);
  gst_object_unref(sink);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);

  const guint8 firsts[] = {22, 128, 129, 0};
  auto push_all = [&](char round) {
    GstBufferList *list = gst_buffer_list_new();
    for (guint8 first : firsts) {
      guint8 bytes[2] = {first, static_cast<guint8>(round)};
      GstBuffer *buffer = gst_buffer_new_memdup(bytes, sizeof bytes);
      if (as_list) {
        gst_buffer_list_add(list, buffer);
      } else {
        GstFlowReturn ret;
        g_signal_emit_by_name(in, "push-buffer", buffer, &ret);
        gst_buffer_unref(buffer);
      }
    }
    GstFlowReturn ret;
    if (as_list)
      g_signal_emit_by_name(in, "push-buffer-list", list, &ret);
    gst_buffer_list_unref(list);
  };
  std::string seen; /* "<first byte>/<round> " for each buffer that came out */
  int count = 0;
  /* Pulls until @until buffers came out in all, or the end. */
  auto pull = [&](int until) {
    while (count < until) {
      GstSample *sample = nullptr;
      g_signal_emit_by_name(out, "try-pull-sample", 5 * GST_SECOND, &sample);
      if (!sample)
        return;
      auto note = [&](GstBuffer *buffer) {
        guint8 bytes[2] = {};
        gst_buffer_extract(buffer, 0, bytes, 2);
        seen += std::to_string(bytes[0]) + "/" + static_cast<char>(bytes[1]) + " ";
        count++;
      };
      if (GstBufferList *got_list = gst_sample_get_buffer_list(sample)) {
        for (guint i = 0; i < gst_buffer_list_length(got_list); i++)
          note(gst_buffer_list_get(got_list, i));
      } else {
        note(gst_sample_get_buffer(sample));
      }
      gst_sample_unref(sample);
    }
  };
  push_all('a');
  pull(4); /* appsrc pushes from its own thread: the first round is out */
  guard->failed = true;
  push_all('b');
  GstFlowReturn eos_ret;
  g_signal_emit_by_name(in, "end-of-stream", &eos_ret);
  pull(G_MAXINT);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(in);
  gst_object_unref(out);
  gst_object_unref(pipeline);
  return seen;
}

void test_sealed_transport_keeps_only_the_handshake()
{
  g_assert_true(is_rtp_or_rtcp(128) && is_rtp_or_rtcp(191));
  g_assert_false(is_rtp_or_rtcp(20) || is_rtp_or_rtcp(63) || is_rtp_or_rtcp(0) ||
                 is_rtp_or_rtcp(192));
  const std::string expected = "22/a 128/a 129/a 0/a 22/b 0/b ";
  const std::string single = through_sealed_transport(false);
  const std::string listed = through_sealed_transport(true);
  g_assert_cmpstr(single.c_str(), ==, expected.c_str());
  g_assert_cmpstr(listed.c_str(), ==, expected.c_str());
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/faultdomain/failed-branch-is-contained", test_failed_branch_is_contained);
  g_test_add_func("/faultdomain/unguarded-branch-stops-everyone",
                  test_unguarded_branch_stops_everyone);
  g_test_add_func("/faultdomain/find-branch-outside", test_find_branch_outside);
  g_test_add_func("/faultdomain/sealed-transport-keeps-only-the-handshake",
                  test_sealed_transport_keeps_only_the_handshake);
  return g_test_run();
}
