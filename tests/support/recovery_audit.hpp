#pragma once
// The recovery referee: the simulator's view of every call it placed against the store's
// attempts and contacts, after a run with crashes and faults. Used by the in-process restart
// test and by bench_recovery (the real binary, SIGKILLed), so both judge by the same rules.
// A number may be in several campaigns (each its own contact); another integration's calls on
// the account (the simulator's foreign calls) are not ours and are left out.

#include "sim/simulator.hpp"
#include "store/sql/database.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dialer::testkit {

struct RecoveryAudit {
  int calls_beyond_attempts = 0;  ///< numbers called more than their started attempts or the max
  int numbers_active_twice = 0;   ///< numbers with two calls in progress at once
  /// Of those, numbers held by contacts of two or more campaigns.
  int shared_numbers_active_twice = 0;
  int shared_numbers = 0;         ///< numbers held by contacts of two or more campaigns
  int contacts_non_terminal = 0;  ///< contacts not done/exhausted/skipped
  int contacts_over_max = 0;      ///< contacts counting more attempts than the max
  int calls_without_attempt = 0;  ///< calls the simulator placed that no attempt holds
  int attempts_unsettled = 0;     ///< attempts holding a call that are neither finished nor lost
  int outcomes_mismatched = 0;    ///< lost, or finished with another outcome than the sim's
  int numbers_mismatched = 0;     ///< an attempt holding a call to another number
  int unknown_call_ids = 0;       ///< attempts holding a call id the simulator never issued
  std::size_t calls = 0;          ///< calls the simulator placed for us (foreign ones left out)
  std::map<std::string, std::int64_t> attempt_states;  ///< stored attempts by state
  std::vector<std::string> findings;                   ///< one line per thing counted above
  std::string error;                                   ///< the store could not be read

  /// Outcomes the store does not hold as the simulator has them.
  [[nodiscard]] int outcomes_lost() const {
    return calls_without_attempt + attempts_unsettled + outcomes_mismatched + numbers_mismatched;
  }
  [[nodiscard]] bool clean() const {
    return error.empty() && calls_beyond_attempts == 0 && numbers_active_twice == 0 &&
           contacts_non_terminal == 0 && contacts_over_max == 0 && outcomes_lost() == 0 &&
           unknown_call_ids == 0;
  }
};

/// Reads the simulator (on its thread, before it is stopped) and then the store.
inline RecoveryAudit audit_recovery(sim::SimThread& sim, store::Database& db, int max_attempts) {
  struct SimCall {
    std::string number;
    std::string outcome;  // "" while active
  };
  RecoveryAudit out;
  const auto numbers = sim.call([](sim::Simulator& s) {
    return s.engine().stats_json(s.webhooks().stats()).at("numbers").as_object();
  });
  const auto calls = sim.call([](sim::Simulator& s) {
    std::map<std::string, SimCall> m;
    for (const auto& c : s.engine().calls()) {
      if (c.foreign) continue;
      m.emplace(c.call_id,
                SimCall{c.to_number,
                        c.active() ? std::string() : std::string(to_string(c.plan.outcome))});
    }
    return m;
  });
  out.calls = calls.size();

  struct Number {
    std::int64_t contacts = 0;  // contacts holding it, one per campaign
    std::int64_t started = 0;   // attempts holding a call id, over every campaign
  };
  std::map<std::string, Number> by_number;
  const auto read = [&](const char* sql, auto&& row) {
    auto st = db.prepare(sql);
    if (!st) {
      out.error = st.error().what();
      return false;
    }
    for (;;) {
      auto step = st->step();
      if (!step) {
        out.error = step.error().what();
        return false;
      }
      if (*step != store::Step::row) return true;
      row(*st);
    }
  };
  if (!read("SELECT phone, state, attempts, campaign_id FROM contacts", [&](store::Statement& st) {
        const auto number = st.column_text(0);
        const auto state = st.column_text(1);
        const auto attempts = st.column_int64(2);
        const auto where = number + " (campaign " + std::to_string(st.column_int64(3)) + ")";
        ++by_number[number].contacts;
        if (state != "done" && state != "exhausted" && state != "skipped") {
          ++out.contacts_non_terminal;
          out.findings.push_back(where + " is " + state);
        }
        if (attempts > max_attempts) {
          ++out.contacts_over_max;
          out.findings.push_back(where + " counts " + std::to_string(attempts) + " attempts");
        }
      })) {
    return out;
  }
  std::size_t held = 0;  // calls of the simulator some attempt holds
  if (!read(
          "SELECT to_number, state, call_id, outcome, id FROM attempts", [&](store::Statement& st) {
            const auto number = st.column_text(0);
            const auto state = st.column_text(1);
            ++out.attempt_states[state];
            if (st.is_null(2)) return;
            ++by_number[number].started;
            const auto call_id = st.column_text(2);
            const auto id = std::to_string(st.column_int64(4));
            auto it = calls.find(call_id);
            if (it == calls.end()) {
              ++out.unknown_call_ids;
              out.findings.push_back("attempt " + id + " holds call " + call_id + " (" + number +
                                     ") the simulator never placed");
              return;
            }
            ++held;
            const auto outcome = st.column_text(3);
            if (number != it->second.number) {
              ++out.numbers_mismatched;
              out.findings.push_back("call " + call_id + " went to " + it->second.number +
                                     ", attempt " + id + " says " + number);
            }
            if (state != "finished" && state != "lost") {
              ++out.attempts_unsettled;
              out.findings.push_back("call " + call_id + " to " + number + ": attempt " + id +
                                     " is " + state);
            } else if (state == "lost" || outcome != it->second.outcome) {
              ++out.outcomes_mismatched;
              out.findings.push_back("call " + call_id + " to " + number + ": the simulator says " +
                                     it->second.outcome + ", the store " + state + "/" + outcome);
            }
          })) {
    return out;
  }
  if (calls.size() > held) {
    out.calls_without_attempt = static_cast<int>(calls.size() - held);
    out.findings.push_back(std::to_string(calls.size()) + " calls placed, " + std::to_string(held) +
                           " held by attempts");
  }

  for (const auto& [number, c] : by_number) {
    const bool shared = c.contacts > 1;
    if (shared) ++out.shared_numbers;
    const auto* n = numbers.if_contains(number);
    if (n == nullptr) continue;
    const auto placed = n->at("calls").to_number<std::int64_t>();
    const auto most = max_attempts * c.contacts;
    if (placed > c.started || placed > most) {
      ++out.calls_beyond_attempts;
      out.findings.push_back(number + ": " + std::to_string(placed) + " calls placed, " +
                             std::to_string(c.started) + " started attempts stored, max " +
                             std::to_string(most));
    }
    if (n->at("max_concurrent").to_number<std::int64_t>() > 1) {
      ++out.numbers_active_twice;
      if (shared) ++out.shared_numbers_active_twice;
      out.findings.push_back(
          number + " was called twice at once" +
          (shared ? " (its contacts are in " + std::to_string(c.contacts) + " campaigns)"
                  : std::string()));
    }
  }
  return out;
}

}  // namespace dialer::testkit
