// The engine's coordinator: construction, the campaigns it keeps, the audit log, and the public
// Scheduler API forwarding to it. Each part of the engine that owns state has its own file:
// engine_campaigns.cpp (campaign commands and schedule), dispatch.cpp and dispatch_plan.cpp
// (claims, token planning, blocked-by), open_attempts.cpp (attempts holding a slot and their
// deadlines), settle_start.cpp (start answers, contact decisions), settle_outcome.cpp (outcomes
// and the inbox), reconciler.cpp (listings and polls), account_monitor.cpp (concurrency,
// credits, config, account blocks), startup_recovery.cpp (recovery and shutdown),
// engine_views.cpp (status and campaign views) and engine_metrics.cpp.

#include "core/campaign_json.hpp"
#include "scheduler/scheduler_impl.hpp"

#include <boost/json/serialize.hpp>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <random>

namespace dialer::scheduler {

Scheduler::Impl::Impl(SchedulerDeps deps, SchedulerOptions options)
    : options_(std::move(options)),
      ex_(deps.executor),
      store_(deps.store),
      platform_(deps.platform),
      parse_session_(std::move(deps.parse_session)),
      campaigns_repo_(deps.store.campaigns()),
      contacts_(deps.store.contacts()),
      attempts_(deps.store.attempts()),
      inbox_(deps.store.inbox()),
      dnc_(deps.store.dnc()),
      audit_(deps.store.audit()),
      lifecycle_(deps.store, std::string(Scheduler::kActor)),
      kv_(deps.store.kv()),
      providers_(options_.provider_cooldown),
      rng_(options_.rng_seed != 0 ? options_.rng_seed : std::random_device{}()) {
  if (deps.registry != nullptr) init_metrics(*deps.registry);
}

Scheduler::Impl::~Impl() {
  *alive_ = false;
  for (TimerId t : {dispatch_.wake_timer, open_.deadline_timer, account_.concurrency_timer,
                    account_.config_timer, run_.shutdown_timer, account_.probe_timer,
                    dispatch_.schedule_timer}) {
    if (t != 0) ex_.cancel(t);
  }
}

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
