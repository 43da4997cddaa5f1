#include "api/admin/client.hpp"

#include "core/errno_text.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

namespace dialer::admin {

// Hand-written on POSIX calls rather than Asio: Asio cannot attach SCM_RIGHTS to a send, and
// a command-line client has no event loop to share.

namespace {

using Steady = std::chrono::steady_clock;

/// Waits until `fd` is ready for `events` or the deadline passes.
Result<void> wait_for(int fd, short events, Steady::time_point deadline, const char* what) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) {
      return Error(errc::timeout, std::string("timed out ") + what);
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (n > 0) return {};
    if (n < 0 && errno != EINTR)
      return Error(errc::io_error, std::string("poll: ") + errno_text(errno));
  }
}

}  // namespace

Result<Response> call_raw(const std::filesystem::path& socket, std::string_view request_text,
                          std::span<const int> fds, const CallOptions& options) {
  const auto deadline = Steady::now() + options.timeout;
  const std::string where = socket.string();

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (where.empty() || where.size() >= sizeof addr.sun_path) {
    return Error(errc::invalid_argument, "invalid admin socket path '" + where + "'");
  }
  std::memcpy(addr.sun_path, where.c_str(), where.size() + 1);

  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error(errc::io_error, "socket: " + errno_text(errno));
  // A Unix-socket connect only blocks when the listen backlog is full; SO_SNDTIMEO bounds it.
  const auto ms = std::max<long long>(options.timeout.count(), 1);
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc = 0;
  do {
    rc = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err == EAGAIN) return Error(errc::timeout, "timed out connecting to " + where);
    return Error(errc::io_error, "cannot connect to " + where + ": " + errno_text(err));
  }
  ::fcntl(sock.get(), F_SETFL, ::fcntl(sock.get(), F_GETFL) | O_NONBLOCK);

  // Send. The descriptors ride on the first sendmsg; the kernel attaches them to its bytes.
  std::size_t sent = 0;
  bool peer_closed = false;
  std::array<char, CMSG_SPACE(sizeof(int) * 64)> control{};
  if (fds.size() > 64) return Error(errc::invalid_argument, "too many descriptors to pass");
  while (sent < request_text.size() && !peer_closed) {
    iovec iov{const_cast<char*>(request_text.data() + sent), request_text.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (sent == 0 && !fds.empty()) {
      msg.msg_control = control.data();
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t n = ::sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto w = wait_for(sock.get(), POLLOUT, deadline, ("sending to " + where).c_str()); !w) {
        return w.error();
      }
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      // The server answered early (request too large, busy) and closed: read that answer.
      peer_closed = true;
      break;
    }
    return Error(errc::io_error, "cannot send to " + where + ": " + errno_text(errno));
  }
  if (!peer_closed) ::shutdown(sock.get(), SHUT_WR);

  // Receive exactly one JSON object.
  JsonObjectReader reader(options.max_response_bytes, "response");
  std::string buf(64 * 1024, '\0');
  while (reader.status() == JsonObjectReader::Status::need_more) {
    const ssize_t n = ::recv(sock.get(), buf.data(), buf.size(), 0);
    if (n > 0) {
      reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    } else if (n == 0) {
      if (reader.bytes() == 0) {
        return Error(errc::protocol_error, "dialerd at " + where + " closed without answering");
      }
      reader.finish();
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto w = wait_for(sock.get(), POLLIN, deadline,
                            ("waiting for the answer from " + where).c_str());
          !w) {
        return w.error();
      }
    } else {
      return Error(errc::io_error,
                   "cannot read the answer from " + where + ": " + errno_text(errno));
    }
  }
  if (reader.status() == JsonObjectReader::Status::failed) {
    return Error(errc::protocol_error, reader.error());
  }
  return validate_response(reader.release());
}

Result<Response> call(const std::filesystem::path& socket, std::string_view command,
                      const boost::json::object& arguments, std::span<const int> fds,
                      const CallOptions& options) {
  return call_raw(socket, serialize_request(command, arguments), fds, options);
}

}  // namespace dialer::admin
