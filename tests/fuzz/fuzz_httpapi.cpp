/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP API (HttpApi::handle over a fake backend): WHEP, POST /offer,
 * PATCH/DELETE, /config, /stats, the page, the /ws check and its socket.
 *
 * Input: one byte choosing the configuration (bit 0 a token, bit 1 a CORS
 * origin list, bit 2 a 256-byte body limit, bit 3 answers come later,
 * bit 4 the stream has not started, bit 5 sessions are refused, bits 6-7
 * the codec), then requests separated by lines "%%". A request is written
 * as on the wire, with "\n" line ends:
 *   METHOD /path?query
 *   name: value
 *   (empty line)
 *   body
 * The path is percent-decoded and the query form-decoded as the libsoup
 * glue does. A request "!r" runs what the backend deferred, "!c"/"!e" give
 * candidates / end a session. For GET /ws the body's lines are WebSocket
 * messages once the upgrade is allowed.
 * Checked: every request is answered exactly once, with a status from 100
 * to 599; errors have a one-line text body; nothing is left unanswered at
 * the end.
 */
#include <libsoup/soup.h>

#include "fuzz_backend.h"
#include "signalling/httpapi.h"

#include <memory>

using namespace livecast;

namespace
{

void check_response(const HttpResponse &r)
{
  FUZZ_CHECK(r.status >= 100 && r.status <= 599);
  if (r.status >= 400) {
    FUZZ_CHECK(g_str_has_prefix(r.content_type.c_str(), "text/plain"));
    FUZZ_CHECK(!r.body.empty() && r.body.back() == '\n');
  }
  for (const auto &h : r.headers) {
    /* A header value with a line break would split the response. */
    FUZZ_CHECK(h.second.find('\n') == std::string::npos);
    FUZZ_CHECK(h.second.find('\r') == std::string::npos);
  }
}

HttpRequest parse_request(const std::string &text)
{
  HttpRequest request;
  std::string head = text, body;
  auto blank = text.find("\n\n");
  if (blank != std::string::npos) {
    head = text.substr(0, blank);
    body = text.substr(blank + 2);
  }
  request.body = body;
  auto eol = head.find('\n');
  const std::string first = head.substr(0, eol);
  auto space = first.find(' ');
  request.method = first.substr(0, space);
  std::string target = space == std::string::npos ? "" : first.substr(space + 1);
  auto q = target.find('?');
  std::string path = target.substr(0, q);
  if (q != std::string::npos) {
    GHashTable *form = soup_form_decode(target.substr(q + 1).c_str());
    GHashTableIter iter;
    gpointer key, value;
    g_hash_table_iter_init(&iter, form);
    while (g_hash_table_iter_next(&iter, &key, &value))
      request.query[static_cast<const char *>(key)] = value ? static_cast<const char *>(value) : "";
    g_hash_table_unref(form);
  }
  gchar *decoded = g_uri_unescape_string(path.c_str(), nullptr);
  request.path = decoded ? decoded : path;
  g_free(decoded);
  while (eol != std::string::npos) {
    auto next = head.find('\n', eol + 1);
    std::string line = head.substr(eol + 1, next == std::string::npos ? next : next - eol - 1);
    eol = next;
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    gchar *name = g_ascii_strdown(line.substr(0, colon).c_str(), -1);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    auto &slot = request.headers[name];
    slot = slot.empty() ? value : slot + ", " + value;
    g_free(name);
  }
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
  fuzz::init_gstreamer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const unsigned flags = data[0];
  const std::string text(reinterpret_cast<const char *>(data + 1), size - 1);

  fuzz::FakeBackend backend;
  backend.deferred = flags & 8;
  backend.started = !(flags & 16);
  backend.refuse = flags & 32;
  backend.codec = (flags >> 6) == 1 ? VideoCodec::VP8
                  : (flags >> 6) == 2 ? VideoCodec::VP9
                                      : VideoCodec::H264;
  HttpApiConfig config;
  if (flags & 1)
    config.token = "s3cret";
  if (flags & 2)
    config.cors_origin = "https://a.example, https://b.example,,";
  if (flags & 4)
    config.max_body_size = 256;
  for (const char *url : {"stun://127.0.0.1:3478", "turn://us\"er:p%40ss@[::1]:3478?transport=tcp"}) {
    IceServer server;
    std::string error;
    FUZZ_CHECK(parse_ice_server(url, server, error));
    config.ice_servers.push_back(server);
  }
  config.audio = true;
  config.talkback = flags & 1;
  auto api = std::make_unique<HttpApi>(backend, config);

  int asked = 0;
  auto answered = std::make_shared<int>(0);
  for (const std::string &record : fuzz::split_records(text, "%%")) {
    if (record == "!r") {
      backend.run_pending();
      continue;
    }
    if (record == "!c" || record == "!e") {
      record == "!c" ? backend.candidate_on_all(false) : backend.end_first();
      continue;
    }
    HttpRequest request = parse_request(record);
    if (request.path == "/ws") {
      HttpResponse refusal = api->check_websocket(request);
      if (refusal.status != 0) {
        check_response(refusal);
        FUZZ_CHECK(refusal.status >= 400);
        continue;
      }
      std::unique_ptr<WsConnection> ws = api->accept_websocket(
          request, WsChannel{[](const std::string &) {}, [](int, const std::string &) {}});
      std::size_t pos = 0;
      while (pos < request.body.size()) {
        auto end = request.body.find('\n', pos);
        if (end == std::string::npos)
          end = request.body.size();
        ws->on_text(request.body.substr(pos, end - pos));
        pos = end + 1;
      }
      continue;
    }
    asked++;
    auto replied = std::make_shared<bool>(false);
    api->handle(request, [replied, answered](HttpResponse response) {
      FUZZ_CHECK(!*replied); /* exactly once */
      *replied = true;
      (*answered)++;
      check_response(response);
    });
  }
  backend.run_pending();
  FUZZ_CHECK(*answered == asked);
  api.reset();
  return 0;
}
