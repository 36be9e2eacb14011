/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "playoutdelay.h"

#include <algorithm>

namespace livecast
{

const char kPlayoutDelayUri[] = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

namespace
{

constexpr gsize kSize = 3;

enum { PROP_0, PROP_MIN_DELAY, PROP_MAX_DELAY };

/* 10 ms units, as the 12-bit fields carry them. */
guint to_units(guint ms)
{
  return std::min(ms, kPlayoutDelayMaxMs) / 10;
}

}  // namespace

struct PlayoutDelayExtension {
  GstRTPHeaderExtension parent;
  /* 10 ms units; written under the object lock (the streaming thread reads them). */
  guint min_units;
  guint max_units;
};

struct PlayoutDelayExtensionClass {
  GstRTPHeaderExtensionClass parent_class;
};

G_DEFINE_TYPE(PlayoutDelayExtension, playout_delay_extension, GST_TYPE_RTP_HEADER_EXTENSION)

namespace
{

PlayoutDelayExtension *self_of(gpointer object)
{
  return reinterpret_cast<PlayoutDelayExtension *>(object);
}

GstRTPHeaderExtensionFlags supported_flags(GstRTPHeaderExtension *)
{
  return static_cast<GstRTPHeaderExtensionFlags>(GST_RTP_HEADER_EXTENSION_ONE_BYTE |
                                                 GST_RTP_HEADER_EXTENSION_TWO_BYTE);
}

gsize max_size(GstRTPHeaderExtension *, const GstBuffer *)
{
  return kSize;
}

gssize write(GstRTPHeaderExtension *ext, const GstBuffer *, GstRTPHeaderExtensionFlags, GstBuffer *,
             guint8 *data, gsize size)
{
  if (size < kSize)
    return -1;
  PlayoutDelayExtension *self = self_of(ext);
  GST_OBJECT_LOCK(ext);
  const guint min = self->min_units;
  const guint max = self->max_units;
  GST_OBJECT_UNLOCK(ext);
  data[0] = static_cast<guint8>(min >> 4);
  data[1] = static_cast<guint8>(((min & 0xf) << 4) | (max >> 8));
  data[2] = static_cast<guint8>(max & 0xff);
  return kSize;
}

/* Only ever sent: what a viewer would send back is accepted and ignored. */
gboolean read(GstRTPHeaderExtension *, GstRTPHeaderExtensionFlags, const guint8 *, gsize size,
              GstBuffer *)
{
  return size >= kSize;
}

void set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  PlayoutDelayExtension *self = self_of(object);
  const guint units = to_units(g_value_get_uint(value));
  GST_OBJECT_LOCK(object);
  switch (prop_id) {
    case PROP_MIN_DELAY:
      self->min_units = units;
      break;
    case PROP_MAX_DELAY:
      self->max_units = units;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(object);
}

void get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PlayoutDelayExtension *self = self_of(object);
  GST_OBJECT_LOCK(object);
  switch (prop_id) {
    case PROP_MIN_DELAY:
      g_value_set_uint(value, self->min_units * 10);
      break;
    case PROP_MAX_DELAY:
      g_value_set_uint(value, self->max_units * 10);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(object);
}

}  // namespace

static void playout_delay_extension_class_init(PlayoutDelayExtensionClass *klass)
{
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);
  auto *ext_class = GST_RTP_HEADER_EXTENSION_CLASS(klass);
  gobject_class->set_property = set_property;
  gobject_class->get_property = get_property;
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_MIN_DELAY,
      g_param_spec_uint("min-delay", "Minimum delay",
                        "The least time, in milliseconds (10 ms steps), the receiver holds a "
                        "frame before showing it.",
                        0, kPlayoutDelayMaxMs, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_MAX_DELAY,
      g_param_spec_uint("max-delay", "Maximum delay",
                        "The most time, in milliseconds (10 ms steps), the receiver may hold a "
                        "frame before showing it.",
                        0, kPlayoutDelayMaxMs, 0, flags));
  gst_element_class_set_static_metadata(
      element_class, "Playout delay RTP header extension", GST_RTP_HDREXT_ELEMENT_CLASS,
      "Tells the receiver how long a frame may wait in its jitter buffer", "livecast");
  gst_rtp_header_extension_class_set_uri(ext_class, kPlayoutDelayUri);
  ext_class->get_supported_flags = supported_flags;
  ext_class->get_max_size = max_size;
  ext_class->write = write;
  ext_class->read = read;
}

static void playout_delay_extension_init(PlayoutDelayExtension *self)
{
  self->min_units = 0;
  self->max_units = 0;
}

GstRTPHeaderExtension *playout_delay_extension_new(guint id, guint min_ms, guint max_ms)
{
  auto *ext = GST_RTP_HEADER_EXTENSION(g_object_new(
      playout_delay_extension_get_type(), "min-delay", std::min(min_ms, kPlayoutDelayMaxMs),
      "max-delay", std::min(max_ms, kPlayoutDelayMaxMs), nullptr));
  gst_rtp_header_extension_set_id(ext, id);
  return ext;
}

}  // namespace livecast
