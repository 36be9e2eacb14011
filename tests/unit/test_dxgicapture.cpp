/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Windows backend's GStreamer adapter (backends/dxgi/dxgicapture.cpp)
 * over a scripted core: settings passed through, a still screen repeats the
 * previous buffer's memory, new pictures land in new buffers, a resize is
 * reported with the new format, unlock interrupts, a dead core is Lost.
 */
#include <gst/gst.h>

#include "fake_dxgiduplicator.h"
#include "screencapture.h"

using namespace livecast;
using livecast::dxgi::FrameStatus;

namespace {

GstObject *owner()
{
  static GstElement *element = nullptr;
  if (!element) {
    element = gst_element_factory_make("fakesrc", "owner");
    gst_object_ref_sink(element);
  }
  return GST_OBJECT(element);
}

void reset_script()
{
  fake_dxgi::script() = fake_dxgi::Script();
}

/* Every byte of @buffer, which must be @size long, equals @value. */
void assert_filled(GstBuffer *buffer, gsize size, int value)
{
  GstMapInfo map;
  g_assert_true(gst_buffer_map(buffer, &map, GST_MAP_READ));
  g_assert_cmpuint(map.size, ==, size);
  for (gsize i = 0; i < map.size; i++)
    if (map.data[i] != value)
      g_error("byte %" G_GSIZE_FORMAT " is %d, not %d", i, map.data[i], value);
  gst_buffer_unmap(buffer, &map);
}

void test_open_passes_settings()
{
  reset_script();
  auto capture = create_screen_capture(owner());
  g_assert_cmpstr(capture->name(), ==, "DXGI Desktop Duplication");
  CaptureConfig config;
  config.monitor = 1;
  config.x = 10;
  config.y = 20;
  config.width = 30;
  config.height = 40;
  config.show_cursor = false;
  config.use_damage = false;
  std::string error;
  g_assert_true(capture->open(config, error));
  const auto &o = fake_dxgi::script().options;
  g_assert_cmpint(o.monitor, ==, 1);
  g_assert_cmpint(o.x, ==, 10);
  g_assert_cmpint(o.y, ==, 20);
  g_assert_cmpint(o.width, ==, 30);
  g_assert_cmpint(o.height, ==, 40);
  g_assert_false(o.show_cursor);
  g_assert_false(o.use_damage);
  const CaptureFormat f = capture->format();
  g_assert_cmpint(f.width, ==, 64);
  g_assert_cmpint(f.height, ==, 32);
  g_assert_cmpint(f.format, ==, GST_VIDEO_FORMAT_BGRx);
  capture->close();
  g_assert_cmpint(fake_dxgi::script().closes, >=, 1);

  fake_dxgi::script().open_ok = false;
  auto failing = create_screen_capture(owner());
  g_assert_false(failing->open(config, error));
  g_assert_cmpstr(error.c_str(), ==, "no such monitor");
}

void test_still_screen_repeats_memory()
{
  reset_script();
  auto &s = fake_dxgi::script();
  s.statuses = {FrameStatus::NewFrame, FrameStatus::Unchanged, FrameStatus::Unchanged,
                FrameStatus::NewFrame};
  auto capture = create_screen_capture(owner());
  std::string error;
  g_assert_true(capture->open(CaptureConfig(), error));
  const gsize size = 64 * 32 * 4;
  GstBuffer *b[4] = {};
  for (GstBuffer *&buffer : b)
    g_assert_true(capture->grab(&buffer, error) == GrabResult::Ok);
  /* The first grab may wait for the first image, later ones only look. */
  g_assert_cmpuint(s.timeouts.size(), ==, 4);
  g_assert_cmpuint(s.timeouts[0], >, 0);
  g_assert_cmpuint(s.timeouts[1], ==, 0);
  assert_filled(b[0], size, 1);
  assert_filled(b[1], size, 1);
  assert_filled(b[2], size, 1);
  assert_filled(b[3], size, 2);
  /* Repeats are new buffers (the element stamps them) on the same memory. */
  g_assert_true(b[1] != b[0]);
  g_assert_true(gst_buffer_peek_memory(b[1], 0) == gst_buffer_peek_memory(b[0], 0));
  g_assert_true(gst_buffer_peek_memory(b[2], 0) == gst_buffer_peek_memory(b[0], 0));
  g_assert_true(gst_buffer_peek_memory(b[3], 0) != gst_buffer_peek_memory(b[0], 0));
  for (GstBuffer *buffer : b)
    gst_buffer_unref(buffer);
  capture->close();
}

void test_first_frame_even_without_an_image()
{
  /* The desktop out of reach from the start: black (picture 0) rather than nothing. */
  reset_script();
  auto capture = create_screen_capture(owner());
  std::string error;
  g_assert_true(capture->open(CaptureConfig(), error));
  GstBuffer *buffer = nullptr;
  g_assert_true(capture->grab(&buffer, error) == GrabResult::Ok);
  assert_filled(buffer, 64 * 32 * 4, 0);
  gst_buffer_unref(buffer);
}

void test_resize_reports_new_format()
{
  reset_script();
  auto &s = fake_dxgi::script();
  s.statuses = {FrameStatus::NewFrame, FrameStatus::Resized, FrameStatus::NewFrame};
  s.sizes = {{16, 8}};
  auto capture = create_screen_capture(owner());
  std::string error;
  g_assert_true(capture->open(CaptureConfig(), error));
  GstBuffer *first = nullptr, *second = nullptr;
  g_assert_true(capture->grab(&first, error) == GrabResult::Ok);
  g_assert_true(capture->grab(&second, error) == GrabResult::Resized);
  g_assert_null(second);
  g_assert_cmpint(capture->format().width, ==, 16);
  g_assert_cmpint(capture->format().height, ==, 8);
  g_assert_true(capture->grab(&second, error) == GrabResult::Ok);
  assert_filled(second, 16 * 8 * 4, 2);
  /* A buffer of the old size still downstream is unaffected. */
  assert_filled(first, 64 * 32 * 4, 1);
  gst_buffer_unref(first);
  gst_buffer_unref(second);
}

void test_unlock_and_errors()
{
  reset_script();
  auto &s = fake_dxgi::script();
  s.statuses = {FrameStatus::Interrupted, FrameStatus::Error};
  auto capture = create_screen_capture(owner());
  std::string error;
  g_assert_true(capture->open(CaptureConfig(), error));
  capture->unlock();
  g_assert_true(s.unlocked);
  GstBuffer *buffer = nullptr;
  g_assert_true(capture->grab(&buffer, error) == GrabResult::Flushing);
  g_assert_null(buffer);
  capture->unlock_stop();
  g_assert_false(s.unlocked);
  g_assert_true(capture->grab(&buffer, error) == GrabResult::Lost);
  g_assert_cmpstr(error.c_str(), ==, "the display went away");
  g_assert_null(buffer);
}

void test_clamped_region_warns()
{
  reset_script();
  fake_dxgi::script().clamped = true;
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(GST_ELEMENT(owner()), bus);
  auto capture = create_screen_capture(owner());
  std::string error;
  g_assert_true(capture->open(CaptureConfig(), error));
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  g_assert_nonnull(msg);
  gst_message_unref(msg);
  gst_element_set_bus(GST_ELEMENT(owner()), nullptr);
  gst_object_unref(bus);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/dxgicapture/open", test_open_passes_settings);
  g_test_add_func("/dxgicapture/still-screen", test_still_screen_repeats_memory);
  g_test_add_func("/dxgicapture/first-frame", test_first_frame_even_without_an_image);
  g_test_add_func("/dxgicapture/resize", test_resize_reports_new_format);
  g_test_add_func("/dxgicapture/unlock-errors", test_unlock_and_errors);
  g_test_add_func("/dxgicapture/clamped", test_clamped_region_warns);
  return g_test_run();
}
