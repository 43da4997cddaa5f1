#pragma once
/// Project error codes (stable numbers: never renumber, only append) and the Result types that
/// store/, api/ and config/ return for expected failures.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <system_error>

namespace dialer {

enum class errc : int {
  ok = 0,
  invalid_argument = 1,     ///< caller passed something malformed
  parse_error = 2,          ///< input text could not be parsed
  not_found = 3,            ///< the named thing does not exist
  conflict = 4,             ///< not allowed in the current state
  io_error = 5,             ///< file or socket I/O failed
  timeout = 6,              ///< a deadline expired
  db_error = 7,             ///< SQLite reported an error
  schema_too_new = 8,       ///< the database was written by a newer dialerd
  limit_exceeded = 9,       ///< a size or count limit was hit
  unsupported = 10,         ///< a feature or value this build does not handle
  duplicate = 11,           ///< unique key already present
  invalid_transition = 12,  ///< a state machine refused an event
  protocol_error = 13,      ///< the peer sent something outside its protocol
  cancelled = 14,           ///< the operation was cancelled (shutdown)
};

const boost::system::error_category& dialer_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), dialer_category()};
}

/// An expected failure with a human-readable message (file, line, field, …).
struct Error {
  boost::system::error_code code;
  std::string message;

  Error() = default;
  Error(boost::system::error_code c, std::string m) : code(c), message(std::move(m)) {}
  Error(errc e, std::string m) : code(make_error_code(e)), message(std::move(m)) {}

  /// "message" or, when empty, the code's own description.
  [[nodiscard]] std::string what() const { return message.empty() ? code.message() : message; }
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

/// Result of an operation whose failure carries a message.
template <class T>
using Result = boost::system::result<T, Error>;

/// Result of an operation whose failure is fully described by its code.
template <class T>
using result = boost::system::result<T>;

}  // namespace dialer

namespace boost::system {
template <>
struct is_error_code_enum<dialer::errc> : std::true_type {};
}  // namespace boost::system
