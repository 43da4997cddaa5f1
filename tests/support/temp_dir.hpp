#pragma once
// A fresh directory under $TMPDIR (mkdtemp), removed with its contents at scope exit. Shared by
// the test fixtures and the benchmark programs.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace dialer::testkit {

class TempDir {
 public:
  /// `prefix` names the directory (`<prefix>-XXXXXX`), so a leftover says who made it.
  explicit TempDir(const std::string& prefix = "dialer-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    if (keep_) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// Leaves the directory in place at scope exit (to look at it after a run).
  void keep() { keep_ = true; }
  /// The full path of `name` inside the directory.
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// Writes `content` to `name` inside the directory; returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return file(name);
  }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace dialer::testkit
