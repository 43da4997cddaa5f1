// Campaign commands (create, update, start, pause, resume, stop, delete) through the campaign
// machine, the drained / budget checks, and the schedule (start_at, end_at).

#include "core/campaign_json.hpp"
#include "scheduler/scheduler_impl.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace dialer::scheduler {

namespace {

Result<void> validate_spec(const CampaignSpec& spec, ZoneCache& zones) {
  if (!is_valid_campaign_name(spec.name)) {
    return Error{errc::invalid_argument, "invalid campaign name \"" + spec.name + "\""};
  }
  if (!spec.agent_id.empty() && !is_uuid(spec.agent_id)) {
    return Error{errc::invalid_argument, "agent_id must be a UUID"};
  }
  if (spec.max_concurrency < 1) return Error{errc::invalid_argument, "max_concurrency must be ≥ 1"};
  if (spec.weight < 1) return Error{errc::invalid_argument, "weight must be ≥ 1"};
  if (spec.max_attempts < 1) return Error{errc::invalid_argument, "max_attempts must be ≥ 1"};
  if (auto z = zones.locate(spec.timezone); !z) return z.error();
  if (spec.start_at && spec.end_at && *spec.end_at <= *spec.start_at) {
    return Error{errc::invalid_argument, "end_at must be after start_at"};
  }
  return {};
}

}  // namespace

std::string describe_changes(const boost::json::object& before, const boost::json::object& after) {
  // Each value as compact JSON, long ones shortened: a log line, not a dump.
  const auto shown = [](const boost::json::value* v) {
    if (v == nullptr) return std::string("(none)");
    std::string s = boost::json::serialize(*v);
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s;
  };
  std::string out;
  for (const auto& [key, value] : after) {
    const auto* old = before.if_contains(key);
    if (old != nullptr && *old == value) continue;
    if (!out.empty()) out += ", ";
    out += std::string(key) + " " + shown(old) + " -> " + shown(&value);
  }
  for (const auto& [key, value] : before) {
    if (after.contains(key)) continue;
    if (!out.empty()) out += ", ";
    out += std::string(key) + " " + shown(&value) + " -> (none)";
  }
  return out.empty() ? "nothing changed" : out;
}

BlockedBy Scheduler::Impl::stopped_reason(const CampaignRt& c) const {
  if (c.row.state == CampaignState::credit_exhausted) return BlockedBy::credit_exhausted();
  if (c.row.state == CampaignState::paused && c.row.pause_reason == PauseReason::errors) {
    return BlockedBy::paused_by_errors(c.pause_error);
  }
  return BlockedBy::not_running();
}

Result<void> Scheduler::Impl::campaign_event(CampaignRt& c, CampaignEvent event, PauseReason reason,
                                             std::string_view actor, std::string_view note) {
  const CampaignState from = c.row.state;
  auto to = transition(from, event);
  if (!to) return Error{errc::conflict, to.error().what() + " (campaign " + c.name() + ")"};
  const TimePoint t = now();
  const PauseReason pause_reason = *to == CampaignState::paused ? reason : PauseReason::none;
  {
    auto tx = store_.begin();
    if (!tx) return tx.error();
    // A node another one took the lease over from moves no campaign (as no contact, Lifecycle).
    if (auto f = store_.check_fence(); !f) return f.error();
    if (auto r = campaigns_repo_.set_state(c.id(), *to, pause_reason, t); !r) return r.error();
    boost::json::object detail{
        {"from", to_string(from)}, {"event", to_string(event)}, {"to", to_string(*to)}};
    if (pause_reason != PauseReason::none) detail["pause_reason"] = to_string(pause_reason);
    if (!note.empty()) detail["note"] = note;
    audit(actor, "transition", "campaign:" + c.name(), boost::json::serialize(detail));
    if (auto r = tx->commit(); !r) return r.error();
  }
  c.row.state = *to;
  c.row.pause_reason = pause_reason;
  c.row.updated_at = t;
  if (*to == CampaignState::running && !c.row.started_at) c.row.started_at = t;
  if (dialer::is_terminal(*to)) {
    c.row.completed_at = t;
    fair_.forget(c.id());
    providers_.forget(c.id());
  }
  spdlog::info("campaign {}: {} -({})-> {}{}{}", c.name(), to_string(from), to_string(event),
               to_string(*to),
               pause_reason != PauseReason::none ? " (" + std::string(to_string(pause_reason)) + ")"
                                                 : std::string{},
               note.empty() ? std::string{} : ": " + std::string(note));
  if (*to == CampaignState::running) {
    c.failure_streak = 0;
    c.last_errors.clear();
    if (!c.pause_error.empty()) {
      c.pause_error.clear();
      if (auto r = kv_.erase(pause_error_key(c.id())); !r) {
        spdlog::error("campaign {}: {}", c.name(), r.error().what());
      }
    }
    c.blocked_by = BlockedBy::none();
  } else {
    c.blocked_by = stopped_reason(c);
  }
  update_gauges();
  request_dispatch();
  return {};
}

void Scheduler::Impl::maybe_drained(CampaignRt& c) {
  if (c.row.state != CampaignState::running || c.in_flight > 0) return;
  auto active = contacts_.any_active(c.id());
  if (!active) {
    spdlog::error("campaign {}: {}", c.name(), active.error().what());
    return;
  }
  if (*active) return;
  if (auto r = campaign_event(c, CampaignEvent::drained, PauseReason::none, Scheduler::kActor);
      !r) {
    spdlog::error("campaign {}: {}", c.name(), r.error().what());
    return;
  }
  log_completion(c);
}

void Scheduler::Impl::log_completion(const CampaignRt& c) {
  // One line an operator can read the campaign's end from, without a query.
  std::string contacts;
  std::int64_t total = 0;
  if (auto counts = contacts_.counts_by_state(c.id())) {
    for (const auto& [state, n] : *counts) {
      if (n == 0) continue;
      total += n;
      contacts +=
          (contacts.empty() ? "" : ", ") + std::string(to_string(state)) + " " + std::to_string(n);
    }
  }
  std::string outcomes;
  if (auto counts = attempts_.outcome_counts(c.id())) {
    for (const auto& [outcome, n] : *counts) {
      outcomes += (outcomes.empty() ? "" : ", ") + std::string(to_string(outcome)) + " " +
                  std::to_string(n);
    }
  }
  const auto attempts = attempts_.count(c.id());
  char credits[32];
  std::snprintf(credits, sizeof credits, "%.2f", c.row.credits_used);
  std::string took;
  if (c.row.started_at)
    took = " in " + format_duration(std::chrono::duration_cast<std::chrono::seconds>(
                        now() - *c.row.started_at));
  spdlog::info("campaign {} completed{}: {} contacts ({}), {} attempts ({}), {} credits", c.name(),
               took, total, contacts.empty() ? "none" : contacts, attempts ? *attempts : 0,
               outcomes.empty() ? "no outcome" : outcomes, credits);
}

void Scheduler::Impl::maybe_budget(CampaignRt& c) {
  if (c.row.state != CampaignState::running) return;
  if (!budget_reached(c.row.credits_used, c.spec().budget_credits)) return;
  const std::string note = "credits_used " + std::to_string(c.row.credits_used) +
                           " reached budget " + std::to_string(*c.spec().budget_credits);
  if (auto r = campaign_event(c, CampaignEvent::budget_reached, PauseReason::budget,
                              Scheduler::kActor, note);
      !r) {
    spdlog::error("campaign {}: {}", c.name(), r.error().what());
  }
}

Result<std::int64_t> Scheduler::Impl::create(const CampaignSpec& spec, std::string_view actor) {
  if (auto v = validate_spec(spec, zones_); !v) return v.error();
  const TimePoint t = now();
  auto tx = store_.begin();
  if (!tx) return tx.error();
  auto id = campaigns_repo_.create(spec, t);
  if (!id) return id.error();
  auto row = campaigns_repo_.get(*id);
  if (!row) return row.error();
  if (!*row) return Error{errc::db_error, "campaign vanished after insert"};
  audit(actor, "campaign-create", "campaign:" + spec.name,
        boost::json::serialize(boost::json::object{{"id", *id}}));
  if (auto r = tx->commit(); !r) return r.error();
  add_campaign(std::move(**row));
  spdlog::info("campaign {}: created (id {})", spec.name, *id);
  update_gauges();
  request_dispatch();  // a start_at of its own arms the schedule timer
  return *id;
}

Result<void> Scheduler::Impl::update(std::string_view campaign, const CampaignSpec& spec,
                                     std::string_view actor) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  if (dialer::is_terminal(c->row.state)) {
    return Error{errc::conflict, "campaign " + c->name() + " is " +
                                     std::string(to_string(c->row.state)) +
                                     "; it can no longer be changed"};
  }
  if (auto v = validate_spec(spec, zones_); !v) return v.error();
  const TimePoint t = now();
  const CampaignSpec before = c->row.spec;
  auto tx = store_.begin();
  if (!tx) return tx.error();
  if (auto r = campaigns_repo_.update_spec(c->id(), spec, t); !r) return r.error();
  audit(actor, "campaign-update", "campaign:" + spec.name,
        boost::json::serialize(campaign_spec_to_json(spec)));
  if (auto r = tx->commit(); !r) return r.error();
  c->row.spec = spec;
  c->row.updated_at = t;
  c->windows.clear();
  c->deferred_to_window.reset();
  const std::string changes =
      describe_changes(campaign_spec_to_json(before), campaign_spec_to_json(spec));
  c->zone = zones_.locate(spec.timezone).value();
  spdlog::info("campaign {}: updated by {}: {}", spec.name, actor, changes);
  request_dispatch();
  return {};
}

Result<void> Scheduler::Impl::start(std::string_view campaign, std::string_view actor) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  if (auto to = transition(c->row.state, CampaignEvent::start); !to) {
    return Error{errc::conflict, to.error().what() + " (campaign " + c->name() + ")"};
  }
  auto queued = contacts_.exists_in_state(c->id(), ContactState::queued);
  if (!queued) return queued.error();
  const auto usable = providers_.usable(c->spec().providers, now()).size();
  if (auto refusal = check_start_preconditions(*queued ? 1 : 0, c->spec().agent_id, usable)) {
    std::string text =
        "campaign " + c->name() + " cannot start: " + std::string(describe(*refusal));
    if (*refusal == StartRefusal::no_usable_provider && !providers_.account_known()) {
      text += " (GET /config has not answered yet)";
    }
    audit(actor, "campaign-start", "campaign:" + c->name(), "{}", text);
    return Error{errc::conflict, text};
  }
  if (auto r = campaign_event(*c, CampaignEvent::start, PauseReason::none, actor); !r) return r;
  if (account_.credit_state == CreditState::exhausted) {
    if (auto r = campaign_event(*c, CampaignEvent::credits_low, PauseReason::none,
                                Scheduler::kActor, "the account's credits are exhausted");
        !r) {
      spdlog::error("campaign {}: {}", c->name(), r.error().what());
    }
  }
  return {};
}

Result<void> Scheduler::Impl::pause(std::string_view campaign, std::string_view actor) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  return campaign_event(*c, CampaignEvent::pause, PauseReason::manual, actor);
}

Result<void> Scheduler::Impl::resume(std::string_view campaign, std::string_view actor) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  const CampaignState from = c->row.state;
  const CreditThresholds thresholds{options_.min_credit_balance, options_.resume_credit_balance};
  if (from == CampaignState::credit_exhausted &&
      !manual_resume_allowed(from, account_.balance, thresholds)) {
    return Error{errc::conflict, "campaign " + c->name() + ": the credit balance " +
                                     std::to_string(account_.balance.value_or(0)) +
                                     " is below the minimum " +
                                     std::to_string(options_.min_credit_balance)};
  }
  if (from == CampaignState::paused && c->row.pause_reason == PauseReason::budget &&
      budget_reached(c->row.credits_used, c->spec().budget_credits)) {
    return Error{errc::conflict, "campaign " + c->name() +
                                     ": its budget_credits is spent; raise it with "
                                     "campaign-update first"};
  }
  if (auto r = campaign_event(*c, CampaignEvent::resume, PauseReason::none, actor); !r) return r;
  if (from == CampaignState::credit_exhausted) {
    // The operator vouches for the balance (it is unknown or at least the minimum).
    account_.credit_state = CreditState::ok;
  } else if (account_.credit_state == CreditState::exhausted) {
    if (auto r = campaign_event(*c, CampaignEvent::credits_low, PauseReason::none,
                                Scheduler::kActor, "the account's credits are exhausted");
        !r) {
      spdlog::error("campaign {}: {}", c->name(), r.error().what());
    }
  }
  return {};
}

Result<void> Scheduler::Impl::stop(std::string_view campaign, std::string_view actor) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  if (auto to = transition(c->row.state, CampaignEvent::stop); !to) {
    return Error{errc::conflict, to.error().what() + " (campaign " + c->name() + ")"};
  }
  auto skipped = close_campaign(*c, CampaignEvent::stop, "stopped", actor);
  if (!skipped) return skipped.error();
  spdlog::info("campaign {}: {} queued contacts skipped; {} calls in flight still tracked",
               c->name(), *skipped, c->in_flight);
  return {};
}

Result<std::int64_t> Scheduler::Impl::close_campaign(CampaignRt& c, CampaignEvent event,
                                                     std::string_view reason,
                                                     std::string_view actor, std::string note) {
  auto tx = store_.begin();
  if (!tx) return tx.error();
  auto skipped = lifecycle_.skip_queued(c.id(), c.name(), reason, now());
  if (!skipped) return skipped.error();
  if (auto r = campaign_event(c, event, PauseReason::none, actor, note); !r) return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return *skipped;
}

Result<void> Scheduler::Impl::remove(std::string_view campaign, std::string_view actor) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  const std::string name = c->name();
  if (c->row.state != CampaignState::draft) {
    return Error{errc::conflict,
                 "campaign " + name + " is " + std::string(to_string(c->row.state)) +
                     ": only a draft can be deleted (campaign-stop ends the others)"};
  }
  auto& imports = store_.imports();
  auto running = imports.list_in_state(store::ImportState::running);
  if (!running) return running.error();
  for (const auto& i : *running) {
    if (i.campaign_id == c->id()) {
      return Error{errc::conflict, "campaign " + name +
                                       ": an import into it is under way (import " +
                                       std::to_string(i.id) + ")"};
    }
  }
  auto counts = contacts_.counts_by_state(c->id());
  if (!counts) return counts.error();
  std::int64_t contacts = 0;
  for (const auto& [state, n] : *counts) contacts += n;
  auto tx = store_.begin();
  if (!tx) return tx.error();
  auto gone = campaigns_repo_.remove_draft(c->id());
  if (!gone) return gone.error();
  if (!*gone) return Error{errc::conflict, "campaign " + name + " is no longer a draft"};
  audit(actor, "delete", "campaign:" + name,
        boost::json::serialize(boost::json::object{{"id", c->id()}, {"contacts", contacts}}));
  if (auto r = tx->commit(); !r) return r.error();
  if (auto r = kv_.erase(pause_error_key(c->id())); !r) {
    spdlog::warn("campaign {}: {}", name, r.error().what());
  }
  campaigns_.erase(c->id());
  spdlog::info("campaign {} deleted by {} with its {} contact(s)", name, actor, contacts);
  update_gauges();
  return {};
}

Result<void> Scheduler::Impl::contacts_added(std::string_view campaign) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  if (!accepts_new_contacts(c->row.state)) {
    return Error{errc::conflict,
                 "campaign " + c->name() + " is " + std::string(to_string(c->row.state))};
  }
  request_dispatch();
  return {};
}

void Scheduler::Impl::arm_schedule(TimePoint t) {
  std::optional<TimePoint> next;
  const auto consider = [&](TimePoint at) { next = next ? std::min(*next, at) : at; };
  for (auto& [id, c] : campaigns_) {
    if (c.row.state == CampaignState::draft && c.spec().start_at) {
      consider(c.start_retry_at ? std::max(*c.start_retry_at, *c.spec().start_at)
                                : *c.spec().start_at);
    } else if (c.row.state != CampaignState::draft && !dialer::is_terminal(c.row.state) &&
               c.spec().end_at) {
      consider(*c.spec().end_at);
    }
  }
  if (next == dispatch_.schedule_at && (dispatch_.schedule_timer != 0 || !next)) return;
  if (dispatch_.schedule_timer != 0) ex_.cancel(dispatch_.schedule_timer);
  dispatch_.schedule_timer = 0;
  dispatch_.schedule_at = next;
  if (!next || run_.stopping) return;
  dispatch_.schedule_timer = ex_.schedule_at(std::max(*next, t), guard([this] {
                                               dispatch_.schedule_timer = 0;
                                               dispatch_.schedule_at.reset();
                                               run_schedule();
                                             }));
}

void Scheduler::Impl::run_schedule() {
  const TimePoint t = now();
  std::vector<std::string> to_start;
  std::vector<std::int64_t> to_end;
  for (auto& [id, c] : campaigns_) {
    if (c.row.state == CampaignState::draft && c.spec().start_at && *c.spec().start_at <= t &&
        (!c.start_retry_at || *c.start_retry_at <= t)) {
      to_start.push_back(c.name());
    } else if (c.row.state != CampaignState::draft && !dialer::is_terminal(c.row.state) &&
               c.spec().end_at && *c.spec().end_at <= t) {
      to_end.push_back(id);
    }
  }
  for (const auto& name : to_start) {
    CampaignRt* c = find_campaign(name);
    if (c == nullptr) continue;
    if (c->spec().end_at && *c->spec().end_at <= t) continue;  // its time is over already
    if (auto r = start(name, Scheduler::kActor); !r) {
      // Tried again every minute while it stays a draft with start_at (contacts may come).
      c->start_retry_at = t + kScheduledStartRetry;
      spdlog::warn("campaign {}: scheduled start refused: {}; tried again in {}", name,
                   r.error().what(), format_duration(kScheduledStartRetry));
    } else {
      c->start_retry_at.reset();
      spdlog::info("campaign {}: started at its start_at", name);
    }
  }
  for (std::int64_t id : to_end) {
    if (CampaignRt* c = campaign_by_id(id)) end_campaign(*c);
  }
  arm_schedule(t);
}

void Scheduler::Impl::end_campaign(CampaignRt& c) {
  auto skipped = close_campaign(c, CampaignEvent::ended, "campaign_ended", Scheduler::kActor,
                                "end_at " + format_iso8601(*c.spec().end_at));
  if (!skipped) {
    spdlog::error("campaign {}: end: {}", c.name(), skipped.error().what());
    return;
  }
  spdlog::info(
      "campaign {}: ended at its end_at: {} queued contacts skipped; {} calls in flight "
      "still followed",
      c.name(), *skipped, c.in_flight);
  log_completion(c);
}

}  // namespace dialer::scheduler
