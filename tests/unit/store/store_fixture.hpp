#pragma once
// Shared fixture of the store conformance suite: every repository test runs against ":memory:"
// and against a file database in a fresh temp directory.

#include "store/database.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace dialer::store::testing {

/// A mkdtemp directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dialer-store-XXXXXX").string();
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

 private:
  std::filesystem::path path_;
};

enum class Backing { memory, file };

inline std::string backing_name(const ::testing::TestParamInfo<Backing>& info) {
  return info.param == Backing::memory ? "Memory" : "File";
}

/// Opens a migrated database of the parameter's backing before each test.
class StoreTest : public ::testing::TestWithParam<Backing> {
 protected:
  void SetUp() override {
    if (GetParam() == Backing::file) {
      dir_.emplace();
      path_ = (dir_->path() / "dialer.db").string();
    } else {
      path_ = ":memory:";
    }
    auto db = Database::open(path_, options());
    ASSERT_TRUE(db) << db.error().what();
    db_.emplace(std::move(*db));
  }
  void TearDown() override { db_.reset(); }

  virtual OpenOptions options() const { return {}; }
  Database& db() { return *db_; }
  [[nodiscard]] bool is_file() const { return GetParam() == Backing::file; }

  std::optional<TempDir> dir_;
  std::string path_;
  std::optional<Database> db_;
};

}  // namespace dialer::store::testing

// Instantiates a StoreTest-derived fixture for both backings.
#define DIALER_STORE_CONFORMANCE(Fixture)                                               \
  INSTANTIATE_TEST_SUITE_P(Backings, Fixture,                                           \
                           ::testing::Values(::dialer::store::testing::Backing::memory, \
                                             ::dialer::store::testing::Backing::file),  \
                           ::dialer::store::testing::backing_name)
