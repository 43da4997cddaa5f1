#pragma once
/// SQLite implementation of store/attempt_repo.hpp.

#include "store/attempt_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlAttempts final : public AttemptRepo {
 public:
  explicit SqlAttempts(Database& db) : db_(db) {}

  Result<bool> mark_sent(std::int64_t id, TimePoint sent_at) override;
  Result<bool> set_session_id(std::int64_t id, std::string_view session_id) override;
  Result<std::optional<AttemptRow>> get(std::int64_t id) override;
  Result<std::optional<AttemptRow>> find_by_call_id(std::string_view call_id) override;
  Result<std::optional<AttemptRow>> find_by_session_id(std::string_view session_id) override;
  Result<std::optional<AttemptRow>> last_for_contact(std::int64_t contact_id) override;
  Result<std::vector<AttemptRow>> open_attempts() override;
  Result<std::vector<AttemptRow>> list(std::optional<std::int64_t> campaign_id, bool in_flight_only,
                                       std::int64_t limit, std::int64_t offset = 0) override;
  Result<std::map<Outcome, int>> count_by_outcome(std::int64_t contact_id) override;
  Result<std::map<Outcome, std::int64_t>> outcome_counts(std::int64_t campaign_id) override;
  Result<std::int64_t> in_flight(std::int64_t campaign_id) override;
  Result<std::int64_t> in_flight_total() override;
  Result<std::int64_t> count(std::int64_t campaign_id) override;

 private:
  Database& db_;
};

/// Reads an attempt from a statement whose columns start at `first` in the order of
/// attempt_columns(). For repositories that join attempts.
Result<AttemptRow> read_attempt_row(const Statement& st, int first = 0);
/// "id, campaign_id, …" qualified with `alias.` when given.
std::string attempt_columns(std::string_view alias = {});

}  // namespace dialer::store
