#pragma once
// Helpers shared by the config unit tests: a temporary directory and file writer, and loading
// config text with an injected environment.

#include "config/config.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace dialer::config::test {

using TempDir = ::dialer::testkit::TempDir;

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
