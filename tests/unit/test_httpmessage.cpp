/* livecast tests
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * network/httpmessage.h: header lookup, error responses, media types.
 */
#include <glib.h>

#include "testutil.h"

#include "network/httpmessage.h"

using namespace livecast;

static void test_request_headers()
{
  HttpRequest r;
  r.headers["content-type"] = "application/sdp";
  ASSERT_STR_EQ(r.header("content-type"), "application/sdp");
  ASSERT_STR_EQ(r.header("authorization"), "");
}

static void test_response_headers()
{
  HttpResponse r;
  r.add_header("Location", "/whep/a");
  r.add_header("Link", "<stun:h:1>; rel=\"ice-server\"");
  r.add_header("Link", "<turn:h:1>; rel=\"ice-server\"");
  ASSERT_STR_EQ(r.header("location"), "/whep/a");
  ASSERT_STR_EQ(r.header("LINK"), "<stun:h:1>; rel=\"ice-server\""); /* the first */
  ASSERT_STR_EQ(r.header("etag"), "");
  g_assert_cmpuint(r.headers.size(), ==, 3);
}

static void test_error_body()
{
  HttpResponse e = HttpResponse::error(406, "The offer has no video codec this stream sends.");
  g_assert_cmpint(e.status, ==, 406);
  ASSERT_STR_EQ(e.content_type, "text/plain; charset=utf-8");
  ASSERT_STR_EQ(e.body, "The offer has no video codec this stream sends.\n");
  /* One newline, never two. */
  ASSERT_STR_EQ(HttpResponse::error(400, "Bad.\n").body, "Bad.\n");
  ASSERT_STR_EQ(HttpResponse::error(500, "").body, "\n");
}

static void test_media_type()
{
  ASSERT_STR_EQ(media_type("application/sdp"), "application/sdp");
  ASSERT_STR_EQ(media_type(" Application/SDP ; charset=utf-8"), "application/sdp");
  ASSERT_STR_EQ(media_type("application/trickle-ice-sdpfrag;x=1"),
                "application/trickle-ice-sdpfrag");
  ASSERT_STR_EQ(media_type(""), "");
  ASSERT_STR_EQ(media_type(" ; charset=utf-8"), "");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/httpmessage/request-headers", test_request_headers);
  g_test_add_func("/httpmessage/response-headers", test_response_headers);
  g_test_add_func("/httpmessage/error-body", test_error_body);
  g_test_add_func("/httpmessage/media-type", test_media_type);
  return g_test_run();
}
