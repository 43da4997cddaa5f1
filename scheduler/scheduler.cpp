// The engine's public surface: construction, lifecycle commands, views and the shared helpers
// (transitions with logging and audit, credits, drained/budget checks). Dispatch, settling and
// recovery live in scheduler_dispatch.cpp, scheduler_settle.cpp and scheduler_recovery.cpp.

#include "core/campaign_json.hpp"
#include "scheduler/scheduler_impl.hpp"

#include <boost/json/serialize.hpp>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <random>

namespace dialer::scheduler {
namespace {

boost::json::value iso_or_null(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return boost::json::value(format_iso8601(*t));
}

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

// ---------------------------------------------------------------------------------------------
// Construction and metrics

Scheduler::Impl::Impl(SchedulerDeps deps, SchedulerOptions options)
    : options_(std::move(options)),
      ex_(deps.executor),
      db_(deps.db),
      platform_(deps.platform),
      parse_session_(std::move(deps.parse_session)),
      campaigns_repo_(deps.db),
      contacts_(deps.db),
      attempts_(deps.db),
      inbox_(deps.db),
      dnc_(deps.db),
      audit_(deps.db),
      lifecycle_(deps.db, std::string(Scheduler::kActor)),
      kv_(deps.db),
      providers_(options_.provider_cooldown),
      rng_(options_.rng_seed != 0 ? options_.rng_seed : std::random_device{}()) {
  if (deps.registry != nullptr) init_metrics(*deps.registry);
}

Scheduler::Impl::~Impl() {
  *alive_ = false;
  for (TimerId t : {wake_timer_, deadline_timer_, concurrency_timer_, config_timer_,
                    shutdown_timer_, probe_timer_, schedule_timer_}) {
    if (t != 0) ex_.cancel(t);
  }
}

void Scheduler::Impl::init_metrics(prometheus::Registry& registry) {
  metrics_ = std::make_unique<Metrics>();
  auto& m = *metrics_;
  m.passes = &prometheus::BuildCounter()
                  .Name("dialer_dispatch_passes_total")
                  .Help("Dispatch passes run (event-driven; no fixed tick)")
                  .Register(registry)
                  .Add({});
  auto& starts = prometheus::BuildCounter()
                     .Name("dialer_starts_total")
                     .Help("POST /calls/start answers by result")
                     .Register(registry);
  for (auto k : all_values<StartKind>()) {
    m.starts[static_cast<std::size_t>(k)] = &starts.Add({{"result", std::string(to_string(k))}});
  }
  auto& outcomes = prometheus::BuildCounter()
                       .Name("dialer_outcomes_total")
                       .Help("Attempt outcomes applied, by outcome")
                       .Register(registry);
  for (auto o : all_values<Outcome>()) {
    m.outcomes[static_cast<std::size_t>(o)] =
        &outcomes.Add({{"outcome", std::string(to_string(o))}});
  }
  auto& reconciled = prometheus::BuildCounter()
                         .Name("dialer_reconciled_total")
                         .Help("Ambiguous starts settled by GET /calls, by result")
                         .Register(registry);
  m.polled = &prometheus::BuildCounter()
                  .Name("dialer_outcomes_polled_total")
                  .Help("Outcomes fetched by a poll because no webhook came (webhooks failing?)")
                  .Register(registry)
                  .Add({});
  m.credits_spent = &prometheus::BuildCounter()
                         .Name("dialer_credits_spent_total")
                         .Help("Credits the outcomes of this daemon's calls reported")
                         .Register(registry)
                         .Add({});
  auto& blocked = prometheus::BuildGauge()
                      .Name("dialer_account_blocked")
                      .Help("1 while dialling is stopped for the whole account, by reason")
                      .Register(registry);
  m.account_blocked = {&blocked.Add({{"reason", "auth"}}), &blocked.Add({{"reason", "account"}})};
  m.campaign_outcomes = &prometheus::BuildCounter()
                             .Name("dialer_campaign_outcomes_total")
                             .Help("Attempt outcomes applied, by campaign and outcome")
                             .Register(registry);
  m.campaign_credits = &prometheus::BuildCounter()
                            .Name("dialer_campaign_credits_spent_total")
                            .Help("Credits spent by a campaign's calls")
                            .Register(registry);
  m.campaign_in_flight = &prometheus::BuildGauge()
                              .Name("dialer_campaign_in_flight")
                              .Help("A campaign's attempts holding a slot")
                              .Register(registry);
  m.found = &reconciled.Add({{"result", "found"}});
  m.voided = &reconciled.Add({{"result", "void"}});
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  m.in_flight = gauge("dialer_slots_in_flight", "Our attempts holding a slot");
  m.capacity = gauge("dialer_slots_capacity", "Slots this daemon may fill (limit - foreign)");
  m.limit = gauge("dialer_slots_limit", "The account's concurrency limit");
  m.foreign = gauge("dialer_foreign_calls", "Active calls of the account not started here");
  m.ambiguous = gauge("dialer_ambiguous_attempts", "Attempts waiting for reconciliation");
  m.ambiguous_overdue =
      gauge("dialer_ambiguous_overdue_attempts",
            "Attempts ambiguous longer than stale_call_timeout (settle with attempt-resolve)");
  m.balance = gauge("dialer_credit_balance", "Last known credit balance");
  m.paused_by_errors =
      gauge("dialer_campaigns_paused_by_errors",
            "Campaigns the circuit breaker paused (consecutive failed starts; see blocked_by)");
  auto& campaigns = prometheus::BuildGauge()
                        .Name("dialer_campaigns")
                        .Help("Campaigns by state")
                        .Register(registry);
  for (auto s : all_values<CampaignState>()) {
    m.campaigns[static_cast<std::size_t>(s)] =
        &campaigns.Add({{"state", std::string(to_string(s))}});
  }
  const prometheus::Histogram::BucketBoundaries latency{0.0001, 0.00025, 0.0005, 0.001, 0.002,
                                                        0.005,  0.01,    0.025,  0.05,  0.1};
  m.handoff = &prometheus::BuildHistogram()
                   .Name("dialer_dispatch_handoff_seconds")
                   .Help("From an outcome freeing a slot to the next start handed to the API")
                   .Register(registry)
                   .Add({}, latency);
  m.claim = &prometheus::BuildHistogram()
                 .Name("dialer_claim_seconds")
                 .Help("Claim + reserve transaction of one contact")
                 .Register(registry)
                 .Add({}, latency);
}

void Scheduler::Impl::update_gauges() {
  if (!metrics_) return;
  const auto acc = slot_account();
  metrics_->in_flight->Set(in_flight_);
  metrics_->capacity->Set(acc.capacity);
  metrics_->limit->Set(acc.limit);
  metrics_->foreign->Set(acc.foreign);
  metrics_->ambiguous->Set(static_cast<double>(ambiguous_.size()));
  metrics_->ambiguous_overdue->Set(static_cast<double>(overdue_reported_.size()));
  if (balance_) metrics_->balance->Set(*balance_);
  std::array<int, EnumNames<CampaignState>::names.size()> counts{};
  for (const auto& [id, c] : campaigns_) ++counts[static_cast<std::size_t>(c.row.state)];
  for (std::size_t i = 0; i < counts.size(); ++i) metrics_->campaigns[i]->Set(counts[i]);
  int by_errors = 0;
  for (const auto& [id, c] : campaigns_) {
    if (c.row.state == CampaignState::paused && c.row.pause_reason == PauseReason::errors) {
      ++by_errors;
    }
  }
  metrics_->paused_by_errors->Set(by_errors);
  metrics_->account_blocked[0]->Set(account_block_ == AccountBlock::auth ? 1 : 0);
  metrics_->account_blocked[1]->Set(account_block_ == AccountBlock::account ? 1 : 0);
  for (auto& [id, c] : campaigns_) {
    if (c.m_in_flight == nullptr) {
      // Every series of the campaign exists from the start at 0, so rate() and alerts see the
      // first outcome and the first credit.
      c.m_in_flight = &metrics_->campaign_in_flight->Add({{"campaign", c.name()}});
      c.m_credits = &metrics_->campaign_credits->Add({{"campaign", c.name()}});
      for (auto o : all_values<Outcome>()) {
        c.m_outcomes[static_cast<std::size_t>(o)] = &metrics_->campaign_outcomes->Add(
            {{"campaign", c.name()}, {"outcome", std::string(to_string(o))}});
      }
    }
    c.m_in_flight->Set(c.in_flight);
  }
}

// ---------------------------------------------------------------------------------------------
// Campaign lookup and transitions

CampaignRt* Scheduler::Impl::campaign_by_id(std::int64_t id) {
  auto it = campaigns_.find(id);
  return it == campaigns_.end() ? nullptr : &it->second;
}

CampaignRt* Scheduler::Impl::find_campaign(std::string_view name_or_id) {
  for (auto& [id, c] : campaigns_) {
    if (c.name() == name_or_id) return &c;
  }
  if (!name_or_id.empty() && name_or_id.find_first_not_of("0123456789") == std::string_view::npos &&
      name_or_id.size() < 19) {
    return campaign_by_id(std::stoll(std::string(name_or_id)));
  }
  return nullptr;
}

CampaignRt& Scheduler::Impl::add_campaign(store::CampaignRow row) {
  const auto id = row.id;
  CampaignRt& c = campaigns_[id];
  c.row = std::move(row);
  if (auto z = zones_.locate(c.spec().timezone)) {
    c.zone = *z;
  } else {
    spdlog::warn("campaign {}: {}", c.name(), z.error().what());
  }
  if (c.row.state == CampaignState::paused && c.row.pause_reason == PauseReason::errors) {
    if (auto e = kv_.get(pause_error_key(id)); e && *e) c.pause_error = **e;
  }
  c.blocked_by = stopped_reason(c);
  return c;
}

BlockedBy Scheduler::Impl::stopped_reason(const CampaignRt& c) const {
  if (c.row.state == CampaignState::credit_exhausted) return BlockedBy::credit_exhausted();
  if (c.row.state == CampaignState::paused && c.row.pause_reason == PauseReason::errors) {
    return BlockedBy::paused_by_errors(c.pause_error);
  }
  return BlockedBy::not_running();
}

void Scheduler::Impl::audit(std::string_view actor, std::string_view action, std::string subject,
                            std::string detail_json, std::string_view result) {
  store::AuditEntry e{now(),
                      std::string(actor),
                      std::string(action),
                      std::move(subject),
                      std::move(detail_json),
                      std::string(result)};
  if (auto r = audit_.append(e); !r) spdlog::error("audit log: {}", r.error().what());
}

Result<void> Scheduler::Impl::campaign_event(CampaignRt& c, CampaignEvent event, PauseReason reason,
                                             std::string_view actor, std::string_view note) {
  const CampaignState from = c.row.state;
  auto to = transition(from, event);
  if (!to) return Error{errc::conflict, to.error().what() + " (campaign " + c.name() + ")"};
  const TimePoint t = now();
  const PauseReason pause_reason = *to == CampaignState::paused ? reason : PauseReason::none;
  {
    auto tx = store::Transaction::begin(db_);
    if (!tx) return tx.error();
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

void Scheduler::Impl::credits_low_all(std::string_view why) {
  const bool was_ok = credit_state_ == CreditState::ok;
  credit_state_ = CreditState::exhausted;
  if (was_ok) spdlog::warn("credits: {}; every running campaign pauses until they are back", why);
  // With no balance key only a probe can tell when credits are back: a refused probe doubles the
  // interval (up to an hour), a first exhaustion waits credit_poll_interval.
  if (credit_probe_) {
    credit_probe_interval_ = std::min<Millis>(
        std::max<Millis>(credit_probe_interval_, options_.credit_poll_interval) * 2,
        kCreditProbeMax);
    credit_probe_.reset();
    credit_probe_at_ = now() + credit_probe_interval_;
    spdlog::info("credits: the probe was refused; next probe in {}",
                 format_duration(credit_probe_interval_));
  } else if (was_ok) {
    if (credit_probe_interval_ == Millis{0}) credit_probe_interval_ = options_.credit_poll_interval;
    credit_probe_at_ = now() + credit_probe_interval_;
  }
  for (auto& [id, c] : campaigns_) {
    if (c.row.state != CampaignState::running) continue;
    if (auto r = campaign_event(c, CampaignEvent::credits_low, PauseReason::none, Scheduler::kActor,
                                why);
        !r) {
      spdlog::error("campaign {}: {}", c.name(), r.error().what());
    }
  }
}

void Scheduler::Impl::credits_restored() {
  credit_state_ = CreditState::ok;
  credit_probe_.reset();
  credit_probe_interval_ = Millis{0};
  spdlog::info("credits: balance {} is back at the resume level", balance_.value_or(0));
  for (auto& [id, c] : campaigns_) {
    if (c.row.state != CampaignState::credit_exhausted || !c.spec().auto_resume) continue;
    if (auto r = campaign_event(c, CampaignEvent::credits_restored, PauseReason::none,
                                Scheduler::kActor);
        !r) {
      spdlog::error("campaign {}: {}", c.name(), r.error().what());
    }
  }
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

// ---------------------------------------------------------------------------------------------
// Lifecycle commands

Result<std::int64_t> Scheduler::Impl::create(const CampaignSpec& spec, std::string_view actor) {
  if (auto v = validate_spec(spec, zones_); !v) return v.error();
  const TimePoint t = now();
  auto tx = store::Transaction::begin(db_);
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
  auto tx = store::Transaction::begin(db_);
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
  if (credit_state_ == CreditState::exhausted) {
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
      !manual_resume_allowed(from, balance_, thresholds)) {
    return Error{errc::conflict, "campaign " + c->name() + ": the credit balance " +
                                     std::to_string(balance_.value_or(0)) +
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
    credit_state_ = CreditState::ok;
  } else if (credit_state_ == CreditState::exhausted) {
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
  auto tx = store::Transaction::begin(db_);
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
  store::ImportRepo imports(db_);
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
  auto tx = store::Transaction::begin(db_);
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

void Scheduler::Impl::clear_account_block() {
  if (account_block_ == AccountBlock::none) return;
  spdlog::info("account block ({}) lifted", to_string(account_block_));
  account_block_ = AccountBlock::none;
  account_message_.clear();
  if (!api_unreachable_ && probe_timer_ != 0) {
    ex_.cancel(probe_timer_);
    probe_timer_ = 0;
  }
  request_dispatch();
}

void Scheduler::Impl::block_account(AccountBlock why, std::string message) {
  const bool was_blocked = account_block_ != AccountBlock::none;
  account_block_ = why;
  account_message_ = std::move(message);
  if (!was_blocked) {
    spdlog::critical(
        "dispatch stopped for the whole account: {} ({}); GET /config is tried again "
        "in {}, or lift it with account-unblock",
        why == AccountBlock::auth ? "the API key was refused" : "the account was refused",
        account_message_, format_duration(account_probe_interval_));
    arm_probe(account_probe_interval_);
  }
}

void Scheduler::Impl::enter_unreachable(std::string message) {
  unreachable_message_ = std::move(message);
  if (api_unreachable_) return;
  api_unreachable_ = true;
  unreachable_probe_interval_ = kUnreachableProbeFirst;
  spdlog::warn("the API cannot be reached ({}): dispatch holds, GET /config is tried again in {}",
               unreachable_message_, format_duration(unreachable_probe_interval_));
  if (probe_timer_ == 0 || probe_at_ > now() + unreachable_probe_interval_) {
    arm_probe(unreachable_probe_interval_);
  }
}

void Scheduler::Impl::leave_unreachable() {
  if (!api_unreachable_) return;
  api_unreachable_ = false;
  spdlog::info("the API answers again: dispatch resumes");
  if (account_block_ == AccountBlock::none && probe_timer_ != 0) {
    ex_.cancel(probe_timer_);
    probe_timer_ = 0;
  }
  request_dispatch();
}

void Scheduler::Impl::arm_probe(Millis after) {
  if (stopping_) return;
  if (probe_timer_ != 0) ex_.cancel(probe_timer_);
  probe_at_ = now() + after;
  probe_timer_ = ex_.schedule_at(probe_at_, guard([this] {
                                   probe_timer_ = 0;
                                   poll_config();
                                 }));
}

void Scheduler::Impl::maybe_probe_credits(TimePoint t) {
  if (credit_probe_ || t < credit_probe_at_) return;
  CampaignRt* probe = nullptr;
  for (auto& [id, c] : campaigns_) {
    if (c.row.state == CampaignState::credit_exhausted && c.spec().auto_resume) {
      probe = &c;
      break;
    }
  }
  if (probe == nullptr) return;
  if (auto r = campaign_event(*probe, CampaignEvent::credits_restored, PauseReason::none,
                              Scheduler::kActor, "probe: the balance cannot be read");
      !r) {
    spdlog::error("campaign {}: {}", probe->name(), r.error().what());
    return;
  }
  credit_state_ = CreditState::ok;
  credit_probe_ = probe->id();
  spdlog::info("credits: the balance cannot be read; campaign {} resumes as a probe",
               probe->name());
  request_dispatch();
}

void Scheduler::Impl::start_accepted_account_checks() {
  account_probe_interval_ = kAccountProbeFirst;
  leave_unreachable();
  if (credit_probe_) {
    spdlog::info("credits: the probe's start was accepted; every exhausted campaign resumes");
    credits_restored();
  }
}

// ---------------------------------------------------------------------------------------------
// Views

SchedulerStatus Scheduler::Impl::status() const {
  SchedulerStatus s;
  const auto acc = slot_account();
  s.slots.used = acc.used();
  s.slots.limit = acc.limit;
  s.slots.source = limit_source_;
  s.slots.in_flight = acc.in_flight;
  s.slots.foreign = acc.foreign;
  s.slots.capacity = acc.capacity;
  s.rate.calls_per_minute = platform_.limit(RateBucket::calls);
  s.rate.used_last_minute = platform_.used_last_window(RateBucket::calls);
  s.rate.general_per_minute = platform_.limit(RateBucket::general);
  s.rate.general_used_last_minute = platform_.used_last_window(RateBucket::general);
  s.rate.next_token_at = platform_.next_token_at(RateBucket::calls);
  s.credits.balance = balance_;
  s.credits.state = credit_state_;
  s.credits.polled_at = balance_polled_at_;
  if (balance_polled_at_) s.credits.age = std::max(Millis{0}, now() - *balance_polled_at_);
  for (auto st : all_values<CampaignState>()) s.campaigns[st] = 0;
  for (const auto& [id, c] : campaigns_) ++s.campaigns[c.row.state];
  s.account_block = account_block_;
  s.api_unreachable = api_unreachable_;
  if (credit_state_ == CreditState::exhausted && !balance_) s.credits.probe_at = credit_probe_at_;
  s.account_message = account_message_;
  s.ambiguous = static_cast<int>(ambiguous_.size());
  const TimePoint t = now();
  for (std::int64_t id : ambiguous_) {
    const OpenAttempt& a = open_.at(id);
    if (t - a.ambiguous_since < options_.stale_call_timeout) continue;
    ++s.ambiguous_overdue;
    const auto c = campaigns_.find(a.campaign_id);
    s.overdue.push_back(
        {id, c != campaigns_.end() ? c->second.name() : std::string(), a.ambiguous_since});
  }
  std::sort(s.overdue.begin(), s.overdue.end(),
            [](const auto& x, const auto& y) { return x.since < y.since; });
  if (s.overdue.size() > kMaxOverdueShown) s.overdue.resize(kMaxOverdueShown);
  s.starts_outstanding = static_cast<int>(outstanding_starts_.size());
  s.shutting_down = stopping_;
  s.outcomes_by_poll_last_hour = polled_outcomes_.last_hour(t);
  return s;
}

Result<CampaignView> Scheduler::Impl::campaign_view(std::string_view campaign) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  CampaignView v;
  v.campaign = c->row;
  auto contacts = contacts_.counts_by_state(c->id());
  if (!contacts) return contacts.error();
  v.contacts = std::move(*contacts);
  auto outcomes = attempts_.outcome_counts(c->id());
  if (!outcomes) return outcomes.error();
  v.outcomes = std::move(*outcomes);
  auto attempts = attempts_.count(c->id());
  if (!attempts) return attempts.error();
  v.attempts = *attempts;
  v.in_flight = c->in_flight;
  v.blocked_by = c->row.state == CampaignState::running ? c->blocked_by : stopped_reason(*c);
  const TimePoint t = now();
  v.now = t;
  auto due = contacts_.count_due(c->id(), t, kDueNowCap);
  if (!due) return due.error();
  v.due_now = *due;
  v.starts_last_5m = c->starts.last(t, 5);
  v.starts_last_hour = c->starts.last_hour(t);
  v.finished_last_hour = c->finished.last_hour(t);
  std::int64_t remaining = 0;
  for (const auto& [state, n] : v.contacts) {
    if (!is_terminal(state)) remaining += n;
  }
  if (remaining > 0 && v.finished_last_hour > 0 && c->row.started_at) {
    const Millis span = std::clamp<Millis>(t - *c->row.started_at, std::chrono::minutes{5},
                                           std::chrono::minutes{60});
    v.eta = Millis{static_cast<Millis::rep>(static_cast<double>(span.count()) *
                                            static_cast<double>(remaining) /
                                            static_cast<double>(v.finished_last_hour))};
  }
  v.last_error = !c->last_errors.empty() ? c->last_errors.back() : c->pause_error;
  return v;
}

boost::json::object to_json(const SchedulerStatus& s) {
  boost::json::object o;
  o["slots"] = boost::json::object{{"used", s.slots.used},       {"limit", s.slots.limit},
                                   {"source", s.slots.source},   {"in_flight", s.slots.in_flight},
                                   {"foreign", s.slots.foreign}, {"capacity", s.slots.capacity}};
  o["rate"] = boost::json::object{{"calls_per_minute", s.rate.calls_per_minute},
                                  {"used_last_minute", s.rate.used_last_minute},
                                  {"general_per_minute", s.rate.general_per_minute},
                                  {"general_used_last_minute", s.rate.general_used_last_minute},
                                  {"next_token_at", format_iso8601(s.rate.next_token_at)}};
  boost::json::object credits;
  if (s.credits.balance) {
    credits["balance"] = *s.credits.balance;
  } else {
    credits["balance"] = nullptr;
  }
  credits["state"] = to_string(s.credits.state);
  credits["polled_at"] = iso_or_null(s.credits.polled_at);
  if (s.credits.age) {
    credits["age_s"] = std::chrono::duration_cast<std::chrono::seconds>(*s.credits.age).count();
  } else {
    credits["age_s"] = nullptr;
  }
  if (s.credits.probe_at) credits["next_probe_at"] = format_iso8601(*s.credits.probe_at);
  o["credits"] = std::move(credits);
  boost::json::object campaigns;
  for (const auto& [state, n] : s.campaigns) campaigns[to_string(state)] = n;
  o["campaigns"] = std::move(campaigns);
  if (s.account_block == AccountBlock::none) {
    o["account_block"] = nullptr;
  } else {
    o["account_block"] =
        boost::json::object{{"reason", to_string(s.account_block)}, {"message", s.account_message}};
  }
  o["api_unreachable"] = s.api_unreachable;
  o["ambiguous_attempts"] = s.ambiguous;
  boost::json::array overdue;
  for (const auto& a : s.overdue) {
    overdue.push_back(boost::json::object{{"attempt_id", a.attempt_id},
                                          {"campaign", a.campaign},
                                          {"since", format_iso8601(a.since)}});
  }
  o["ambiguous_overdue"] =
      boost::json::object{{"count", s.ambiguous_overdue}, {"oldest", std::move(overdue)}};
  o["starts_outstanding"] = s.starts_outstanding;
  o["outcomes_by_poll_last_hour"] = s.outcomes_by_poll_last_hour;
  o["shutting_down"] = s.shutting_down;
  return o;
}

boost::json::object to_json(const CampaignView& v) {
  const auto& row = v.campaign;
  boost::json::object o = campaign_spec_to_json(row.spec);
  o["id"] = row.id;
  o["name"] = row.spec.name;
  o["state"] = to_string(row.state);
  o["pause_reason"] = to_string(row.pause_reason);
  o["blocked_by"] = to_json(v.blocked_by, v.now);
  o["blocked_by_text"] = to_text(v.blocked_by, v.now);
  boost::json::object contacts;
  for (const auto& [state, n] : v.contacts) contacts[to_string(state)] = n;
  o["contacts"] = std::move(contacts);
  boost::json::object outcomes;
  for (const auto& [outcome, n] : v.outcomes) outcomes[to_string(outcome)] = n;
  o["outcomes"] = std::move(outcomes);
  o["attempts"] = v.attempts;
  o["in_flight"] = v.in_flight;
  o["credits_used"] = row.credits_used;
  o["created_at"] = format_iso8601(row.created_at);
  o["updated_at"] = format_iso8601(row.updated_at);
  o["started_at"] = iso_or_null(row.started_at);
  o["completed_at"] = iso_or_null(row.completed_at);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Scheduler: forwarding to Impl

Scheduler::Scheduler(SchedulerDeps deps, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(std::move(deps), std::move(options))) {}
Scheduler::~Scheduler() = default;

Result<void> Scheduler::recover() {
  return impl_->recover();
}
void Scheduler::update_options(const SchedulerOptions& options) {
  impl_->options_ = options;
  impl_->providers_.set_cooldown(options.provider_cooldown);
  impl_->arm_poll_timers();
  impl_->request_dispatch();
}
const SchedulerOptions& Scheduler::options() const noexcept {
  return impl_->options_;
}
Result<std::int64_t> Scheduler::create(const CampaignSpec& spec, std::string_view actor) {
  return impl_->create(spec, actor);
}
Result<void> Scheduler::update(std::string_view campaign, const CampaignSpec& spec,
                               std::string_view actor) {
  return impl_->update(campaign, spec, actor);
}
Result<void> Scheduler::start(std::string_view campaign, std::string_view actor) {
  return impl_->start(campaign, actor);
}
Result<void> Scheduler::pause(std::string_view campaign, std::string_view actor) {
  return impl_->pause(campaign, actor);
}
Result<void> Scheduler::resume(std::string_view campaign, std::string_view actor) {
  return impl_->resume(campaign, actor);
}
Result<void> Scheduler::stop(std::string_view campaign, std::string_view actor) {
  return impl_->stop(campaign, actor);
}
Result<void> Scheduler::remove(std::string_view campaign, std::string_view actor) {
  return impl_->remove(campaign, actor);
}
Result<void> Scheduler::contacts_added(std::string_view campaign) {
  return impl_->contacts_added(campaign);
}
void Scheduler::inbox_updated() {
  impl_->inbox_updated();
}
void Scheduler::on_session_completed(std::int64_t inbox_id, const SessionOutcome& outcome) {
  impl_->on_session_completed(inbox_id, outcome);
}
void Scheduler::on_session_completed(const SessionOutcome& outcome) {
  std::int64_t inbox_id = 0;
  if (auto row = impl_->inbox_.find_by_session(outcome.session_id); row && *row) {
    if ((*row)->applied_at) return;  // already applied (a duplicate delivery)
    inbox_id = (*row)->id;
  }
  impl_->on_session_completed(inbox_id, outcome);
}
void Scheduler::account_seen(const AccountInfo& info) {
  impl_->providers_.set_account(info.providers);
  impl_->request_dispatch();
}

void Scheduler::clear_account_block() {
  impl_->clear_account_block();
}
Result<void> Scheduler::resolve_attempt(std::int64_t attempt_id, Resolution as,
                                        std::string_view actor) {
  return impl_->resolve_attempt(attempt_id, as, actor);
}
void Scheduler::shutdown(TimePoint deadline, std::function<void()> done) {
  impl_->shutdown(deadline, std::move(done));
}
void Scheduler::shutdown(std::function<void()> done) {
  impl_->shutdown(impl_->ex_.clock().now() + impl_->options_.shutdown_grace, std::move(done));
}
SchedulerStatus Scheduler::status() const {
  return impl_->status();
}
Result<CampaignView> Scheduler::campaign_view(std::string_view campaign) {
  return impl_->campaign_view(campaign);
}
const SchedulerStats& Scheduler::stats() const noexcept {
  return impl_->stats_;
}

}  // namespace dialer::scheduler
