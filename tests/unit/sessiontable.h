/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An in-memory SessionBackend for the signalling front ends' unit tests
 * (test_httpapi, test_wspeer, test_relayrouter): what each front end asks of
 * the media side, without media. The same front ends over real sockets with
 * real peers are tested in tests/integration.
 */
#pragma once

#include <json-glib/json-glib.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "offers.h"
#include "session/session.h"

namespace livecast
{

/* Sessions kept in a map; answers are the offer's own text with a=sendonly,
 * enough for the HTTP layer, which never reads the answer. */
class SessionTable : public SessionBackend
{
 public:
  bool started = true;
  VideoCodec codec = VideoCodec::H264;
  std::map<std::string, std::string> etags;
  std::vector<SdpFragment> trickled;
  int next = 1;
  int refuse_status = 0;
  SessionEvents events;  /* of the last session created */
  bool deferred = false; /* answers wait for run_pending() */
  std::vector<std::function<void()>> pending;
  std::vector<std::string> answers; /* applied with apply_answer */

  bool current_video(SentVideo &sent) override
  {
    sent.codec = codec;
    return started;
  }
  void create_session(const OfferCheck &checked, SessionEvents ev,
                      std::function<void(SessionResult)> done) override
  {
    g_assert_nonnull(checked.sdp.get()); /* the offer parsed once, carried along */
    events = ev;
    SessionResult r;
    if (refuse_status) {
      r.status = refuse_status;
      r.message = "Too many viewers.";
      r.retry_after = 10;
      return done(r);
    }
    r.ok = true;
    r.id = "session" + std::to_string(next++);
    r.etag = "etag-" + r.id;
    r.answer_sdp = "v=0\r\nanswer-for-pt:" + std::to_string(checked.video.payload_type) + "\r\n";
    etags[r.id] = r.etag;
    if (deferred)
      pending.push_back([done, r]() { done(r); });
    else
      done(r);
  }
  void create_offer_session(SessionEvents ev, const OfferOptions &,
                            std::function<void(SessionResult)> done) override
  {
    events = ev;
    SessionResult r;
    r.ok = true;
    r.id = "session" + std::to_string(next++);
    r.etag = "etag-" + r.id;
    r.answer_sdp = "v=0\r\nserver-offer\r\n";
    etags[r.id] = r.etag;
    done(r);
  }
  int apply_answer(const std::string &id, const std::string &sdp, std::string &message) override
  {
    if (!etags.count(id)) {
      message = "no session";
      return 404;
    }
    answers.push_back(sdp);
    return 0;
  }
  int add_remote_candidates(const std::string &id, const SdpFragment &frag,
                            std::string &message) override
  {
    if (!etags.count(id)) {
      message = "no session";
      return 404;
    }
    if (frag.ice_ufrag != "" && frag.ice_ufrag != "Kx3d") {
      message = "ICE restarts are not supported.";
      return 422;
    }
    trickled.push_back(frag);
    return 0;
  }
  std::string session_etag(const std::string &id) override
  {
    return etags.count(id) ? etags[id] : "";
  }
  /* Media over /ws: the sender it was given, to send through in tests. */
  std::function<bool(const std::string &)> media_send;
  void create_media_session(std::function<bool(const std::string &)> send, SessionEvents ev,
                            std::function<void(SessionResult)> done) override
  {
    events = ev;
    SessionResult r;
    if (refuse_status) {
      r.status = refuse_status;
      r.message = "Too many viewers.";
      return done(r);
    }
    media_send = std::move(send);
    r.ok = true;
    r.id = "media" + std::to_string(next++);
    etags[r.id] = "";
    done(r);
  }
  bool end_session(const std::string &id) override { return etags.erase(id) > 0; }
  std::string stats_json() override { return "{\"viewers\":" + std::to_string(etags.size()) + "}"; }
};

/* {"type":"offer","sdp":kChromiumOffer} as a viewer sends it on /ws. */
inline std::string offer_json()
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "offer");
  json_builder_set_member_name(b, "sdp");
  json_builder_add_string_value(b, kChromiumOffer);
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  gchar *text = json_to_string(root, FALSE);
  std::string out = text;
  g_free(text);
  json_node_unref(root);
  g_object_unref(b);
  return out;
}

}  // namespace livecast
