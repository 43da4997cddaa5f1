#include "api/admin/protocol.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace dialer::admin {

namespace json = boost::json;

Response Response::success(std::string text, json::object arguments) {
  return {ResultCode::success, std::move(text), std::move(arguments)};
}
Response Response::error(std::string text) {
  return {ResultCode::error, std::move(text), {}};
}
Response Response::empty(std::string text, json::object arguments) {
  return {ResultCode::empty, std::move(text), std::move(arguments)};
}
Response Response::conflict(std::string text) {
  return {ResultCode::conflict, std::move(text), {}};
}

Response Response::from_error(const Error& e) {
  ResultCode code = ResultCode::error;
  if (e.code == make_error_code(errc::not_found)) {
    code = ResultCode::empty;
  } else if (e.code == make_error_code(errc::conflict) ||
             e.code == make_error_code(errc::invalid_transition)) {
    code = ResultCode::conflict;
  }
  return {code, e.what(), {}};
}

json::object to_json(const Response& r) {
  json::object o;
  o["result"] = to_int(r.result);
  o["text"] = r.text;
  o["arguments"] = r.arguments;
  return o;
}

std::string serialize(const Response& r) {
  return json::serialize(to_json(r));
}

std::string serialize_request(std::string_view command, const json::object& arguments) {
  json::object o;
  o["command"] = command;
  o["arguments"] = arguments;
  return json::serialize(o);
}

Result<RequestBody> validate_request(const json::value& v) {
  const auto* obj = v.if_object();
  if (obj == nullptr) return Error(errc::invalid_argument, "request must be a JSON object");
  RequestBody body;
  for (const auto& member : *obj) {
    if (member.key() == "command") {
      const auto* s = member.value().if_string();
      if (s == nullptr) return Error(errc::invalid_argument, "\"command\" must be a string");
      body.command = std::string(*s);
    } else if (member.key() == "arguments") {
      if (member.value().is_null()) continue;
      const auto* a = member.value().if_object();
      if (a == nullptr) return Error(errc::invalid_argument, "\"arguments\" must be an object");
      body.arguments = *a;
    } else {
      return Error(errc::invalid_argument, "unknown request member \"" + std::string(member.key()) +
                                               "\" (expected \"command\" and \"arguments\")");
    }
  }
  if (!obj->contains("command")) {
    return Error(errc::invalid_argument, "request has no \"command\" member");
  }
  if (body.command.empty()) return Error(errc::invalid_argument, "\"command\" is empty");
  return body;
}

Result<Response> validate_response(const json::value& v) {
  const auto* obj = v.if_object();
  if (obj == nullptr) return Error(errc::protocol_error, "response is not a JSON object");
  const auto* result = obj->if_contains("result");
  if (result == nullptr || !result->is_int64()) {
    return Error(errc::protocol_error, "response has no integer \"result\"");
  }
  const auto code = result->as_int64();
  if (code < 0 || code > 255) {
    return Error(errc::protocol_error, "response \"result\" out of range");
  }
  Response r;
  r.result = static_cast<ResultCode>(code);
  if (const auto* text = obj->if_contains("text"); text != nullptr && !text->is_null()) {
    if (!text->is_string()) return Error(errc::protocol_error, "response \"text\" not a string");
    r.text = std::string(text->get_string());
  }
  if (const auto* args = obj->if_contains("arguments"); args != nullptr && !args->is_null()) {
    if (!args->is_object()) {
      return Error(errc::protocol_error, "response \"arguments\" not an object");
    }
    r.arguments = args->get_object();
  }
  return r;
}

bool is_secret_key(std::string_view key) noexcept {
  static constexpr std::array<std::string_view, 11> kMarkers{
      "secret", "password", "passwd",     "passphrase",    "token", "api_key",
      "apikey", "private",  "credential", "authorization", "bearer"};
  std::string lower(key.size(), '\0');
  std::transform(key.begin(), key.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "key" || lower == "auth") return true;
  return std::any_of(kMarkers.begin(), kMarkers.end(),
                     [&](std::string_view m) { return lower.find(m) != std::string::npos; });
}

namespace {

json::value strip_value(const json::value& v);

json::array strip_array(const json::array& a) {
  json::array out;
  out.reserve(a.size());
  for (const auto& item : a) out.push_back(strip_value(item));
  return out;
}

json::value strip_value(const json::value& v) {
  if (const auto* o = v.if_object()) return strip_secrets(*o);
  if (const auto* a = v.if_array()) return strip_array(*a);
  return v;
}

}  // namespace

json::object strip_secrets(const json::object& args) {
  json::object out;
  for (const auto& member : args) {
    if (is_secret_key(member.key())) continue;
    out[member.key()] = strip_value(member.value());
  }
  return out;
}

JsonObjectReader::JsonObjectReader(std::size_t max_bytes, std::string what)
    : max_bytes_(max_bytes), what_(std::move(what)) {}

JsonObjectReader::Status JsonObjectReader::fail(std::string text) {
  status_ = Status::failed;
  error_ = std::move(text);
  return status_;
}

JsonObjectReader::Status JsonObjectReader::feed(std::string_view bytes) {
  if (status_ != Status::need_more) return status_;
  if (!started_) {
    // Reject a non-object at its first byte instead of waiting for it to end: `42` without a
    // half-close would otherwise only fail at the idle timeout.
    const auto first = bytes.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos) {
      if (bytes[first] != '{') return fail(what_ + " must be a JSON object");
      started_ = true;
    }
  }
  const std::size_t room = max_bytes_ - bytes_;
  const bool truncated = bytes.size() > room;
  const std::string_view part = truncated ? bytes.substr(0, room) : bytes;
  boost::system::error_code ec;
  const std::size_t used = parser_.write_some(part.data(), part.size(), ec);
  if (ec) {
    return fail(what_ + " is not valid JSON: " + ec.message() + " at byte " +
                std::to_string(bytes_ + used + 1));
  }
  bytes_ += used;
  if (parser_.done()) {
    status_ = Status::complete;
    return status_;
  }
  if (truncated || bytes_ >= max_bytes_) {
    return fail(what_ + " larger than " + std::to_string(max_bytes_) + " bytes");
  }
  return status_;
}

JsonObjectReader::Status JsonObjectReader::finish() {
  if (status_ != Status::need_more) return status_;
  if (!started_) return fail("empty " + what_);
  boost::system::error_code ec;
  parser_.finish(ec);
  if (ec || !parser_.done()) return fail("incomplete " + what_ + ": " + ec.message());
  status_ = Status::complete;
  return status_;
}

json::value JsonObjectReader::release() {
  return parser_.release();
}

}  // namespace dialer::admin
