#pragma once
/// The store's schema, one SQL script per version. Migrations (store/migrations.hpp) apply them
/// in order, each in its own transaction, keyed on PRAGMA user_version.

#include "store/sql/database.hpp"

#include <span>
#include <string_view>

namespace dialer::store {

/// schema_steps()[i] moves a database from user_version i to i + 1. Append only. The steps of
/// both backends are the same migrations in each one's dialect, numbered alike.
std::span<const std::string_view> schema_steps(Backend backend = Backend::sqlite) noexcept;

/// The version this build writes (schema_steps().size()).
int current_schema_version() noexcept;

}  // namespace dialer::store
