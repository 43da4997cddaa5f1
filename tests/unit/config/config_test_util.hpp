#pragma once
// Helpers shared by the config unit tests: a temporary directory and file writer, and loading
// config text with an injected environment.

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace dialer::config::test {

/// A fresh directory under $TMPDIR (mkdtemp), removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dialer-config-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// Writes `content` to `name` inside the directory; returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::ofstream out(p, std::ios::binary);
    out << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

/// The smallest valid config: an inline API key and one webhook secret.
inline constexpr const char* kMinimalConfig =
    "vocobase:\n"
    "  api_key: rg_test_key_0123456789\n"
    "webhook:\n"
    "  secrets: [whsec_test_one]\n";

/// Loads `text` as "test.yaml" with `env` as the whole environment.
inline Checked<Config> load(const std::string& text, std::map<std::string, std::string> env = {},
                            const std::filesystem::path& base_dir = {}) {
  return load_text(text, "test.yaml", env_from_map(std::move(env)), base_dir);
}

/// The diagnostics of a load that must fail, as "file:line:col: key: message" lines.
inline std::vector<std::string> errors_of(const Checked<Config>& r) {
  std::vector<std::string> out;
  if (r) {
    ADD_FAILURE() << "expected the config to be rejected";
    return out;
  }
  for (const auto& d : r.error()) out.push_back(d.to_string());
  return out;
}

/// The only diagnostic of a load that must fail with exactly one problem.
inline std::string single_error(const Checked<Config>& r) {
  auto errors = errors_of(r);
  if (errors.size() != 1) {
    std::string all;
    for (const auto& e : errors) all += "\n  " + e;
    ADD_FAILURE() << "expected exactly one error, got " << errors.size() << ":" << all;
    return errors.empty() ? std::string() : errors.front();
  }
  return errors.front();
}

}  // namespace dialer::config::test
