/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * depthcolorize in a GstHarness: known depths to known colours, the range
 * from near/far or automatic, 0 as black, the depth unit from the buffer's
 * LivecastDepthMeta (else the property), RGB and RGBx out.
 */
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace
{

using RGB = std::array<int, 3>;

/* Colours of the maps at 0 (near), 64, 128, 191 and 255 (far) of 255,
 * worked out from the maps' definitions (turbo: Google's polynomial
 * approximation; jet: MATLAB's piecewise-linear; grayscale: 255 down to 40). */
const RGB kTurbo[] = {{35, 23, 27}, {38, 189, 224}, {152, 250, 79}, {255, 129, 29}, {144, 13, 0}};
const RGB kJet[] = {{0, 0, 128}, {0, 129, 255}, {130, 255, 126}, {255, 129, 0}, {128, 0, 0}};
const RGB kGray[] = {{255, 255, 255}, {201, 201, 201}, {147, 147, 147}, {94, 94, 94}, {40, 40, 40}};

struct Out {
  std::string format;
  int width = 0, pixel = 0;
  std::vector<uint8_t> data;
  RGB at(int x) const
  {
    const uint8_t *p = &data[size_t(x) * pixel];
    return {p[0], p[1], p[2]};
  }
};

/* One row of depth values through depthcolorize with @props; the unit is
 * attached as LivecastDepthMeta when @unit > 0. */
Out colorize(const std::vector<uint16_t> &row, const char *props, double unit,
             const char *out_caps = "video/x-raw,format=RGB")
{
  const std::string desc = std::string("depthcolorize ") + props;
  GstHarness *h = gst_harness_new_parse(desc.c_str());
  const int w = int(row.size());
  const std::string in_caps =
      "video/x-raw,format=GRAY16_LE,width=" + std::to_string(w) + ",height=1,framerate=30/1";
  gst_harness_set_src_caps_str(h, in_caps.c_str());
  gst_harness_set_sink_caps_str(h, out_caps);

  GstVideoInfo info;
  GstCaps *caps = gst_caps_from_string(in_caps.c_str());
  gst_video_info_from_caps(&info, caps);
  gst_caps_unref(caps);
  GstBuffer *in = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(in, &map, GST_MAP_WRITE);
  for (int x = 0; x < w; x++) {
    map.data[2 * x] = uint8_t(row[x] & 0xff);
    map.data[2 * x + 1] = uint8_t(row[x] >> 8);
  }
  gst_buffer_unmap(in, &map);
  if (unit > 0) {
    GstCustomMeta *m = gst_buffer_add_custom_meta(in, "LivecastDepthMeta");
    g_assert_nonnull(m); /* registered by the element */
    gst_structure_set(gst_custom_meta_get_structure(m), "unit", G_TYPE_DOUBLE, unit, nullptr);
  }
  GST_BUFFER_PTS(in) = 0;
  GstBuffer *out = gst_harness_push_and_pull(h, in);
  g_assert_nonnull(out);

  Out o;
  GstCaps *oc = gst_pad_get_current_caps(h->sinkpad);
  GstVideoInfo oinfo;
  g_assert_true(gst_video_info_from_caps(&oinfo, oc));
  gst_caps_unref(oc);
  o.format = gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&oinfo));
  o.width = GST_VIDEO_INFO_WIDTH(&oinfo);
  o.pixel = GST_VIDEO_INFO_COMP_PSTRIDE(&oinfo, 0);
  gst_buffer_map(out, &map, GST_MAP_READ);
  o.data.assign(map.data, map.data + size_t(o.width) * o.pixel);
  gst_buffer_unmap(out, &map);
  /* The output carries colours, not depths: no depth unit any more. */
  g_assert_null(gst_buffer_get_custom_meta(out, "LivecastDepthMeta"));
  gst_buffer_unref(out);
  gst_harness_teardown(h);
  return o;
}

void expect_rgb(const Out &o, int x, const RGB &want, const char *what, int tolerance = 1)
{
  const RGB got = o.at(x);
  for (int c = 0; c < 3; c++)
    if (std::abs(got[c] - want[c]) > tolerance)
      g_error("%s: pixel %d is (%d,%d,%d), expected (%d,%d,%d)", what, x, got[0], got[1], got[2],
              want[0], want[1], want[2]);
}

/* Depths around a 1.000..2.000 m range (unit 1 mm), and what they become:
 * 0 no data, nearer than near, near, a quarter, half, three quarters, far,
 * farther. Index in the map = round((d - near) / (far - near) * 255). */
const std::vector<uint16_t> kRow = {0, 500, 1000, 1251, 1502, 1749, 2000, 3000};

void check_row(const Out &o, const RGB *map, const char *what)
{
  expect_rgb(o, 0, {0, 0, 0}, what, 0); /* no depth: black */
  expect_rgb(o, 1, map[0], what);       /* nearer than near */
  expect_rgb(o, 2, map[0], what);
  expect_rgb(o, 3, map[1], what); /* (251 * 255 + 500) / 1000 = 64 */
  expect_rgb(o, 4, map[2], what); /* 128 */
  expect_rgb(o, 5, map[3], what); /* 191 */
  expect_rgb(o, 6, map[4], what);
  expect_rgb(o, 7, map[4], what); /* farther than far */
}

void test_colormaps()
{
  check_row(colorize(kRow, "near=1 far=2", 0.001), kTurbo, "turbo (default)");
  check_row(colorize(kRow, "colormap=jet near=1 far=2", 0.001), kJet, "jet");
  check_row(colorize(kRow, "colormap=grayscale near=1 far=2", 0.001), kGray, "grayscale");
}

void test_unit_from_buffer()
{
  /* The same values at 0.1 mm per step are 0.1..0.2 m. */
  check_row(colorize(kRow, "colormap=jet near=0.1 far=0.2", 0.0001), kJet, "unit 0.0001 from meta");
  /* The meta wins over the property. */
  check_row(colorize(kRow, "colormap=jet near=0.1 far=0.2 depth-unit=0.01", 0.0001), kJet,
            "meta over property");
  /* No meta: the property. */
  check_row(colorize(kRow, "colormap=jet near=10 far=20 depth-unit=0.01", 0), kJet,
            "unit from the property");
  /* Wrong unit, wrong colours: the unit does matter. */
  const Out o = colorize(kRow, "colormap=jet near=1 far=2", 0.0001);
  expect_rgb(o, 4, kJet[0], "0.15 m is nearer than 1 m");
}

void test_rgbx()
{
  const Out o = colorize(kRow, "colormap=jet near=1 far=2", 0.001, "video/x-raw,format=RGBx");
  g_assert_cmpstr(o.format.c_str(), ==, "RGBx");
  g_assert_cmpint(o.pixel, ==, 4);
  check_row(o, kJet, "RGBx");
  /* With nothing asked, RGBx: no 3-byte pixels for the next converter. */
  const Out any = colorize(kRow, "near=1 far=2", 0.001, "video/x-raw");
  g_assert_cmpstr(any.format.c_str(), ==, "RGBx");
}

void test_automatic_range()
{
  /* 100 measured depths 2000..2099 and 50 without data. The 2nd percentile
   * is 2001 (2 values at or below), the 98th 2097: those become the ends. */
  std::vector<uint16_t> row;
  for (int i = 0; i < 100; i++)
    row.push_back(uint16_t(2000 + (i * 37) % 100)); /* shuffled */
  for (int i = 0; i < 50; i++)
    row.insert(row.begin() + i * 3, 0);
  const Out o = colorize(row, "colormap=jet", 0.001);
  int black = 0;
  for (size_t x = 0; x < row.size(); x++) {
    const uint16_t d = row[x];
    if (d == 0) {
      expect_rgb(o, int(x), {0, 0, 0}, "no data", 0);
      black++;
    } else if (d <= 2001) {
      expect_rgb(o, int(x), kJet[0], "at or below the 2nd percentile");
    } else if (d >= 2097) {
      expect_rgb(o, int(x), kJet[4], "at or above the 98th percentile");
    }
  }
  g_assert_cmpint(black, ==, 50);
  /* Halfway (2049) is the map's middle: (48 * 255 + 48) / 96 = 128. */
  for (size_t x = 0; x < row.size(); x++)
    if (row[x] == 2049)
      expect_rgb(o, int(x), kJet[2], "halfway");

  /* Only near automatic: far stays 2.5 m. */
  const Out n = colorize(row, "colormap=jet far=2.5", 0.001);
  for (size_t x = 0; x < row.size(); x++)
    if (row[x] == 2001)
      expect_rgb(n, int(x), kJet[0], "automatic near");
    else if (row[x] == 2099)
      g_assert_cmpint(n.at(int(x))[2], >, 0); /* far from the far end: still blue in it */

  /* All black when nothing was measured. */
  const Out z = colorize(std::vector<uint16_t>(16, 0), "", 0.001);
  for (int x = 0; x < 16; x++)
    expect_rgb(z, x, {0, 0, 0}, "nothing measured", 0);
}

void test_caps()
{
  GstElement *e = gst_element_factory_make("depthcolorize", nullptr);
  g_assert_nonnull(e);
  GstPad *sink = gst_element_get_static_pad(e, "sink");
  GstCaps *c = gst_pad_query_caps(sink, nullptr);
  GstCaps *want = gst_caps_from_string("video/x-raw,format=GRAY16_LE");
  g_assert_true(gst_caps_can_intersect(c, want));
  GstCaps *rgb = gst_caps_from_string("video/x-raw,format=RGB");
  g_assert_false(gst_caps_can_intersect(c, rgb));
  gst_caps_unref(c);
  gst_caps_unref(want);
  gst_caps_unref(rgb);
  gst_object_unref(sink);
  gst_object_unref(e);
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/depthcolorize/colormaps", test_colormaps);
  g_test_add_func("/depthcolorize/unit-from-buffer", test_unit_from_buffer);
  g_test_add_func("/depthcolorize/rgbx", test_rgbx);
  g_test_add_func("/depthcolorize/automatic-range", test_automatic_range);
  g_test_add_func("/depthcolorize/caps", test_caps);
  return g_test_run();
}
