// Settling a start: its answer (started, refused, ambiguous), the circuit breaker, and the
// contact's next state once its attempt ended (retry policy, callbacks, DNC).

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace dialer::scheduler {

std::string describe(const StartResult& r) {
  std::string s{to_string(r.kind)};
  if (r.reason != StartReason::none) {
    s += '/';
    s += to_string(r.reason);
  }
  if (!r.message.empty()) {
    s += ": ";
    s += r.message;
  }
  return s;
}

/// What the store keeps of a call's outcome.
store::FinishedCall finished_call(const SessionOutcome& o, Outcome outcome, TimePoint ended_at) {
  store::FinishedCall fc;
  fc.status = o.status.value_or(CallStatus::completed);
  fc.disposition = o.disposition;
  fc.outcome = outcome;
  fc.answered_by = o.answered_by;
  fc.duration_seconds = o.duration_seconds;
  fc.credits_used = o.credits_used;
  fc.result_json = o.raw_json;
  fc.ended_at = ended_at;
  return fc;
}

void Scheduler::Impl::note_failure(CampaignRt& c, std::string message) {
  ++c.failure_streak;
  c.last_errors.push_back(std::move(message));
  while (c.last_errors.size() > kLastErrors) c.last_errors.pop_front();
  if (c.row.state != CampaignState::running ||
      c.failure_streak < std::max(1, options_.error_burst_threshold)) {
    return;
  }
  std::string note = std::to_string(c.failure_streak) + " consecutive failed starts; last: ";
  for (std::size_t i = 0; i < c.last_errors.size(); ++i) {
    if (i > 0) note += " | ";
    note += c.last_errors[i];
  }
  spdlog::error("campaign {}: circuit breaker: {}", c.name(), note);
  // campaign-get's blocked_by carries the last error, across restarts too.
  c.pause_error = c.last_errors.back();
  if (auto r = kv_.set(pause_error_key(c.id()), c.pause_error); !r) {
    spdlog::error("campaign {}: {}", c.name(), r.error().what());
  }
  if (auto r = campaign_event(c, CampaignEvent::error_burst, PauseReason::errors, Scheduler::kActor,
                              note);
      !r) {
    spdlog::error("campaign {}: {}", c.name(), r.error().what());
  }
}

Result<bool> Scheduler::Impl::record_started(OpenAttempt& a, std::string_view call_id,
                                             std::string_view session_id, TimePoint started_at,
                                             TimePoint t) {
  const bool found = a.state == AttemptState::ambiguous;
  auto m = lifecycle_.attempt(a.id, a.state,
                              found ? AttemptEvent::reconciled_found : AttemptEvent::accepted,
                              {.call_id = std::string(call_id),
                               .session_id = std::string(session_id),
                               .started_at = started_at},
                              t);
  if (!m || !*m) return m;
  auto w = lifecycle_.contact(a.contact.id, ContactState::dialing,
                              found ? ContactEvent::reconciled_found : ContactEvent::start_accepted,
                              {.attempts = a.contact.attempts + 1}, t);
  if (!w) return w.error();
  return true;
}

void Scheduler::Impl::on_start_result(std::int64_t attempt_id, StartResult r) {
  open_.outstanding_starts.erase(attempt_id);
  if (metrics_) metrics_->starts[static_cast<std::size_t>(r.kind)]->Increment();
  auto it = open_.by_id.find(attempt_id);
  if (it == open_.by_id.end()) {
    // Already settled by an outcome that matched it while the start was outstanding.
    spdlog::debug("attempt {}: start answer after the attempt closed: {}", attempt_id, describe(r));
  } else {
    OpenAttempt& a = it->second;
    a.start_outstanding = false;
    CampaignRt& c = campaigns_.at(a.campaign_id);
    const TimePoint t = now();
    switch (r.kind) {
      case StartKind::started:
        start_accepted(a, c, r, t);
        break;
      case StartKind::rejected:
      case StartKind::not_sent:
        start_refused(a, c, r, t);
        break;
      case StartKind::ambiguous:
        start_ambiguous(a, c, r, t);
        break;
    }
  }
  flush_parked();
  check_shutdown_done();
  request_dispatch();
}

// A call exists: the attempt is started, the contact in_call; an outcome parked for it applies.
void Scheduler::Impl::start_accepted(OpenAttempt& a, CampaignRt& c, const StartResult& r,
                                     TimePoint t) {
  const std::int64_t attempt_id = a.id;
  ++stats_.started;
  c.starts.add(t);
  auto tx = store_.begin();
  bool ok = static_cast<bool>(tx);
  if (ok) {
    auto m = record_started(a, r.call_id, r.session_id, t, t);
    if (!m) {
      spdlog::error("attempt {}: store started: {}", attempt_id, m.error().what());
      ok = false;
    } else {
      if (auto cm = tx->commit(); !cm) {
        spdlog::error("attempt {}: {}", attempt_id, cm.error().what());
        ok = false;
      }
    }
  }
  if (!ok) {
    // The call exists but the store did not take it: keep tracking it in memory; a
    // restart finds the attempt reserved, treats it as ambiguous and reconciles it.
    spdlog::error("attempt {}: call {} started but not stored", attempt_id, r.call_id);
  }
  a.contact.attempts += 1;
  a.contact.state = ContactState::in_call;
  a.call_id = r.call_id;
  a.session_id = r.session_id;
  track_started(a, t);
  c.failure_streak = 0;
  c.last_errors.clear();
  start_accepted_account_checks();
  // A webhook may have beaten this answer.
  for (std::size_t i = 0; i < open_.parked.size(); ++i) {
    const auto& o = open_.parked[i].outcome;
    if ((!o.call_id.empty() && o.call_id == r.call_id) ||
        (!o.session_id.empty() && o.session_id == r.session_id)) {
      auto entry = std::move(open_.parked[i]);
      open_.parked.erase(open_.parked.begin() + static_cast<std::ptrdiff_t>(i));
      apply_outcome(entry.inbox_id, entry.outcome, OutcomeSource::webhook, false);
      break;
    }
  }
}

// No call exists (a definitive refusal, or a request never sent): the contact is queued again
// (skipped for a refused number) and the refusal's cause is handled.
void Scheduler::Impl::start_refused(OpenAttempt& a, CampaignRt& c, const StartResult& r,
                                    TimePoint t) {
  const std::int64_t attempt_id = a.id;
  const std::int64_t contact_id = a.contact.id;
  const bool number = r.kind == StartKind::rejected && r.reason == StartReason::bad_number;
  if (r.kind == StartKind::rejected) {
    ++stats_.rejected;
  } else {
    ++stats_.not_sent;
  }
  const std::string code =
      r.kind == StartKind::not_sent ? std::string("network") : std::string(to_string(r.reason));
  const Provider provider = a.provider;
  {
    auto tx = store_.begin();
    auto marked =
        tx ? lifecycle_.attempt(
                 attempt_id, AttemptState::reserved, AttemptEvent::refused,
                 {.counted = number, .ended_at = t, .error_code = code, .error = r.message}, t)
           : Result<bool>(tx.error());
    if (!marked) {
      // Nothing of this settlement is committed: the store keeps the attempt reserved and
      // the contact dialing, and recovery treats it as ambiguous (it never double-dials).
      spdlog::error("attempt {}: refusal not stored: {}", attempt_id, marked.error().what());
    } else {
      store::ContactChange u;
      ContactEvent ev = ContactEvent::start_refused;
      if (number) {
        u.reason = "invalid_number";
        u.attempts = a.contact.attempts + 1;
        ev = ContactEvent::start_refused_number;
      }
      auto w = lifecycle_.contact(contact_id, ContactState::dialing, ev, u, t);
      if (!w) spdlog::error("contact {}: {}", contact_id, w.error().what());
      if (!number) skip_if_stopped(c, contact_id, t);
      if (auto cm = tx->commit(); !cm) {
        spdlog::error("attempt {}: {}", attempt_id, cm.error().what());
      }
    }
  }
  release(a);
  spdlog::info("campaign {}: attempt {} {}", c.name(), attempt_id, describe(r));
  if (r.kind == StartKind::not_sent) {
    // A connection failure is not a refusal: it does not count toward the circuit
    // breaker; dispatch holds until the API answers again.
    enter_unreachable("start not sent: " + r.message);
    return;
  }
  switch (r.reason) {
    case StartReason::concurrency:
      // The server is full whatever our last poll said: hold until a poll sent after this
      // refusal answers.
      account_.full_until_fresh_poll = true;
      ++account_.concurrency_429s;
      poll_concurrency();
      break;
    case StartReason::credits:
      credits_low_all("POST /calls/start refused: " + r.message);
      // The last balance reading predates the refusal: read it again now, not at the
      // next credit_poll_interval (general bucket; status shows the fresh figure).
      poll_config();
      break;
    case StartReason::provider:
      providers_.cool_down(provider, t);
      spdlog::warn("provider {} refused ({}); skipped for {}", to_string(provider), r.message,
                   format_duration(options_.provider_cooldown));
      break;
    case StartReason::auth:
    case StartReason::account:
      block_account(r.reason == StartReason::auth ? AccountBlock::auth : AccountBlock::account,
                    r.message);
      break;
    case StartReason::rate:
      break;  // the platform froze the bucket; the token timer resumes dispatch
    case StartReason::bad_number:
      maybe_drained(c);
      break;
    case StartReason::none:
    case StartReason::not_found:
    case StartReason::validation:
    case StartReason::server:
    case StartReason::network:
      note_failure(c, describe(r));
      break;
  }
}

// A call may exist: the attempt is ambiguous and its contact stays claimed until reconciled.
void Scheduler::Impl::start_ambiguous(OpenAttempt& a, CampaignRt& c, const StartResult& r,
                                      TimePoint t) {
  const std::int64_t attempt_id = a.id;
  const std::int64_t contact_id = a.contact.id;
  ++stats_.ambiguous;
  auto tx = store_.begin();
  if (tx) {
    // The request went out no later than its answer came back: recording that instant
    // as sent_at can only make a proof of absence wait longer, never come too early.
    if (auto m = attempts_.mark_sent(attempt_id, t); !m) {
      spdlog::error("attempt {}: sent_at not stored: {}", attempt_id, m.error().what());
    }
    if (auto m = lifecycle_.attempt(
            attempt_id, AttemptState::reserved, AttemptEvent::ambiguous,
            {.error_code = std::string(to_string(r.reason)), .error = r.message}, t);
        !m) {
      // The store keeps it reserved: recovery treats it as ambiguous all the same.
      spdlog::error("attempt {}: ambiguity not stored: {}", attempt_id, m.error().what());
    }
    if (auto w = lifecycle_.contact(contact_id, ContactState::dialing,
                                    ContactEvent::ambiguous_start, {}, t);
        !w) {
      spdlog::error("contact {}: {}", contact_id, w.error().what());
    }
    if (auto cm = tx->commit(); !cm) {
      spdlog::error("attempt {}: {}", attempt_id, cm.error().what());
    }
  }
  a.state = AttemptState::ambiguous;
  a.ambiguous_since = t;
  a.absent_after = t + options_.request_timeout + options_.absent_grace;
  open_.ambiguous.insert(attempt_id);
  spdlog::warn(
      "campaign {}: attempt {} ambiguous ({}); contact {} stays claimed until "
      "reconciled",
      c.name(), attempt_id, describe(r), contact_id);
  // A timeout or reset on the way is not a refusal from the API: only answers count
  // toward the circuit breaker.
  if (r.reason != StartReason::network) note_failure(c, describe(r));
}

void Scheduler::Impl::skip_if_stopped(const CampaignRt& c, std::int64_t contact_id, TimePoint t) {
  if (!dialer::is_terminal(c.row.state)) return;
  // Queued again after the campaign was stopped: nothing will dial it any more.
  auto w = lifecycle_.contact(contact_id, ContactState::queued, ContactEvent::campaign_stopped,
                              {.reason = "stopped"}, t);
  if (!w) spdlog::error("contact {}: {}", contact_id, w.error().what());
}

std::optional<TimePoint> Scheduler::Impl::requested_callback(CampaignRt& c,
                                                             const store::ContactRow& contact,
                                                             Outcome outcome,
                                                             std::string_view session_json,
                                                             TimePoint t) {
  const std::string& key = c.spec().callback_field;
  if (key.empty() || session_json.empty() || outcome == Outcome::blocked) return std::nullopt;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(session_json, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto* x = doc.get_object().if_contains("extraction");
  const auto* values =
      x != nullptr && x->is_object() ? x->get_object().if_contains("values") : nullptr;
  const auto* v =
      values != nullptr && values->is_object() ? values->get_object().if_contains(key) : nullptr;
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto ignored = [&](const std::string& why) -> std::optional<TimePoint> {
    spdlog::info("campaign {}: contact {}: callback {} ignored: {}", c.name(), contact.id,
                 v->is_string() ? std::string(v->get_string()) : boost::json::serialize(*v), why);
    return std::nullopt;
  };
  if (!v->is_string()) return ignored("not a time");
  const std::string_view text = v->get_string();
  // The contact's own zone (its first), else the campaign's, reads a local time.
  const std::string zones = contact.zones.empty() ? c.spec().timezone : contact.zones;
  const auto zone = zones_.locate(zones.substr(0, zones.find(',')));
  auto at = parse_callback_time(text, zone ? *zone : c.zone);
  if (!at) return ignored("expected ISO 8601 or local YYYY-MM-DD HH:MM");
  if (*at <= t) return ignored("in the past");
  if (*at > t + kMaxCallbackAhead) return ignored("more than 30 days ahead");
  if (contact.attempts >= c.spec().max_attempts) return ignored("max_attempts used up");
  // Outside the calling window: the window's next opening.
  const auto lookup = window_for(c, contact.zones);
  if (!lookup.window) return ignored("the contact's zone is unknown");
  if (!lookup.window->allowed(*at)) {
    const auto opens = lookup.window->next_opening(*at);
    if (!opens) return ignored("the calling window never opens");
    at = *opens;
  }
  return at;
}

Result<void> Scheduler::Impl::close_contact(CampaignRt& c, const store::ContactRow& contact,
                                            Outcome outcome, TimePoint t, ContactState from,
                                            std::string_view session_json) {
  auto counts = attempts_.count_by_outcome(contact.id);
  if (!counts) return counts.error();
  // An unknown zone has no window here: dispatch will not call the contact while it stays
  // unknown, whatever next_attempt_at says.
  const auto window = window_for(c, contact.zones).window;
  auto d = decide_retry(outcome, *counts, contact.attempts, RetrySettings::of(c.spec()),
                        window.get(), rng_, t);
  // A callback the callee asked for: queued for that time whatever the outcome's retry rule
  // says; it counts toward max_attempts (checked), not toward that rule.
  const auto callback = requested_callback(c, contact, outcome, session_json, t);
  if (callback) {
    d.action = RetryAction::retry;
    d.next_attempt_at = *callback;
  }
  store::ContactChange u{.reason = callback ? "callback" : "",
                         .attempts = contact.attempts,
                         .next_attempt_at = contact.next_attempt_at,
                         .last_outcome = outcome};
  ContactEvent ev = ContactEvent::outcome_retry;
  switch (d.action) {
    case RetryAction::done:
      ev = ContactEvent::outcome_completed;
      break;
    case RetryAction::skipped:
      u.reason = std::string(d.reason);
      ev = ContactEvent::outcome_blocked;
      break;
    case RetryAction::exhausted:
      u.reason = std::string(d.reason);
      ev = ContactEvent::outcome_exhausted;
      break;
    case RetryAction::retry:
      u.next_attempt_at = d.next_attempt_at;
      break;
  }
  auto w = lifecycle_.contact(contact.id, from, ev, u, t);
  if (!w) return w.error();
  if (!*w) {
    spdlog::warn("contact {}: not {} when its outcome arrived; left as it is", contact.id,
                 to_string(from));
    return {};
  }
  if (d.action != RetryAction::retry) c.finished.add(t);
  // The campaign was stopped while this call was in flight: no retry.
  if (d.action == RetryAction::retry) skip_if_stopped(c, contact.id, t);
  if (d.add_to_dnc) {
    const std::array<std::string, 1> phones{contact.phone};
    if (auto r = dnc_.add(phones, "blocked", "blocked", t); !r) return r.error();
    auto skipped = lifecycle_.skip_queued_number(contact.phone, "dnc", t);
    if (!skipped) return skipped.error();
    spdlog::info("contact {}: blocked; number added to the DNC list ({} queued contacts skipped)",
                 contact.id, *skipped);
  }
  spdlog::debug("contact {}: outcome {} → {}{}", contact.id, to_string(outcome), to_string(ev),
                d.action == RetryAction::retry ? " at " + format_iso8601(*u.next_attempt_at) : "");
  return {};
}

}  // namespace dialer::scheduler
