/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "faultdomain.h"

#include "debugcategory.h"
#include "gstrefptr.h"

#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

GQuark branch_tag_quark()
{
  static GQuark quark = g_quark_from_static_string("livecast-branch-tag");
  return quark;
}

GstFlowReturn branch_result(GstPad *pad, BranchGuard *guard, GstFlowReturn ret)
{
  if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED && !guard->failed.exchange(true))
    GST_DEBUG_OBJECT(pad, "branch returned %s; nothing more goes in", gst_flow_get_name(ret));
  return GST_FLOW_OK;
}

GstFlowReturn guarded_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  auto *guard = static_cast<BranchGuard *>(gst_pad_get_element_private(pad));
  if (guard->failed) {
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  return branch_result(pad, guard, gst_proxy_pad_chain_default(pad, parent, buffer));
}

GstFlowReturn guarded_chain_list(GstPad *pad, GstObject *parent, GstBufferList *list)
{
  auto *guard = static_cast<BranchGuard *>(gst_pad_get_element_private(pad));
  if (guard->failed) {
    gst_buffer_list_unref(list);
    return GST_FLOW_OK;
  }
  return branch_result(pad, guard, gst_proxy_pad_chain_list_default(pad, parent, list));
}

/* Nothing in a branch wants a buffer pool or metas from upstream. */
gboolean guarded_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  if (GST_QUERY_IS_SERIALIZED(query))
    return TRUE;
  return gst_pad_query_default(pad, parent, query);
}

bool is_media_packet(GstBuffer *buffer)
{
  guint8 first = 0;
  return gst_buffer_extract(buffer, 0, &first, 1) == 1 && is_rtp_or_rtcp(first);
}

GstPadProbeReturn drop_media_once_failed(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *guard = static_cast<std::shared_ptr<BranchGuard> *>(data);
  if (!(*guard)->failed)
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return is_media_packet(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
  list = gst_buffer_list_make_writable(list);
  gst_buffer_list_foreach(
      list,
      [](GstBuffer **buffer, guint, gpointer) -> gboolean {
        if (is_media_packet(*buffer))
          gst_clear_buffer(buffer); /* removes it from the list */
        return TRUE;
      },
      nullptr);
  GST_PAD_PROBE_INFO_DATA(info) = list;
  return gst_buffer_list_length(list) == 0 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

}  // namespace

void seal_transport(GstPad *transport_sink, const std::shared_ptr<BranchGuard> &guard)
{
  gst_pad_add_probe(
      transport_sink,
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      drop_media_once_failed, new std::shared_ptr<BranchGuard>(guard),
      [](gpointer data) { delete static_cast<std::shared_ptr<BranchGuard> *>(data); });
}

void add_guarded_input(GstElement *branch, const char *name, GstElement *target,
                       const std::shared_ptr<BranchGuard> &guard)
{
  Ref<GstPad> sink = Ref<GstPad>::adopt(gst_element_get_static_pad(target, "sink"));
  add_guarded_input_pad(branch, name, sink.get(), guard);
}

void add_guarded_input_pad(GstElement *branch, const char *name, GstPad *target,
                           const std::shared_ptr<BranchGuard> &guard)
{
  GstPad *pad = gst_ghost_pad_new(name, target);
  /* The guard lives as long as the pad: its streaming thread reads it. */
  g_object_set_data_full(
      G_OBJECT(pad), "livecast-branch-guard", new std::shared_ptr<BranchGuard>(guard),
      [](gpointer data) { delete static_cast<std::shared_ptr<BranchGuard> *>(data); });
  gst_pad_set_element_private(pad, guard.get());
  gst_pad_set_chain_function(pad, guarded_chain);
  gst_pad_set_chain_list_function(pad, guarded_chain_list);
  gst_pad_set_query_function(pad, guarded_query);
  gst_element_add_pad(branch, pad);
}

void tag_branch(GstElement *branch, const std::string &id,
                const std::shared_ptr<BranchGuard> &guard)
{
  g_object_set_qdata_full(G_OBJECT(branch), branch_tag_quark(), new BranchTag{id, guard},
                          [](gpointer data) { delete static_cast<BranchTag *>(data); });
}

bool find_branch(GstObject *container, GstObject *object, BranchTag &tag)
{
  Ref<GstObject> current = Ref<GstObject>::ref(object);
  while (current) {
    Ref<GstObject> parent = Ref<GstObject>::adopt(gst_object_get_parent(current.get()));
    if (parent.get() == container) {
      auto *found =
          static_cast<BranchTag *>(g_object_get_qdata(G_OBJECT(current.get()), branch_tag_quark()));
      if (found)
        tag = *found;
      return found != nullptr;
    }
    current = parent;
  }
  return false;
}

}  // namespace livecast
