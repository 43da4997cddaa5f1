#pragma once
/// Progress of long-running admin work (a contacts import): the worker updates atomic counters,
/// and `import-progress`, asked on another connection while the import request is still
/// outstanding, answers from them. The client chooses the job id and sends it with the request
/// (`"progress_id"`), so it can poll before any answer arrives.

#include "api/admin/registry.hpp"
#include "core/errc.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::admin {

/// What a progress query answers.
struct ProgressSnapshot {
  std::string id;
  std::string label;  ///< e.g. "contacts-import spring"
  std::uint64_t bytes_done = 0;
  std::uint64_t bytes_total = 0;  ///< 0 when unknown (a pipe)
  std::uint64_t rows = 0;
  std::chrono::milliseconds elapsed{0};
};

/// `{"id", "label", "bytes_done", "bytes_total", "rows", "elapsed_ms"}`.
boost::json::object to_json(const ProgressSnapshot& s);

class ProgressTable;

/// The worker's handle on one job: update it from any thread; the job disappears from the
/// table when the ticket is destroyed. Move-only.
class ProgressTicket {
 public:
  ProgressTicket() = default;
  ProgressTicket(ProgressTicket&&) noexcept = default;
  ProgressTicket& operator=(ProgressTicket&&) noexcept;
  ProgressTicket(const ProgressTicket&) = delete;
  ProgressTicket& operator=(const ProgressTicket&) = delete;
  ~ProgressTicket();

  /// Records how far the job is (bytes consumed of the input, rows handled). Lock-free.
  void update(std::uint64_t bytes_done, std::uint64_t rows) noexcept;
  void set_total(std::uint64_t bytes_total) noexcept;
  [[nodiscard]] const std::string& id() const noexcept;

  struct Entry;
  struct Shared;

 private:
  friend class ProgressTable;
  ProgressTicket(std::shared_ptr<Shared> table, std::shared_ptr<Entry> entry);
  void release() noexcept;

  std::shared_ptr<Shared> table_;
  std::shared_ptr<Entry> entry_;
};

/// The running jobs, by id. Thread-safe; bounded.
class ProgressTable {
 public:
  explicit ProgressTable(std::size_t max_jobs = 64);

  /// Registers a job. `id` is chosen by the client: 1–64 of `[A-Za-z0-9_.-]`.
  /// Errors: invalid_argument (bad id), duplicate (id in use), limit_exceeded (table full).
  Result<ProgressTicket> begin(std::string id, std::string label, std::uint64_t bytes_total = 0);

  [[nodiscard]] std::optional<ProgressSnapshot> snapshot(std::string_view id) const;
  [[nodiscard]] std::vector<ProgressSnapshot> all() const;

  /// Registers the read-only `import-progress` command: `{"id": ID}` answers one job (result 3
  /// when it is not running), no id answers `{"jobs": [...]}` (result 3 when none run).
  Result<void> register_commands(Registry& registry);

 private:
  std::shared_ptr<ProgressTicket::Shared> shared_;
};

}  // namespace dialer::admin
