// Issue 6: attempt deadlines, reconciliation of ambiguous starts (GET /calls), polling for
// missing webhooks, credit and concurrency polls, crash recovery and graceful shutdown.

#include "scheduler/scheduler_impl.hpp"
#include "store/scheduler_queries.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace dialer::scheduler {

// ---------------------------------------------------------------------------------------------
// Deadlines of started calls (reconcile_after, stale_call_timeout): one executor timer for the
// earliest of them, whatever the number of calls in flight.

void Scheduler::Impl::add_deadline(TimePoint at, std::int64_t attempt_id, bool stale) {
  auto it = open_.find(attempt_id);
  if (it == open_.end()) return;
  auto& slot = stale ? it->second.stale_at : it->second.poll_at;
  if (slot) deadlines_.erase({*slot, attempt_id, stale});
  slot = at;
  deadlines_.insert({at, attempt_id, stale});
  arm_deadline_timer();
}

void Scheduler::Impl::remove_deadlines(std::int64_t attempt_id) {
  auto it = open_.find(attempt_id);
  if (it == open_.end()) return;
  if (it->second.poll_at) deadlines_.erase({*it->second.poll_at, attempt_id, false});
  if (it->second.stale_at) deadlines_.erase({*it->second.stale_at, attempt_id, true});
  it->second.poll_at.reset();
  it->second.stale_at.reset();
}

void Scheduler::Impl::arm_deadline_timer() {
  if (stopping_ || deadlines_.empty()) {
    if (deadline_timer_ != 0) ex_.cancel(deadline_timer_);
    deadline_timer_ = 0;
    return;
  }
  const TimePoint first = std::get<0>(*deadlines_.begin());
  if (deadline_timer_ != 0 && deadline_at_ <= first) return;  // fires first; re-arms then
  if (deadline_timer_ != 0) ex_.cancel(deadline_timer_);
  deadline_at_ = first;
  deadline_timer_ = ex_.schedule_at(first, guard([this] {
                                      deadline_timer_ = 0;
                                      on_deadlines();
                                    }));
}

void Scheduler::Impl::on_deadlines() {
  const TimePoint t = now();
  while (!deadlines_.empty() && std::get<0>(*deadlines_.begin()) <= t) {
    const auto [at, id, stale] = *deadlines_.begin();
    deadlines_.erase(deadlines_.begin());
    auto it = open_.find(id);
    if (it == open_.end()) continue;
    OpenAttempt& a = it->second;
    if (stale) {
      a.stale_at.reset();
      on_lost(id);
      continue;
    }
    a.poll_at.reset();
    if (a.state == AttemptState::started && a.poll == PollState::none) {
      a.poll = PollState::overdue;
      poll_queue_.insert(id);
      spdlog::debug("attempt {} (call {}): no outcome after {}; polling", id, a.call_id,
                    format_duration(options_.reconcile_after));
    }
  }
  arm_deadline_timer();
  request_dispatch();  // the pass sends listings and polls with what its starts left over
}

// ---------------------------------------------------------------------------------------------
// Reconciliation

std::optional<TimePoint> Scheduler::Impl::maybe_reconcile() {
  if (stopping_ || listing_outstanding_) return std::nullopt;
  const TimePoint t = now();
  if (listing_failed_until_ && t < *listing_failed_until_) return listing_failed_until_;

  std::size_t overdue = 0;
  for (std::int64_t id : poll_queue_) {
    if (open_.at(id).poll == PollState::overdue) ++overdue;
  }
  // One overdue call is cheaper to poll alone (general bucket); several share one listing when
  // a /calls/* token is slack (token planning: a listing for them is an optional read), else
  // each goes to its own session poll.
  if (overdue > 0 && (overdue == 1 || optional_tokens(t) <= 0)) {
    for (std::int64_t id : poll_queue_) {
      auto& a = open_.at(id);
      if (a.poll == PollState::overdue) a.poll = PollState::session;
    }
    overdue = 0;
  }
  // A listing for ambiguous attempts waits until the oldest one's absent_after, so the same
  // pages can find its call or prove it absent (one /calls/* token, not two). Paging on through
  // a listing in progress goes ahead at once.
  const auto ready = reconcile_ready_at();
  const bool paging = listing_ && listing_->offset > 0;
  const bool ambiguous_ready = paging || (ready && t >= *ready);
  if (!ambiguous_ready && overdue < 2) return ready;
  if (calls_tokens() <= 0) return platform_.next_token_at(RateBucket::calls);
  if (!paging) {
    // A listing asked again from offset 0 after an unusable first page keeps its retry count.
    const int retries = listing_ ? listing_->page_retries : 0;
    listing_ = ListingRun{t, 0, std::nullopt, true};
    listing_->page_retries = retries;
  }
  listing_outstanding_ = true;
  ++stats_.listings_sent;
  const int offset = listing_->offset;
  spdlog::debug("reconcile: GET /calls offset {} ({} ambiguous, {} overdue)", offset,
                ambiguous_.size(), overdue);
  platform_.list_calls(kListingPage, offset,
                       guard([this](PlatformResult<CallListing> r) { on_listing(std::move(r)); }));
  return std::nullopt;
}

void Scheduler::Impl::on_listing(PlatformResult<CallListing> result) {
  listing_outstanding_ = false;
  const TimePoint t = now();
  if (!result) {
    // A page that failed is asked again (same offset) a few times; a listing cut off for good
    // proves nothing, and the next one starts again at offset 0.
    if (listing_ && listing_->page_retries < kListingPageRetries) {
      ++listing_->page_retries;
    } else {
      listing_.reset();
    }
    if (result.error().kind == PlatformError::Kind::rate_limited) {
      // Retried when a token returns; never sooner than a second, even if the platform's
      // budget still shows tokens (a server-side limit we do not model).
      listing_failed_until_ =
          std::max(platform_.next_token_at(RateBucket::calls), t + std::chrono::seconds{1});
      spdlog::info("reconcile: GET /calls rate limited; retried at {}",
                   format_iso8601(*listing_failed_until_));
    } else {
      const Millis delay =
          std::min(kPollRetry, kListingRetryFirst * (1 << std::min(listing_failures_, 5)));
      ++listing_failures_;
      listing_failed_until_ = t + delay;
      spdlog::warn("reconcile: GET /calls failed ({}); retried in {}", result.error().message,
                   format_duration(delay));
    }
    request_dispatch();
    return;
  }
  listing_failed_until_.reset();
  listing_failures_ = 0;
  if (!listing_) listing_ = ListingRun{t, 0, std::nullopt, false};  // not ours: proves nothing
  ListingRun& run = *listing_;
  const int offset = run.offset;
  const auto& calls = result->calls;

  // Overdue started calls on the page: the listing tells which are over.
  for (const auto& call : calls) {
    auto it = by_call_id_.find(call.call_id);
    if (it == by_call_id_.end()) continue;
    OpenAttempt& a = open_.at(it->second);
    if (a.poll != PollState::overdue) continue;
    if (call.status && dialer::is_terminal(*call.status)) {
      a.poll = PollState::session;  // over: fetch the session for the outcome's details
    } else {
      a.poll = PollState::none;
      poll_queue_.erase(a.id);
      // Listed early (settle_ended_early), it still has its own deadline: keep it.
      if (!a.poll_at) add_deadline(t + options_.reconcile_after, a.id, false);
    }
  }

  // Ambiguous attempts: a call to the same number by the same agent, created no earlier than
  // the reservation (minus clock skew), that no other attempt holds, is the one. Calls of
  // other campaigns and of other integrations on the account are held by nobody of ours and
  // differ in number, agent or time.
  for (const auto& call : calls) {
    if (ambiguous_.empty()) break;
    if (by_call_id_.count(call.call_id) != 0) continue;
    OpenAttempt* best = nullptr;
    for (std::int64_t id : ambiguous_) {
      OpenAttempt& a = open_.at(id);
      if (a.contact.phone != call.to_number || !same_uuid(a.agent_id, call.agent_id)) continue;
      if (call.created_at < a.reserved_at - options_.clock_skew) continue;
      if (best == nullptr || a.reserved_at > best->reserved_at) best = &a;
    }
    if (best == nullptr) continue;
    auto tied = attempts_.find_by_call_id(call.call_id);
    if (!tied) {
      spdlog::error("reconcile: {}", tied.error().what());
      continue;
    }
    if (*tied) continue;  // a closed attempt of ours already holds this call
    settle_found(*best, call);
  }

  // Proof of absence (STATE-MACHINES.md "Attempt"): only from a listing that started at offset
  // 0 after the attempt's absent_after, whose every page was whole, and whose pages reach back
  // past its reservation (minus skew) or to the end of the list.
  const int size = static_cast<int>(calls.size() + result->malformed_numbers.size());
  const bool has_total = result->total.has_value();
  const bool ended = has_total && offset + size >= *result->total;
  const bool unusable = !has_total || (size < kListingPage && !ended);
  if (unusable && run.proves && run.page_retries < kListingPageRetries) {
    // Ask the same page again before giving the listing up: a faulty answer now and then must
    // not cost a whole listing and its backoff.
    ++run.page_retries;
    spdlog::info("reconcile: GET /calls page at offset {} {}; asked again", offset,
                 has_total ? "is short" : "has no total");
    listing_failed_until_ = t + kListingRetryFirst;
    request_dispatch();
    return;
  }
  run.page_retries = 0;
  if (!has_total) {
    run.proves = false;
    spdlog::warn("reconcile: GET /calls page at offset {} has no total; it proves no absence",
                 offset);
  } else if (size < kListingPage && !ended) {
    run.proves = false;
    spdlog::warn(
        "reconcile: GET /calls page at offset {} holds {} of {} records before the end ({} in "
        "all); it proves no absence",
        offset, size, kListingPage, *result->total);
  }
  for (const auto& n : result->malformed_numbers) {
    spdlog::warn("reconcile: GET /calls offset {}: an unreadable record{} skipped", offset,
                 n.empty() ? std::string() : " for " + n);
  }
  for (const auto& call : calls) {
    if (!run.oldest || call.created_at < *run.oldest) run.oldest = call.created_at;
  }
  auto blinded = [&](const OpenAttempt& a) {
    return std::any_of(result->malformed_numbers.begin(), result->malformed_numbers.end(),
                       [&](const std::string& n) { return n.empty() || n == a.contact.phone; });
  };
  bool need_more = false;
  std::vector<std::int64_t> absent;
  for (std::int64_t id : ambiguous_) {
    const OpenAttempt& a = open_.at(id);
    // Sent (or possibly sent) after this listing began: only a later listing can tell.
    if (run.started_at < a.absent_after) continue;
    if (!run.proves) continue;
    if (blinded(a)) {
      run.proves = false;
      continue;
    }
    const bool covered = ended || (run.oldest && *run.oldest < a.reserved_at - options_.clock_skew);
    if (covered) {
      absent.push_back(id);
    } else {
      need_more = true;
    }
  }
  const bool proves = run.proves;
  const TimePoint run_started = run.started_at;
  if (need_more && run.proves && !ended && size > 0) {
    run.offset = offset + size;
  } else {
    listing_.reset();
  }
  if (proves) {
    for (std::int64_t id : absent) settle_void(open_.at(id));
  }
  if (!listing_) {
    // Attempts this listing should have settled but could not (a page proved nothing): the
    // next listing waits, doubling, so a server that keeps sending such pages does not take
    // every /calls/* token. They stay claimed meanwhile and are reported once stale.
    const bool unresolved = std::any_of(ambiguous_.begin(), ambiguous_.end(), [&](auto id) {
      return open_.at(id).absent_after <= run_started;
    });
    if (unresolved) {
      const Millis delay =
          std::min(kInconclusiveListingRetryMax,
                   kListingRetryFirst * (1 << std::min(inconclusive_listings_, 8)));
      ++inconclusive_listings_;
      listing_failed_until_ = t + delay;
      spdlog::warn("reconcile: the listing proved nothing for {} ambiguous start(s); next in {}",
                   ambiguous_.size(), format_duration(delay));
    } else {
      inconclusive_listings_ = 0;
    }
  }

  // Overdue calls the page did not show (older ones) get their own session poll.
  for (std::int64_t id : poll_queue_) {
    auto& a = open_.at(id);
    if (a.poll == PollState::overdue) a.poll = PollState::session;
  }
  request_dispatch();
}

void Scheduler::Impl::settle_found(OpenAttempt& a, const ListedCall& call) {
  const TimePoint t = now();
  {
    auto tx = store::Transaction::begin(db_);
    if (!tx) {
      spdlog::error("reconcile: {}", tx.error().what());
      return;
    }
    auto m = record_started(a, call.call_id, call.session_id, call.created_at, t);
    if (!m || !*m) {
      spdlog::error("reconcile: attempt {}: {}", a.id,
                    m ? std::string("not ambiguous in the store") : m.error().what());
      return;
    }
    if (auto r = tx->commit(); !r) {
      spdlog::error("reconcile: {}", r.error().what());
      return;
    }
  }
  ambiguous_.erase(a.id);
  ++stats_.reconciled_found;
  if (metrics_) metrics_->found->Increment();
  a.contact.attempts += 1;
  a.contact.state = ContactState::in_call;
  a.call_id = call.call_id;
  a.session_id = call.session_id;
  track_started(a, call.created_at);
  spdlog::info("attempt {}: ambiguous start found as call {}", a.id, call.call_id);
  if (call.status && dialer::is_terminal(*call.status)) {
    a.poll = PollState::session;
    poll_queue_.insert(a.id);
  }
}

void Scheduler::Impl::settle_void(OpenAttempt& a, AttemptEvent event) {
  const TimePoint t = now();
  {
    auto tx = store::Transaction::begin(db_);
    if (!tx) {
      spdlog::error("reconcile: {}", tx.error().what());
      return;
    }
    auto m = lifecycle_.attempt(a.id, AttemptState::ambiguous, event,
                                {.counted = false, .ended_at = t}, t);
    if (!m || !*m) {
      spdlog::error("reconcile: attempt {}: {}", a.id,
                    m ? std::string("not ambiguous in the store") : m.error().what());
      return;
    }
    if (auto w = lifecycle_.contact(a.contact.id, ContactState::dialing,
                                    ContactEvent::reconciled_void, {}, t);
        !w) {
      spdlog::error("reconcile: contact {}: {}", a.contact.id, w.error().what());
      return;
    }
    if (const CampaignRt* c = campaign_by_id(a.campaign_id)) skip_if_stopped(*c, a.contact.id, t);
    if (auto r = tx->commit(); !r) {
      spdlog::error("reconcile: {}", r.error().what());
      return;
    }
  }
  ++stats_.reconciled_void;
  if (metrics_) metrics_->voided->Increment();
  spdlog::info("attempt {}: ambiguous start {}; contact {} queued again, not counted", a.id,
               event == AttemptEvent::reconciled_absent ? "proven absent"
                                                        : "resolved as void by an operator",
               a.contact.id);
  const std::int64_t campaign_id = a.campaign_id;
  release(a);
  if (CampaignRt* c = campaign_by_id(campaign_id)) maybe_drained(*c);
}

// ---------------------------------------------------------------------------------------------
// Missing webhooks: GET /sessions/{id}

std::optional<TimePoint> Scheduler::Impl::maybe_poll_sessions() {
  if (stopping_) return std::nullopt;
  std::optional<TimePoint> wake;
  bool call_polls_wait = false;  // the plan said no for one: it says no for every other
  for (std::int64_t id : poll_queue_) {
    if (sessions_outstanding_ >= std::max(1, options_.max_session_polls)) break;
    OpenAttempt& a = open_.at(id);
    if (a.poll != PollState::session) continue;
    if (a.session_id.empty()) {
      // The start answer carried no session id: GET /calls/{id} tells it, on a slack /calls/*
      // token (an optional read).
      if (call_polls_wait) continue;
      const TimePoint t = now();
      if (!call_poll_waiting_since_) call_poll_waiting_since_ = t;
      if (optional_tokens(t, call_poll_waiting_since_) <= 0) {
        call_polls_wait = true;
        const TimePoint at = slack_check_at(t);
        wake = wake ? std::min(*wake, at) : at;
        continue;
      }
      call_poll_waiting_since_.reset();
      a.poll = PollState::outstanding;
      ++sessions_outstanding_;
      ++stats_.sessions_polled;
      platform_.get_call(a.call_id, guard([this, id](PlatformResult<ListedCall> r) {
                           on_call_poll(id, std::move(r));
                         }));
      continue;
    }
    if (platform_.tokens(RateBucket::general) <= 0) {
      wake = platform_.next_token_at(RateBucket::general);
      break;
    }
    a.poll = PollState::outstanding;
    ++sessions_outstanding_;
    ++stats_.sessions_polled;
    platform_.get_session(a.session_id, guard([this, id](PlatformResult<SessionOutcome> r) {
                            on_session_poll(id, std::move(r));
                          }));
  }
  return wake;
}

OpenAttempt* Scheduler::Impl::poll_answered(std::int64_t attempt_id, const PlatformError* error,
                                            std::string_view request,
                                            std::string OpenAttempt::*id_field) {
  --sessions_outstanding_;
  auto it = open_.find(attempt_id);
  if (it == open_.end()) {  // settled meanwhile (webhook)
    request_dispatch();
    return nullptr;
  }
  OpenAttempt& a = it->second;
  a.poll = PollState::none;
  poll_queue_.erase(attempt_id);
  if (error == nullptr) return &a;
  a.live_at_last_poll = false;
  if (error->kind == PlatformError::Kind::rate_limited) {
    a.poll = PollState::session;
    poll_queue_.insert(attempt_id);
  } else {
    spdlog::info("attempt {}: {}{}: {}; polled again in {}", attempt_id, request, a.*id_field,
                 error->message, format_duration(kPollRetry));
    add_deadline(now() + kPollRetry, attempt_id, false);
  }
  request_dispatch();
  return nullptr;
}

void Scheduler::Impl::on_session_poll(std::int64_t attempt_id,
                                      PlatformResult<SessionOutcome> result) {
  const auto error = result ? std::nullopt : std::optional<PlatformError>(result.error());
  OpenAttempt* found = poll_answered(attempt_id, error ? &*error : nullptr, "GET /sessions/",
                                     &OpenAttempt::session_id);
  if (found == nullptr) return;
  OpenAttempt& a = *found;
  const TimePoint t = now();
  SessionOutcome o = std::move(*result);
  if (o.session_id.empty()) o.session_id = a.session_id;
  if (o.call_id.empty()) o.call_id = a.call_id;
  if (!apply_outcome(0, o, OutcomeSource::poll)) {
    // Still running: look again after another reconcile_after.
    a.live_at_last_poll = true;
    add_deadline(t + options_.reconcile_after, attempt_id, false);
  }
  request_dispatch();
}

void Scheduler::Impl::on_call_poll(std::int64_t attempt_id, PlatformResult<ListedCall> result) {
  const auto error = result ? std::nullopt : std::optional<PlatformError>(result.error());
  OpenAttempt* found =
      poll_answered(attempt_id, error ? &*error : nullptr, "GET /calls/", &OpenAttempt::call_id);
  if (found == nullptr) return;
  OpenAttempt& a = *found;
  const TimePoint t = now();
  if (!result->session_id.empty()) {
    // Now the session (transcript, disposition, credits) can be polled like any other.
    a.session_id = result->session_id;
    by_session_id_[a.session_id] = attempt_id;
    if (auto r = attempts_.set_session_id(attempt_id, a.session_id); !r) {
      spdlog::warn("attempt {}: {}", attempt_id, r.error().what());
    }
    spdlog::info("attempt {}: call {} has session {}", attempt_id, a.call_id, a.session_id);
    a.poll = PollState::session;
    poll_queue_.insert(attempt_id);
    request_dispatch();
    return;
  }
  if (result->status && dialer::is_terminal(*result->status)) {
    // No session at all: the call's status is all there is to know.
    SessionOutcome o;
    o.session_id = "call:" + a.call_id;
    o.call_id = a.call_id;
    o.to_number = result->to_number;
    o.agent_id = result->agent_id;
    o.status = result->status;
    apply_outcome(0, o, OutcomeSource::poll);
    request_dispatch();
    return;
  }
  a.live_at_last_poll = true;
  add_deadline(t + options_.reconcile_after, attempt_id, false);
  request_dispatch();
}

// ---------------------------------------------------------------------------------------------
// Concurrency and config polls

void Scheduler::Impl::arm_poll_timers() {
  if (stopping_) return;
  arm_periodic_poll(options_.concurrency_poll_interval);
  if (config_timer_ != 0) ex_.cancel(config_timer_);
  config_timer_ = ex_.schedule_at(now() + options_.credit_poll_interval, guard([this] {
                                    config_timer_ = 0;
                                    poll_config();
                                  }));
}

void Scheduler::Impl::arm_periodic_poll(Millis after) {
  // While a concurrency 429 holds dispatch, its own (required) polls run the timer; the
  // periodic one is armed again once a fresh reading lifts the hold.
  if (full_until_fresh_poll_) return;
  if (concurrency_timer_ != 0) ex_.cancel(concurrency_timer_);
  concurrency_timer_ = ex_.schedule_at(now() + after, guard([this] {
                                         concurrency_timer_ = 0;
                                         concurrency_poll_due_ = true;
                                         request_dispatch();
                                       }));
}

std::optional<TimePoint> Scheduler::Impl::maybe_periodic_poll(TimePoint t) {
  if (!concurrency_poll_due_ || concurrency_poll_outstanding_ || stopping_) return std::nullopt;
  // A 429 hold polls on its own; a limit never read yet (the startup poll failed) is no
  // optional reading.
  if (full_until_fresh_poll_) return std::nullopt;
  if (!concurrency_) {
    poll_concurrency();
    return std::nullopt;
  }
  const bool due_work =
      plan_due_from_ && *plan_due_from_ < t + platform_.token_span(RateBucket::calls);
  const Millis longest = longest_hold();
  const bool overdue = std::any_of(open_.begin(), open_.end(), [&](const auto& entry) {
    return outcome_overdue(entry.second, t, longest);
  });
  if (!due_work && !overdue) {
    // Webhooks account for every slot and nothing is due: a reading would change nothing.
    concurrency_poll_due_ = false;
    poll_waiting_since_.reset();
    ++stats_.concurrency_polls_skipped;
    arm_periodic_poll(options_.concurrency_poll_interval);
    return std::nullopt;
  }
  if (!poll_waiting_since_) poll_waiting_since_ = t;
  if (optional_tokens(t, poll_waiting_since_) <= 0) {
    ++stats_.concurrency_polls_deferred;
    const TimePoint at = slack_check_at(t);
    return at == TimePoint::max() ? std::nullopt : std::optional(at);
  }
  poll_concurrency();
  return std::nullopt;
}

void Scheduler::Impl::poll_concurrency() {
  if (stopping_ || concurrency_poll_outstanding_) return;
  if (concurrency_timer_ != 0) {
    ex_.cancel(concurrency_timer_);
    concurrency_timer_ = 0;
  }
  if (calls_tokens() <= 0) {
    // Starts have first claim on the /calls/* bucket: poll when a token returns.
    concurrency_timer_ = ex_.schedule_at(platform_.next_token_at(RateBucket::calls), guard([this] {
                                           concurrency_timer_ = 0;
                                           poll_concurrency();
                                         }));
    return;
  }
  concurrency_poll_outstanding_ = true;
  concurrency_poll_due_ = false;
  poll_waiting_since_.reset();
  concurrency_429s_at_poll_ = concurrency_429s_;
  started_at_concurrency_poll_.clear();
  for (const auto& [id, a] : open_) {
    if (a.state == AttemptState::started && !a.start_outstanding) {
      started_at_concurrency_poll_.push_back(id);
    }
  }
  platform_.get_concurrency(
      guard([this](PlatformResult<ConcurrencyReading> r) { on_concurrency(std::move(r)); }));
}

void Scheduler::Impl::on_concurrency(PlatformResult<ConcurrencyReading> result) {
  concurrency_poll_outstanding_ = false;
  if (result) {
    leave_unreachable();
    const bool changed = !concurrency_ || concurrency_->limit != result->limit;
    concurrency_ = ConcurrencySnapshot{result->limit, result->active};
    // Every open attempt counts as ours on the server, including starts still unanswered
    // (the server has usually created them) and ambiguous ones: overcounting ours can at worst
    // cost one 429 and an early poll, while undercounting would read our own calls as foreign
    // and leave slots idle until the next poll.
    ours_at_concurrency_poll_ = in_flight_;
    limit_source_ = result->limit_source.empty() ? "api" : result->limit_source;
    // A reading taken before the latest 429 does not lift the hold; one taken after it does.
    if (concurrency_429s_at_poll_ == concurrency_429s_) full_until_fresh_poll_ = false;
    // Webhooks of calls that ended just before the reading may still be on their way: look
    // again once they had time to arrive, so only calls whose outcome is really missing remain.
    if (!started_at_concurrency_poll_.empty()) {
      ex_.schedule_at(now() + kLateWebhookGrace,
                      guard([this, ids = std::move(started_at_concurrency_poll_),
                             active = result->active] { settle_ended_early(ids, active); }));
    }
    started_at_concurrency_poll_.clear();
    const auto acc = slot_account();
    if (changed) {
      spdlog::info("concurrency: limit {} (source {}), {} active, {} of them not ours",
                   result->limit, limit_source_, result->active, acc.foreign);
    } else {
      spdlog::debug("concurrency: limit {}, {} active, {} foreign", result->limit, result->active,
                    acc.foreign);
    }
  } else {
    spdlog::warn("GET /calls/concurrency: {}", result.error().message);
    // A 429 hold stays until a reading answers: the next poll comes sooner while it lasts.
  }
  if (!stopping_) {
    if (concurrency_timer_ != 0) ex_.cancel(concurrency_timer_);
    // Held by a 429: a reading older than it is followed by a fresh one at once; a failed
    // poll is retried sooner than the interval. Otherwise the next reading is optional: it
    // waits for a slack token (maybe_periodic_poll).
    if (!full_until_fresh_poll_) {
      arm_periodic_poll(options_.concurrency_poll_interval);
    } else {
      const Millis next =
          result ? Millis{0}
                 : std::min<Millis>(options_.concurrency_poll_interval, kConcurrencyHoldRepoll);
      concurrency_timer_ = ex_.schedule_at(now() + next, guard([this] {
                                             concurrency_timer_ = 0;
                                             poll_concurrency();
                                           }));
    }
  }
  request_dispatch();
}

void Scheduler::Impl::settle_ended_early(const std::vector<std::int64_t>& started_before,
                                         int platform_active) {
  // Every call counted here was started (answered) before the poll was sent and is still without
  // outcome now, so the platform's count, taken in between, includes each one that was still
  // running then. If it counts fewer, at least the difference were over and their webhooks are
  // late or lost: rather than hold their slots until reconcile_after, all of them are listed now
  // (one GET /calls page tells which are over; those still running keep their deadline).
  if (stopping_) return;
  std::vector<std::int64_t> waiting;
  for (std::int64_t id : started_before) {
    auto it = open_.find(id);
    if (it != open_.end() && it->second.state == AttemptState::started &&
        it->second.poll == PollState::none) {
      waiting.push_back(id);
    }
  }
  if (static_cast<int>(waiting.size()) <= platform_active) return;
  spdlog::debug(
      "concurrency: {} active at the platform, {} of our calls without outcome: "
      "at least {} are over; settling them now",
      platform_active, waiting.size(), static_cast<int>(waiting.size()) - platform_active);
  ++stats_.early_settles;
  for (std::int64_t id : waiting) {
    open_.at(id).poll = PollState::overdue;
    poll_queue_.insert(id);
  }
  request_dispatch();  // the pass sends the listing with what its starts leave over
}

void Scheduler::Impl::poll_config() {
  if (stopping_ || config_poll_outstanding_) return;
  if (config_timer_ != 0) {
    ex_.cancel(config_timer_);
    config_timer_ = 0;
  }
  config_poll_outstanding_ = true;
  platform_.get_config(guard([this](PlatformResult<AccountInfo> r) { on_config(std::move(r)); }));
}

void Scheduler::Impl::on_config(PlatformResult<AccountInfo> result) {
  config_poll_outstanding_ = false;
  const TimePoint t = now();
  if (result) {
    leave_unreachable();
    if (account_block_ != AccountBlock::none && t >= probe_at_) {
      spdlog::info("GET /config answered: lifting the account block");
      // A block that comes back at once is probed less often next time (reset by an accepted
      // start).
      account_probe_interval_ = std::min<Millis>(account_probe_interval_ * 2, kAccountProbeMax);
      clear_account_block();
    }
    providers_.set_account(result->providers);
    balance_polled_at_ = t;
    if (!result->credit_balance) {
      if (!balance_key_missing_logged_) {
        spdlog::warn(
            "GET /config has no credit balance at the configured pointer "
            "(vocobase.credit_balance_pointer); credits are noticed by 403 answers, and while "
            "they are exhausted one campaign is resumed as a probe now and then");
        balance_key_missing_logged_ = true;
      }
      maybe_probe_credits(t);
    } else {
      balance_ = result->credit_balance;
      if (auto r = kv_.set("credit_balance", std::to_string(*balance_)); !r) {
        spdlog::warn("kv: {}", r.error().what());
      }
      const CreditThresholds th{options_.min_credit_balance, options_.resume_credit_balance};
      if (balance_too_low(balance_, th)) {
        bool any_running = false;
        for (const auto& [id, c] : campaigns_) {
          any_running = any_running || c.row.state == CampaignState::running;
        }
        if (credit_state_ == CreditState::ok || any_running) {
          credits_low_all("balance " + std::to_string(*balance_) + " below the minimum " +
                          std::to_string(options_.min_credit_balance));
        }
      } else if (*balance_ >= th.resume_balance) {
        // Every exhausted campaign resumes, whatever was resumed by hand in between.
        bool any_exhausted = false;
        for (const auto& [id, c] : campaigns_) {
          any_exhausted = any_exhausted ||
                          (c.row.state == CampaignState::credit_exhausted && c.spec().auto_resume);
        }
        if (credit_state_ == CreditState::exhausted || any_exhausted) credits_restored();
      }
    }
  } else {
    spdlog::warn("GET /config: {}", result.error().message);
    if (t >= probe_at_ && (api_unreachable_ || account_block_ != AccountBlock::none)) {
      // The probe failed: try again later, less often.
      Millis next = kAccountProbeMax;
      if (account_block_ != AccountBlock::none) {
        account_probe_interval_ = std::min<Millis>(account_probe_interval_ * 2, kAccountProbeMax);
        next = account_probe_interval_;
      }
      if (api_unreachable_) {
        unreachable_probe_interval_ =
            std::min<Millis>(unreachable_probe_interval_ * 2, kUnreachableProbeMax);
        next = std::min(next, unreachable_probe_interval_);
      }
      arm_probe(next);
    }
  }
  if (!stopping_) {
    if (config_timer_ != 0) ex_.cancel(config_timer_);
    // Until GET /config has answered once no provider is usable and nothing can start: retry
    // sooner than the regular interval.
    const Millis next = providers_.account_known()
                            ? options_.credit_poll_interval
                            : std::min(options_.credit_poll_interval, Millis{kPollRetry / 6});
    config_timer_ = ex_.schedule_at(t + next, guard([this] {
                                      config_timer_ = 0;
                                      poll_config();
                                    }));
  }
  update_gauges();
  request_dispatch();
}

// ---------------------------------------------------------------------------------------------
// Crash recovery

Result<void> Scheduler::Impl::recover() {
  if (recovered_) return Error{errc::conflict, "recover() already ran"};
  if (auto v = verify_tables(); !v) return v.error();
  const TimePoint t = now();

  auto rows = campaigns_repo_.list();
  if (!rows) return rows.error();
  for (auto& row : *rows) {
    // Campaigns waiting for credits mean the account was out of them when we stopped: stay
    // so until GET /config shows the balance back (then they auto-resume).
    if (row.state == CampaignState::credit_exhausted) credit_state_ = CreditState::exhausted;
    add_campaign(std::move(row));
  }

  if (auto kv = kv_.get("credit_balance"); kv && *kv) {
    try {
      balance_ = std::stod(**kv);
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
    auto [it, inserted] = open_.emplace(id, std::move(a));
    OpenAttempt& oa = it->second;
    ++c->in_flight;
    ++in_flight_;
    switch (row.state) {
      case AttemptState::reserved: {
        ++reserved;
        auto tx = store::Transaction::begin(db_);
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
        ambiguous_.insert(id);
        break;
      }
      case AttemptState::ambiguous:
        ++ambiguous;
        ambiguous_.insert(id);
        break;
      case AttemptState::started:
        ++started;
        track_started(oa, row.started_at.value_or(row.reserved_at));
        break;
      default:
        break;
    }
  }
  stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_);

  auto orphans = store::orphan_claimed_contacts(db_);
  if (!orphans) return orphans.error();
  for (const auto& o : *orphans) {
    auto repaired = lifecycle_.repair(o.id, o.state, t);
    if (!repaired) return repaired.error();
    if (!*repaired) continue;
    spdlog::warn("contact {}: {} without an open attempt; repaired to queued", o.id,
                 to_string(o.state));
  }

  recovered_ = true;
  startup_drain_ = true;
  drain_inbox();
  startup_drain_ = false;
  spdlog::info(
      "scheduler recovered: {} campaigns, {} open attempts ({} reserved → ambiguous, {} "
      "ambiguous, {} started), {} contacts repaired",
      campaigns_.size(), open_.size(), reserved, ambiguous, started, orphans->size());
  poll_concurrency();
  poll_config();
  arm_deadline_timer();
  update_gauges();
  request_dispatch();
  return {};
}

// ---------------------------------------------------------------------------------------------
// Graceful shutdown

void Scheduler::Impl::shutdown(TimePoint deadline, std::function<void()> done) {
  if (done) shutdown_done_.push_back(std::move(done));
  if (stopped_) {
    finish_shutdown();
    return;
  }
  if (!stopping_) {
    stopping_ = true;
    spdlog::info("scheduler: shutting down; {} start requests outstanding",
                 outstanding_starts_.size());
    for (TimerId* timer :
         {&wake_timer_, &deadline_timer_, &concurrency_timer_, &config_timer_, &schedule_timer_}) {
      if (*timer != 0) ex_.cancel(*timer);
      *timer = 0;
    }
    shutdown_timer_ = ex_.schedule_at(deadline, guard([this] {
                                        shutdown_timer_ = 0;
                                        finish_shutdown();
                                      }));
  }
  check_shutdown_done();
}

void Scheduler::Impl::check_shutdown_done() {
  if (stopping_ && !stopped_ && outstanding_starts_.empty()) finish_shutdown();
}

void Scheduler::Impl::finish_shutdown() {
  if (!stopped_) {
    stopped_ = true;
    if (shutdown_timer_ != 0) ex_.cancel(shutdown_timer_);
    shutdown_timer_ = 0;
    if (!outstanding_starts_.empty()) {
      spdlog::warn(
          "scheduler: {} start requests unanswered at the deadline; their attempts stay "
          "reserved and are reconciled after restart",
          outstanding_starts_.size());
    } else {
      spdlog::info(
          "scheduler: stopped; every start request settled; {} call(s) in flight are "
          "followed again after the restart",
          in_flight_);
    }
    // Platform answers arriving from now on are dropped.
    *alive_ = false;
  }
  auto callbacks = std::move(shutdown_done_);
  shutdown_done_.clear();
  for (auto& cb : callbacks) ex_.post(std::move(cb));
}

}  // namespace dialer::scheduler
