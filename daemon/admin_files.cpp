#include "daemon/admin_files.hpp"

#include "core/errno_text.hpp"
#include "store/fd_writer.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace dialer::daemon {
namespace {

Error refused(std::string_view argument, const std::string& path, std::string_view why) {
  return Error{errc::invalid_argument,
               std::string(argument) + " " + path + ": " + std::string(why)};
}

/// Splits `rel` into its components; false when one is "..".
bool components(std::string_view rel, std::vector<std::string>& out) {
  std::size_t i = 0;
  while (i <= rel.size()) {
    const auto j = rel.find('/', i);
    const auto part = rel.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (part == "..") return false;
    if (!part.empty() && part != ".") out.emplace_back(part);
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return true;
}

/// Walks `path` below files_dir one component at a time with O_NOFOLLOW, so that no symlink —
/// in the directories or the last component — is ever followed (openat2's RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS, written out with openat so it works on every kernel).
Result<ConfinedFile> open_confined(std::string_view files_dir, std::string_view argument,
                                   const std::string& path, int flags) {
  if (files_dir.empty()) {
    return refused(argument, path,
                   "path arguments are refused while admin.files_dir is not set; pass the file "
                   "as a descriptor (dialerctl does) or set admin.files_dir");
  }
  std::string root(files_dir);
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (path.empty() || path.front() != '/') {
    return refused(argument, path, "must be an absolute path inside admin.files_dir " + root);
  }
  if (path.compare(0, root.size(), root) != 0 ||
      (path.size() > root.size() && root != "/" && path[root.size()] != '/')) {
    return refused(argument, path, "lies outside admin.files_dir " + root);
  }
  std::vector<std::string> parts;
  if (!components(std::string_view(path).substr(root.size()), parts)) {
    return refused(argument, path, "\"..\" is not allowed");
  }
  if (parts.empty()) return refused(argument, path, "names admin.files_dir itself, not a file");

  ConfinedFile out;
  out.path = path;
  out.dir = admin::UniqueFd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!out.dir) {
    return Error{errc::io_error, "admin.files_dir " + root + ": " + errno_text(errno)};
  }
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    admin::UniqueFd next(
        ::openat(out.dir.get(), parts[k].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      const int e = errno;
      if (e == ELOOP || e == ENOTDIR) {
        return refused(argument, path, "passes through a symlink or a non-directory");
      }
      return Error{errc::io_error, std::string(argument) + " " + path + ": " + errno_text(e)};
    }
    out.dir = std::move(next);
  }
  out.name = parts.back();
  out.fd = admin::UniqueFd(
      ::openat(out.dir.get(), out.name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640));
  if (!out.fd) {
    const int e = errno;
    if (e == ELOOP) return refused(argument, path, "is a symlink");
    if (e == EEXIST)
      return refused(argument, path, "exists already; files are created new, never overwritten");
    return Error{errc::io_error, std::string(argument) + " " + path + ": " + errno_text(e)};
  }
  struct stat st {};
  if (::fstat(out.fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return refused(argument, path, "is not a regular file");
  }
  return out;
}

}  // namespace

Result<ConfinedFile> open_confined_for_reading(std::string_view files_dir,
                                               std::string_view argument, const std::string& path) {
  // O_NONBLOCK: a FIFO planted in files_dir must not hang the open; fstat then refuses it.
  auto f = open_confined(files_dir, argument, path, O_RDONLY | O_NONBLOCK);
  if (!f) return f;
  const int fl = ::fcntl(f->fd.get(), F_GETFL);
  if (fl >= 0) ::fcntl(f->fd.get(), F_SETFL, fl & ~O_NONBLOCK);
  return f;
}

Result<ConfinedFile> create_confined(std::string_view files_dir, std::string_view argument,
                                     const std::string& path) {
  return open_confined(files_dir, argument, path, O_WRONLY | O_CREAT | O_EXCL);
}

void remove_confined(ConfinedFile& file) {
  if (!file.dir || file.name.empty()) return;
  ::unlinkat(file.dir.get(), file.name.c_str(), 0);
  file.name.clear();
}

Result<void> copy_file_to_fd(const std::filesystem::path& from, int to) {
  admin::UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return Error{errc::io_error, "cannot open " + from.string() + ": " + errno_text(errno)};
  store::FdWriter out(to, Millis{60'000});
  std::array<char, 64 * 1024> buf{};
  for (;;) {
    const ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{errc::io_error, "read " + from.string() + ": " + errno_text(errno)};
    if (n == 0) break;
    if (auto r = out.write({buf.data(), static_cast<std::size_t>(n)}); !r) return r;
  }
  return out.flush();
}

Result<std::filesystem::path> scratch_file(const std::filesystem::path& dir,
                                           std::string_view stem) {
  std::string tmpl = (dir / (std::string(stem) + "-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return Error{errc::io_error,
                 "cannot create a file in " + dir.string() + ": " + errno_text(errno)};
  ::close(fd);
  return std::filesystem::path(tmpl);
}

}  // namespace dialer::daemon
