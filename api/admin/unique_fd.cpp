#include "api/admin/unique_fd.hpp"

#include <unistd.h>

namespace dialer::admin {

void UniqueFd::reset(int fd) noexcept {
  // close() is not retried on EINTR: on Linux the descriptor is released either way.
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

}  // namespace dialer::admin
