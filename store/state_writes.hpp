#pragma once
/// The only writes of a contact's or an attempt's `state` (STATE-MACHINES.md "Contact",
/// "Attempt"). Each move is one guarded statement — `… SET state = :to … WHERE id = ? AND
/// state = :from` — so a stale or duplicate signal (webhook after poll, poll after webhook) is a
/// harmless no-op that answers false. Whether a move is allowed is not decided here: only
/// scheduler::Lifecycle, which looks every move up in the transition tables and audits it, can
/// call a StateWrites (the store's own tests through testing::StateMoves). It is a port: each
/// backend implements the private virtuals (store/sqlite/state_writes.cpp).
///
/// A change names the columns it sets; the others keep their value. Rows an import has staged
/// are not contacts yet: their publication (store/import_repo.hpp) is their creation, not a move.

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/attempt_repo.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dialer::scheduler {
class Lifecycle;
}
namespace dialer::store::testing {
class StateMoves;
}

namespace dialer::store {

/// What a contact's move writes besides its state; unset fields keep their value.
struct ContactChange {
  std::optional<std::string> reason{};
  std::optional<int> attempts{};
  std::optional<TimePoint> next_attempt_at{};
  std::optional<Outcome> last_outcome{};
};

/// What an attempt's move writes besides its state; unset fields keep their value.
struct AttemptChange {
  std::optional<bool> counted{};
  std::optional<std::string> call_id{};     ///< "" keeps the value too
  std::optional<std::string> session_id{};  ///< "" keeps the value too
  std::optional<TimePoint> started_at{};
  std::optional<TimePoint> ended_at{};
  std::optional<std::string> error_code{};
  std::optional<std::string> error{};
  std::optional<CallStatus> status{};
  std::optional<Disposition> disposition{};
  std::optional<Outcome> outcome{};
  std::optional<AnsweredBy> answered_by{};
  std::optional<double> duration_seconds{};
  std::optional<double> credits_used{};
  std::optional<std::string> result_json{};  ///< "" keeps the value too

  /// The columns an outcome fills (counted, status … ended_at).
  static AttemptChange finished(const FinishedCall& call);
};

/// The extra condition of a contact's move.
enum class NumberGuard {
  none,
  /// Only while its number has no open attempt (reserved, started, ambiguous) in any campaign
  /// (STATE-MACHINES.md "One call per person at a time"). Check and write are one statement.
  no_open_attempt,
};

class StateWrites {
 public:
  virtual ~StateWrites() = default;

 protected:
  StateWrites() = default;
  StateWrites(const StateWrites&) = delete;
  StateWrites& operator=(const StateWrites&) = delete;

 private:
  friend class scheduler::Lifecycle;
  friend class testing::StateMoves;

  /// The contact from `from` to `to` with `change`; false when it is not in `from` (or the
  /// guard does not hold): nothing written.
  virtual Result<bool> contact(std::int64_t contact_id, ContactState from, ContactState to,
                               const ContactChange& change, TimePoint now,
                               NumberGuard guard = NumberGuard::none) = 0;
  /// Every contact of the campaign in `from` to `to` with `reason`; how many.
  virtual Result<std::int64_t> contacts_of_campaign(std::int64_t campaign_id, ContactState from,
                                                    ContactState to, std::string_view reason,
                                                    TimePoint now) = 0;
  /// Every contact with this phone, in every campaign, in `from` to `to` with `reason`; how many.
  virtual Result<std::int64_t> contacts_with_phone(std::string_view phone, ContactState from,
                                                   ContactState to, std::string_view reason,
                                                   TimePoint now) = 0;
  /// The attempt from `from` to `to` with `change`; false when it is not in `from`.
  /// errc::duplicate when another attempt already holds the call or session id.
  virtual Result<bool> attempt(std::int64_t attempt_id, AttemptState from, AttemptState to,
                               const AttemptChange& change) = 0;
  /// A new attempt in `state` (the attempt machine's initial state); its id.
  virtual Result<std::int64_t> insert_attempt(AttemptState state, std::int64_t campaign_id,
                                              std::int64_t contact_id, Provider provider,
                                              std::string_view to_number, std::string_view agent_id,
                                              TimePoint reserved_at) = 0;
};

}  // namespace dialer::store
