#include "store/fd_writer.hpp"

#include "core/errno_text.hpp"

#include <climits>

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dialer::store {

FdWriter::FdWriter(int fd, Millis timeout) : fd_(fd), timeout_(timeout) {
  struct stat st {};
  regular_ = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  buf_.reserve(kBuffer);
}

Result<void> FdWriter::write(std::string_view data) {
  buf_.append(data);
  if (buf_.size() >= kBuffer) return flush();
  return {};
}

Result<void> FdWriter::flush() {
  std::string_view rest = buf_;
  while (!rest.empty()) {
    if (!regular_) {
      pollfd p{fd_, POLLOUT, 0};
      const int n = ::poll(&p, 1, static_cast<int>(timeout_.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error{errc::io_error, "poll: " + errno_text(errno)};
      if (n == 0) {
        return Error{errc::timeout, "the output accepted nothing for " + format_duration(timeout_)};
      }
      if ((p.revents & (POLLERR | POLLHUP)) != 0 && (p.revents & POLLOUT) == 0) {
        return Error{errc::io_error, "the output was closed by its reader"};
      }
    }
    const std::size_t chunk = regular_ ? rest.size() : std::min<std::size_t>(rest.size(), PIPE_BUF);
    const ssize_t w = ::write(fd_, rest.data(), chunk);
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (w < 0) return Error{errc::io_error, "write: " + errno_text(errno)};
    rest.remove_prefix(static_cast<std::size_t>(w));
  }
  buf_.clear();
  return {};
}

}  // namespace dialer::store
