#pragma once
/// CONTRACT.md "Results export": a campaign's contacts with their last call, as CSV, written to
/// a descriptor (campaign-export runs it on a worker thread with its own connection).

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/sql/database.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

/// RFC 4180 field: quoted only when it holds a delimiter, a quote, a line break or edge spaces.
void append_csv_field(std::string& out, std::string_view field);
/// A cell that came from a person, made safe for spreadsheets: one that begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (CONTRACT.md "Results export").
std::string defuse_formula(std::string cell);

/// What an export wrote.
struct ExportSummary {
  std::uint64_t rows = 0;
  std::vector<std::string> columns;
};

/// Writes CONTRACT.md's "Results export" for one campaign to `fd` (not closed): the fixed
/// columns, then `x_<key>` per extraction key seen in the campaign's outcomes, then the
/// contacts' variables, then `transcript` (JSON) with `with_transcript`. Two passes inside one
/// read transaction, so the header names every column and the rows are one snapshot. A write
/// that cannot make progress for `write_timeout` fails with errc::timeout.
Result<ExportSummary> write_export(Database& db, std::int64_t campaign_id, int fd,
                                   bool with_transcript, Millis write_timeout = Millis{60'000});

}  // namespace dialer::store
