/* livecast fuzzing
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input of the session fuzz targets: one line per step. A line is a
 * message from the other side, except lines starting with '!', which act
 * on the fake backend and the clock (what the element and time would do
 * between two messages):
 *   !a  answers come later (deferred) / at once      !r  run what was deferred
 *   !c  a local candidate on every session           !C  end of local candidates
 *   !e  the first session ends on the server's side  !s  the stream stops/starts
 *   !f  new sessions are refused / accepted          !A  answers fail (400) / pass
 *   !K  remote candidates fail (422) / pass          !v  next codec
 *   !t  one second passes   !T  a tenth passes       !x  the connection is replaced
 * Anything else after '!' is ignored.
 */
#pragma once

#include <functional>
#include <string>

#include <json-glib/json-glib.h>

#include "fuzz_backend.h"

namespace fuzz
{

/* Runs @text line by line: @message for messages, @replace for "!x", the
 * rest on @backend and @now. */
inline void run_script(const std::string &text, FakeBackend &backend, gint64 &now,
                       const std::function<void(const std::string &)> &message,
                       const std::function<void()> &replace)
{
  std::size_t pos = 0;
  int steps = 0;
  while (pos <= text.size() && steps++ < 2000) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() < 2 || line[0] != '!') {
      message(line);
      continue;
    }
    switch (line[1]) {
      case 'a':
        backend.deferred = !backend.deferred;
        break;
      case 'r':
        backend.run_pending();
        break;
      case 'c':
        backend.candidate_on_all(false);
        break;
      case 'C':
        backend.candidate_on_all(true);
        break;
      case 'e':
        backend.end_first();
        break;
      case 's':
        backend.started = !backend.started;
        break;
      case 'f':
        backend.refuse = !backend.refuse;
        break;
      case 'A':
        backend.answer_status = backend.answer_status ? 0 : 400;
        break;
      case 'K':
        backend.candidate_status = backend.candidate_status ? 0 : 422;
        break;
      case 'v':
        backend.codec = backend.codec == VideoCodec::H264  ? VideoCodec::VP8
                        : backend.codec == VideoCodec::VP8 ? VideoCodec::VP9
                                                           : VideoCodec::H264;
        break;
      case 't':
        now += G_USEC_PER_SEC;
        break;
      case 'T':
        now += G_USEC_PER_SEC / 10;
        break;
      case 'x':
        replace();
        break;
      default:
        break;
    }
  }
}

/* Whatever a server sends is one JSON object with a string "type". */
inline void check_sent(const std::string &text)
{
  JsonParser *parser = json_parser_new();
  GError *err = nullptr;
  if (!json_parser_load_from_data(parser, text.data(), static_cast<gssize>(text.size()), &err)) {
    fprintf(stderr, "sent text is not JSON (%s): %s\n", err ? err->message : "?", text.c_str());
    abort();
  }
  JsonNode *root = json_parser_get_root(parser);
  FUZZ_CHECK(root && JSON_NODE_HOLDS_OBJECT(root));
  JsonObject *obj = json_node_get_object(root);
  FUZZ_CHECK(json_object_has_member(obj, "type"));
  JsonNode *type = json_object_get_member(obj, "type");
  FUZZ_CHECK(JSON_NODE_HOLDS_VALUE(type) && json_node_get_value_type(type) == G_TYPE_STRING);
  g_object_unref(parser);
}

}  // namespace fuzz
