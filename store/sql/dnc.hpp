#pragma once
/// SQLite implementation of store/dnc_repo.hpp.

#include "store/dnc_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlDnc final : public DncRepo {
 public:
  explicit SqlDnc(Database& db) : db_(db) {}

  Result<std::int64_t> add(std::span<const std::string> phones, std::string_view reason,
                           std::string_view source, TimePoint now) override;
  Result<std::int64_t> remove(std::span<const std::string> phones) override;
  Result<bool> contains(std::string_view phone) override;
  Result<std::vector<DncEntry>> list(std::int64_t limit, std::int64_t offset = 0) override;
  Result<std::int64_t> count() override;

 private:
  Database& db_;
};

}  // namespace dialer::store
