/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Media over the signalling WebSocket: one more consumer of the shared
 * encoding (ARCHITECTURE.md, Media), no second encoder. One tap on the video
 * tee (and one on the audio tee) feeds every such viewer:
 *
 *   tee ─ fakesink (a buffer probe copies each access unit's reference
 *         into a short bounded queue) ─▶ loop thread ─▶ each viewer's socket
 *
 * One shared consumer rather than a queue and appsink per socket: the
 * frames are the same for everyone, so each message is built once, and
 * what differs per viewer is only whether its socket takes it. That is
 * decided by the socket's own capped send buffer (WsChannel::send_binary):
 * a viewer whose socket is full drops frames for itself only, waits for
 * the next key frame (asking the encoder for one, rate-limited) and gets
 * the codec configuration again before it. Nothing is kept per frame and
 * per viewer; the shared queue holds at most kMaxQueuedFrames (the loop
 * thread stalled: everyone restarts at the next key frame).
 */
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "eventloop.h"
#include "gstrefptr.h"
#include "mediafanout.h"
#include "protocol/mediaframe.h"

namespace livecast
{

class WsMediaFeed : public std::enable_shared_from_this<WsMediaFeed>
{
 public:
  using SendBinary = std::function<bool(const std::string &bytes)>;
  struct ViewerStats {
    std::string id;
    gint64 created_us = 0;
    guint64 frames_sent = 0, frames_dropped = 0, bytes_sent = 0;
  };

  WsMediaFeed(GstBin *bin, MediaFanout &fanout, EventLoop &loop);
  ~WsMediaFeed();
  WsMediaFeed(const WsMediaFeed &) = delete;
  WsMediaFeed &operator=(const WsMediaFeed &) = delete;

  /* Loop thread: a viewer that gets the stream from now on through @send;
   * @on_ended is called when the feed ends it (end_all). */
  void add(const std::string &id, SendBinary send,
           std::function<void(const std::string &)> on_ended);
  /* Loop thread: false when @id is not ours. */
  bool remove(const std::string &id);
  /* Loop thread: ends every viewer, telling each through its on_ended. */
  void end_all(const std::string &reason);

  /* Any thread. */
  std::size_t count() const { return count_; }
  bool has(const std::string &id) const;
  std::vector<ViewerStats> stats() const;

  /* What the streaming threads hand to the loop thread (wsmediafeed.cpp). */
  struct Queue;

 private:
  struct Tap {
    Ref<GstPad> tee_pad;
    GstElement *sink = nullptr; /* in the bin */
  };
  struct Viewer {
    SendBinary send;
    std::function<void(const std::string &)> on_ended;
    std::string video_config; /* the config message it got last */
    bool audio_config = false;
    bool waiting_key = true;
    /* Frames of that kind were dropped since the last it got: the next is
     * marked kMediaFlagDiscont. */
    bool video_dropped = false, audio_dropped = false;
    ViewerStats stats;
  };

  void attach();
  void detach();
  bool attach_tap(Tap &tap, Ref<GstPad> tee_pad, const char *name, bool audio);
  void detach_tap(Tap &tap);
  void drain();

  GstBin *bin_;
  MediaFanout &fanout_;
  EventLoop &loop_;
  std::shared_ptr<Queue> queue_;
  Tap video_, audio_;
  mutable std::mutex lock_; /* viewers_ for stats() and has() */
  std::map<std::string, Viewer> viewers_;
  std::atomic<std::size_t> count_{0};
  /* Loop thread: the current configs as messages. */
  std::string video_config_, audio_config_;
  gint64 last_key_request_us_ = 0;
};

}  // namespace livecast
