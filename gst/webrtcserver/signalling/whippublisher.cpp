/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "whippublisher.h"

#include <gst/gst.h>

#include <sstream>
#include <utility>

GST_DEBUG_CATEGORY_EXTERN(livecast_webrtcserversink_debug);
#define GST_CAT_DEFAULT livecast_webrtcserversink_debug

namespace livecast
{

namespace
{

/* A session that published this long before it ended was a success: the
 * next failure starts the back-off afresh. */
constexpr gint64 kStableUs = 10 * G_USEC_PER_SEC;
/* The stream has not started yet (no caps): ask again this soon. */
constexpr guint kNotStreamingRetryMs = 500;
/* The endpoint gets this long to answer the DELETE at the end. */
constexpr unsigned kDeleteTimeoutS = 2;

std::vector<std::string> sdp_lines(const std::string &sdp)
{
  std::vector<std::string> lines;
  std::istringstream in(sdp);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

/* The value of the first "a=NAME:" line of @sdp, or "". */
std::string first_attribute(const std::string &sdp, const std::string &name)
{
  const std::string prefix = "a=" + name + ":";
  for (const std::string &line : sdp_lines(sdp)) {
    if (line.compare(0, prefix.size(), prefix) == 0)
      return line.substr(prefix.size());
  }
  return "";
}

}  // namespace

/* ---------------------------------------------------------------------- */

WhipStatus::Snapshot WhipStatus::get() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return s_;
}

void WhipStatus::update(const std::function<void(Snapshot &)> &change)
{
  std::lock_guard<std::mutex> guard(lock_);
  change(s_);
}

void WhipStatus::write_json(JsonWriter &w) const
{
  const Snapshot s = get();
  w.key("whip").begin_object();
  w.key("state").string(s.state);
  w.key("url").string(s.url);
  w.key("error").string(s.error);
  w.key("session").string(s.session);
  w.key("resource").string(s.resource);
  w.key("attempts").integer(static_cast<gint64>(s.attempts));
  w.key("iceServers").begin_array();
  for (const std::string &url : s.ice_servers)
    w.string(url);
  w.end_array();
  w.end_object();
}

std::string unbundle_only(const std::string &sdp)
{
  std::vector<std::string> lines = sdp_lines(sdp);
  /* Which sections carry a=bundle-only. */
  std::vector<bool> bundle_only;
  for (const std::string &line : lines) {
    if (line.compare(0, 2, "m=") == 0)
      bundle_only.push_back(false);
    else if (line == "a=bundle-only" && !bundle_only.empty())
      bundle_only.back() = true;
  }
  std::string out;
  int section = -1;
  for (std::string &line : lines) {
    if (line.compare(0, 2, "m=") == 0) {
      section++;
      const std::size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
      if (bundle_only[section] && sp1 != std::string::npos && sp2 != std::string::npos &&
          line.substr(sp1 + 1, sp2 - sp1 - 1) == "0")
        line = line.substr(0, sp1) + " 9" + line.substr(sp2);
    } else if (line == "a=bundle-only") {
      continue;
    }
    if (!line.empty())
      out += line + "\r\n";
  }
  return out;
}

std::string trickle_fragment(const std::string &sdp, const std::vector<std::string> &candidates)
{
  std::string frag = "a=ice-ufrag:" + first_attribute(sdp, "ice-ufrag") + "\r\n";
  frag += "a=ice-pwd:" + first_attribute(sdp, "ice-pwd") + "\r\n";
  std::string media = "audio";
  for (const std::string &line : sdp_lines(sdp)) {
    if (line.compare(0, 2, "m=") == 0) {
      media = line.substr(2, line.find(' ') - 2);
      break;
    }
  }
  frag += "m=" + media + " 9 UDP/TLS/RTP/SAVPF 0\r\n";
  frag += "a=mid:" + first_attribute(sdp, "mid") + "\r\n";
  for (const std::string &c : candidates)
    frag += c.empty() ? "a=end-of-candidates\r\n" : "a=" + c + "\r\n";
  return frag;
}

/* ---------------------------------------------------------------------- */

WhipPublisher::WhipPublisher(EventLoop &loop, SessionBackend &backend, WhipStatus &status,
                             std::string url, std::string token, Report report)
    : loop_(loop),
      backend_(backend),
      status_(status),
      client_(std::move(url), std::move(token)),
      report_(std::move(report))
{
  status_.update([this](WhipStatus::Snapshot &s) {
    s = WhipStatus::Snapshot();
    s.state = "connecting";
    s.url = client_.url();
  });
}

WhipPublisher::~WhipPublisher()
{
  *alive_ = false;
  client_.cancel();
  if (!session_id_.empty())
    backend_.end_session(session_id_);
  if (!resource_.empty()) {
    const WhipReply r = client_.remove_sync(resource_, kDeleteTimeoutS);
    if (r.ok)
      GST_INFO("WHIP: DELETE %s answered %d", resource_.c_str(), r.status);
    else
      report_(true, "WHIP: " + r.error);
  }
  status_.update([](WhipStatus::Snapshot &s) {
    s.state = "stopped";
    s.session.clear();
    s.resource.clear();
  });
}

void WhipPublisher::start()
{
  attempt();
}

void WhipPublisher::set_state(const char *state, const std::string &error)
{
  status_.update([&](WhipStatus::Snapshot &s) {
    s.state = state;
    s.error = error;
    s.session = session_id_;
    s.resource = resource_;
  });
}

void WhipPublisher::attempt()
{
  SentVideo sent;
  if (!backend_.current_video(sent)) {
    /* Not a failure: the stream has no caps yet. */
    set_state("waiting", "The stream has not started yet.");
    std::weak_ptr<bool> alive = alive_;
    loop_.add_timeout(kNotStreamingRetryMs, [this, alive]() {
      if (auto a = alive.lock(); a && *a)
        attempt();
    });
    return;
  }
  const unsigned n = ++attempt_;
  status_.update([](WhipStatus::Snapshot &s) { s.attempts++; });
  std::weak_ptr<bool> alive = alive_;
  SessionEvents events;
  events.on_candidate = [this, alive, n](const LocalCandidate &c) {
    if (auto a = alive.lock(); a && *a)
      on_candidate(n, c);
  };
  events.on_ended = [this, alive, n](const std::string &reason) {
    if (auto a = alive.lock(); a && *a)
      on_session_ended(n, reason);
  };
  backend_.create_offer_session(std::move(events), [this, alive, n](SessionResult r) {
    if (auto a = alive.lock(); a && *a)
      on_offer(n, r);
  });
}

void WhipPublisher::on_offer(unsigned n, const SessionResult &r)
{
  if (n != attempt_)
    return;
  /* Called by the viewer set, possibly under its lock: nothing here calls
   * back into it (a refused session has no id to end). */
  if (!r.ok) {
    fail("WHIP: could not make the offer: " + r.message);
    return;
  }
  session_id_ = r.id;
  offer_ = r.answer_sdp; /* our offer */
  candidates_.clear();
  patching_ = false;
  trickle_refused_ = false;
  set_state("connecting", "");
  GST_INFO("WHIP: session %s offers to %s", session_id_.c_str(), client_.url().c_str());
  std::weak_ptr<bool> alive = alive_;
  client_.publish(unbundle_only(offer_), [this, alive, n](const WhipReply &reply) {
    if (auto a = alive.lock(); a && *a)
      on_answer(n, reply);
  });
}

void WhipPublisher::on_answer(unsigned n, const WhipReply &reply)
{
  if (n != attempt_)
    return;
  if (!reply.ok) {
    fail("WHIP: " + reply.error, reply.retry_after > 0 ? reply.retry_after * 1000u : 0u);
    return;
  }
  resource_ = reply.resource;
  etag_ = reply.etag;
  for (const std::string &bad : reply.bad_links)
    report_(true, "WHIP: the endpoint's ICE server " + bad + " is ignored");
  std::vector<std::string> ice;
  for (const IceServer &s : reply.ice_servers)
    ice.push_back(s.url);
  status_.update([&ice](WhipStatus::Snapshot &s) { s.ice_servers = ice; });
  std::string message;
  const int status = backend_.apply_answer(session_id_, reply.body, message);
  if (status != 0) {
    fail("WHIP: the answer of " + client_.url() + " was refused (" + std::to_string(status) +
         "): " + message);
    return;
  }
  published_us_ = g_get_monotonic_time();
  last_problem_.clear();
  set_state("publishing", "");
  report_(false, "WHIP: publishing to " + client_.url() + " (resource " + resource_ + ", " +
                     std::to_string(ice.size()) + " ICE server(s) from its Link headers)");
  send_candidates();
}

void WhipPublisher::on_candidate(unsigned n, const LocalCandidate &c)
{
  if (n != attempt_ || trickle_refused_)
    return;
  /* One bundled transport: the first section's candidates are all of them. */
  if (!c.candidate.empty() && c.mline > 0)
    return;
  candidates_.push_back(c.candidate);
  send_candidates();
}

void WhipPublisher::send_candidates()
{
  if (resource_.empty() || patching_ || candidates_.empty() || trickle_refused_)
    return;
  const std::string frag = trickle_fragment(offer_, candidates_);
  const std::size_t count = candidates_.size();
  candidates_.clear();
  patching_ = true;
  const unsigned n = attempt_;
  std::weak_ptr<bool> alive = alive_;
  client_.trickle(resource_, etag_, frag, [this, alive, n, count](const WhipReply &reply) {
    auto a = alive.lock();
    if (!a || !*a || n != attempt_)
      return;
    patching_ = false;
    if (reply.ok) {
      GST_DEBUG("WHIP: %zu candidate(s) trickled", count);
      send_candidates();
      return;
    }
    if (reply.status == 404) {
      fail("WHIP: the resource is gone: " + reply.error);
      return;
    }
    /* 405, 501, 4xx: no trickle here; the server still finds us from its
     * own checks (peer-reflexive candidates). */
    trickle_refused_ = true;
    report_(false, "WHIP: trickle ICE not taken (" + reply.error + "); going on without it");
  });
}

void WhipPublisher::on_session_ended(unsigned n, const std::string &reason)
{
  if (n != attempt_)
    return;
  session_id_.clear(); /* the viewer set ended it already */
  fail("WHIP: the published session ended: " + reason);
}

void WhipPublisher::drop_session(bool delete_async)
{
  if (!session_id_.empty())
    backend_.end_session(session_id_);
  session_id_.clear();
  if (!resource_.empty() && delete_async)
    client_.remove(resource_);
  resource_.clear();
  etag_.clear();
  candidates_.clear();
  patching_ = false;
}

void WhipPublisher::fail(const std::string &why, guint delay_ms)
{
  attempt_++; /* what the old attempt still has under way is ignored */
  client_.cancel();
  drop_session(true);
  if (published_us_ && g_get_monotonic_time() - published_us_ > kStableUs)
    backoff_.reset();
  published_us_ = 0;
  const guint delay = std::max(delay_ms, backoff_.next());
  const std::string text = why + "; publishing again in " + std::to_string(delay) + " ms";
  /* The same failure again and again is warned once, then logged. */
  if (why != last_problem_)
    report_(true, text);
  else
    GST_INFO("%s", text.c_str());
  last_problem_ = why;
  set_state("retrying", why);
  std::weak_ptr<bool> alive = alive_;
  loop_.add_timeout(delay, [this, alive]() {
    if (auto a = alive.lock(); a && *a)
      attempt();
  });
}

}  // namespace livecast
