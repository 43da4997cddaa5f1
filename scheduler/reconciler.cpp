// The reconciler: GET /calls listings that find or prove absent ambiguous starts, session and
// call polls for overdue outcomes, and calls the platform counted as over early.

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace dialer::scheduler {

std::optional<TimePoint> Scheduler::Impl::maybe_reconcile() {
  if (run_.stopping || reconciler_.listing_outstanding) return std::nullopt;
  const TimePoint t = now();
  if (reconciler_.listing_failed_until && t < *reconciler_.listing_failed_until)
    return reconciler_.listing_failed_until;

  std::size_t overdue = 0;
  for (std::int64_t id : reconciler_.poll_queue) {
    if (open_.by_id.at(id).poll == PollState::overdue) ++overdue;
  }
  // One overdue call is cheaper to poll alone (general bucket); several share one listing when
  // a /calls/* token is slack (token planning: a listing for them is an optional read), else
  // each goes to its own session poll.
  if (overdue > 0 && (overdue == 1 || optional_tokens(t) <= 0)) {
    for (std::int64_t id : reconciler_.poll_queue) {
      auto& a = open_.by_id.at(id);
      if (a.poll == PollState::overdue) a.poll = PollState::session;
    }
    overdue = 0;
  }
  // A listing for ambiguous attempts waits until the oldest one's absent_after, so the same
  // pages can find its call or prove it absent (one /calls/* token, not two). Paging on through
  // a listing in progress goes ahead at once.
  const auto ready = reconcile_ready_at();
  const bool paging = reconciler_.listing && reconciler_.listing->offset > 0;
  const bool ambiguous_ready = paging || (ready && t >= *ready);
  if (!ambiguous_ready && overdue < 2) return ready;
  if (calls_tokens() <= 0) return platform_.next_token_at(RateBucket::calls);
  if (!paging) {
    // A listing asked again from offset 0 after an unusable first page keeps its retry count.
    const int retries = reconciler_.listing ? reconciler_.listing->page_retries : 0;
    reconciler_.listing = Reconciler::ListingRun{t, 0, std::nullopt, true};
    reconciler_.listing->page_retries = retries;
  }
  reconciler_.listing_outstanding = true;
  ++stats_.listings_sent;
  const int offset = reconciler_.listing->offset;
  spdlog::debug("reconcile: GET /calls offset {} ({} ambiguous, {} overdue)", offset,
                open_.ambiguous.size(), overdue);
  platform_.list_calls(kListingPage, offset,
                       guard([this](PlatformResult<CallListing> r) { on_listing(std::move(r)); }));
  return std::nullopt;
}

void Scheduler::Impl::on_listing(PlatformResult<CallListing> result) {
  reconciler_.listing_outstanding = false;
  const TimePoint t = now();
  if (!result) {
    // A page that failed is asked again (same offset) a few times; a listing cut off for good
    // proves nothing, and the next one starts again at offset 0.
    if (reconciler_.listing && reconciler_.listing->page_retries < kListingPageRetries) {
      ++reconciler_.listing->page_retries;
    } else {
      reconciler_.listing.reset();
    }
    if (result.error().kind == PlatformError::Kind::rate_limited) {
      // Retried when a token returns; never sooner than a second, even if the platform's
      // budget still shows tokens (a server-side limit we do not model).
      reconciler_.listing_failed_until =
          std::max(platform_.next_token_at(RateBucket::calls), t + std::chrono::seconds{1});
      spdlog::info("reconcile: GET /calls rate limited; retried at {}",
                   format_iso8601(*reconciler_.listing_failed_until));
    } else {
      const Millis delay = std::min(
          kPollRetry, kListingRetryFirst * (1 << std::min(reconciler_.listing_failures, 5)));
      ++reconciler_.listing_failures;
      reconciler_.listing_failed_until = t + delay;
      spdlog::warn("reconcile: GET /calls failed ({}); retried in {}", result.error().message,
                   format_duration(delay));
    }
    request_dispatch();
    return;
  }
  reconciler_.listing_failed_until.reset();
  reconciler_.listing_failures = 0;
  if (!reconciler_.listing)
    reconciler_.listing =
        Reconciler::ListingRun{t, 0, std::nullopt, false};  // not ours: proves nothing
  Reconciler::ListingRun& run = *reconciler_.listing;
  const int offset = run.offset;
  const auto& calls = result->calls;

  // Overdue started calls on the page: the listing tells which are over.
  for (const auto& call : calls) {
    auto it = open_.by_call_id.find(call.call_id);
    if (it == open_.by_call_id.end()) continue;
    OpenAttempt& a = open_.by_id.at(it->second);
    if (a.poll != PollState::overdue) continue;
    if (call.status && dialer::is_terminal(*call.status)) {
      a.poll = PollState::session;  // over: fetch the session for the outcome's details
    } else {
      a.poll = PollState::none;
      reconciler_.poll_queue.erase(a.id);
      // Listed early (settle_ended_early), it still has its own deadline: keep it.
      if (!a.poll_at) add_deadline(t + options_.reconcile_after, a.id, false);
    }
  }

  // Ambiguous attempts: a call to the same number by the same agent, created no earlier than
  // the reservation (minus clock skew), that no other attempt holds, is the one. Calls of
  // other campaigns and of other integrations on the account are held by nobody of ours and
  // differ in number, agent or time.
  for (const auto& call : calls) {
    if (open_.ambiguous.empty()) break;
    if (open_.by_call_id.count(call.call_id) != 0) continue;
    OpenAttempt* best = nullptr;
    for (std::int64_t id : open_.ambiguous) {
      OpenAttempt& a = open_.by_id.at(id);
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
    reconciler_.listing_failed_until = t + kListingRetryFirst;
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
  for (std::int64_t id : open_.ambiguous) {
    const OpenAttempt& a = open_.by_id.at(id);
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
    reconciler_.listing.reset();
  }
  if (proves) {
    for (std::int64_t id : absent) settle_void(open_.by_id.at(id));
  }
  if (!reconciler_.listing) {
    // Attempts this listing should have settled but could not (a page proved nothing): the
    // next listing waits, doubling, so a server that keeps sending such pages does not take
    // every /calls/* token. They stay claimed meanwhile and are reported once stale.
    const bool unresolved =
        std::any_of(open_.ambiguous.begin(), open_.ambiguous.end(),
                    [&](auto id) { return open_.by_id.at(id).absent_after <= run_started; });
    if (unresolved) {
      const Millis delay =
          std::min(kInconclusiveListingRetryMax,
                   kListingRetryFirst * (1 << std::min(reconciler_.inconclusive_listings, 8)));
      ++reconciler_.inconclusive_listings;
      reconciler_.listing_failed_until = t + delay;
      spdlog::warn("reconcile: the listing proved nothing for {} ambiguous start(s); next in {}",
                   open_.ambiguous.size(), format_duration(delay));
    } else {
      reconciler_.inconclusive_listings = 0;
    }
  }

  // Overdue calls the page did not show (older ones) get their own session poll.
  for (std::int64_t id : reconciler_.poll_queue) {
    auto& a = open_.by_id.at(id);
    if (a.poll == PollState::overdue) a.poll = PollState::session;
  }
  request_dispatch();
}

void Scheduler::Impl::settle_found(OpenAttempt& a, const ListedCall& call) {
  const TimePoint t = now();
  {
    auto tx = store_.begin();
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
  open_.ambiguous.erase(a.id);
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
    reconciler_.poll_queue.insert(a.id);
  }
}

void Scheduler::Impl::settle_void(OpenAttempt& a, AttemptEvent event) {
  const TimePoint t = now();
  {
    auto tx = store_.begin();
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

std::optional<TimePoint> Scheduler::Impl::maybe_poll_sessions() {
  if (run_.stopping) return std::nullopt;
  std::optional<TimePoint> wake;
  bool call_polls_wait = false;  // the plan said no for one: it says no for every other
  for (std::int64_t id : reconciler_.poll_queue) {
    if (reconciler_.sessions_outstanding >= std::max(1, options_.max_session_polls)) break;
    OpenAttempt& a = open_.by_id.at(id);
    if (a.poll != PollState::session) continue;
    if (a.session_id.empty()) {
      // The start answer carried no session id: GET /calls/{id} tells it, on a slack /calls/*
      // token (an optional read).
      if (call_polls_wait) continue;
      const TimePoint t = now();
      if (!reconciler_.call_poll_waiting_since) reconciler_.call_poll_waiting_since = t;
      if (optional_tokens(t, reconciler_.call_poll_waiting_since) <= 0) {
        call_polls_wait = true;
        const TimePoint at = slack_check_at(t);
        wake = wake ? std::min(*wake, at) : at;
        continue;
      }
      reconciler_.call_poll_waiting_since.reset();
      a.poll = PollState::outstanding;
      ++reconciler_.sessions_outstanding;
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
    ++reconciler_.sessions_outstanding;
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
  --reconciler_.sessions_outstanding;
  auto it = open_.by_id.find(attempt_id);
  if (it == open_.by_id.end()) {  // settled meanwhile (webhook)
    request_dispatch();
    return nullptr;
  }
  OpenAttempt& a = it->second;
  a.poll = PollState::none;
  reconciler_.poll_queue.erase(attempt_id);
  if (error == nullptr) return &a;
  a.live_at_last_poll = false;
  if (error->kind == PlatformError::Kind::rate_limited) {
    a.poll = PollState::session;
    reconciler_.poll_queue.insert(attempt_id);
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
    open_.by_session_id[a.session_id] = attempt_id;
    if (auto r = attempts_.set_session_id(attempt_id, a.session_id); !r) {
      spdlog::warn("attempt {}: {}", attempt_id, r.error().what());
    }
    spdlog::info("attempt {}: call {} has session {}", attempt_id, a.call_id, a.session_id);
    a.poll = PollState::session;
    reconciler_.poll_queue.insert(attempt_id);
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

void Scheduler::Impl::settle_ended_early(const std::vector<std::int64_t>& started_before,
                                         int platform_active) {
  // Every call counted here was started (answered) before the poll was sent and is still without
  // outcome now, so the platform's count, taken in between, includes each one that was still
  // running then. If it counts fewer, at least the difference were over and their webhooks are
  // late or lost: rather than hold their slots until reconcile_after, all of them are listed now
  // (one GET /calls page tells which are over; those still running keep their deadline).
  if (run_.stopping) return;
  std::vector<std::int64_t> waiting;
  for (std::int64_t id : started_before) {
    auto it = open_.by_id.find(id);
    if (it != open_.by_id.end() && it->second.state == AttemptState::started &&
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
    open_.by_id.at(id).poll = PollState::overdue;
    reconciler_.poll_queue.insert(id);
  }
  request_dispatch();  // the pass sends the listing with what its starts leave over
}

std::optional<TimePoint> Scheduler::Impl::reconcile_ready_at() const {
  std::optional<TimePoint> ready;
  for (std::int64_t id : open_.ambiguous) {
    const TimePoint at = open_.by_id.at(id).absent_after;
    if (!ready || at < *ready) ready = at;
  }
  return ready;
}

bool Scheduler::Impl::reconcile_wants_token(TimePoint now) const {
  if (reconciler_.listing_outstanding || open_.ambiguous.empty()) return false;
  if (reconciler_.listing_failed_until && now < *reconciler_.listing_failed_until) return false;
  // A listing in progress pages on at once; a new one waits for the oldest absent_after (by
  // then it can both find a call and prove it absent, and it has waited out the grace).
  if (reconciler_.listing && reconciler_.listing->offset > 0) return true;
  const auto ready = reconcile_ready_at();
  return ready && now >= *ready;
}

}  // namespace dialer::scheduler
