/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The encoding chains of MediaFanout (mediafanout.h): what sits between
 * the input tee and a rung's tee, how it is built, started and stopped.
 *
 *   the stream's own (rung 0 of its codec), on the first caps:
 *     valve → queue → [videoconvert → encoder → caps] → [h264parse]
 *   any other rung, when its first viewer comes:
 *     valve → queue → [videorate → caps] → videoscale → caps
 *       → videoconvert → encoder → [caps] → [h264parse]
 *
 * A chain starts with its valve closed (no encoding work while nobody
 * watches) and is linked to the input tee only once it runs. The elements
 * go into the element's bin, which owns them; errors are posted on it.
 */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

#include "ladder.h"
#include "sdpoffer.h"

namespace livecast
{

/* What an encoder is set up with. */
struct EncoderParams {
  guint bitrate_kbps = 2000;
  guint key_int_max = 60;
  /* libvpx's speed (0-16 for VP8: higher is faster, coarser) */
  gint vpx_cpu_used = 8;
};

/* A chain built but not yet in the bin: its elements (the valve first) and
 * its encoder (null when the input is passed through). */
struct EncodingChain {
  std::vector<GstElement *> elements;
  GstElement *encoder = nullptr;
  GstElement *valve() const { return elements.empty() ? nullptr : elements[0]; }
};

/* gst_element_factory_make, posting a MISSING_PLUGIN error on @bin when the
 * element is missing. */
GstElement *make_chain_element(GstBin *bin, const char *factory, const char *name);

/* Drops elements never added to a bin (nulls skipped). */
void discard_elements(const std::vector<GstElement *> &elements);

/* Answers a CAPS or ACCEPT_CAPS @query with what @accepted allows (false:
 * another query, left alone). */
bool answer_caps_query(GstQuery *query, GstCaps *accepted);

/* The encoder's bitrate, whichever property its factory names it with. */
void set_encoder_bitrate(GstElement *encoder, guint kbps);

/* The stream's own chain for input of @input (its first caps): encodes raw
 * video in @codec, passes encoded video through. false (an error posted,
 * nothing kept) when an element is missing. */
bool build_stream_chain(GstBin *bin, const GstStructure *input, VideoCodec codec,
                        const EncoderParams &params, EncodingChain &chain);

/* Rung @spec of raw @input encoded in @codec; element names end in @suffix. */
bool build_rung_chain(GstBin *bin, const GstStructure *input, const RungSpec &spec,
                      VideoCodec codec, const EncoderParams &params, const std::string &suffix,
                      EncodingChain &chain);

/* Adds @chain to @bin between a new request pad of @from (a tee) and @to,
 * and starts it. false (an error posted) when it cannot be linked. */
bool start_chain(GstBin *bin, const std::vector<GstElement *> &chain, GstElement *from,
                 GstElement *to, const char *what);

/* Opens or closes a chain's valve: encoding work only while @open. */
void set_chain_open(GstElement *valve, bool open);

}  // namespace livecast
