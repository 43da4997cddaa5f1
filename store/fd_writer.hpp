#pragma once
/// Buffered writes to a descriptor a client passed (a file, a pipe, a terminal): what the results
/// export and the admin commands' file copies write through.

#include "core/errc.hpp"
#include "core/time.hpp"

#include <string>
#include <string_view>

namespace dialer::store {

/// A pipe nobody drains must not block a worker forever: non-regular files are written in chunks
/// of at most PIPE_BUF after poll() says there is room, each wait bounded by `timeout`. The
/// descriptor is not closed.
class FdWriter {
 public:
  FdWriter(int fd, Millis timeout);

  /// Appends `data`; writes out once the buffer is full.
  Result<void> write(std::string_view data);
  /// Writes out everything buffered.
  Result<void> flush();

 private:
  static constexpr std::size_t kBuffer = 64 * 1024;
  int fd_;
  Millis timeout_;
  bool regular_ = false;
  std::string buf_;
};

}  // namespace dialer::store
