// Dispatch: event-driven passes that fill free slots with due, in-window, non-DNC contacts,
// fairly across running campaigns, each claim committed (contact dialing + attempt reserved in
// one transaction) before its POST /calls/start is handed to the platform.

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;

/// Most distinct zone lists whose windows one campaign keeps built.
constexpr std::size_t kMaxWindowsPerCampaign = 1024;
/// A reconciliation that has waited this long gets the next /calls/* token before starts do, so
/// a rate-bound campaign cannot hold ambiguous contacts forever.
constexpr Millis kReconcileStarvation = 5s;
/// A contact whose number is in an open attempt of another campaign is looked at again after
/// this (the other call usually lasts minutes; a retry costs one indexed write).
constexpr Millis kNumberBusyRetry = 30s;
/// A contact in a zone tzdata does not know is looked at again after this (a tzdata upgrade or a
/// corrected campaign zone lets it be called).
constexpr Millis kUnknownZoneRetry = 1h;

}  // namespace

void Scheduler::Impl::request_dispatch() {
  if (dispatch_posted_ || stopping_ || !recovered_) return;
  dispatch_posted_ = true;
  ex_.post(guard([this] {
    dispatch_posted_ = false;
    dispatch_pass();
  }));
}

int Scheduler::Impl::calls_tokens() const {
  // Claims waiting for their transaction to commit will spend a token each once sent.
  const int pending = deferred_starts_ != nullptr ? static_cast<int>(deferred_starts_->size()) : 0;
  return platform_.tokens(RateBucket::calls) - pending;
}

SlotAccount Scheduler::Impl::slot_account() const {
  auto acc = account_slots(concurrency_, in_flight_, ours_at_concurrency_poll_);
  if (full_until_fresh_poll_ && acc.capacity > acc.in_flight) {
    acc.capacity = acc.in_flight;
    acc.foreign = std::max(acc.foreign, acc.limit - acc.capacity);
  }
  return acc;
}

std::optional<TimePoint> Scheduler::Impl::reconcile_ready_at() const {
  std::optional<TimePoint> ready;
  for (std::int64_t id : ambiguous_) {
    const TimePoint at = open_.at(id).absent_after;
    if (!ready || at < *ready) ready = at;
  }
  return ready;
}

bool Scheduler::Impl::reconcile_wants_token(TimePoint now) const {
  if (listing_outstanding_ || ambiguous_.empty()) return false;
  if (listing_failed_until_ && now < *listing_failed_until_) return false;
  // A listing in progress pages on at once; a new one waits for the oldest absent_after (by
  // then it can both find a call and prove it absent, and it has waited out the grace).
  if (listing_ && listing_->offset > 0) return true;
  const auto ready = reconcile_ready_at();
  return ready && now >= *ready;
}

void Scheduler::Impl::note_hold(Millis held) {
  holds_.push_back(std::max(held, Millis{0}));
  if (holds_.size() > kHolds) holds_.pop_front();
}

Millis Scheduler::Impl::longest_hold() const {
  return holds_.empty() ? kDefaultLongestHold : *std::max_element(holds_.begin(), holds_.end());
}

Millis Scheduler::Impl::turnover() const {
  if (holds_.empty()) return kDefaultTurnover;
  // The lower quartile: short enough to keep tokens for starts, not set by one busy tone.
  std::vector<Millis> sorted(holds_.begin(), holds_.end());
  const auto q = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 4);
  std::nth_element(sorted.begin(), q, sorted.end());
  return *q;
}

bool Scheduler::Impl::outcome_overdue(const OpenAttempt& a, TimePoint now, Millis longest) const {
  if (a.state != AttemptState::started || a.start_outstanding) return false;
  if (a.poll != PollState::none) return true;  // past reconcile_after, or listed as over
  if (!a.started_at) return false;
  return now >= *a.started_at + longest + kLateWebhookGrace;
}

int Scheduler::Impl::optional_tokens(TimePoint now, std::optional<TimePoint> waiting_since) const {
  TokenPlan p;
  p.now = now;
  p.tokens = calls_tokens();
  if (p.tokens <= 0) return 0;
  // Waited long enough: the next token, whatever the plan.
  if (waiting_since && now - *waiting_since >= kOptionalReadMaxWait) return p.tokens;
  p.horizon = now + platform_.token_span(RateBucket::calls);
  p.returns = platform_.token_returns(RateBucket::calls);
  p.due_from = plan_due_from_;
  const SlotAccount acc = slot_account();
  p.free_slots = acc.free();
  int due_slots = 0;
  for (const auto& [id, c] : campaigns_) {
    if (c.plan_due) due_slots += std::max(c.spec().max_concurrency, 0);
  }
  p.max_slots = std::min(due_slots, acc.capacity);
  p.turnover = turnover();
  const Millis longest = longest_hold();
  for (const auto& [id, a] : open_) {
    if (outcome_overdue(a, now, longest)) continue;
    const TimePoint from = a.state == AttemptState::started && a.started_at ? *a.started_at : now;
    p.slot_frees.push_back(std::max(now, from + p.turnover));
  }
  return slack_tokens(p);
}

TimePoint Scheduler::Impl::slack_check_at(TimePoint now) const {
  if (calls_tokens() <= 0) return platform_.next_token_at(RateBucket::calls);
  TimePoint at = TimePoint::max();
  const auto earlier = [&at](TimePoint t) { at = std::min(at, t); };
  if (const auto returns = platform_.token_returns(RateBucket::calls); !returns.empty()) {
    earlier(std::max(returns.front(), now + 1ms));
  }
  const Millis longest = longest_hold();
  for (const auto& [id, a] : open_) {
    if (a.state != AttemptState::started || a.start_outstanding || !a.started_at) continue;
    if (outcome_overdue(a, now, longest)) continue;
    earlier(*a.started_at + longest + kLateWebhookGrace);
  }
  for (const auto& since : {poll_waiting_since_, call_poll_waiting_since_}) {
    if (since) earlier(std::max(*since + kOptionalReadMaxWait, now + 1ms));
  }
  return at;
}

void Scheduler::Impl::dispatch_pass() {
  if (stopping_) return;
  ++stats_.dispatch_passes;
  if (metrics_) metrics_->passes->Increment();
  const TimePoint t = now();
  pass_store_error_ = false;
  report_overdue_ambiguous(t);

  BlockReason stop = BlockReason::none;
  if (account_block_ != AccountBlock::none) {
    stop = BlockReason::account_blocked;
  } else if (credit_state_ == CreditState::exhausted) {
    stop = BlockReason::credit_exhausted;
  } else if (api_unreachable_) {
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
      if (pass_store_error_) break;
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
      if (pass_store_error_) break;
    }
  }

  TimePoint wake = TimePoint::max();
  if (pass_store_error_) wake = t + kStoreRetry;
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
    std::optional<store::Transaction> tx;
    auto ensure_tx = [&]() -> bool {
      if (tx) return true;
      auto b = store::Transaction::begin(db_);
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
  pass_store_error_ = true;
  ++stats_.store_errors;
  spdlog::error("{}: {}; this dispatch pass ends, the next comes in {}", what, e.what(),
                format_duration(kStoreRetry));
}

bool Scheduler::Impl::claim_and_start(CampaignRt& c, const store::ContactRow& contact,
                                      Provider provider, TimePoint t) {
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t attempt_id = 0;
  {
    auto tx = store::Transaction::begin(db_);
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

  open_.emplace(attempt_id, std::move(a));
  outstanding_starts_.insert(attempt_id);
  ++c.in_flight;
  ++in_flight_;
  stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_);
  spdlog::debug("campaign {}: contact {} → attempt {} via {}", c.name(), contact.id, attempt_id,
                to_string(provider));
  if (deferred_starts_ != nullptr) {
    // The claim joined the caller's transaction: the request may only be written once that
    // transaction is committed.
    deferred_starts_->push_back(std::move(req));
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
  if (next == schedule_at_ && (schedule_timer_ != 0 || !next)) return;
  if (schedule_timer_ != 0) ex_.cancel(schedule_timer_);
  schedule_timer_ = 0;
  schedule_at_ = next;
  if (!next || stopping_) return;
  schedule_timer_ = ex_.schedule_at(std::max(*next, t), guard([this] {
                                      schedule_timer_ = 0;
                                      schedule_at_.reset();
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

void Scheduler::Impl::compute_blocked_by(TimePoint t, BlockReason pass_stop, TimePoint& wake) {
  plan_due_from_.reset();
  arm_schedule(t);
  const TimePoint horizon = t + platform_.token_span(RateBucket::calls);
  CampaignRt* current = nullptr;
  const auto due_at = [&](TimePoint at) {
    plan_due_from_ = plan_due_from_ ? std::min(*plan_due_from_, at) : at;
    if (at < horizon) current->plan_due = true;
  };
  for (auto& [id, c] : campaigns_) {
    c.plan_due = false;
    current = &c;
    if (c.row.state != CampaignState::running) {
      c.blocked_by = stopped_reason(c);
      continue;
    }
    if (pass_stop == BlockReason::account_blocked) {
      c.blocked_by = BlockedBy::account_blocked(account_message_);
      continue;
    }
    if (pass_stop == BlockReason::credit_exhausted) {
      c.blocked_by = BlockedBy::credit_exhausted();
      continue;
    }
    if (pass_stop == BlockReason::api_unreachable) {
      c.blocked_by =
          BlockedBy::api_unreachable(probe_timer_ != 0 ? std::optional(probe_at_) : std::nullopt);
      continue;
    }
    if (c.in_flight >= c.spec().max_concurrency) {
      due_at(t);  // contacts may be due: its calls ending will want tokens
      c.blocked_by = BlockedBy::no_free_slot(c.in_flight, c.spec().max_concurrency);
      continue;
    }
    if (!c.provider_ok) {
      std::optional<TimePoint> back;
      const std::array<Provider, 1> fallback{Provider::mcube};
      const auto list = c.spec().providers.empty() ? std::span<const Provider>{fallback}
                                                   : std::span<const Provider>{c.spec().providers};
      for (Provider p : list) {
        if (auto until = providers_.cooldown_until(p, t)) {
          if (!back || *until < *back) back = until;
        }
      }
      if (back) {
        wake = std::min(wake, *back);
        due_at(*back);
      }
      c.blocked_by = BlockedBy::provider_unavailable(back);
      continue;
    }
    if (c.no_contact) {
      if (c.budget_hit) {
        // More contacts to examine than one pass may take: continue in a fresh pass.
        request_dispatch();
        due_at(t);
        c.blocked_by = BlockedBy::none();
        continue;
      }
      auto next = contacts_.next_due_contact(c.id());
      if (!next) {
        spdlog::error("campaign {}: {}", c.name(), next.error().what());
        continue;
      }
      if (!*next) {
        c.blocked_by = BlockedBy::no_due_contacts(std::nullopt);
        c.deferred_to_window.reset();
        c.deferred_busy.reset();
        c.deferred_unknown_zone.reset();
        maybe_drained(c);
        continue;
      }
      const TimePoint due = (*next)->next_attempt_at;
      due_at(std::max(due, t));
      // A due contact that could not be taken (a failed write) is looked at again shortly,
      // not in a tight loop.
      wake = std::min(wake, std::max(due, t + 1s));
      if (c.deferred_unknown_zone && due == *c.deferred_unknown_zone) {
        c.blocked_by = BlockedBy::unknown_timezone(c.unknown_zone);
      } else if (c.deferred_busy && due == *c.deferred_busy) {
        c.blocked_by = BlockedBy::number_in_call_elsewhere(due);
      } else {
        c.blocked_by = own_wait(c, **next, t).value_or(BlockedBy::no_due_contacts(due));
      }
      continue;
    }
    if (c.due.empty() &&
        (pass_stop == BlockReason::no_free_slot || pass_stop == BlockReason::rate_limited)) {
      // Not looked at in this pass: an account-wide reason is its own only if a contact of its
      // is due now and in its window (STATE-MACHINES.md "blocked_by").
      auto next = contacts_.next_due_contact(c.id());
      if (!next) {
        spdlog::error("campaign {}: {}", c.name(), next.error().what());
      } else if (!*next) {
        c.blocked_by = BlockedBy::no_due_contacts(std::nullopt);
        continue;
      } else if (auto own = own_wait(c, **next, t)) {
        const TimePoint due = own->reason == BlockReason::outside_calling_window && own->at
                                  ? *own->at
                                  : std::max((*next)->next_attempt_at, t);
        due_at(due);
        wake = std::min(wake, std::max(due, t + 1s));
        c.blocked_by = std::move(*own);
        continue;
      }
    }
    due_at(t);  // it still had due contacts when the pass stopped
    if (pass_stop == BlockReason::no_free_slot) {
      const auto acc = slot_account();
      c.blocked_by = BlockedBy::no_free_slot(acc.used(), acc.limit);
      continue;
    }
    if (pass_stop == BlockReason::rate_limited) {
      const TimePoint next = std::max(platform_.next_token_at(RateBucket::calls), t + 1ms);
      wake = std::min(wake, next);
      c.blocked_by = BlockedBy::rate_limited(next);
      continue;
    }
    c.blocked_by = BlockedBy::none();
  }
}

std::optional<BlockedBy> Scheduler::Impl::own_wait(CampaignRt& c, const store::ContactRow& next,
                                                   TimePoint t) {
  const WindowLookup lookup = window_for(c, next.zones);
  if (!lookup.unknown_zone.empty()) return BlockedBy::unknown_timezone(lookup.unknown_zone);
  const CallingWindow& w = *lookup.window;
  // The zone that keeps the window closed: where the opening falls on the window's start.
  const auto binding = [&](std::optional<TimePoint> opens) -> Zone {
    const auto zs = w.zones();
    if (zs.empty()) return c.zone;
    if (opens) {
      for (Zone z : zs) {
        const auto local = z->to_local(*opens);
        const auto tod = local - std::chrono::floor<date::days>(local);
        if (std::chrono::duration_cast<std::chrono::minutes>(tod) == c.spec().window.start) {
          return z;
        }
      }
    }
    return zs.front();
  };
  if (next.next_attempt_at <= t) {
    if (w.allowed(t)) return std::nullopt;
    const auto opens = w.next_opening(t);
    return BlockedBy::outside_calling_window(opens, binding(opens), next.phone);
  }
  const TimePoint due = next.next_attempt_at;
  // Deferred to its window's opening: closed just before, open from then on.
  if (w.allowed(due) && !w.allowed(due - 1ms)) {
    return BlockedBy::outside_calling_window(due, binding(due), next.phone);
  }
  if (next.attempts > 0 && next.last_outcome) {
    return BlockedBy::no_due_contacts(due, next.phone, next.last_outcome);
  }
  return BlockedBy::no_due_contacts(due, next.phone);
}

void Scheduler::Impl::arm_wake(TimePoint at) {
  if (at == TimePoint::max() || stopping_) {
    if (wake_timer_ != 0) ex_.cancel(wake_timer_);
    wake_timer_ = 0;
    return;
  }
  if (wake_timer_ != 0 && wake_at_ == at) return;
  if (wake_timer_ != 0) ex_.cancel(wake_timer_);
  wake_at_ = at;
  wake_timer_ = ex_.schedule_at(at, guard([this] {
                                  wake_timer_ = 0;
                                  request_dispatch();
                                }));
}

}  // namespace dialer::scheduler
