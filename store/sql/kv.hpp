#pragma once
/// SQLite implementation of store/kv_repo.hpp.

#include "store/kv_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlKv final : public KvRepo {
 public:
  explicit SqlKv(Database& db) : db_(db) {}

  Result<std::optional<std::string>> get(std::string_view key) override;
  Result<void> set(std::string_view key, std::string_view value) override;
  Result<bool> erase(std::string_view key) override;

 private:
  Database& db_;
};

}  // namespace dialer::store
