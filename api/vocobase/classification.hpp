#pragma once
/// How every Partner API answer is read (VOCOBASE-API.md, the classification table). The
/// scheduler branches on these values; they are computed from what happened on the wire (status,
/// error message, whether a byte of the request was written), never guessed from an exception.

#include "core/time.hpp"

#include <boost/system/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace dialer::api {

/// The four readings of an answer. For POST /calls/start `ok` means "started".
enum class Verdict {
  ok,         ///< 2xx with a well-formed body: for a start, the call exists
  rejected,   ///< a definitive 4xx: nothing happened on the server (no call)
  ambiguous,  ///< request written, no definitive answer (5xx, timeout after write, reset)
  not_sent,   ///< nothing reached the server (connect failure, timeout before writing, queue)
};

/// Why, in the terms the scheduler acts on.
enum class Reason {
  none,  ///< Verdict::ok
  // rejected (4xx)
  rate,          ///< 429 about the request rate
  concurrency,   ///< 429 whose message contains "concurren"
  credits,       ///< 403 about credit or balance → credit_exhausted
  provider,      ///< 403 about the provider (not enabled) → that provider cools down
  account,       ///< any other 403 (suspended, not approved) → stop dispatching
  auth,          ///< 401: the key is wrong → stop dispatching
  bad_number,    ///< 400/404 whose message is about to_number → the contact is skipped
  not_found,     ///< any other 404
  validation,    ///< any other 400
  conflict,      ///< 409
  client_error,  ///< any other 4xx
  // ambiguous
  server_error,         ///< 5xx
  timeout_after_write,  ///< the deadline expired after a byte of the request was written
  connection_lost,      ///< reset / EOF / I/O error after a byte of the request was written
  bad_response,         ///< an answer that is not HTTP, an unexpected status, or a 2xx whose
                        ///< body is not the documented shape
  // not sent
  connect_failed,        ///< resolve, TCP connect or TLS handshake failed
  timeout_before_write,  ///< the deadline expired before any byte of the request was written
  write_failed,          ///< the connection failed before any byte of the request was written
  queue_full,            ///< the bucket's waiting queue is at its bound
  queue_timeout,         ///< no token became available within the queue deadline
  cancelled,             ///< the client is shutting down
};

std::string_view to_string(Verdict v) noexcept;
std::string_view to_string(Reason r) noexcept;

/// The verdict every reason belongs to.
Verdict verdict_of(Reason r) noexcept;

/// A request that did not end in `ok`. Never carries the API key.
struct ApiError {
  Verdict verdict = Verdict::not_sent;
  Reason reason = Reason::connect_failed;
  int http_status = 0;   ///< 0 when no HTTP status was received
  std::string api_code;  ///< `error.code` of the envelope (e.g. "LIMIT_REACHED"), if any
  std::string message;   ///< `error.message`, or what happened on the wire
  std::optional<Millis> retry_after;  ///< Retry-After of the answer, when sent

  ApiError() = default;
  ApiError(Reason r, std::string msg, int status = 0)
      : verdict(verdict_of(r)), reason(r), http_status(status), message(std::move(msg)) {}

  /// "rejected/credits (403 FORBIDDEN): Insufficient credits" — for logs and error texts.
  [[nodiscard]] std::string describe() const;
};

[[noreturn]] void throw_exception_from_error(const ApiError& e, const boost::source_location& loc);

/// Value or classified failure of one API request.
template <class T>
using ApiResult = boost::system::result<T, ApiError>;

/// Verdict of a finished request, `ok` included.
template <class T>
Verdict verdict_of(const ApiResult<T>& r) noexcept {
  return r ? Verdict::ok : r.error().verdict;
}

/// Classifies a non-2xx HTTP answer that was fully received: status plus the envelope's
/// `error.code` / `error.message` (empty when the body had none). `retry_after` is the parsed
/// Retry-After header, if any. Pure: the classification table lives here and only here.
ApiError classify_http_error(int status, std::string_view api_code, std::string_view message,
                             std::optional<Millis> retry_after);

/// Reads an error envelope `{"success": false, "error": {"code", "message"}}` leniently: a body
/// that is not one yields empty code and message.
void parse_error_envelope(std::string_view body, std::string& code, std::string& message);

/// Parses Retry-After: delta-seconds or an HTTP-date (RFC 9110 IMF-fixdate), relative to `now`.
std::optional<Millis> parse_retry_after(std::string_view value, TimePoint now);

}  // namespace dialer::api
