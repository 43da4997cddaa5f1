#pragma once
/// The three lifecycles of STATE-MACHINES.md (campaign, contact, attempt) as constexpr transition
/// tables. Nothing else in the project decides whether a state change is allowed: handlers ask
/// `transition()`, log the event by name and write the audit log. `verify_tables()` runs at
/// startup and refuses a table with duplicates, unreachable states or exits from terminal states.

#include "core/enums.hpp"
#include "core/errc.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dialer::scheduler {

/// Events of the campaign machine (STATE-MACHINES.md "Campaign").
enum class CampaignEvent {
  start,             ///< operator start (preconditions: check_start_preconditions)
  pause,             ///< operator pause
  resume,            ///< operator resume (from paused, or from credit_exhausted when funded)
  credits_low,       ///< account balance below minimum or a 403 about credits
  credits_restored,  ///< polled balance back at resume level (auto_resume)
  budget_reached,    ///< the campaign's own budget_credits spent
  error_burst,       ///< circuit breaker: N consecutive failed starts
  stop,              ///< operator stop
  drained,           ///< every contact terminal and nothing in flight
  ended,             ///< its end_at passed: queued contacts skipped, calls in flight followed
};

/// Events of the contact machine (STATE-MACHINES.md "Contact" plus reconciliation).
enum class ContactEvent {
  claimed,         ///< dispatcher took it (due, in window, not DNC)
  start_accepted,  ///< POST /calls/start answered 200 with a call id
  start_refused,   ///< definitive refusal without a call (rate, concurrency, credit, provider)
  start_refused_number,  ///< definitive refusal about the number itself (400 on to_number)
  ambiguous_start,       ///< request written, no definitive answer: stays claimed
  reconciled_found,      ///< reconciliation found the call of an ambiguous start
  reconciled_void,       ///< reconciliation proved no call exists: queued again, not counted
  outcome_retry,         ///< outcome known, the retry policy allows another attempt
  outcome_completed,     ///< outcome `completed`
  outcome_exhausted,     ///< outcome known, attempts used up
  outcome_blocked,       ///< outcome `blocked`
  campaign_stopped,      ///< the campaign was stopped while this contact waited
  dnc_added,             ///< the number was put on the DNC list while this contact waited
};

/// Events of the attempt machine (STATE-MACHINES.md "Attempt").
enum class AttemptEvent {
  accepted,           ///< 200 with call_id / session_id
  refused,            ///< definitive 4xx (or connect failure before writing): no call exists
  ambiguous,          ///< timeout after writing, reset, 5xx: a call may exist
  reconciled_found,   ///< GET /calls listed a matching call
  reconciled_absent,  ///< GET /calls proved there is no matching call
  outcome,            ///< outcome known (webhook or poll)
  timed_out,          ///< no outcome by stale_call_timeout: lost
  restart,            ///< daemon restart found it reserved: the request may have been written
  resolved_void,      ///< an operator settled an ambiguous start as "no call" (attempt-resolve)
  resolved_lost,      ///< an operator settled an ambiguous start as "a call, outcome unknown"
};

/// Why a draft campaign may not start yet.
enum class StartRefusal { no_queued_contacts, no_agent_id, no_usable_provider };

}  // namespace dialer::scheduler

namespace dialer {

// Wire/audit names of the events, so core's to_string / from_string / all_values apply.
template <>
struct EnumNames<scheduler::CampaignEvent> {
  static constexpr auto names = std::to_array<std::string_view>(
      {"start", "pause", "resume", "credits_low", "credits_restored", "budget_reached",
       "error_burst", "stop", "drained", "ended"});
};
template <>
struct EnumNames<scheduler::ContactEvent> {
  static constexpr auto names = std::to_array<std::string_view>(
      {"claimed", "start_accepted", "start_refused", "start_refused_number", "ambiguous_start",
       "reconciled_found", "reconciled_void", "outcome_retry", "outcome_completed",
       "outcome_exhausted", "outcome_blocked", "campaign_stopped", "dnc_added"});
};
template <>
struct EnumNames<scheduler::AttemptEvent> {
  static constexpr auto names = std::to_array<std::string_view>(
      {"accepted", "refused", "ambiguous", "reconciled_found", "reconciled_absent", "outcome",
       "timed_out", "restart", "resolved_void", "resolved_lost"});
};
template <>
struct EnumNames<scheduler::StartRefusal> {
  static constexpr auto names =
      std::to_array<std::string_view>({"no_queued_contacts", "no_agent_id", "no_usable_provider"});
};

}  // namespace dialer

namespace dialer::scheduler {

/// One row of a transition table.
template <class State, class Event>
struct Transition {
  State from;
  Event event;
  State to;
};

/// A machine as the verifier sees it: a name for messages, its initial state, its table and which
/// states are terminal.
template <class State, class Event>
struct MachineDef {
  std::string_view name;
  State initial;
  std::span<const Transition<State, Event>> table;
  bool (*terminal)(State) noexcept;
};

/// Attempts in `finished`, `rejected` or `void` never change again. `lost` can still take the
/// real outcome when it arrives late (-> `finished`).
constexpr bool is_terminal(AttemptState s) noexcept {
  return s == AttemptState::finished || s == AttemptState::rejected || s == AttemptState::void_;
}

/// Contacts may be added to a campaign in every non-terminal state.
constexpr bool accepts_new_contacts(CampaignState s) noexcept {
  return !dialer::is_terminal(s);
}

/// Slots in use = attempts in `reserved`, `ambiguous` or `started` (started without outcome:
/// `finished` and `lost` release the slot).
constexpr bool occupies_slot(AttemptState s) noexcept {
  return s == AttemptState::reserved || s == AttemptState::ambiguous || s == AttemptState::started;
}

/// Whether an attempt in `s` counts toward the contact's max_attempts: a call was placed
/// (`started`, `finished`, `lost`), or a definitive refusal was about the number itself.
/// Refusals without a call, voided (proven absent) and unsettled attempts do not count.
constexpr bool counts_toward_attempts(AttemptState s, bool refused_for_number) noexcept {
  switch (s) {
    case AttemptState::started:
    case AttemptState::finished:
    case AttemptState::lost:
      return true;
    case AttemptState::rejected:
      return refused_for_number;
    case AttemptState::reserved:
    case AttemptState::ambiguous:
    case AttemptState::void_:
      return false;
  }
  return false;
}

namespace tables {
using CS = CampaignState;
using CE = CampaignEvent;
using KS = ContactState;
using KE = ContactEvent;
using AS = AttemptState;
using AE = AttemptEvent;

/// STATE-MACHINES.md "Campaign", row for row.
inline constexpr std::array<Transition<CS, CE>, 15> campaign{{
    {CS::draft, CE::start, CS::running},
    {CS::running, CE::pause, CS::paused},
    {CS::paused, CE::resume, CS::running},
    {CS::running, CE::credits_low, CS::credit_exhausted},
    {CS::credit_exhausted, CE::credits_restored, CS::running},
    {CS::credit_exhausted, CE::resume, CS::running},
    {CS::running, CE::budget_reached, CS::paused},
    {CS::running, CE::error_burst, CS::paused},
    {CS::running, CE::stop, CS::cancelled},
    {CS::paused, CE::stop, CS::cancelled},
    {CS::credit_exhausted, CE::stop, CS::cancelled},
    {CS::running, CE::drained, CS::completed},
    // end_at (issue 14): no call from then on; calls in flight are still followed.
    {CS::running, CE::ended, CS::completed},
    {CS::paused, CE::ended, CS::completed},
    {CS::credit_exhausted, CE::ended, CS::completed},
}};

/// STATE-MACHINES.md "Contact", plus the two reconciliation results of an ambiguous start, and
/// a late outcome (after `lost`) deciding again a contact still queued for its retry.
inline constexpr std::array<Transition<KS, KE>, 19> contact{{
    {KS::queued, KE::claimed, KS::dialing},
    {KS::dialing, KE::start_accepted, KS::in_call},
    {KS::dialing, KE::start_refused, KS::queued},
    {KS::dialing, KE::start_refused_number, KS::skipped},
    {KS::dialing, KE::ambiguous_start, KS::dialing},
    {KS::dialing, KE::reconciled_found, KS::in_call},
    {KS::dialing, KE::reconciled_void, KS::queued},
    {KS::in_call, KE::outcome_retry, KS::queued},
    {KS::in_call, KE::outcome_completed, KS::done},
    {KS::in_call, KE::outcome_exhausted, KS::exhausted},
    {KS::in_call, KE::outcome_blocked, KS::skipped},
    {KS::queued, KE::campaign_stopped, KS::skipped},
    {KS::queued, KE::dnc_added, KS::skipped},
    {KS::queued, KE::outcome_retry, KS::queued},
    {KS::queued, KE::outcome_completed, KS::done},
    {KS::queued, KE::outcome_exhausted, KS::exhausted},
    {KS::queued, KE::outcome_blocked, KS::skipped},
    // an ambiguous start an operator resolved as lost (attempt-resolve)
    {KS::dialing, KE::outcome_retry, KS::queued},
    {KS::dialing, KE::outcome_exhausted, KS::exhausted},
}};

/// STATE-MACHINES.md "Attempt". A real outcome arriving after `lost` finishes the attempt (it
/// replaces `lost` in the retry counts).
inline constexpr std::array<Transition<AS, AE>, 11> attempt{{
    {AS::reserved, AE::accepted, AS::started},
    {AS::reserved, AE::refused, AS::rejected},
    {AS::reserved, AE::ambiguous, AS::ambiguous},
    {AS::reserved, AE::restart, AS::ambiguous},
    {AS::ambiguous, AE::reconciled_found, AS::started},
    {AS::ambiguous, AE::reconciled_absent, AS::void_},
    {AS::started, AE::outcome, AS::finished},
    {AS::started, AE::timed_out, AS::lost},
    {AS::lost, AE::outcome, AS::finished},
    {AS::ambiguous, AE::resolved_void, AS::void_},
    {AS::ambiguous, AE::resolved_lost, AS::lost},
}};
}  // namespace tables

/// The machine definitions checked by verify_tables().
MachineDef<CampaignState, CampaignEvent> campaign_machine() noexcept;
MachineDef<ContactState, ContactEvent> contact_machine() noexcept;
MachineDef<AttemptState, AttemptEvent> attempt_machine() noexcept;

/// Checks one table: no duplicate (from, event), every state reachable from the initial state,
/// no exit from a terminal state, and every non-terminal state has an exit (no dead ends).
/// Errors carry errc::invalid_argument and name the machine and the offending rows.
template <class State, class Event>
Result<void> verify_table(const MachineDef<State, Event>& machine);

/// verify_table() on the three machines; run once at startup.
Result<void> verify_tables();

/// The state `event` leads to from `from`, or errc::invalid_transition with a message such as
/// "campaign: cannot pause from draft".
Result<CampaignState> transition(CampaignState from, CampaignEvent event);
Result<ContactState> transition(ContactState from, ContactEvent event);
Result<AttemptState> transition(AttemptState from, AttemptEvent event);

/// Human text for a start refusal ("no queued contacts", …).
std::string_view describe(StartRefusal r) noexcept;

/// The preconditions of draft → running: at least one queued contact, an agent id (a UUID), and
/// at least one provider that GET /config lists as allowed and configured (see providers.hpp).
/// nullopt when the campaign may start; the first unmet precondition otherwise.
std::optional<StartRefusal> check_start_preconditions(std::int64_t queued_contacts,
                                                      std::string_view agent_id,
                                                      std::size_t usable_providers) noexcept;

}  // namespace dialer::scheduler
