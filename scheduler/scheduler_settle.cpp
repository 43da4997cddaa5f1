// Settling: the answer to each POST /calls/start, outcomes from webhooks and polls (retry
// policy, credits, DNC on blocked), lost calls, and the webhook inbox.

#include "scheduler/scheduler_impl.hpp"
#include "store/scheduler_queries.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace dialer::scheduler {
namespace {

/// Failed-start messages kept per campaign for the circuit breaker's log line.
constexpr std::size_t kLastErrors = 3;

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

}  // namespace

void Scheduler::Impl::track_started(OpenAttempt& a, TimePoint started_at) {
  a.state = AttemptState::started;
  a.started_at = started_at;
  if (!a.call_id.empty()) by_call_id_[a.call_id] = a.id;
  if (!a.session_id.empty()) by_session_id_[a.session_id] = a.id;
  add_deadline(started_at + options_.reconcile_after, a.id, false);
  add_deadline(started_at + options_.stale_call_timeout, a.id, true);
}

void Scheduler::Impl::release(OpenAttempt& a) {
  remove_deadlines(a.id);
  ambiguous_.erase(a.id);
  overdue_reported_.erase(a.id);
  poll_queue_.erase(a.id);
  if (!a.call_id.empty()) by_call_id_.erase(a.call_id);
  if (!a.session_id.empty()) by_session_id_.erase(a.session_id);
  if (CampaignRt* c = campaign_by_id(a.campaign_id)) --c->in_flight;
  --in_flight_;
  open_.erase(a.id);  // `a` is gone from here on
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
  outstanding_starts_.erase(attempt_id);
  if (metrics_) metrics_->starts[static_cast<std::size_t>(r.kind)]->Increment();
  auto it = open_.find(attempt_id);
  if (it == open_.end()) {
    // Already settled by an outcome that matched it while the start was outstanding.
    spdlog::debug("attempt {}: start answer after the attempt closed: {}", attempt_id, describe(r));
  } else {
    OpenAttempt& a = it->second;
    a.start_outstanding = false;
    CampaignRt& c = campaigns_.at(a.campaign_id);
    const TimePoint t = now();
    const std::int64_t contact_id = a.contact.id;
    switch (r.kind) {
      case StartKind::started: {
        ++stats_.started;
        c.starts.add(t);
        auto tx = store::Transaction::begin(db_);
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
        for (std::size_t i = 0; i < parked_.size(); ++i) {
          const auto& o = parked_[i].outcome;
          if ((!o.call_id.empty() && o.call_id == r.call_id) ||
              (!o.session_id.empty() && o.session_id == r.session_id)) {
            auto entry = std::move(parked_[i]);
            parked_.erase(parked_.begin() + static_cast<std::ptrdiff_t>(i));
            apply_outcome(entry.inbox_id, entry.outcome, OutcomeSource::webhook, false);
            break;
          }
        }
        break;
      }
      case StartKind::rejected:
      case StartKind::not_sent: {
        const bool number = r.kind == StartKind::rejected && r.reason == StartReason::bad_number;
        if (r.kind == StartKind::rejected) {
          ++stats_.rejected;
        } else {
          ++stats_.not_sent;
        }
        const std::string code = r.kind == StartKind::not_sent ? std::string("network")
                                                               : std::string(to_string(r.reason));
        const Provider provider = a.provider;
        {
          auto tx = store::Transaction::begin(db_);
          auto marked =
              tx ? lifecycle_.attempt(
                       attempt_id, AttemptState::reserved, AttemptEvent::refused,
                       {.counted = number, .ended_at = t, .error_code = code, .error = r.message},
                       t)
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
          break;
        }
        switch (r.reason) {
          case StartReason::concurrency:
            // The server is full whatever our last poll said: hold until a poll sent after this
            // refusal answers.
            full_until_fresh_poll_ = true;
            ++concurrency_429s_;
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
            block_account(
                r.reason == StartReason::auth ? AccountBlock::auth : AccountBlock::account,
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
        break;
      }
      case StartKind::ambiguous: {
        ++stats_.ambiguous;
        auto tx = store::Transaction::begin(db_);
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
        ambiguous_.insert(attempt_id);
        spdlog::warn(
            "campaign {}: attempt {} ambiguous ({}); contact {} stays claimed until "
            "reconciled",
            c.name(), attempt_id, describe(r), contact_id);
        // A timeout or reset on the way is not a refusal from the API: only answers count
        // toward the circuit breaker.
        if (r.reason != StartReason::network) note_failure(c, describe(r));
        break;
      }
    }
  }
  flush_parked();
  check_shutdown_done();
  request_dispatch();
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

void Scheduler::Impl::skip_if_stopped(const CampaignRt& c, std::int64_t contact_id, TimePoint t) {
  if (!dialer::is_terminal(c.row.state)) return;
  // Queued again after the campaign was stopped: nothing will dial it any more.
  auto w = lifecycle_.contact(contact_id, ContactState::queued, ContactEvent::campaign_stopped,
                              {.reason = "stopped"}, t);
  if (!w) spdlog::error("contact {}: {}", contact_id, w.error().what());
}

void Scheduler::Impl::mark_inbox_applied(std::int64_t inbox_id) {
  if (inbox_id <= 0) return;
  if (auto r = inbox_.mark_applied(inbox_id, now()); !r) {
    spdlog::error("inbox {}: {}", inbox_id, r.error().what());
  }
}

void Scheduler::Impl::flush_parked() {
  if (parked_.empty()) return;
  const std::int64_t oldest_outstanding = outstanding_starts_.empty()
                                              ? std::numeric_limits<std::int64_t>::max()
                                              : *outstanding_starts_.begin();
  std::vector<Parked> due;
  std::erase_if(parked_, [&](Parked& p) {
    if (p.last_outstanding >= oldest_outstanding) return false;
    due.push_back(std::move(p));
    return true;
  });
  // Every start that could have created these calls has been answered: they are not ours.
  for (auto& p : due) apply_outcome(p.inbox_id, p.outcome, OutcomeSource::webhook, false);
}

void Scheduler::Impl::apply_late_outcome(const store::AttemptRow& row, std::int64_t inbox_id,
                                         const SessionOutcome& o, OutcomeSource source) {
  // The attempt was closed as `lost` and its contact went through the retry policy. The real
  // outcome is applied as if it had come in time (STATE-MACHINES.md, "lost"): the attempt is
  // finished with it (so it replaces `lost` in the retry counts), a contact still waiting for its
  // retry is decided again — `completed` makes it done, `blocked` skips it — and `blocked` puts
  // the number on the DNC list whatever the contact's state. A contact already dialled again, or
  // terminal, keeps its state. The spend is real either way.
  const auto outcome = o.outcome();
  if (!outcome) {
    if (source == OutcomeSource::webhook) mark_inbox_applied(inbox_id);
    return;  // still running by this report: nothing to apply
  }
  const double credits = o.credits_used.value_or(0);
  CampaignRt* c = campaign_by_id(row.campaign_id);
  const TimePoint t = now();
  auto tx = store::Transaction::begin(db_);
  if (!tx) {
    spdlog::error("late outcome of attempt {}: {}", row.id, tx.error().what());
    return;
  }
  auto fail = [&](const Error& e) {
    spdlog::error("late outcome of attempt {}: {}", row.id, e.what());
  };
  if (auto fin =
          lifecycle_.attempt(row.id, AttemptState::lost, AttemptEvent::outcome,
                             store::AttemptChange::finished(finished_call(o, *outcome, t)), t);
      !fin) {
    return fail(fin.error());
  }
  std::string contact_now = "unknown";
  auto contact = contacts_.get(row.contact_id);
  if (!contact) return fail(contact.error());
  if (*contact && c != nullptr) {
    contact_now = std::string(to_string((*contact)->state));
    if ((*contact)->state == ContactState::queued) {
      if (auto r = close_contact(*c, **contact, *outcome, t, ContactState::queued); !r) {
        return fail(r.error());
      }
    } else if (*outcome == Outcome::blocked) {
      const std::array<std::string, 1> phones{row.to_number};
      if (auto r = dnc_.add(phones, "blocked", "blocked", t); !r) return fail(r.error());
      if (auto r = lifecycle_.skip_queued_number(row.to_number, "dnc", t); !r) {
        return fail(r.error());
      }
    }
  }
  if (credits > 0 && c != nullptr) {
    if (auto r = campaigns_repo_.add_credits_used(c->id(), credits); !r) return fail(r.error());
  }
  if (inbox_id > 0) {
    if (auto r = inbox_.mark_applied(inbox_id, t); !r) return fail(r.error());
  } else if (source == OutcomeSource::poll) {
    auto r = store::record_polled_session(db_, o.session_id, o.call_id, o.raw_json, t);
    if (!r) return fail(r.error());
  }
  if (auto r = tx->commit(); !r) return fail(r.error());
  spdlog::info(
      "attempt {}: outcome {} arrived after it was closed as lost; applied (contact "
      "was {}, {} credits)",
      row.id, to_string(*outcome), contact_now, credits);
  if (metrics_) metrics_->outcomes[static_cast<std::size_t>(*outcome)]->Increment();
  if (c != nullptr) {
    c->row.credits_used += credits;
    maybe_budget(*c);
    maybe_drained(*c);
  }
  request_dispatch();
}

bool Scheduler::Impl::apply_outcome(std::int64_t inbox_id, const SessionOutcome& o,
                                    OutcomeSource source, bool may_park) {
  OpenAttempt* a = nullptr;
  if (!o.call_id.empty()) {
    if (auto it = by_call_id_.find(o.call_id); it != by_call_id_.end()) a = &open_.at(it->second);
  }
  if (a == nullptr && !o.session_id.empty()) {
    if (auto it = by_session_id_.find(o.session_id); it != by_session_id_.end()) {
      a = &open_.at(it->second);
    }
  }
  if (a == nullptr) {
    std::optional<store::AttemptRow> row;
    if (!o.call_id.empty()) {
      if (auto r = attempts_.find_by_call_id(o.call_id); r) row = std::move(*r);
    }
    if (!row && !o.session_id.empty()) {
      if (auto r = attempts_.find_by_session_id(o.session_id); r) row = std::move(*r);
    }
    if (row) {
      if (row->state == AttemptState::lost) {
        apply_late_outcome(*row, inbox_id, o, source);
      } else {
        spdlog::debug("session {}: attempt {} already {}; duplicate ignored", o.session_id, row->id,
                      to_string(row->state));
        mark_inbox_applied(inbox_id);
      }
      return true;
    }
  }
  if (a == nullptr && !o.call_id.empty() && !o.to_number.empty()) {
    // An ambiguous start whose call shows up in an outcome: it existed. Only an unequivocal
    // match counts (one ambiguous attempt for that number and agent).
    OpenAttempt* match = nullptr;
    int matches = 0;
    for (std::int64_t id : ambiguous_) {
      OpenAttempt& cand = open_.at(id);
      if (cand.contact.phone == o.to_number &&
          (o.agent_id.empty() || same_uuid(cand.agent_id, o.agent_id))) {
        match = &cand;
        ++matches;
      }
    }
    if (matches == 1) a = match;
  }
  if (a == nullptr) {
    if (may_park && source == OutcomeSource::webhook && !outstanding_starts_.empty() &&
        parked_.size() < kMaxParked) {
      parked_.push_back({inbox_id, o, *outstanding_starts_.rbegin()});
      return true;
    }
    spdlog::warn("session {} (call {}): no attempt of ours; ignored", o.session_id,
                 o.call_id.empty() ? "-" : o.call_id);
    mark_inbox_applied(inbox_id);
    return true;
  }

  auto outcome = o.outcome();
  if (!outcome) {
    if (source == OutcomeSource::poll) return false;  // still running
    spdlog::warn("session {}: completed without a final call status; counted as failed",
                 o.session_id);
    outcome = Outcome::failed;
  }
  CampaignRt& c = campaigns_.at(a->campaign_id);
  const TimePoint t = now();
  const double credits = o.credits_used.value_or(0);
  const AttemptState was = a->state;
  {
    auto tx = store::Transaction::begin(db_);
    if (!tx) {
      spdlog::error("outcome of attempt {}: {}", a->id, tx.error().what());
      return true;
    }
    auto fail = [&](const Error& e) {
      spdlog::error("outcome of attempt {}: {}", a->id, e.what());
      return true;
    };
    if (was == AttemptState::ambiguous || was == AttemptState::reserved) {
      auto m = record_started(*a, o.call_id, o.session_id, a->reserved_at, t);
      if (!m) return fail(m.error());
      a->contact.attempts += 1;
      a->contact.state = ContactState::in_call;
    }
    auto fin = lifecycle_.attempt(a->id, AttemptState::started, AttemptEvent::outcome,
                                  store::AttemptChange::finished(finished_call(o, *outcome, t)), t);
    if (!fin) return fail(fin.error());
    if (auto r = close_contact(c, a->contact, *outcome, t, ContactState::in_call, o.raw_json); !r) {
      return fail(r.error());
    }
    if (credits > 0) {
      if (auto r = campaigns_repo_.add_credits_used(c.id(), credits); !r) return fail(r.error());
    }
    if (inbox_id > 0) {
      if (auto r = inbox_.mark_applied(inbox_id, t); !r) return fail(r.error());
    } else if (source == OutcomeSource::poll) {
      auto r = store::record_polled_session(db_, o.session_id, o.call_id, o.raw_json, t);
      if (!r) return fail(r.error());
    }

    // The slot is free: refill it inside this same transaction (one commit, one fsync, for the
    // outcome and the next claims); their requests go out once it has committed.
    handoff_from_ = std::chrono::steady_clock::now();
    if (source == OutcomeSource::webhook && a->started_at) note_hold(t - *a->started_at);
    const OpenAttempt finished = *a;
    c.row.credits_used += credits;
    release(*a);
    a = nullptr;
    maybe_budget(c);
    maybe_drained(c);
    std::vector<StartRequest> claims;
    const bool refill = !startup_drain_ && deferred_starts_ == nullptr;
    if (refill) {
      deferred_starts_ = &claims;
      dispatch_pass();
      deferred_starts_ = nullptr;
    }
    if (auto r = tx->commit(); !r) {
      spdlog::error("outcome of attempt {}: {}", finished.id, r.error().what());
      undo_failed_outcome(finished, credits, claims);
      return true;
    }
    if (was == AttemptState::ambiguous) {
      ++stats_.reconciled_found;
      if (metrics_) metrics_->found->Increment();
      spdlog::info("attempt {}: ambiguous start settled by its outcome (call {})", finished.id,
                   o.call_id);
    }
    ++stats_.outcomes_applied;
    if (metrics_) metrics_->outcomes[static_cast<std::size_t>(*outcome)]->Increment();
    if (metrics_) {
      auto& per_outcome = c.m_outcomes[static_cast<std::size_t>(*outcome)];
      if (per_outcome == nullptr) {
        per_outcome = &metrics_->campaign_outcomes->Add(
            {{"campaign", c.name()}, {"outcome", std::string(to_string(*outcome))}});
      }
      per_outcome->Increment();
      if (credits > 0) {
        if (c.m_credits == nullptr) {
          c.m_credits = &metrics_->campaign_credits->Add({{"campaign", c.name()}});
        }
        metrics_->credits_spent->Increment(credits);
        c.m_credits->Increment(credits);
      }
    }
    if (source == OutcomeSource::poll) {
      ++stats_.outcomes_polled;
      polled_outcomes_.add(t);
      if (metrics_) metrics_->polled->Increment();
    }
    spdlog::debug("campaign {}: attempt {} finished: {}", c.name(), finished.id,
                  to_string(*outcome));
    // No refill: nothing is handed over, so no handoff to measure.
    if (claims.empty()) handoff_from_.reset();
    for (auto& req : claims) send_start(std::move(req));
    if (!refill) request_dispatch();
  }
  check_shutdown_done();
  return true;
}

void Scheduler::Impl::undo_failed_outcome(const OpenAttempt& finished, double credits,
                                          const std::vector<StartRequest>& claims) {
  // The rollback took the outcome and the claims back out of the store; take them out of
  // memory too. Rare (disk full, I/O error): correctness over speed.
  for (const auto& req : claims) {
    outstanding_starts_.erase(req.attempt_id);
    if (auto it = open_.find(req.attempt_id); it != open_.end()) release(it->second);
  }
  CampaignRt* c = campaign_by_id(finished.campaign_id);
  if (c != nullptr) c->row.credits_used -= credits;
  OpenAttempt restored = finished;
  restored.poll_at.reset();
  restored.stale_at.reset();
  restored.poll = PollState::none;
  const TimePoint started_at = restored.started_at.value_or(restored.reserved_at);
  auto [it, inserted] = open_.emplace(restored.id, std::move(restored));
  if (inserted) {
    ++in_flight_;
    if (c != nullptr) ++c->in_flight;
    OpenAttempt& a = it->second;
    if (a.state == AttemptState::started) {
      track_started(a, started_at);
    } else if (a.state == AttemptState::ambiguous) {
      ambiguous_.insert(a.id);
    }
  }
  // Campaign transitions made inside the failed transaction (budget, drained) were rolled back.
  for (auto& [id, camp] : campaigns_) {
    auto row = campaigns_repo_.get(id);
    if (row && *row) {
      camp.row.state = (*row)->state;
      camp.row.pause_reason = (*row)->pause_reason;
      camp.row.credits_used = (*row)->credits_used;
    }
  }
  request_dispatch();
}

void Scheduler::Impl::on_lost(std::int64_t attempt_id) {
  auto it = open_.find(attempt_id);
  if (it == open_.end() || it->second.state != AttemptState::started) return;
  OpenAttempt& a = it->second;
  CampaignRt& c = campaigns_.at(a.campaign_id);
  const TimePoint t = now();
  if (a.live_at_last_poll) {
    // The platform said it is still in progress: it keeps its slot (and its person), and is
    // lost only if the next poll no longer says so.
    a.live_at_last_poll = false;
    const TimePoint next = t + options_.reconcile_after + kPollRetry;
    add_deadline(next, attempt_id, true);
    spdlog::info(
        "campaign {}: attempt {} (call {}) still in progress at the last poll after {}; "
        "its deadline moves to {}",
        c.name(), attempt_id, a.call_id, format_duration(options_.stale_call_timeout),
        format_iso8601(next));
    return;
  }
  {
    auto tx = store::Transaction::begin(db_);
    if (!tx) {
      spdlog::error("attempt {}: {}", attempt_id, tx.error().what());
      return;
    }
    auto m = lifecycle_.attempt(attempt_id, AttemptState::started, AttemptEvent::timed_out,
                                {.counted = true, .ended_at = t, .outcome = Outcome::lost}, t);
    if (!m) {
      spdlog::error("attempt {}: {}", attempt_id, m.error().what());
      return;
    }
    if (auto r = close_contact(c, a.contact, Outcome::lost, t); !r) {
      spdlog::error("attempt {}: {}", attempt_id, r.error().what());
      return;
    }
    if (auto r = tx->commit(); !r) {
      spdlog::error("attempt {}: {}", attempt_id, r.error().what());
      return;
    }
  }
  ++stats_.lost;
  if (metrics_) metrics_->outcomes[static_cast<std::size_t>(Outcome::lost)]->Increment();
  spdlog::warn("campaign {}: attempt {} (call {}) has no outcome after {}: lost", c.name(),
               attempt_id, a.call_id, format_duration(options_.stale_call_timeout));
  release(a);
  maybe_drained(c);
  request_dispatch();
}

void Scheduler::Impl::report_overdue_ambiguous(TimePoint t) {
  for (std::int64_t id : ambiguous_) {
    const OpenAttempt& a = open_.at(id);
    if (t - a.ambiguous_since < options_.stale_call_timeout || overdue_reported_.contains(id)) {
      continue;
    }
    overdue_reported_.insert(id);
    const CampaignRt* c = campaign_by_id(a.campaign_id);
    spdlog::error(
        "campaign {}: attempt {} (contact {}) has been ambiguous since {}: no listing could "
        "settle it, so its contact stays claimed; settle it with `dialerctl attempt resolve {} "
        "--as void` (no call was made) or `--as lost` (a call may have been made)",
        c != nullptr ? c->name() : std::to_string(a.campaign_id), id, a.contact.id,
        format_iso8601(a.ambiguous_since), id);
  }
}

Result<void> Scheduler::Impl::resolve_attempt(std::int64_t attempt_id, Resolution as,
                                              std::string_view actor) {
  auto it = open_.find(attempt_id);
  if (it == open_.end() || it->second.state != AttemptState::ambiguous) {
    auto row = attempts_.get(attempt_id);
    if (!row) return row.error();
    if (!*row) return Error{errc::not_found, "no attempt " + std::to_string(attempt_id)};
    return Error{errc::conflict, "attempt " + std::to_string(attempt_id) + " is " +
                                     std::string(to_string((*row)->state)) +
                                     ": only an ambiguous attempt can be resolved"};
  }
  OpenAttempt& a = it->second;
  if (a.start_outstanding) {
    return Error{errc::conflict, "attempt " + std::to_string(attempt_id) +
                                     ": its start request is still waiting for an answer"};
  }
  const std::int64_t campaign_id = a.campaign_id;
  spdlog::warn("attempt {}: resolved as {} by {}", attempt_id,
               as == Resolution::void_ ? "void" : "lost", actor);
  if (as == Resolution::void_) {
    settle_void(a, AttemptEvent::resolved_void);
    if (open_.contains(attempt_id)) {
      return Error{errc::db_error,
                   "attempt " + std::to_string(attempt_id) + ": could not be voided (see the log)"};
    }
    request_dispatch();
    return {};
  }
  CampaignRt& c = campaigns_.at(campaign_id);
  const TimePoint t = now();
  {
    auto tx = store::Transaction::begin(db_);
    if (!tx) return tx.error();
    auto m = lifecycle_.attempt(attempt_id, AttemptState::ambiguous, AttemptEvent::resolved_lost,
                                {.counted = true, .ended_at = t, .outcome = Outcome::lost}, t);
    if (!m) return m.error();
    if (!*m)
      return Error{errc::conflict, "attempt " + std::to_string(attempt_id) +
                                       " is no longer ambiguous in the store"};
    store::ContactRow contact = a.contact;
    contact.attempts += 1;  // a call may have been made: it counts
    if (auto r = close_contact(c, contact, Outcome::lost, t, ContactState::dialing); !r) {
      return r.error();
    }
    if (auto r = tx->commit(); !r) return r.error();
  }
  ++stats_.lost;
  if (metrics_) metrics_->outcomes[static_cast<std::size_t>(Outcome::lost)]->Increment();
  release(a);
  maybe_drained(c);
  request_dispatch();
  return {};
}

void Scheduler::Impl::on_session_completed(std::int64_t inbox_id, const SessionOutcome& outcome) {
  if (stopped_) return;
  if (!recovered_) return;  // recover() applies every unapplied inbox row in order
  apply_outcome(inbox_id, outcome, OutcomeSource::webhook);
}

void Scheduler::Impl::inbox_updated() {
  if (inbox_posted_ || stopped_ || !recovered_) return;
  inbox_posted_ = true;
  ex_.post(guard([this] {
    inbox_posted_ = false;
    drain_inbox();
  }));
}

void Scheduler::Impl::drain_inbox() {
  constexpr std::size_t kPage = 256;
  // A cursor, not "the first page of unapplied rows": parked rows (and rows whose application
  // failed) stay unapplied, and a page of them must not hide the rows behind it.
  std::int64_t last = 0;
  for (;;) {
    auto rows = inbox_.unapplied_after(last, kPage);
    if (!rows) {
      spdlog::error("inbox: {}", rows.error().what());
      return;
    }
    bool progressed = false;
    for (const auto& row : *rows) {
      last = row.id;
      progressed = true;
      const bool parked = std::any_of(parked_.begin(), parked_.end(),
                                      [&](const Parked& p) { return p.inbox_id == row.id; });
      if (parked) continue;
      if (!parse_session_) {
        spdlog::error("inbox {}: no session parser configured", row.id);
        return;
      }
      auto o = parse_session_(row.event.body);
      if (!o) {
        spdlog::error("inbox {}: {}; marked applied without effect", row.id, o.error().what());
        mark_inbox_applied(row.id);
        continue;
      }
      apply_outcome(row.id, *o, OutcomeSource::webhook);
    }
    if (!progressed || rows->size() < kPage) return;
  }
}

}  // namespace dialer::scheduler
