#include "scheduler/state_machines.hpp"

#include "core/campaign_spec.hpp"

#include <vector>

namespace dialer::scheduler {
namespace {

bool campaign_terminal(CampaignState s) noexcept {
  return dialer::is_terminal(s);
}
bool contact_terminal(ContactState s) noexcept {
  return dialer::is_terminal(s);
}
bool attempt_terminal(AttemptState s) noexcept {
  return scheduler::is_terminal(s);
}

template <class State, class Event>
Result<State> lookup(std::string_view machine, std::span<const Transition<State, Event>> table,
                     State from, Event event) {
  for (const auto& t : table) {
    if (t.from == from && t.event == event) return t.to;
  }
  std::string msg{machine};
  msg += ": cannot ";
  msg += dialer::to_string(event);
  msg += " from ";
  msg += dialer::to_string(from);
  return Error{errc::invalid_transition, std::move(msg)};
}

}  // namespace

MachineDef<CampaignState, CampaignEvent> campaign_machine() noexcept {
  return {"campaign", CampaignState::draft, tables::campaign, &campaign_terminal};
}
MachineDef<ContactState, ContactEvent> contact_machine() noexcept {
  return {"contact", ContactState::queued, tables::contact, &contact_terminal};
}
MachineDef<AttemptState, AttemptEvent> attempt_machine() noexcept {
  return {"attempt", AttemptState::reserved, tables::attempt, &attempt_terminal};
}

template <class State, class Event>
Result<void> verify_table(const MachineDef<State, Event>& m) {
  constexpr auto states = all_values<State>();
  auto fail = [&](std::string what) {
    return Error{errc::invalid_argument, std::string{m.name} + " table: " + std::move(what)};
  };

  for (std::size_t i = 0; i < m.table.size(); ++i) {
    const auto& a = m.table[i];
    for (std::size_t j = i + 1; j < m.table.size(); ++j) {
      const auto& b = m.table[j];
      if (a.from == b.from && a.event == b.event) {
        return fail("duplicate (" + std::string{dialer::to_string(a.from)} + ", " +
                    std::string{dialer::to_string(a.event)} + ")");
      }
    }
    if (m.terminal(a.from)) {
      return fail("terminal state " + std::string{dialer::to_string(a.from)} + " has an exit (" +
                  std::string{dialer::to_string(a.event)} + " -> " +
                  std::string{dialer::to_string(a.to)} + ")");
    }
  }

  // Reachability: a fixpoint over the table from the initial state (tables are a dozen rows).
  std::array<bool, states.size()> reached{};
  reached[static_cast<std::size_t>(m.initial)] = true;
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& t : m.table) {
      auto& to = reached[static_cast<std::size_t>(t.to)];
      if (reached[static_cast<std::size_t>(t.from)] && !to) {
        to = true;
        grew = true;
      }
    }
  }
  for (State s : states) {
    if (!reached[static_cast<std::size_t>(s)]) {
      return fail("state " + std::string{dialer::to_string(s)} + " is unreachable from " +
                  std::string{dialer::to_string(m.initial)});
    }
  }

  for (State s : states) {
    if (m.terminal(s)) continue;
    bool has_exit = false;
    for (const auto& t : m.table) {
      if (t.from == s && t.to != s) has_exit = true;
    }
    if (!has_exit) {
      return fail("non-terminal state " + std::string{dialer::to_string(s)} + " has no way out");
    }
  }
  return {};
}

template Result<void> verify_table(const MachineDef<CampaignState, CampaignEvent>&);
template Result<void> verify_table(const MachineDef<ContactState, ContactEvent>&);
template Result<void> verify_table(const MachineDef<AttemptState, AttemptEvent>&);

Result<void> verify_tables() {
  if (auto r = verify_table(campaign_machine()); !r) return r;
  if (auto r = verify_table(contact_machine()); !r) return r;
  return verify_table(attempt_machine());
}

Result<CampaignState> transition(CampaignState from, CampaignEvent event) {
  return lookup<CampaignState, CampaignEvent>("campaign", tables::campaign, from, event);
}
Result<ContactState> transition(ContactState from, ContactEvent event) {
  return lookup<ContactState, ContactEvent>("contact", tables::contact, from, event);
}
Result<AttemptState> transition(AttemptState from, AttemptEvent event) {
  return lookup<AttemptState, AttemptEvent>("attempt", tables::attempt, from, event);
}

std::string_view describe(StartRefusal r) noexcept {
  switch (r) {
    case StartRefusal::no_queued_contacts:
      return "the campaign has no queued contact";
    case StartRefusal::no_agent_id:
      return "the campaign has no valid agent id";
    case StartRefusal::no_usable_provider:
      return "no provider of the campaign is allowed and configured on the account";
  }
  return "unknown";
}

std::optional<StartRefusal> check_start_preconditions(std::int64_t queued_contacts,
                                                      std::string_view agent_id,
                                                      std::size_t usable_providers) noexcept {
  if (queued_contacts < 1) return StartRefusal::no_queued_contacts;
  if (!is_uuid(agent_id)) return StartRefusal::no_agent_id;
  if (usable_providers < 1) return StartRefusal::no_usable_provider;
  return std::nullopt;
}

}  // namespace dialer::scheduler
