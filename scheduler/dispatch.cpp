// Dispatch: the pass that picks campaigns and contacts, claims and reserves them, and hands the
// start requests to the platform.

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace dialer::scheduler {

using namespace std::chrono_literals;

void Scheduler::Impl::request_dispatch() {
  if (dispatch_.posted || run_.stopping || !run_.recovered) return;
  dispatch_.posted = true;
  ex_.post(guard([this] {
    dispatch_.posted = false;
    dispatch_pass();
  }));
}

void Scheduler::Impl::dispatch_pass() {
  if (run_.stopping) return;
  ++stats_.dispatch_passes;
  if (metrics_) metrics_->passes->Increment();
  const TimePoint t = now();
  dispatch_.store_error = false;
  report_overdue_ambiguous(t);

  BlockReason stop = BlockReason::none;
  if (account_.block != AccountBlock::none) {
    stop = BlockReason::account_blocked;
  } else if (account_.credit_state == CreditState::exhausted) {
    stop = BlockReason::credit_exhausted;
  } else if (account_.api_unreachable) {
    stop = BlockReason::api_unreachable;
  }

  std::vector<CampaignRt*> running;
  for (auto& [id, c] : campaigns_) {
    if (c.row.state != CampaignState::running) continue;
    if (c.spec().end_at && *c.spec().end_at <= t) continue;  // ended: its timer completes it
    c.due.clear();
    c.no_contact = false;
    c.budget_hit = false;
    c.examined = 0;
    c.provider_ok = !providers_.usable(c.spec().providers, t).empty();
    running.push_back(&c);
  }

  if (stop == BlockReason::none && !running.empty()) {
    const bool reserve = reconcile_wants_token(t);
    std::vector<ShareCandidate> candidates;
    candidates.reserve(running.size());
    for (;;) {
      const SlotAccount acc = slot_account();
      if (acc.free() <= 0) {
        stop = BlockReason::no_free_slot;
        break;
      }
      const int tokens = calls_tokens() - (reserve ? 1 : 0);
      if (tokens <= 0) {
        stop = BlockReason::rate_limited;
        break;
      }
      candidates.clear();
      for (const CampaignRt* c : running) {
        candidates.push_back({c->id(), c->spec().priority, c->spec().weight, c->in_flight});
      }
      const auto pick = fair_.pick(candidates, [&](const ShareCandidate& sc) {
        const CampaignRt& c = campaigns_.at(sc.id);
        return !c.no_contact && c.provider_ok && c.in_flight < c.spec().max_concurrency;
      });
      if (!pick) break;
      CampaignRt& c = campaigns_.at(*pick);
      const int batch =
          std::clamp(std::min({acc.free(), tokens, c.spec().max_concurrency - c.in_flight}), 1, 64);
      auto contact = next_contact(c, t, batch);
      if (dispatch_.store_error) break;
      if (!contact) {
        c.no_contact = true;
        continue;
      }
      const auto provider =
          providers_.choose(c.id(), c.spec().providers, c.spec().provider_strategy, t);
      if (!provider) {
        c.provider_ok = false;
        c.due.push_front(std::move(*contact));
        continue;
      }
      claim_and_start(c, *contact, *provider, t);
      if (dispatch_.store_error) break;
    }
  }

  TimePoint wake = TimePoint::max();
  if (dispatch_.store_error) wake = t + kStoreRetry;
  compute_blocked_by(t, stop, wake);
  // Optional reads go last, on the tokens the starts above (and those due within the window)
  // leave over.
  if (auto w = maybe_reconcile()) wake = std::min(wake, *w);
  if (auto w = maybe_poll_sessions()) wake = std::min(wake, *w);
  if (auto w = maybe_periodic_poll(t)) wake = std::min(wake, *w);
  arm_wake(wake);
  update_gauges();
}

WindowLookup Scheduler::Impl::window_for(CampaignRt& c, const std::string& zones) {
  if (auto it = c.windows.find(zones); it != c.windows.end()) return it->second;
  if (c.windows.size() >= kMaxWindowsPerCampaign) c.windows.clear();
  const auto names = split_zone_list(zones);
  WindowLookup out;
  auto w = CallingWindow::create(c.spec().window, names, c.spec().timezone, zones_);
  if (w) {
    out.window = std::make_shared<const CallingWindow>(std::move(*w));
  } else {
    // Fail closed (STATE-MACHINES.md "Calling windows"): a zone this tzdata cannot resolve says
    // nothing about the callee's hour, so nobody in it is called. Logged once per zone list
    // (the lookup is cached).
    out.unknown_zone = c.spec().timezone;
    for (const auto& n : names) {
      if (!zones_.locate(n)) {
        out.unknown_zone = n;
        break;
      }
    }
    spdlog::error(
        "campaign {}: time zone \"{}\" is not in this machine's tzdata ({}); contacts in it are "
        "not called until the zone is known again (install tzdata-legacy, or correct the zone)",
        c.name(), out.unknown_zone, w.error().what());
  }
  return c.windows.emplace(zones, std::move(out)).first->second;
}

std::optional<store::ContactRow> Scheduler::Impl::next_contact(CampaignRt& c, TimePoint t,
                                                               int batch) {
  for (;;) {
    if (!c.due.empty()) {
      auto row = std::move(c.due.front());
      c.due.pop_front();
      return row;
    }
    if (c.examined >= kMaxExaminedPerPass) {
      c.budget_hit = true;
      return std::nullopt;
    }
    auto rows = contacts_.next_due(c.id(), t, batch);
    if (!rows) {
      pass_store_error("campaign " + c.name() + ": next due contacts", rows.error());
      return std::nullopt;
    }
    if (rows->empty()) return std::nullopt;

    // DNC skips and window deferrals of one batch share a transaction (one fsync).
    std::optional<store::UnitOfWork> tx;
    auto ensure_tx = [&]() -> bool {
      if (tx) return true;
      auto b = store_.begin();
      if (!b) {
        pass_store_error("campaign " + c.name(), b.error());
        return false;
      }
      tx.emplace(std::move(*b));
      return true;
    };
    for (auto& row : *rows) {
      ++c.examined;
      auto listed = dnc_.contains(row.phone);
      if (!listed) {
        // Never dial a number whose DNC status is unknown; end the pass.
        pass_store_error("dnc lookup", listed.error());
        c.due.clear();
        return std::nullopt;
      }
      if (*listed) {
        if (!ensure_tx()) return std::nullopt;
        auto w = lifecycle_.contact(row.id, ContactState::queued, ContactEvent::dnc_added,
                                    {.reason = "dnc"}, t);
        if (w && *w) {
          spdlog::info("campaign {}: contact {} skipped: number on the DNC list", c.name(), row.id);
        }
        continue;
      }
      const WindowLookup lookup = window_for(c, row.zones);
      if (!lookup.unknown_zone.empty()) {
        const TimePoint to = t + kUnknownZoneRetry;
        if (!ensure_tx()) return std::nullopt;
        if (auto d = contacts_.defer(row.id, to, t); !d) {
          spdlog::error("campaign {}: defer contact {}: {}", c.name(), row.id, d.error().what());
        }
        if (!c.deferred_unknown_zone || *c.deferred_unknown_zone <= t ||
            to < *c.deferred_unknown_zone) {
          c.deferred_unknown_zone = to;
          c.unknown_zone = lookup.unknown_zone;
        }
        continue;
      }
      const auto& window = lookup.window;
      if (!window->allowed(t)) {
        const auto opens = window->next_opening(t);
        // A window that never opens is looked at again a day later (the spec may change).
        const TimePoint to = opens ? *opens : t + std::chrono::hours{24};
        if (!ensure_tx()) return std::nullopt;
        if (auto d = contacts_.defer(row.id, to, t); !d) {
          spdlog::error("campaign {}: defer contact {}: {}", c.name(), row.id, d.error().what());
        }
        if (!c.deferred_to_window || to < *c.deferred_to_window) c.deferred_to_window = to;
        continue;
      }
      c.due.push_back(std::move(row));
    }
    if (tx) {
      if (auto r = tx->commit(); !r) {
        pass_store_error("campaign " + c.name(), r.error());
        c.due.clear();
        return std::nullopt;
      }
    }
  }
}

void Scheduler::Impl::pass_store_error(std::string_view what, const Error& e) {
  dispatch_.store_error = true;
  ++stats_.store_errors;
  spdlog::error("{}: {}; this dispatch pass ends, the next comes in {}", what, e.what(),
                format_duration(kStoreRetry));
}

bool Scheduler::Impl::claim_and_start(CampaignRt& c, const store::ContactRow& contact,
                                      Provider provider, TimePoint t) {
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t attempt_id = 0;
  {
    auto tx = store_.begin();
    if (!tx) {
      pass_store_error("claim", tx.error());
      return false;
    }
    auto reserved = lifecycle_.reserve(c.id(), contact, provider, c.spec().agent_id, t);
    if (!reserved) {
      pass_store_error("claim contact " + std::to_string(contact.id), reserved.error());
      return false;
    }
    if (reserved->claim == store::Claim::not_queued) return false;  // stopped, DNC since read
    if (reserved->claim == store::Claim::number_busy) {
      // The number is in a call (or an unsettled start) of another campaign: this contact waits,
      // uncounted, and is looked at again shortly (STATE-MACHINES.md "One call per person").
      const TimePoint retry = t + kNumberBusyRetry;
      auto d = contacts_.defer(contact.id, retry, t);
      if (!d) {
        pass_store_error("claim contact " + std::to_string(contact.id), d.error());
        return false;
      }
      if (auto r = tx->commit(); !r) {
        pass_store_error("claim contact " + std::to_string(contact.id), r.error());
        return false;
      }
      if (!c.deferred_busy || *c.deferred_busy <= t || retry < *c.deferred_busy) {
        c.deferred_busy = retry;
      }
      spdlog::debug("campaign {}: contact {} waits: {} is in a call of another campaign", c.name(),
                    contact.id, contact.phone);
      return false;
    }
    attempt_id = reserved->attempt_id;
    if (auto r = tx->commit(); !r) {
      pass_store_error("claim contact " + std::to_string(contact.id), r.error());
      return false;
    }
  }
  if (metrics_) {
    metrics_->claim->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  OpenAttempt a;
  a.id = attempt_id;
  a.campaign_id = c.id();
  a.contact = contact;
  a.contact.state = ContactState::dialing;
  a.state = AttemptState::reserved;
  a.provider = provider;
  a.agent_id = c.spec().agent_id;
  a.reserved_at = t;
  a.start_outstanding = true;

  StartRequest req;
  req.attempt_id = attempt_id;
  req.agent_id = c.spec().agent_id;
  req.to_number = contact.phone;
  req.provider = provider;
  boost::system::error_code ec;
  auto vars = boost::json::parse(contact.variables_json, ec);
  if (!ec && vars.is_object()) {
    req.variables = std::move(vars.as_object());
  } else if (contact.variables_json != "{}" && !contact.variables_json.empty()) {
    spdlog::warn("contact {}: variables are not a JSON object; sent without", contact.id);
  }
  a.contact.variables_json.clear();  // sent once; not kept in memory

  open_.by_id.emplace(attempt_id, std::move(a));
  open_.outstanding_starts.insert(attempt_id);
  ++c.in_flight;
  ++open_.in_flight;
  stats_.max_in_flight = std::max(stats_.max_in_flight, open_.in_flight);
  spdlog::debug("campaign {}: contact {} → attempt {} via {}", c.name(), contact.id, attempt_id,
                to_string(provider));
  if (dispatch_.deferred_starts != nullptr) {
    // The claim joined the caller's transaction: the request may only be written once that
    // transaction is committed.
    dispatch_.deferred_starts->push_back(std::move(req));
  } else {
    send_start(std::move(req));
  }
  return true;
}

void Scheduler::Impl::send_start(StartRequest req) {
  ++stats_.starts_sent;
  if (handoff_from_) {
    if (metrics_) {
      metrics_->handoff->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - *handoff_from_).count());
    }
    handoff_from_.reset();
  }
  const std::int64_t attempt_id = req.attempt_id;
  platform_.start_call(std::move(req), guard([this, attempt_id](StartResult r) {
                         on_start_result(attempt_id, std::move(r));
                       }));
}

}  // namespace dialer::scheduler
