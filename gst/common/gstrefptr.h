/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small RAII holders for GLib/GStreamer references.
 *
 * Every holder is explicit about ownership at construction:
 *   - Ref<T>::adopt (p)  takes over a reference the caller already owns
 *                        (transfer full, e.g. the result of gst_element_factory_make
 *                        after gst_object_ref_sink, or gst_pad_get_peer).
 *   - Ref<T>::ref (p)    adds a new reference (transfer none).
 * Owners of plain GLib allocations (GCharPtr, GErrorPtr, ...) come from
 * protocol/glibptr.h.
 */
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>
#include <utility>

#include "protocol/glibptr.h"

namespace livecast
{

/* Reference traits: how to ref/unref a given type. GObject-derived types
 * (including GstObject) use g_object_ref/unref; GstMiniObject types use
 * gst_mini_object_ref/unref. */
template <typename T, typename Enable = void>
struct RefTraits {
  static T *ref(T *p) { return static_cast<T *>(g_object_ref(p)); }
  static void unref(T *p) { g_object_unref(p); }
};

#define LIVECAST_MINI_OBJECT_TRAITS(Type)                                            \
  template <>                                                                        \
  struct RefTraits<Type> {                                                           \
    static Type *ref(Type *p)                                                        \
    {                                                                                \
      return reinterpret_cast<Type *>(gst_mini_object_ref(GST_MINI_OBJECT_CAST(p))); \
    }                                                                                \
    static void unref(Type *p) { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); }   \
  };

LIVECAST_MINI_OBJECT_TRAITS(GstCaps)
LIVECAST_MINI_OBJECT_TRAITS(GstBuffer)
LIVECAST_MINI_OBJECT_TRAITS(GstEvent)
LIVECAST_MINI_OBJECT_TRAITS(GstMessage)
LIVECAST_MINI_OBJECT_TRAITS(GstQuery)
LIVECAST_MINI_OBJECT_TRAITS(GstPromise)
#undef LIVECAST_MINI_OBJECT_TRAITS

template <typename T>
class Ref
{
 public:
  Ref() = default;
  Ref(std::nullptr_t) {}

  /* Takes over an existing reference (transfer full). */
  static Ref adopt(T *p)
  {
    Ref r;
    r.ptr_ = p;
    return r;
  }
  /* Adds a reference (transfer none). */
  static Ref ref(T *p)
  {
    Ref r;
    r.ptr_ = p ? RefTraits<T>::ref(p) : nullptr;
    return r;
  }

  Ref(const Ref &o) : ptr_(o.ptr_ ? RefTraits<T>::ref(o.ptr_) : nullptr) {}
  Ref(Ref &&o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)) {}
  Ref &operator=(Ref o) noexcept
  {
    std::swap(ptr_, o.ptr_);
    return *this;
  }
  ~Ref() { reset(); }

  void reset()
  {
    if (ptr_)
      RefTraits<T>::unref(std::exchange(ptr_, nullptr));
  }
  /* Gives the reference back to the caller (transfer full). */
  T *release() { return std::exchange(ptr_, nullptr); }

  T *get() const { return ptr_; }
  T *operator->() const { return ptr_; }
  explicit operator bool() const { return ptr_ != nullptr; }

 private:
  T *ptr_ = nullptr;
};

struct GstStructureDeleter {
  void operator()(GstStructure *s) const { gst_structure_free(s); }
};
using StructurePtr = std::unique_ptr<GstStructure, GstStructureDeleter>;

}  // namespace livecast
