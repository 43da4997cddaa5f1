#pragma once
/// Forward-only schema migrations keyed on PRAGMA user_version (store/schema.hpp holds the
/// steps). Each step runs in its own BEGIN IMMEDIATE transaction together with the version bump,
/// so a crash leaves the database at a whole version.

#include "core/errc.hpp"
#include "store/sql/database.hpp"

#include <span>
#include <string_view>

namespace dialer::store {

struct MigrationReport {
  int from = 0;  ///< user_version found
  int to = 0;    ///< user_version now
};

/// Brings `db` to current_schema_version(). A database written by a newer dialerd is refused
/// with errc::schema_too_new: "<path> has schema version 7; this dialerd supports up to 1".
Result<MigrationReport> migrate(Database& db);

/// Same with explicit steps (steps[i] moves version i to i + 1); for tests.
Result<MigrationReport> migrate(Database& db, std::span<const std::string_view> steps);

/// errc::schema_too_new when user_version is above `supported` (default: this build's).
Result<void> check_schema_not_newer(Database& db, int supported);
Result<void> check_schema_not_newer(Database& db);

}  // namespace dialer::store
