#pragma once
// A temporary file with given content for the tests that read or write descriptors.

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace dialer::testkit {

/// A file with `content`, open for reading, unlinked already (closed on destruction).
class MemFile {
 public:
  explicit MemFile(const std::string& content) {
    char name[] = "/tmp/dialerd-handlers-XXXXXX";
    fd_ = ::mkstemp(name);
    ::unlink(name);
    (void)!::write(fd_, content.data(), content.size());
    ::lseek(fd_, 0, SEEK_SET);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] std::string read_all() const {
    std::string out;
    ::lseek(fd_, 0, SEEK_SET);
    char buf[4096];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  int fd_ = -1;
};

}  // namespace dialer::testkit
