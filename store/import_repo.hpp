#pragma once
/// Contact imports and their staged rows (store/schema.cpp, table `imports`).
///
/// An import writes its contacts as `staged` rows (a store-internal contact state that no
/// reader outside the importer and recovery sees) in short transactions, so the event loop's
/// connection keeps writing during a large import. Marking the import `committed` is its commit
/// point; its staged rows are then flipped to queued (or skipped) in short transactions. An
/// import that fails has its staged rows deleted and is marked `failed`. Recovery
/// (store/import_recovery.hpp) finishes whichever of the two a crash interrupted.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/contact_repo.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

/// Where an import is. `committed` and `failed` are final.
enum class ImportState { running, committed, failed };

/// "running" / "committed" / "failed" (the column's values).
std::string_view to_string(ImportState s) noexcept;
std::optional<ImportState> import_state_from_string(std::string_view s) noexcept;

/// One row of `imports`.
struct ImportRow {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  ImportState state = ImportState::running;
  TimePoint started_at;
  std::optional<TimePoint> finished_at;
  /// JSON: the import report (store/contact_import.hpp to_json) once committed, `{"error": "…"}`
  /// once failed; nullopt while running.
  std::optional<std::string> report_json;

  bool operator==(const ImportRow&) const = default;
};

/// What flipping staged rows did.
struct FlipCounts {
  std::int64_t queued = 0;
  std::int64_t dnc = 0;      ///< skipped with reason `dnc` (on the DNC list at staging or flip)
  std::int64_t stopped = 0;  ///< skipped with reason `stopped` (the campaign ended meanwhile)

  [[nodiscard]] std::int64_t total() const noexcept { return queued + dnc + stopped; }
  FlipCounts& operator+=(const FlipCounts& o) noexcept {
    queued += o.queued;
    dnc += o.dnc;
    stopped += o.stopped;
    return *this;
  }
};

/// Single statements on `imports` and on staged contacts. Each call is one short statement:
/// the transactions around them (one per chunk) are the caller's.
class ImportRepo {
 public:
  virtual ~ImportRepo() = default;

  /// Adds a `running` import of the campaign and returns its id. errc::conflict when the
  /// campaign already has a running import: two imports staging into one campaign would count
  /// each other's rows as duplicates, and one's failure would then lose the other's numbers.
  /// Call inside a write transaction (the check and the insert must not be split).
  virtual Result<std::int64_t> begin(std::int64_t campaign_id, TimePoint now) = 0;

  /// The import, or nullopt when there is none with this id.
  virtual Result<std::optional<ImportRow>> get(std::int64_t import_id) = 0;
  /// Imports in `state`, oldest first.
  virtual Result<std::vector<ImportRow>> list_in_state(ImportState state) = 0;

  /// Writes a contact as staged for the import; false when the campaign already has this phone
  /// (in any state, staged included: nothing written). `contact.state` is not used: reason
  /// `dnc` makes the row skipped at the flip, any other reason queued. One cached statement and
  /// no other query: called per row.
  virtual Result<bool> stage(std::int64_t campaign_id, std::int64_t import_id,
                             const NewContact& contact, TimePoint now) = 0;
  /// Whether the import still has staged rows.
  virtual Result<bool> has_staged(std::int64_t import_id) = 0;
  /// Deletes at most `limit` of the import's staged rows; returns how many.
  virtual Result<std::int64_t> delete_staged(std::int64_t import_id, std::int64_t limit) = 0;
  /// Flips at most `limit` of the import's staged rows: to skipped/`dnc` when staged as DNC or
  /// on the DNC list now (a number listed during the import), else to skipped/`stopped` when
  /// the campaign is cancelled or completed now, else to queued.
  virtual Result<FlipCounts> flip_staged(std::int64_t import_id, std::int64_t limit,
                                         TimePoint now) = 0;

  /// running -> committed with the report: the import's commit point. False when the import
  /// is not running (nothing written).
  virtual Result<bool> mark_committed(std::int64_t import_id, std::string_view report_json,
                                      TimePoint now) = 0;
  /// running -> failed with `{"error": message}`. False when the import is not running.
  virtual Result<bool> mark_failed(std::int64_t import_id, std::string_view message,
                                   TimePoint now) = 0;
  /// Replaces the stored report (the final counts, once the flip is done).
  virtual Result<void> set_report(std::int64_t import_id, std::string_view report_json) = 0;

 protected:
  ImportRepo() = default;
  ImportRepo(const ImportRepo&) = delete;
  ImportRepo& operator=(const ImportRepo&) = delete;
};

}  // namespace dialer::store
