/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A SessionBackend without media for the fuzz targets: sessions live in a
 * map, answers are made up, and what the element would do later (the
 * answer after ICE gathering, candidates, a session ending on its own) is
 * queued and run when the fuzz input says so. Failures (refused sessions,
 * a stream not started, 4xx from apply_answer/add_remote_candidates) are
 * switched on and off by the input too.
 */
#pragma once

#include <gst/gst.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "signalling/httpapi.h"

namespace fuzz
{

using namespace livecast;

/* Aborts (a crash libFuzzer reports) when @cond is false. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

class FakeBackend : public SessionBackend
{
 public:
  bool started = true;
  VideoCodec codec = VideoCodec::H264;
  bool refuse = false;      /* create_session / create_offer_session fail (503) */
  bool deferred = false;    /* @done waits for run_pending() */
  int answer_status = 0;    /* apply_answer's result when a session exists */
  int candidate_status = 0; /* add_remote_candidates's result when it exists */
  int next = 1;

  struct Session {
    std::string etag;
    SessionEvents events;
  };
  std::map<std::string, Session> sessions;
  std::vector<std::function<void()>> pending;

  bool current_video(SentVideo &sent) override
  {
    sent.codec = codec;
    return started;
  }

  void create_session(const OfferCheck &offer, SessionEvents events,
                      std::function<void(SessionResult)> done) override
  {
    /* What the element relies on: the offer was checked. */
    FUZZ_CHECK(offer.ok);
    FUZZ_CHECK(offer.video.caps);
    /* RTP payload types are 7 bits (RFC 3550). */
    FUZZ_CHECK(offer.video.payload_type >= 0 && offer.video.payload_type <= 127);
    if (offer.audio.present)
      FUZZ_CHECK(offer.audio.payload_type >= 0 && offer.audio.payload_type <= 127 &&
                 offer.audio.caps);
    FUZZ_CHECK(offer.video.mline < offer.video.mids.size());
    FUZZ_CHECK(offer.sdp != nullptr); /* parsed once, carried along */
    start(std::move(events), "v=0\r\ns=answer\r\n", std::move(done));
  }

  void create_offer_session(SessionEvents events, const OfferOptions &,
                            std::function<void(SessionResult)> done) override
  {
    start(std::move(events), "v=0\r\ns=offer\r\n", std::move(done));
  }

  int apply_answer(const std::string &id, const std::string &answer_sdp,
                   std::string &message) override
  {
    if (!sessions.count(id)) {
      message = "There is no such session.";
      return 404;
    }
    FUZZ_CHECK(answer_sdp.compare(0, 2, "v=") == 0);
    if (answer_status)
      message = "The answer was refused.";
    return answer_status;
  }

  int add_remote_candidates(const std::string &id, const SdpFragment &frag,
                            std::string &message) override
  {
    if (!sessions.count(id)) {
      message = "There is no such session.";
      return 404;
    }
    FUZZ_CHECK(frag.ok);
    for (const TrickleCandidate &c : frag.candidates)
      FUZZ_CHECK(c.candidate.compare(0, 10, "candidate:") == 0);
    if (candidate_status)
      message = "The candidate was refused.";
    return candidate_status;
  }

  std::string session_etag(const std::string &id) override
  {
    auto it = sessions.find(id);
    return it == sessions.end() ? std::string() : it->second.etag;
  }

  bool end_session(const std::string &id) override { return sessions.erase(id) > 0; }

  std::string stats_json() override
  {
    return "{\"viewers\":" + std::to_string(sessions.size()) + "}";
  }

  /* Runs what was deferred, in order (and what that defers in turn). */
  void run_pending()
  {
    for (int rounds = 0; !pending.empty() && rounds < 16; rounds++) {
      std::vector<std::function<void()>> now;
      now.swap(pending);
      for (auto &f : now)
        f();
    }
  }

  /* The element's side of a session: a local candidate, the end of
   * candidates, or the session ending (ICE failure, stream stopped). Copies
   * the callbacks first: they may end the session themselves. */
  void candidate_on_all(bool end)
  {
    std::vector<SessionEvents> events;
    for (auto &s : sessions)
      events.push_back(s.second.events);
    for (auto &e : events) {
      if (!e.on_candidate)
        continue;
      LocalCandidate c;
      if (!end) {
        c.candidate = "candidate:1 1 UDP 2015363327 127.0.0.1 48826 typ host";
        c.mid = "0";
        c.mline = 0;
      }
      e.on_candidate(c);
    }
  }
  void end_first()
  {
    if (sessions.empty())
      return;
    auto it = sessions.begin();
    SessionEvents events = it->second.events;
    sessions.erase(it);
    if (events.on_ended)
      events.on_ended("ICE failed");
  }

 private:
  void start(SessionEvents events, const char *sdp, std::function<void(SessionResult)> done)
  {
    SessionResult r;
    if (refuse) {
      r.status = 503;
      r.message = "Too many viewers.";
      r.retry_after = 10;
    } else {
      r.ok = true;
      r.id = "s" + std::to_string(next++);
      r.etag = "e" + r.id;
      r.answer_sdp = sdp;
      sessions[r.id] = Session{r.etag, std::move(events)};
    }
    if (deferred)
      pending.push_back([done, r]() { done(r); });
    else
      done(r);
  }
};

/* GStreamer once per process; criticals and warnings from GLib are bugs
 * (a project function misused an API), so they abort. */
inline void init_gstreamer()
{
  static bool done = false;
  if (done)
    return;
  done = true;
  /* No element is needed: no plugin scan, no registry file written. */
  g_setenv("GST_REGISTRY_UPDATE", "no", TRUE);
  g_setenv("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  g_setenv("GST_PLUGIN_PATH_1_0", "", TRUE);
  gst_init(nullptr, nullptr);
  g_log_set_always_fatal(static_cast<GLogLevelFlags>(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING));
}

/* Splits @text at each line that is exactly @sep (the separator line goes). */
inline std::vector<std::string> split_records(const std::string &text, const std::string &sep)
{
  std::vector<std::string> out;
  std::size_t pos = 0;
  const std::string marker = "\n" + sep + "\n";
  while (true) {
    std::size_t at = text.find(marker, pos);
    if (at == std::string::npos) {
      out.push_back(text.substr(pos));
      return out;
    }
    out.push_back(text.substr(pos, at - pos));
    pos = at + marker.size();
  }
}

}  // namespace fuzz
