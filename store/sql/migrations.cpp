#include "store/sql/migrations.hpp"

#include "store/sql/schema.hpp"

#include <string>

namespace dialer::store {

Result<void> check_schema_not_newer(Database& db, int supported) {
  auto version = db.user_version();
  if (!version) return version.error();
  if (*version > supported) {
    return Error{errc::schema_too_new,
                 db.path() + " has schema version " + std::to_string(*version) +
                     "; this dialerd supports up to " + std::to_string(supported)};
  }
  return {};
}

Result<void> check_schema_not_newer(Database& db) {
  return check_schema_not_newer(db, current_schema_version());
}

Result<MigrationReport> migrate(Database& db, std::span<const std::string_view> steps) {
  const int target = static_cast<int>(steps.size());
  auto found = db.user_version();
  if (!found) return found.error();
  if (auto r = check_schema_not_newer(db, target); !r) return r.error();

  MigrationReport report{*found, *found};
  for (int next = *found; next < target; ++next) {
    auto tx = Transaction::begin(db);
    if (!tx) return tx.error();
    if (auto r = db.lock_for_migration(); !r) return r.error();
    // Another process may have migrated between our read and our write lock: re-read under it.
    auto now = db.user_version();
    if (!now) return now.error();
    if (*now > next) {
      next = *now - 1;
      continue;
    }
    if (auto r = db.exec(steps[static_cast<std::size_t>(next)]); !r) {
      return Error{r.error().code, "migrating " + db.path() + " to schema version " +
                                       std::to_string(next + 1) + ": " + r.error().message};
    }
    if (auto r = db.set_user_version(next + 1); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
  }
  auto final_version = db.user_version();
  if (!final_version) return final_version.error();
  report.to = *final_version;
  return report;
}

Result<MigrationReport> migrate(Database& db) {
  return migrate(db, schema_steps(db.backend()));
}

}  // namespace dialer::store
