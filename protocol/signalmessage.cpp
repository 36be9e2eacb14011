/* livecast
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "protocol/signalmessage.h"

#include <cmath>
#include <cstring>

namespace livecast
{

namespace
{

struct TypeName {
  SignalMessage::Type type;
  const char *name;
};

const TypeName kTypeNames[] = {
    {SignalMessage::Type::Join, "join"},           {SignalMessage::Type::Welcome, "welcome"},
    {SignalMessage::Type::Offer, "offer"},         {SignalMessage::Type::Answer, "answer"},
    {SignalMessage::Type::Candidate, "candidate"}, {SignalMessage::Type::Bye, "bye"},
    {SignalMessage::Type::Leave, "leave"},         {SignalMessage::Type::Error, "error"},
};

std::shared_ptr<JsonNode> share_node(JsonNode *node)
{
  return std::shared_ptr<JsonNode>(node, [](JsonNode *n) {
    if (n)
      json_node_unref(n);
  });
}

/* Writes member @name unless @value is empty. */
void string_if_set(JsonWriter &w, const char *name, const std::string &value)
{
  if (!value.empty())
    w.key(name).string(value);
}

/* A number JSON cannot write back (json-glib reads 1e400 as infinity and
 * would forward it as "inf", which no receiver can parse). */
bool has_non_finite_number(JsonNode *node)
{
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
      JsonObjectIter iter;
      JsonNode *member = nullptr;
      json_object_iter_init(&iter, json_node_get_object(node));
      while (json_object_iter_next(&iter, nullptr, &member)) {
        if (has_non_finite_number(member))
          return true;
      }
      return false;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *array = json_node_get_array(node);
      for (guint i = 0; i < json_array_get_length(array); i++) {
        if (has_non_finite_number(json_array_get_element(array, i)))
          return true;
      }
      return false;
    }
    case JSON_NODE_VALUE:
      return json_node_get_value_type(node) == G_TYPE_DOUBLE &&
             !std::isfinite(json_node_get_double(node));
    case JSON_NODE_NULL:
      return false;
  }
  return false;
}

bool has_control_characters(const std::string &s)
{
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f)
      return true;
  }
  return false;
}

std::string quoted_name(const char *name)
{
  return std::string("\"") + name + "\"";
}

/* Reads the member JSON-glib calls "value" of type string. Absent and null
 * are both "absent" (returns true, @present false). */
bool optional_string(JsonObject *obj, const char *name, std::string &value, bool &present,
                     std::string &error)
{
  present = false;
  value.clear();
  JsonNode *node = json_object_get_member(obj, name);
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return true;
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING) {
    error = "The " + quoted_name(name) + " member must be a string.";
    return false;
  }
  value = json_node_get_string(node);
  present = true;
  return true;
}

bool required_string(JsonObject *obj, const char *name, const char *what, std::string &value,
                     std::string &error)
{
  bool present = false;
  if (!optional_string(obj, name, value, present, error))
    return false;
  if (!present) {
    error = std::string(what) + " needs a string member " + quoted_name(name) + ".";
    return false;
  }
  return true;
}

/* Room names and ids: 1 to kSignalMaxNameBytes bytes, no control characters. */
bool optional_name(JsonObject *obj, const char *name, std::string &value, std::string &error)
{
  bool present = false;
  if (!optional_string(obj, name, value, present, error))
    return false;
  if (present &&
      (value.empty() || value.size() > kSignalMaxNameBytes || has_control_characters(value))) {
    error = "The " + quoted_name(name) + " member must be 1 to " +
            std::to_string(kSignalMaxNameBytes) + " bytes without control characters.";
    return false;
  }
  return true;
}

bool read_sdp(JsonObject *obj, const char *what, std::string &sdp, std::string &error)
{
  if (!required_string(obj, "sdp", what, sdp, error))
    return false;
  if (sdp.compare(0, 2, "v=") != 0) {
    error = "The \"sdp\" member must be SDP text starting with \"v=0\".";
    return false;
  }
  return true;
}

bool read_candidate(JsonObject *obj, SignalCandidate &out, std::string &error)
{
  out = SignalCandidate();
  JsonNode *node = json_object_get_member(obj, "candidate");
  if (!node) {
    error =
        "A candidate message needs a \"candidate\" member (an object, or null for the end of "
        "candidates).";
    return false;
  }
  if (JSON_NODE_HOLDS_NULL(node))
    return true; /* end of candidates */
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    error =
        "The \"candidate\" member must be an object {\"candidate\", \"sdpMid\", "
        "\"sdpMLineIndex\"} or null.";
    return false;
  }
  JsonObject *c = json_node_get_object(node);
  JsonNode *line = json_object_get_member(c, "candidate");
  if (!line || !JSON_NODE_HOLDS_VALUE(line) || json_node_get_value_type(line) != G_TYPE_STRING) {
    error = "The candidate object needs a \"candidate\" string (\"\" for the end of candidates).";
    return false;
  }
  out.candidate = json_node_get_string(line);
  if (out.candidate.size() > kSignalMaxCandidateBytes) {
    error =
        "The candidate line is longer than " + std::to_string(kSignalMaxCandidateBytes) + " bytes.";
    return false;
  }
  if (!out.candidate.empty() &&
      (out.candidate.compare(0, 10, "candidate:") != 0 || has_control_characters(out.candidate))) {
    error = "The candidate line must be one line starting with \"candidate:\".";
    return false;
  }
  if (!optional_string(c, "sdpMid", out.sdp_mid, out.has_sdp_mid, error))
    return false;
  JsonNode *index = json_object_get_member(c, "sdpMLineIndex");
  if (index && !JSON_NODE_HOLDS_NULL(index)) {
    if (!JSON_NODE_HOLDS_VALUE(index) || json_node_get_value_type(index) != G_TYPE_INT64 ||
        json_node_get_int(index) < 0 || json_node_get_int(index) > 65535) {
      error = "The \"sdpMLineIndex\" member must be a whole number from 0 to 65535.";
      return false;
    }
    out.sdp_mline_index = static_cast<int>(json_node_get_int(index));
  }
  bool has_ufrag = false;
  if (!optional_string(c, "usernameFragment", out.username_fragment, has_ufrag, error))
    return false;
  if (!out.candidate.empty() && !out.has_sdp_mid && out.sdp_mline_index < 0) {
    error =
        "The candidate object needs \"sdpMid\" or \"sdpMLineIndex\" to say which media it "
        "belongs to.";
    return false;
  }
  return true;
}

bool read_ice_servers(JsonObject *obj, std::optional<std::vector<BrowserIceServer>> &out,
                      std::string &error)
{
  out.reset();
  JsonNode *node = json_object_get_member(obj, "iceServers");
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return true;
  const std::string shape =
      "The \"iceServers\" member must be an array of {\"urls\", \"username\", \"credential\"} "
      "objects.";
  if (!JSON_NODE_HOLDS_ARRAY(node)) {
    error = shape;
    return false;
  }
  std::vector<BrowserIceServer> servers;
  JsonArray *array = json_node_get_array(node);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *entry = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_OBJECT(entry)) {
      error = shape;
      return false;
    }
    JsonObject *e = json_node_get_object(entry);
    BrowserIceServer server;
    JsonNode *urls = json_object_get_member(e, "urls");
    if (urls && JSON_NODE_HOLDS_VALUE(urls) && json_node_get_value_type(urls) == G_TYPE_STRING) {
      server.urls.emplace_back(json_node_get_string(urls));
    } else if (urls && JSON_NODE_HOLDS_ARRAY(urls)) {
      JsonArray *list = json_node_get_array(urls);
      for (guint j = 0; j < json_array_get_length(list); j++) {
        JsonNode *u = json_array_get_element(list, j);
        if (!JSON_NODE_HOLDS_VALUE(u) || json_node_get_value_type(u) != G_TYPE_STRING) {
          error = "Each ICE server's \"urls\" must be a string or an array of strings.";
          return false;
        }
        server.urls.emplace_back(json_node_get_string(u));
      }
    }
    if (server.urls.empty()) {
      error = "Each ICE server needs \"urls\": a string or a non-empty array of strings.";
      return false;
    }
    bool present = false;
    if (!optional_string(e, "username", server.username, present, error) ||
        !optional_string(e, "credential", server.credential, present, error))
      return false;
    servers.push_back(std::move(server));
  }
  out = std::move(servers);
  return true;
}

bool read_peers(JsonObject *obj, std::optional<std::vector<std::string>> &out, std::string &error)
{
  out.reset();
  JsonNode *node = json_object_get_member(obj, "peers");
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return true;
  const char *shape = "The \"peers\" member must be an array of id strings.";
  if (!JSON_NODE_HOLDS_ARRAY(node)) {
    error = shape;
    return false;
  }
  std::vector<std::string> peers;
  JsonArray *array = json_node_get_array(node);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *p = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_VALUE(p) || json_node_get_value_type(p) != G_TYPE_STRING) {
      error = shape;
      return false;
    }
    peers.emplace_back(json_node_get_string(p));
  }
  out = std::move(peers);
  return true;
}

std::string json_error_detail(const GError *err)
{
  std::string detail = err && err->message ? err->message : "unknown error";
  /* json-glib prefixes "<data>:line:column: "; keep line:column. */
  if (detail.compare(0, 7, "<data>:") == 0)
    detail = detail.substr(7);
  while (!detail.empty() && (detail.back() == '.' || detail.back() == '\n'))
    detail.pop_back();
  /* It may quote the text it choked on: keep the reply valid, printable UTF-8. */
  gchar *valid = g_utf8_make_valid(detail.c_str(), static_cast<gssize>(detail.size()));
  detail = valid;
  g_free(valid);
  for (char &c : detail) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  }
  return detail;
}

void add_candidate(JsonWriter &w, const SignalCandidate &c)
{
  w.key("candidate");
  if (c.end_of_candidates() && !c.has_sdp_mid && c.sdp_mline_index < 0 &&
      c.username_fragment.empty()) {
    w.null();
    return;
  }
  w.begin_object().key("candidate").string(c.candidate);
  if (c.has_sdp_mid)
    w.key("sdpMid").string(c.sdp_mid);
  if (c.sdp_mline_index >= 0)
    w.key("sdpMLineIndex").integer(c.sdp_mline_index);
  string_if_set(w, "usernameFragment", c.username_fragment);
  w.end_object();
}

SignalMessage of_type(SignalMessage::Type type)
{
  SignalMessage m;
  m.type = type;
  m.type_name = signal_type_name(type);
  return m;
}

/* The optional welcome members a server adds for its own viewers. */
bool read_welcome_extras(JsonObject *obj, SignalMessage &m, std::string &error)
{
  for (const char *name : {"audio", "talkback"}) {
    JsonNode *node = json_object_get_member(obj, name);
    if (!node)
      continue;
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
      error = "The " + quoted_name(name) + " member must be true or false.";
      return false;
    }
    (std::strcmp(name, "audio") == 0 ? m.audio : m.talkback) = json_node_get_boolean(node) != FALSE;
  }
  std::string policy;
  bool present = false;
  if (!optional_string(obj, "iceTransportPolicy", policy, present, error))
    return false;
  if (present) {
    if (policy != "all" && policy != "relay") {
      error = "The \"iceTransportPolicy\" member must be \"all\" or \"relay\".";
      return false;
    }
    m.ice_transport_policy =
        policy == "relay" ? IceTransportPolicy::Relay : IceTransportPolicy::All;
  }
  return true;
}

/* An error's optional "status": an HTTP status code. */
bool read_status(JsonObject *obj, int &status, std::string &error)
{
  JsonNode *node = json_object_get_member(obj, "status");
  if (!node)
    return true;
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_INT64 ||
      json_node_get_int(node) < 100 || json_node_get_int(node) > 599) {
    error = "The \"status\" member must be an HTTP status code (100 to 599).";
    return false;
  }
  status = static_cast<int>(json_node_get_int(node));
  return true;
}

}  // namespace

const char *signal_type_name(SignalMessage::Type type)
{
  for (const TypeName &t : kTypeNames) {
    if (t.type == type)
      return t.name;
  }
  return "";
}

SignalMessage::Type signal_type_from_name(const std::string &name)
{
  for (const TypeName &t : kTypeNames) {
    if (name == t.name)
      return t.type;
  }
  return SignalMessage::Type::Unknown;
}

SignalMessage SignalMessage::join(std::string room)
{
  SignalMessage m = of_type(Type::Join);
  m.room = std::move(room);
  return m;
}

SignalMessage SignalMessage::joined(std::string from)
{
  SignalMessage m = of_type(Type::Join);
  m.from = std::move(from);
  return m;
}

SignalMessage SignalMessage::welcome(std::string id)
{
  SignalMessage m = of_type(Type::Welcome);
  m.id = std::move(id);
  return m;
}

SignalMessage SignalMessage::offer(std::string sdp)
{
  SignalMessage m = of_type(Type::Offer);
  m.sdp = std::move(sdp);
  return m;
}

SignalMessage SignalMessage::answer(std::string sdp)
{
  SignalMessage m = of_type(Type::Answer);
  m.sdp = std::move(sdp);
  return m;
}

SignalMessage SignalMessage::ice_candidate(SignalCandidate candidate)
{
  SignalMessage m = of_type(Type::Candidate);
  m.candidate = std::move(candidate);
  return m;
}

SignalMessage SignalMessage::end_of_candidates()
{
  return of_type(Type::Candidate);
}

SignalMessage SignalMessage::bye()
{
  return of_type(Type::Bye);
}

SignalMessage SignalMessage::leave()
{
  return of_type(Type::Leave);
}

SignalMessage SignalMessage::left(std::string from)
{
  SignalMessage m = of_type(Type::Leave);
  m.from = std::move(from);
  return m;
}

SignalMessage SignalMessage::error(std::string message)
{
  SignalMessage m = of_type(Type::Error);
  m.message = std::move(message);
  return m;
}

bool parse_signal_message(const std::string &text, SignalMessage &out, std::string &error)
{
  out = SignalMessage();
  if (text.size() > kSignalMaxMessageBytes) {
    error = "The message is " + std::to_string(text.size()) + " bytes; the limit is " +
            std::to_string(kSignalMaxMessageBytes) + " bytes.";
    return false;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    error = "The message is empty; send one JSON object.";
    return false;
  }
  if (!g_utf8_validate_len(text.data(), text.size(), nullptr)) {
    error = "The message is not valid UTF-8 text.";
    return false;
  }
  if (!check_json_text(text, error))
    return false;

  JsonParser *parser = json_parser_new();
  GError *err = nullptr;
  bool parsed =
      json_parser_load_from_data(parser, text.data(), static_cast<gssize>(text.size()), &err);
  std::shared_ptr<JsonNode> root = parsed ? share_node(json_parser_steal_root(parser)) : nullptr;
  g_object_unref(parser);
  if (!parsed || !root) {
    error = "The message is not valid JSON (" + json_error_detail(err) + ").";
    if (err)
      g_error_free(err);
    return false;
  }
  if (!JSON_NODE_HOLDS_OBJECT(root.get())) {
    error = "The message must be a JSON object like {\"type\":\"offer\",\"sdp\":\"…\"}.";
    return false;
  }
  if (has_non_finite_number(root.get())) {
    error = "The message has a number too large for JSON.";
    return false;
  }
  JsonObject *obj = json_node_get_object(root.get());

  JsonNode *type = json_object_get_member(obj, "type");
  if (!type) {
    error = "The message has no \"type\" member.";
    return false;
  }
  if (!JSON_NODE_HOLDS_VALUE(type) || json_node_get_value_type(type) != G_TYPE_STRING) {
    error = "The \"type\" member must be a string.";
    return false;
  }
  SignalMessage m;
  m.type_name = json_node_get_string(type);
  m.type = signal_type_from_name(m.type_name);
  if (m.type == SignalMessage::Type::Unknown) {
    std::string shown = m.type_name.size() > 40 ? m.type_name.substr(0, 40) + "…" : m.type_name;
    if (!g_utf8_validate(shown.c_str(), -1, nullptr) || has_control_characters(shown))
      shown = "?";
    error = "Unknown message type \"" + shown +
            "\"; the types are join, welcome, offer, answer, candidate, bye, leave and error.";
    return false;
  }

  if (!optional_name(obj, "from", m.from, error) || !optional_name(obj, "to", m.to, error))
    return false;

  switch (m.type) {
    case SignalMessage::Type::Join:
      if (!optional_name(obj, "room", m.room, error))
        return false;
      break;
    case SignalMessage::Type::Welcome:
      /* A relay names the receiver; a server's welcome to its own viewer need not. */
      if (!optional_name(obj, "id", m.id, error) || !optional_name(obj, "room", m.room, error) ||
          !read_peers(obj, m.peers, error) || !read_ice_servers(obj, m.ice_servers, error) ||
          !read_welcome_extras(obj, m, error))
        return false;
      break;
    case SignalMessage::Type::Offer:
      if (!read_sdp(obj, "An offer", m.sdp, error))
        return false;
      break;
    case SignalMessage::Type::Answer:
      if (!read_sdp(obj, "An answer", m.sdp, error))
        return false;
      break;
    case SignalMessage::Type::Candidate:
      if (!read_candidate(obj, m.candidate, error))
        return false;
      break;
    case SignalMessage::Type::Error:
      if (!required_string(obj, "message", "An error message", m.message, error) ||
          !read_status(obj, m.status, error))
        return false;
      if (m.message.size() > kSignalMaxErrorBytes) {
        error = "The error's \"message\" is longer than " + std::to_string(kSignalMaxErrorBytes) +
                " bytes.";
        return false;
      }
      break;
    case SignalMessage::Type::Bye:
    case SignalMessage::Type::Leave:
    case SignalMessage::Type::Unknown:
      break;
  }
  m.json = std::move(root);
  out = std::move(m);
  return true;
}

std::string to_json(const SignalMessage &m)
{
  JsonWriter w;
  w.begin_object().key("type").string(m.type_name.empty() ? signal_type_name(m.type) : m.type_name);
  switch (m.type) {
    case SignalMessage::Type::Join:
      string_if_set(w, "room", m.room);
      break;
    case SignalMessage::Type::Welcome:
      string_if_set(w, "id", m.id);
      string_if_set(w, "room", m.room);
      if (m.peers) {
        w.key("peers").begin_array();
        for (const std::string &p : *m.peers)
          w.string(p);
        w.end_array();
      }
      if (m.ice_servers) {
        w.key("iceServers");
        write_ice_servers(w, *m.ice_servers);
      }
      if (m.ice_transport_policy)
        w.key("iceTransportPolicy").string(ice_transport_policy_name(*m.ice_transport_policy));
      if (m.audio)
        w.key("audio").boolean(*m.audio);
      if (m.talkback)
        w.key("talkback").boolean(*m.talkback);
      break;
    case SignalMessage::Type::Offer:
    case SignalMessage::Type::Answer:
      w.key("sdp").string(m.sdp);
      break;
    case SignalMessage::Type::Candidate:
      add_candidate(w, m.candidate);
      break;
    case SignalMessage::Type::Error:
      w.key("message").string(m.message);
      if (m.status)
        w.key("status").integer(m.status);
      break;
    case SignalMessage::Type::Bye:
    case SignalMessage::Type::Leave:
    case SignalMessage::Type::Unknown:
      break;
  }
  string_if_set(w, "from", m.from);
  string_if_set(w, "to", m.to);
  w.end_object();
  return w.text();
}

std::string to_forwarded_json(const SignalMessage &message, const std::string &from)
{
  if (!message.json || !JSON_NODE_HOLDS_OBJECT(message.json.get())) {
    SignalMessage copy = message;
    copy.from = from;
    return to_json(copy);
  }
  /* The object as received, but with our "from" last in place of the sender's. */
  JsonWriter w;
  w.begin_object();
  JsonObjectIter iter;
  const gchar *name = nullptr;
  JsonNode *value = nullptr;
  json_object_iter_init_ordered(&iter, json_node_get_object(message.json.get()));
  while (json_object_iter_next_ordered(&iter, &name, &value)) {
    if (std::strcmp(name, "from") != 0)
      w.key(name).node(value);
  }
  w.key("from").string(from);
  w.end_object();
  return w.text();
}

std::string signal_error_json(const std::string &message)
{
  return to_json(SignalMessage::error(message));
}

}  // namespace livecast
