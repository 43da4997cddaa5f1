#include "scheduler/state_machines.hpp"

#include <gtest/gtest.h>

#include <set>
#include <tuple>
#include <vector>

namespace dialer::scheduler {
namespace {

using CS = CampaignState;
using CE = CampaignEvent;
using KS = ContactState;
using KE = ContactEvent;
using AS = AttemptState;
using AE = AttemptEvent;

// Every (state, event) pair not in `allowed` is refused with a message naming machine, event and
// state; every allowed one leads to its target.
template <class S, class E>
void expect_exact_table(std::string_view machine, const std::vector<std::tuple<S, E, S>>& allowed) {
  std::set<std::pair<S, E>> seen;
  for (const auto& [from, event, to] : allowed) {
    auto r = transition(from, event);
    ASSERT_TRUE(r) << machine << ": " << to_string(event) << " from " << to_string(from) << ": "
                   << r.error().what();
    EXPECT_EQ(*r, to) << to_string(event) << " from " << to_string(from);
    seen.emplace(from, event);
  }
  for (S s : all_values<S>()) {
    for (E e : all_values<E>()) {
      if (seen.contains({s, e})) continue;
      auto r = transition(s, e);
      ASSERT_FALSE(r) << machine << ": " << to_string(e) << " from " << to_string(s)
                      << " should be refused";
      EXPECT_EQ(r.error().code, make_error_code(errc::invalid_transition));
      EXPECT_EQ(r.error().message, std::string{machine} + ": cannot " + std::string{to_string(e)} +
                                       " from " + std::string{to_string(s)});
    }
  }
}

// The campaign table is exactly STATE-MACHINES.md's: every listed pair works, all others refused.
TEST(CampaignMachine, AllowsExactlyTheDocumentedTransitions) {
  expect_exact_table<CS, CE>("campaign",
                             {
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
                                 // end_at (issue 14)
                                 {CS::running, CE::ended, CS::completed},
                                 {CS::paused, CE::ended, CS::completed},
                                 {CS::credit_exhausted, CE::ended, CS::completed},
                             });
}

// The examples an operator meets are refused with the readable message the admin socket shows.
TEST(CampaignMachine, RefusesCommonMistakesWithClearMessages) {
  auto r = transition(CS::draft, CE::pause);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "campaign: cannot pause from draft");
  EXPECT_EQ(transition(CS::draft, CE::stop).error().message, "campaign: cannot stop from draft");
  EXPECT_EQ(transition(CS::paused, CE::drained).error().message,
            "campaign: cannot drained from paused");
  EXPECT_EQ(transition(CS::cancelled, CE::resume).error().message,
            "campaign: cannot resume from cancelled");
  EXPECT_EQ(transition(CS::running, CE::start).error().message,
            "campaign: cannot start from running");
}

// The contact table is exactly STATE-MACHINES.md's plus the two reconciliation results.
TEST(ContactMachine, AllowsExactlyTheDocumentedTransitions) {
  expect_exact_table<KS, KE>("contact", {
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
                                            // a late outcome after lost, contact still queued
                                            {KS::queued, KE::outcome_retry, KS::queued},
                                            {KS::queued, KE::outcome_completed, KS::done},
                                            {KS::queued, KE::outcome_exhausted, KS::exhausted},
                                            {KS::queued, KE::outcome_blocked, KS::skipped},
                                            // an ambiguous start resolved as lost by hand
                                            {KS::dialing, KE::outcome_retry, KS::queued},
                                            {KS::dialing, KE::outcome_exhausted, KS::exhausted},
                                        });
}

// A contact already dialling cannot be claimed again, and a finished one cannot be requeued.
TEST(ContactMachine, RefusesDoubleClaimAndRevivingTerminalContacts) {
  EXPECT_EQ(transition(KS::dialing, KE::claimed).error().message,
            "contact: cannot claimed from dialing");
  EXPECT_FALSE(transition(KS::in_call, KE::claimed));
  EXPECT_FALSE(transition(KS::done, KE::outcome_retry));
  EXPECT_FALSE(transition(KS::skipped, KE::reconciled_void));
  EXPECT_FALSE(transition(KS::in_call, KE::dnc_added));
}

// The attempt table is exactly STATE-MACHINES.md's, including reserved -> ambiguous on restart.
TEST(AttemptMachine, AllowsExactlyTheDocumentedTransitions) {
  expect_exact_table<AS, AE>("attempt", {
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
                                        });
}

// An ambiguous attempt never times out to lost or takes an outcome before reconciliation.
TEST(AttemptMachine, AmbiguousWaitsForReconciliation) {
  EXPECT_EQ(transition(AS::ambiguous, AE::timed_out).error().message,
            "attempt: cannot timed_out from ambiguous");
  EXPECT_FALSE(transition(AS::ambiguous, AE::outcome));
  EXPECT_FALSE(transition(AS::void_, AE::reconciled_found));
}

// The shipped tables pass the startup verification.
TEST(VerifyTables, ShippedTablesAreValid) {
  auto r = verify_tables();
  EXPECT_TRUE(r) << (r ? "" : r.error().what());
}

// A duplicate (from, event) row is caught and named.
TEST(VerifyTables, CatchesDuplicateRow) {
  constexpr std::array<Transition<CS, CE>, 3> broken{{
      {CS::draft, CE::start, CS::running},
      {CS::draft, CE::start, CS::cancelled},
      {CS::running, CE::stop, CS::cancelled},
  }};
  auto m = campaign_machine();
  m.table = broken;
  auto r = verify_table(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));
  EXPECT_EQ(r.error().message, "campaign table: duplicate (draft, start)");
}

// A state no row leads to is caught as unreachable.
TEST(VerifyTables, CatchesUnreachableState) {
  // The original table without the credits_low row: credit_exhausted can never be entered.
  std::vector<Transition<CS, CE>> rows;
  for (const auto& t : tables::campaign) {
    if (t.event != CE::credits_low) rows.push_back(t);
  }
  auto m = campaign_machine();
  m.table = rows;
  auto r = verify_table(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "campaign table: state credit_exhausted is unreachable from draft");
}

// A row leaving a terminal state is caught.
TEST(VerifyTables, CatchesExitFromTerminalState) {
  std::vector<Transition<KS, KE>> rows(tables::contact.begin(), tables::contact.end());
  rows.push_back({KS::done, KE::outcome_retry, KS::queued});
  auto m = contact_machine();
  m.table = rows;
  auto r = verify_table(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "contact table: terminal state done has an exit (outcome_retry -> queued)");
}

// A non-terminal state whose only rows loop back to itself is a dead end and is caught.
TEST(VerifyTables, CatchesDeadEndState) {
  // Without reconciliation and outcome rows an attempt could stay ambiguous forever.
  std::vector<Transition<AS, AE>> rows;
  for (const auto& t : tables::attempt) {
    if (t.from != AS::ambiguous) rows.push_back(t);
  }
  rows.push_back({AS::ambiguous, AE::ambiguous, AS::ambiguous});
  rows.push_back({AS::reserved, AE::reconciled_found, AS::void_});  // keep void reachable
  auto m = attempt_machine();
  m.table = rows;
  auto r = verify_table(m);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "attempt table: non-terminal state ambiguous has no way out");
}

// Event names are the spellings of STATE-MACHINES.md and round-trip through from_string.
TEST(EventNames, RoundTrip) {
  EXPECT_EQ(to_string(CE::credits_restored), "credits_restored");
  EXPECT_EQ(to_string(KE::start_refused_number), "start_refused_number");
  EXPECT_EQ(to_string(AE::reconciled_absent), "reconciled_absent");
  for (auto e : all_values<CE>()) EXPECT_EQ(from_string<CE>(to_string(e)), e);
  for (auto e : all_values<KE>()) EXPECT_EQ(from_string<KE>(to_string(e)), e);
  for (auto e : all_values<AE>()) EXPECT_EQ(from_string<AE>(to_string(e)), e);
}

// Start needs a queued contact, a UUID agent id and a usable provider, checked in that order.
TEST(StartPreconditions, ReportsFirstUnmetPrecondition) {
  const std::string agent = "3f2b8c1e-9d4a-4e7b-8c2d-1a2b3c4d5e6f";
  EXPECT_EQ(check_start_preconditions(1, agent, 1), std::nullopt);
  EXPECT_EQ(check_start_preconditions(0, agent, 1), StartRefusal::no_queued_contacts);
  EXPECT_EQ(check_start_preconditions(3, "", 1), StartRefusal::no_agent_id);
  EXPECT_EQ(check_start_preconditions(3, "not-a-uuid", 1), StartRefusal::no_agent_id);
  EXPECT_EQ(check_start_preconditions(3, agent, 0), StartRefusal::no_usable_provider);
  EXPECT_EQ(check_start_preconditions(0, "", 0), StartRefusal::no_queued_contacts);
  EXPECT_FALSE(describe(StartRefusal::no_usable_provider).empty());
}

}  // namespace
}  // namespace dialer::scheduler
