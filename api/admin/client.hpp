#pragma once
/// The client side of the admin socket (used by dialerctl and the tests): connect, send one
/// request (optionally with descriptors), read one answer. Blocking, with a deadline.

#include "api/admin/protocol.hpp"
#include "core/errc.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace dialer::admin {

struct CallOptions {
  /// Deadline for the whole call: connect, send and the complete answer.
  std::chrono::milliseconds timeout{30'000};
  std::size_t max_response_bytes = 256 * 1024 * 1024;
};

/// Sends `request_text` exactly as given, with `fds` attached to its first byte (SCM_RIGHTS;
/// the caller keeps its copies), half-closes, and reads one JSON object back.
/// Errors: errc::io_error "cannot connect to PATH: reason" and other socket failures,
/// errc::timeout when the deadline passes, errc::protocol_error for a malformed answer.
Result<Response> call_raw(const std::filesystem::path& socket, std::string_view request_text,
                          std::span<const int> fds = {}, const CallOptions& options = {});

/// Sends `{"command": command, "arguments": arguments}` (see call_raw).
Result<Response> call(const std::filesystem::path& socket, std::string_view command,
                      const boost::json::object& arguments = {}, std::span<const int> fds = {},
                      const CallOptions& options = {});

}  // namespace dialer::admin
