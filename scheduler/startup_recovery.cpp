// Startup recovery (STATE-MACHINES.md "Crash recovery") and graceful shutdown.

#include "scheduler/scheduler_impl.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace dialer::scheduler {

Result<void> Scheduler::Impl::recover() {
  if (run_.recovered) return Error{errc::conflict, "recover() already ran"};
  if (auto v = verify_tables(); !v) return v.error();
  const TimePoint t = now();

  auto rows = campaigns_repo_.list();
  if (!rows) return rows.error();
  for (auto& row : *rows) {
    // Campaigns waiting for credits mean the account was out of them when we stopped: stay
    // so until GET /config shows the balance back (then they auto-resume).
    if (row.state == CampaignState::credit_exhausted)
      account_.credit_state = CreditState::exhausted;
    add_campaign(std::move(row));
  }

  if (auto kv = kv_.get("credit_balance"); kv && *kv) {
    try {
      account_.balance = std::stod(**kv);
    } catch (const std::exception&) {
      spdlog::warn("kv credit_balance \"{}\" is not a number; ignored", **kv);
    }
  }

  auto open = attempts_.open_attempts();
  if (!open) return open.error();
  int reserved = 0;
  int ambiguous = 0;
  int started = 0;
  for (auto& row : *open) {
    CampaignRt* c = campaign_by_id(row.campaign_id);
    auto contact = contacts_.get(row.contact_id);
    if (!contact) return contact.error();
    if (c == nullptr || !*contact) {
      spdlog::error("attempt {}: campaign or contact missing; ignored", row.id);
      continue;
    }
    OpenAttempt a;
    a.id = row.id;
    a.campaign_id = row.campaign_id;
    a.contact = std::move(**contact);
    a.contact.variables_json.clear();
    a.state = row.state;
    a.provider = row.provider;
    a.agent_id = row.agent_id;
    a.call_id = row.call_id.value_or("");
    a.session_id = row.session_id.value_or("");
    a.reserved_at = row.reserved_at;
    // A request whose send time is not stored went out at the latest start_wait_limit after
    // its reservation (the client's token and connection wait for starts). Counting from the
    // stored times, not from now, so frequent restarts cannot postpone reconciliation for ever.
    a.ambiguous_since = std::min(t, row.reserved_at);
    const TimePoint last_send = row.sent_at && row.state == AttemptState::ambiguous
                                    ? *row.sent_at
                                    : row.reserved_at + options_.start_wait_limit;
    a.absent_after = last_send + options_.request_timeout + options_.absent_grace;
    const std::int64_t id = row.id;
    auto [it, inserted] = open_.by_id.emplace(id, std::move(a));
    OpenAttempt& oa = it->second;
    ++c->in_flight;
    ++open_.in_flight;
    switch (row.state) {
      case AttemptState::reserved: {
        ++reserved;
        auto tx = store_.begin();
        if (!tx) return tx.error();
        if (auto m =
                lifecycle_.attempt(id, AttemptState::reserved, AttemptEvent::restart,
                                   {.error_code = "restart",
                                    .error = "the daemon restarted before the start was settled"},
                                   t);
            !m) {
          return m.error();
        }
        if (auto r = tx->commit(); !r) return r.error();
        oa.state = AttemptState::ambiguous;
        open_.ambiguous.insert(id);
        break;
      }
      case AttemptState::ambiguous:
        ++ambiguous;
        open_.ambiguous.insert(id);
        break;
      case AttemptState::started:
        ++started;
        track_started(oa, row.started_at.value_or(row.reserved_at));
        break;
      default:
        break;
    }
  }
  stats_.max_in_flight = std::max(stats_.max_in_flight, open_.in_flight);

  auto orphans = contacts_.orphan_claimed();
  if (!orphans) return orphans.error();
  for (const auto& o : *orphans) {
    auto repaired = lifecycle_.repair(o.id, o.state, t);
    if (!repaired) return repaired.error();
    if (!*repaired) continue;
    spdlog::warn("contact {}: {} without an open attempt; repaired to queued", o.id,
                 to_string(o.state));
  }

  run_.recovered = true;
  run_.startup_drain = true;
  drain_inbox();
  run_.startup_drain = false;
  spdlog::info(
      "scheduler recovered: {} campaigns, {} open attempts ({} reserved → ambiguous, {} "
      "ambiguous, {} started), {} contacts repaired",
      campaigns_.size(), open_.by_id.size(), reserved, ambiguous, started, orphans->size());
  poll_concurrency();
  poll_config();
  arm_deadline_timer();
  update_gauges();
  request_dispatch();
  return {};
}

void Scheduler::Impl::shutdown(TimePoint deadline, std::function<void()> done) {
  if (done) run_.shutdown_done.push_back(std::move(done));
  if (run_.stopped) {
    finish_shutdown();
    return;
  }
  if (!run_.stopping) {
    run_.stopping = true;
    spdlog::info("scheduler: shutting down; {} start requests outstanding",
                 open_.outstanding_starts.size());
    for (TimerId* timer :
         {&dispatch_.wake_timer, &open_.deadline_timer, &account_.concurrency_timer,
          &account_.config_timer, &dispatch_.schedule_timer}) {
      if (*timer != 0) ex_.cancel(*timer);
      *timer = 0;
    }
    run_.shutdown_timer = ex_.schedule_at(deadline, guard([this] {
                                            run_.shutdown_timer = 0;
                                            finish_shutdown();
                                          }));
  }
  check_shutdown_done();
}

void Scheduler::Impl::check_shutdown_done() {
  if (run_.stopping && !run_.stopped && open_.outstanding_starts.empty()) finish_shutdown();
}

void Scheduler::Impl::finish_shutdown() {
  if (!run_.stopped) {
    run_.stopped = true;
    if (run_.shutdown_timer != 0) ex_.cancel(run_.shutdown_timer);
    run_.shutdown_timer = 0;
    if (!open_.outstanding_starts.empty()) {
      spdlog::warn(
          "scheduler: {} start requests unanswered at the deadline; their attempts stay "
          "reserved and are reconciled after restart",
          open_.outstanding_starts.size());
    } else {
      spdlog::info(
          "scheduler: stopped; every start request settled; {} call(s) in flight are "
          "followed again after the restart",
          open_.in_flight);
    }
    // Platform answers arriving from now on are dropped.
    *alive_ = false;
  }
  auto callbacks = std::move(run_.shutdown_done);
  run_.shutdown_done.clear();
  for (auto& cb : callbacks) ex_.post(std::move(cb));
}

}  // namespace dialer::scheduler
