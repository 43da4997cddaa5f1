#pragma once
/// Small daemon state that must survive restarts (last known credit balance, …).

#include "core/errc.hpp"
#include "store/database.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dialer::store {

class KvRepo {
 public:
  explicit KvRepo(Database& db) : db_(db) {}

  Result<std::optional<std::string>> get(std::string_view key);
  /// Inserts or replaces.
  Result<void> set(std::string_view key, std::string_view value);
  /// True when the key existed.
  Result<bool> erase(std::string_view key);

 private:
  Database& db_;
};

}  // namespace dialer::store
