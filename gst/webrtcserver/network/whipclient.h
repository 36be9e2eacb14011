/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP side of WHIP (RFC 9725), as a publisher speaks it: POST the SDP
 * offer (application/sdp, "Authorization: Bearer"), read the 201's answer,
 * Location (the session's resource), ETag and Link headers (ICE servers),
 * which an OPTIONS request to the endpoint may also answer before the offer;
 * PATCH trickled candidates (application/trickle-ice-sdpfrag, RFC 8840) to
 * the resource; DELETE it at the end (the Link headers are handed on as
 * text: signalling/whippublisher.h reads their ICE servers). libsoup 3, asynchronous, on the
 * thread whose main context is the thread-default one when the client is
 * created (the sink's server thread). It knows nothing of sessions,
 * webrtcbin or GStreamer elements: signalling/whippublisher.h does that.
 */
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

typedef struct _SoupSession SoupSession;
typedef struct _GCancellable GCancellable;

namespace livecast
{

/* What the endpoint answered to one request. */
struct WhipReply {
  bool ok = false;      /* the status this request wants (201 for POST, 2xx else) */
  int status = 0;       /* HTTP status; 0: no answer (unreachable, timed out) */
  std::string error;    /* one sentence when !ok: what the endpoint answered, or why no answer */
  std::string body;     /* the answer SDP of a POST */
  std::string resource; /* POST: Location, made absolute */
  std::string etag;     /* POST, PATCH: the ETag header, as sent */
  std::vector<std::string> links; /* POST, OPTIONS: each Link header's value (ICE servers) */
  int retry_after = 0;            /* seconds, from Retry-After */
};

/* The text of an HTTP error body worth quoting: its first line, trimmed, at
 * most 200 characters ("" for an HTML page or nothing). */
std::string quote_body(const std::string &body);

class WhipClient
{
 public:
  using Done = std::function<void(const WhipReply &)>;

  /* @url: the WHIP endpoint; @token: the bearer token ("" sends none). */
  WhipClient(std::string url, std::string token);
  /* Cancels what is under way; callbacks are not called after this. */
  ~WhipClient();
  WhipClient(const WhipClient &) = delete;
  WhipClient &operator=(const WhipClient &) = delete;

  const std::string &url() const { return url_; }

  /* POSTs @offer_sdp; @done gets the answer (ok: 201 with an SDP body and a
   * Location). */
  void publish(const std::string &offer_sdp, Done done);
  /* OPTIONS to the endpoint (with the token): what it may answer before an
   * offer, its Link headers (ok: any 2xx). */
  void discover(Done done);
  /* PATCHes @sdpfrag to @resource (If-Match: @etag when set). */
  void trickle(const std::string &resource, const std::string &etag, const std::string &sdpfrag,
               Done done);
  /* DELETEs @resource, waiting for the answer at most @timeout_s seconds
   * (blocks: for the end of a stream, when the loop may not run again). */
  WhipReply remove_sync(const std::string &resource, unsigned timeout_s);
  /* DELETEs @resource without waiting; the answer is logged. */
  void remove(const std::string &resource);
  /* Cancels the requests under way (their callbacks are not called). */
  void cancel();

 private:
  struct Request;
  void send(const char *method, const std::string &url, const char *content_type,
            const std::string &body, const std::string &if_match, int want, Done done);

  std::string url_;
  std::string token_;
  SoupSession *session_ = nullptr;
  GCancellable *cancellable_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace livecast
