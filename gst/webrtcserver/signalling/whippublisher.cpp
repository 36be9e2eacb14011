/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "whippublisher.h"

#include <gst/gst.h>

#include <cctype>
#include <sstream>
#include <utility>

#include "gstrefptr.h"

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
/* Nothing from the media server this long: it went away (see publish()). */
constexpr gint64 kWhipSilenceTimeoutUs = 3 * G_USEC_PER_SEC;

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

std::string trim(const std::string &s)
{
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a])))
    a++;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])))
    b--;
  return s.substr(a, b - a);
}

/* Splits a Link header on the commas between its entries (not those in
 * <...> or "..."). */
std::vector<std::string> split_links(const std::string &header)
{
  std::vector<std::string> out;
  std::string cur;
  bool in_uri = false, in_quote = false;
  for (char c : header) {
    if (c == '<' && !in_quote)
      in_uri = true;
    else if (c == '>' && !in_quote)
      in_uri = false;
    else if (c == '"' && !in_uri)
      in_quote = !in_quote;
    if (c == ',' && !in_uri && !in_quote) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty())
    out.push_back(trim(cur));
  return out;
}

std::string escape_userinfo(const std::string &s)
{
  GCharPtr escaped(g_uri_escape_string(s.c_str(), nullptr, FALSE));
  return escaped.get();
}

}  // namespace

void parse_link_ice_servers(const std::string &header, std::vector<IceServer> &out,
                            std::vector<std::string> &bad)
{
  for (const std::string &entry : split_links(header)) {
    const std::size_t open = entry.find('<'), close = entry.find('>');
    if (open != 0 || close == std::string::npos)
      continue;
    const std::string uri = entry.substr(1, close - 1);
    std::string rel, username, credential;
    std::size_t pos = close + 1;
    while (pos < entry.size()) {
      const std::size_t semi = entry.find(';', pos);
      std::string param = trim(entry.substr(pos, semi == std::string::npos ? semi : semi - pos));
      pos = semi == std::string::npos ? entry.size() : semi + 1;
      const std::size_t eq = param.find('=');
      if (eq == std::string::npos)
        continue;
      std::string name = trim(param.substr(0, eq)), value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      for (char &c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "rel")
        rel = value;
      else if (name == "username")
        username = value;
      else if (name == "credential")
        credential = value;
    }
    if (rel != "ice-server")
      continue;
    /* The browser's form (stun:host:port, turn:host:port?transport=udp) in
     * GStreamer's, which protocol/iceserver.h parses. */
    const std::size_t colon = uri.find(':');
    if (colon == std::string::npos) {
      bad.push_back("\"" + uri + "\" has no scheme");
      continue;
    }
    const std::string scheme = uri.substr(0, colon);
    std::string rest = uri.substr(colon + 1);
    if (g_str_has_prefix(rest.c_str(), "//"))
      rest = rest.substr(2);
    std::string url = scheme + "://";
    if (scheme != "stun" && scheme != "stuns")
      url += escape_userinfo(username) + ":" + escape_userinfo(credential) + "@";
    url += rest;
    IceServer server;
    std::string error;
    if (parse_ice_server(url, server, error)) {
      server.url = uri; /* as the endpoint gave it, without the credentials */
      out.push_back(server);
    } else {
      bad.push_back("\"" + uri + "\": " + error);
    }
  }
}

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
  w.key("iceServersFrom").string(s.ice_servers_from);
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

WhipPublisher::WhipPublisher(Timeout timeout, SessionBackend &backend, WhipStatus &status,
                             std::string url, std::string token, Report report)
    : timeout_(std::move(timeout)),
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
    timeout_(kNotStreamingRetryMs, [this, alive]() {
      if (auto a = alive.lock(); a && *a)
        attempt();
    });
    return;
  }
  const unsigned n = ++attempt_;
  status_.update([](WhipStatus::Snapshot &s) { s.attempts++; });
  std::weak_ptr<bool> alive = alive_;
  client_.discover([this, alive, n](const WhipReply &reply) {
    if (auto a = alive.lock(); a && *a)
      on_discovered(n, reply);
  });
}

std::vector<IceServer> WhipPublisher::link_ice_servers(const WhipReply &reply)
{
  std::vector<IceServer> servers;
  std::vector<std::string> bad;
  for (const std::string &link : reply.links)
    parse_link_ice_servers(link, servers, bad);
  for (const std::string &b : bad)
    report_(true, "WHIP: the endpoint's ICE server " + b + " is ignored");
  return servers;
}

void WhipPublisher::on_discovered(unsigned n, const WhipReply &reply)
{
  if (n != attempt_)
    return;
  /* No answer at all: the POST would get none either. */
  if (reply.status == 0) {
    fail("WHIP: " + reply.error);
    return;
  }
  /* Endpoints need not answer OPTIONS (405, or 204 without Link headers):
   * then the servers of the last 201, if any. */
  std::vector<IceServer> servers;
  const char *from = "";
  if (reply.ok)
    servers = link_ice_servers(reply);
  if (!servers.empty()) {
    from = "OPTIONS";
  } else if (!ice_servers_.empty()) {
    servers = ice_servers_;
    from = "201";
  }
  GST_INFO("WHIP: OPTIONS %s answered %d; the offer uses %zu ICE server(s)%s%s",
           client_.url().c_str(), reply.status, servers.size(), *from ? " from " : "", from);
  session_ice_ = servers;
  std::vector<std::string> urls;
  for (const IceServer &s : servers)
    urls.push_back(s.url);
  status_.update([&](WhipStatus::Snapshot &s) {
    s.ice_servers = urls;
    s.ice_servers_from = from;
  });
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
  /* A media server sends RTCP receiver reports about every second (Janus
   * does): three seconds of nothing means it went away, and the stream is
   * published again as soon as it is back. */
  events.silence_timeout_us = kWhipSilenceTimeoutUs;
  OfferOptions options;
  options.ice_servers = servers;
  options.publisher = true;
  backend_.create_offer_session(std::move(events), options, [this, alive, n](SessionResult r) {
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
  /* Too late for this session's ICE agent (it gathered with the offer):
   * kept for the next attempt, should OPTIONS then name none. */
  const std::vector<IceServer> named = link_ice_servers(reply);
  if (!named.empty())
    ice_servers_ = named;
  bool unknown = false;
  for (const IceServer &s : named) {
    bool used = false;
    for (const IceServer &u : session_ice_)
      used = used || u.browser_url() == s.browser_url();
    unknown = unknown || !used;
  }
  if (unknown)
    report_(false, "WHIP: the answer of " + client_.url() +
                       " names ICE servers that the offer was made without; they are used "
                       "when publishing again");
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
                     std::to_string(session_ice_.size()) +
                     " ICE server(s) from its Link headers applied)");
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
  const guint delay = std::max(delay_ms, backoff_.next_ms());
  const std::string text = why + "; publishing again in " + std::to_string(delay) + " ms";
  /* The same failure again and again is warned once, then logged. */
  if (why != last_problem_)
    report_(true, text);
  else
    GST_INFO("%s", text.c_str());
  last_problem_ = why;
  set_state("retrying", why);
  std::weak_ptr<bool> alive = alive_;
  timeout_(delay, [this, alive]() {
    if (auto a = alive.lock(); a && *a)
      attempt();
  });
}

}  // namespace livecast
