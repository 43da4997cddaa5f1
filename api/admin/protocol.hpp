#pragma once
/// The admin socket protocol (CONTRACT.md "Admin socket protocol"): one JSON object in,
/// `{"command", "arguments"}`; one JSON object out, `{"result", "text", "arguments"}`.
/// Everything here is pure (no I/O) so both the server and the client share it.

#include "api/admin/unique_fd.hpp"
#include "core/errc.hpp"

#include <boost/json/object.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace dialer::admin {

/// Result codes, exactly as on the wire (Kea's control-channel convention).
enum class ResultCode : int {
  success = 0,          ///< done
  error = 1,            ///< bad arguments or invalid input; `text` says exactly what
  unknown_command = 2,  ///< no handler of that name
  empty = 3,            ///< success, nothing found
  conflict = 4,         ///< not allowed in the current state
};

/// Who is on the other end of a connection (SO_PEERCRED, SO_PEERGROUPS).
struct PeerCredentials {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  pid_t pid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups, when the kernel reports them
};

/// One request as a handler receives it.
struct Request {
  std::string command;
  boost::json::object arguments;  ///< `{}` when the client sent none
  PeerCredentials peer;
  /// Descriptors passed with the request (SCM_RIGHTS), in the order sent. A handler moves out
  /// the ones it keeps; the rest are closed when the request is destroyed.
  std::vector<UniqueFd> fds;
};

/// One answer.
struct Response {
  ResultCode result = ResultCode::success;
  std::string text;
  boost::json::object arguments;

  static Response success(std::string text, boost::json::object arguments = {});
  static Response error(std::string text);
  static Response empty(std::string text, boost::json::object arguments = {});
  static Response conflict(std::string text);
  /// Maps a project Error: not_found → 3, conflict/invalid_transition → 4, anything else → 1;
  /// the text is the error's message.
  static Response from_error(const Error& e);
};

/// The wire number of a result code.
constexpr int to_int(ResultCode r) noexcept {
  return static_cast<int>(r);
}

/// `{"result": N, "text": "...", "arguments": {...}}` (arguments always present).
boost::json::object to_json(const Response& r);
/// to_json, serialised.
std::string serialize(const Response& r);

/// `{"command": "...", "arguments": {...}}`, serialised.
std::string serialize_request(std::string_view command, const boost::json::object& arguments);

/// The command and arguments of a parsed request object.
struct RequestBody {
  std::string command;
  boost::json::object arguments;
};

/// Checks a parsed request: an object with a non-empty string "command", "arguments" an object
/// (or absent/null), no other members. The error message is the text for a result-1 answer.
Result<RequestBody> validate_request(const boost::json::value& v);

/// Checks a parsed response: an object with an integer "result", a string "text" and an object
/// "arguments" (the last two may be absent).
Result<Response> validate_response(const boost::json::value& v);

/// True for member names that look like they hold a secret (api_key, secret, password, token,
/// credential, authorization, …), compared case-insensitively.
bool is_secret_key(std::string_view key) noexcept;

/// A copy of `args` without secret-looking members, at any depth (for audit records).
boost::json::object strip_secrets(const boost::json::object& args);

/// Incremental reader of exactly one JSON object from a byte stream, with a size limit. Feeding
/// stops mattering once the object is complete, so a client may or may not half-close.
/// Sans-I/O: the server and the client feed it whatever their sockets return.
class JsonObjectReader {
 public:
  enum class Status { need_more, complete, failed };

  /// `what` names the thing read in error texts ("request", "response").
  explicit JsonObjectReader(std::size_t max_bytes, std::string what = "request");

  /// Consumes bytes; returns `complete` once a whole object has been parsed (any further bytes
  /// are ignored), `failed` on invalid JSON, a non-object or too many bytes.
  Status feed(std::string_view bytes);
  /// End of input: `complete` if an object was read, else `failed` (empty or incomplete).
  Status finish();

  [[nodiscard]] Status status() const noexcept { return status_; }
  /// Why reading failed (a whole sentence-fragment suitable as a result text).
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  /// Bytes consumed so far.
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  /// The parsed object; only after `complete`.
  boost::json::value release();

 private:
  Status fail(std::string text);

  std::size_t max_bytes_;
  std::string what_;
  boost::json::stream_parser parser_;
  std::size_t bytes_ = 0;
  bool started_ = false;
  Status status_ = Status::need_more;
  std::string error_;
};

}  // namespace dialer::admin
