#pragma once
/// SQLite implementation of store/import_repo.hpp.

#include "store/import_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlImports final : public ImportRepo {
 public:
  explicit SqlImports(Database& db) : db_(db) {}

  Result<std::int64_t> begin(std::int64_t campaign_id, TimePoint now) override;
  Result<std::optional<ImportRow>> get(std::int64_t import_id) override;
  Result<std::vector<ImportRow>> list_in_state(ImportState state) override;
  Result<bool> stage(std::int64_t campaign_id, std::int64_t import_id, const NewContact& contact,
                     TimePoint now) override;
  Result<bool> has_staged(std::int64_t import_id) override;
  Result<std::int64_t> delete_staged(std::int64_t import_id, std::int64_t limit) override;
  Result<FlipCounts> flip_staged(std::int64_t import_id, std::int64_t limit,
                                 TimePoint now) override;
  Result<bool> mark_committed(std::int64_t import_id, std::string_view report_json,
                              TimePoint now) override;
  Result<bool> mark_failed(std::int64_t import_id, std::string_view message,
                           TimePoint now) override;
  Result<void> set_report(std::int64_t import_id, std::string_view report_json) override;

 private:
  Database& db_;
};

}  // namespace dialer::store
