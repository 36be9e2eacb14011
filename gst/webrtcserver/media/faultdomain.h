/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A consumer's branch (a viewer's webrtcbin and what feeds it) as a fault
 * domain: whatever goes wrong inside it ends that consumer, never the
 * stream or another consumer (ARCHITECTURE.md, "Viewers are untrusted").
 *
 * - Its inputs (ghost pads fed by the shared tees) read every flow result as
 *   OK: GStreamer's tee stops pushing a buffer to all its other pads as soon
 *   as one returns anything but OK or NOT_LINKED, and hands that result
 *   upstream. A result that is not OK marks the branch failed, and nothing
 *   more goes in.
 * - Its inputs answer serialized queries (ALLOCATION, DRAIN) themselves:
 *   those wait for the branch's own streaming thread, which webrtcbin holds
 *   in a blocked push until DTLS is up.
 * - Each branch bin carries a tag (whose it is, and its guard), so the
 *   element's handle_message can tell its messages from the shared part's.
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dtlsfingerprint.h"

namespace livecast
{

/* Shared between the loop thread and the branch's streaming and DTLS threads. */
struct BranchGuard {
  std::atomic<bool> failed{false};
  std::atomic<bool> certificate_checked{false};
  std::mutex lock;
  /* The peer's DTLS fingerprints from its offer or answer (under lock). */
  std::vector<DtlsFingerprint> fingerprints;
};

struct BranchTag {
  std::string id;
  std::shared_ptr<BranchGuard> guard;
};

/* Adds a sink ghost pad @name to @branch for @target's sink pad, guarded by @guard. */
void add_guarded_input(GstElement *branch, const char *name, GstElement *target,
                       const std::shared_ptr<BranchGuard> &guard);
/* The same for the sink pad @target of an element inside @branch. */
void add_guarded_input_pad(GstElement *branch, const char *name, GstPad *target,
                           const std::shared_ptr<BranchGuard> &guard);

/* Whether a packet on an ICE transport whose first byte is @first_byte is RTP or
 * RTCP (RFC 7983: 128-191), as opposed to DTLS (20-63) or STUN (0-3). */
constexpr bool is_rtp_or_rtcp(guint8 first_byte)
{
  return first_byte >= 128 && first_byte <= 191;
}

/* Seals @transport_sink (the pad where a branch's packets enter its ICE
 * transport, a nicesink's): once @guard failed, RTP and RTCP are dropped
 * there, DTLS and STUN still pass. What a branch held before it failed (webrtcbin
 * keeps media back until DTLS is up) must not reach a peer whose certificate
 * was refused inside the handshake, and the handshake itself must end as
 * the peer expects. */
void seal_transport(GstPad *transport_sink, const std::shared_ptr<BranchGuard> &guard);

/* Marks @branch as the fault domain of consumer @id. */
void tag_branch(GstElement *branch, const std::string &id,
                const std::shared_ptr<BranchGuard> &guard);

/* The tag of the branch @object is in, looking up to @container (the
 * element); false when it is in none. Takes no lock: it runs in whatever
 * thread posts a message. */
bool find_branch(GstObject *container, GstObject *object, BranchTag &tag);

}  // namespace livecast
