/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "whipclient.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <utility>

#include "gstrefptr.h"

GST_DEBUG_CATEGORY_STATIC(webrtcserver_whip_debug);
#define GST_CAT_DEFAULT webrtcserver_whip_debug

namespace livecast
{

namespace
{

/* One request, and at most this long for its answer: an endpoint that
 * accepts the connection and says nothing must not hold the publisher. */
constexpr unsigned kRequestTimeoutS = 10;

void init_debug_category()
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(webrtcserver_whip_debug, "webrtcserverwhip", 0,
                            "webrtcserversink WHIP publishing (HTTP)");
    g_once_init_leave(&once, 1);
  }
}

/* What the endpoint said, for a log line or a warning. */
std::string describe(const char *method, const std::string &url, int status, const char *reason,
                     const std::string &body)
{
  std::string text = std::string(method) + " " + url + " answered " + std::to_string(status);
  if (reason && *reason)
    text += std::string(" ") + reason;
  const std::string quoted = quote_body(body);
  if (!quoted.empty())
    text += ": \"" + quoted + "\"";
  return text;
}

}  // namespace

std::string quote_body(const std::string &body)
{
  GCharPtr line(g_strndup(body.c_str(), std::min(body.find('\n'), body.size())));
  std::string first = g_strstrip(line.get());
  if (first.empty() || first[0] == '<')
    return "";
  for (char &c : first) {
    if (static_cast<unsigned char>(c) < 0x20)
      c = ' ';
  }
  if (first.size() > 200)
    first = first.substr(0, 197) + "...";
  return first;
}

struct WhipClient::Request {
  WhipClient *client;
  std::weak_ptr<bool> alive;
  std::string method;
  std::string url;
  int want;
  Done done;
  Ref<SoupMessage> message;
};

WhipClient::WhipClient(std::string url, std::string token)
    : url_(std::move(url)), token_(std::move(token))
{
  init_debug_category();
  session_ = soup_session_new_with_options("timeout", kRequestTimeoutS, "idle-timeout", 30,
                                           "user-agent", "livecast-webrtcserversink", nullptr);
  cancellable_ = g_cancellable_new();
}

WhipClient::~WhipClient()
{
  *alive_ = false;
  g_cancellable_cancel(cancellable_);
  g_object_unref(cancellable_);
  g_object_unref(session_);
}

void WhipClient::cancel()
{
  g_cancellable_cancel(cancellable_);
  g_object_unref(cancellable_);
  cancellable_ = g_cancellable_new();
}

void WhipClient::publish(const std::string &offer_sdp, Done done)
{
  send("POST", url_, "application/sdp", offer_sdp, "", 201, std::move(done));
}

void WhipClient::discover(Done done)
{
  send("OPTIONS", url_, nullptr, "", "", 204, std::move(done));
}

void WhipClient::trickle(const std::string &resource, const std::string &etag,
                         const std::string &sdpfrag, Done done)
{
  send("PATCH", resource, "application/trickle-ice-sdpfrag", sdpfrag, etag, 204, std::move(done));
}

void WhipClient::remove(const std::string &resource)
{
  send("DELETE", resource, nullptr, "", "", 200, [resource](const WhipReply &r) {
    if (r.ok)
      GST_INFO("DELETE %s: %d", resource.c_str(), r.status);
    else
      GST_INFO("%s", r.error.c_str());
  });
}

static SoupMessage *new_message(const char *method, const std::string &url,
                                const std::string &token, std::string &error)
{
  GError *err = nullptr;
  GUri *uri = g_uri_parse(url.c_str(), static_cast<GUriFlags>(SOUP_HTTP_URI_FLAGS), &err);
  if (!uri) {
    error = "\"" + url + "\" is not an http:// or https:// URL (" +
            (err ? err->message : "unreadable") + ")";
    g_clear_error(&err);
    return nullptr;
  }
  const char *scheme = g_uri_get_scheme(uri);
  SoupMessage *msg = nullptr;
  if (scheme && (!g_ascii_strcasecmp(scheme, "http") || !g_ascii_strcasecmp(scheme, "https")))
    msg = soup_message_new_from_uri(method, uri);
  g_uri_unref(uri);
  if (!msg) {
    error = "\"" + url + "\" is not an http:// or https:// URL";
    return nullptr;
  }
  if (!token.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                 ("Bearer " + token).c_str());
  return msg;
}

/* Reads what the answer to @msg says into @reply (its body in @body). */
static void read_reply(const WhipClient &client, const char *method, const std::string &url,
                       int want, SoupMessage *msg, GBytes *body, WhipReply &reply)
{
  reply.status = static_cast<int>(soup_message_get_status(msg));
  if (body) {
    gsize size = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(body, &size));
    reply.body.assign(data ? data : "", size);
  }
  SoupMessageHeaders *headers = soup_message_get_response_headers(msg);
  if (const char *etag = soup_message_headers_get_one(headers, "ETag"))
    reply.etag = etag;
  if (const char *retry = soup_message_headers_get_one(headers, "Retry-After"))
    reply.retry_after = atoi(retry);
  /* DELETE may answer 200 or 204; PATCH 204 (or 200 with an sdpfrag). */
  reply.ok = want == 201 ? reply.status == 201 : SOUP_STATUS_IS_SUCCESSFUL(reply.status);
  if (!reply.ok) {
    reply.error =
        describe(method, url, reply.status, soup_message_get_reason_phrase(msg), reply.body);
    return;
  }
  SoupMessageHeadersIter iter;
  soup_message_headers_iter_init(&iter, headers);
  const char *name = nullptr, *value = nullptr;
  while (soup_message_headers_iter_next(&iter, &name, &value)) {
    if (!g_ascii_strcasecmp(name, "Link"))
      reply.links.push_back(value);
  }
  if (want != 201)
    return;
  const char *location = soup_message_headers_get_one(headers, "Location");
  if (!location || !*location) {
    reply.ok = false;
    reply.error = "POST " + url + " answered 201 without a Location header (RFC 9725 needs one)";
    return;
  }
  GError *err = nullptr;
  gchar *absolute = g_uri_resolve_relative(client.url().c_str(), location, G_URI_FLAGS_NONE, &err);
  if (!absolute) {
    reply.ok = false;
    reply.error = "POST " + url + " answered with an unreadable Location \"" + location + "\"";
    g_clear_error(&err);
    return;
  }
  reply.resource = absolute;
  g_free(absolute);
  if (reply.body.find("v=0") == std::string::npos) {
    reply.ok = false;
    reply.error = "POST " + url + " answered 201 without an SDP answer";
  }
}

void WhipClient::send(const char *method, const std::string &url, const char *content_type,
                      const std::string &body, const std::string &if_match, int want, Done done)
{
  WhipReply reply;
  SoupMessage *msg = new_message(method, url, token_, reply.error);
  if (!msg) {
    done(reply);
    return;
  }
  if (content_type) {
    GBytes *bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(msg, content_type, bytes);
    g_bytes_unref(bytes);
  }
  if (!if_match.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg), "If-Match",
                                 if_match.c_str());
  GST_DEBUG("%s %s", method, url.c_str());
  auto *request =
      new Request{this, alive_, method, url, want, std::move(done), Ref<SoupMessage>::adopt(msg)};
  soup_session_send_and_read_async(
      session_, msg, G_PRIORITY_DEFAULT, cancellable_,
      [](GObject *source, GAsyncResult *result, gpointer data) {
        std::unique_ptr<Request> req(static_cast<Request *>(data));
        GError *err = nullptr;
        GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &err);
        auto alive = req->alive.lock();
        if (!alive || !*alive || g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
          if (bytes)
            g_bytes_unref(bytes);
          g_clear_error(&err);
          return;
        }
        WhipReply reply;
        if (!bytes) {
          reply.error = req->method + " " + req->url + " got no answer (" +
                        (err ? err->message : "unknown error") + ")";
          g_clear_error(&err);
        } else {
          read_reply(*req->client, req->method.c_str(), req->url, req->want, req->message.get(),
                     bytes, reply);
          g_bytes_unref(bytes);
        }
        req->done(reply);
      },
      request);
}

WhipReply WhipClient::remove_sync(const std::string &resource, unsigned timeout_s)
{
  WhipReply reply;
  SoupMessage *msg = new_message("DELETE", resource, token_, reply.error);
  if (!msg)
    return reply;
  Ref<SoupMessage> owner = Ref<SoupMessage>::adopt(msg);
  /* Its own short-lived session: this one's timeout is for live requests. */
  SoupSession *session = soup_session_new_with_options("timeout", timeout_s, nullptr);
  GError *err = nullptr;
  GBytes *bytes = soup_session_send_and_read(session, msg, nullptr, &err);
  if (!bytes) {
    reply.error =
        "DELETE " + resource + " got no answer (" + (err ? err->message : "unknown error") + ")";
    g_clear_error(&err);
  } else {
    read_reply(*this, "DELETE", resource, 200, msg, bytes, reply);
    g_bytes_unref(bytes);
  }
  g_object_unref(session);
  return reply;
}

}  // namespace livecast
