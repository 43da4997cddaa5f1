// Settling an outcome (webhook or poll): applied once, in one transaction with the claims it
// frees a slot for; parked while the start that made it may still be unanswered; late ones
// after `lost`; the durable inbox drained in order.

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace dialer::scheduler {

void Scheduler::Impl::mark_inbox_applied(std::int64_t inbox_id) {
  if (inbox_id <= 0) return;
  if (auto r = inbox_.mark_applied(inbox_id, now()); !r) {
    spdlog::error("inbox {}: {}", inbox_id, r.error().what());
  }
}

void Scheduler::Impl::flush_parked() {
  if (open_.parked.empty()) return;
  const std::int64_t oldest_outstanding = open_.outstanding_starts.empty()
                                              ? std::numeric_limits<std::int64_t>::max()
                                              : *open_.outstanding_starts.begin();
  std::vector<Parked> due;
  std::erase_if(open_.parked, [&](Parked& p) {
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
  auto tx = store_.begin();
  if (!tx) {
    spdlog::error("late outcome of attempt {}: {}", row.id, tx.error().what());
    run_.inbox_retry = inbox_id > 0;
    return;
  }
  auto fail = [&](const Error& e) {
    spdlog::error("late outcome of attempt {}: {}", row.id, e.what());
    run_.inbox_retry = inbox_id > 0;
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
    auto r = inbox_.record_polled(o.session_id, o.call_id, o.raw_json, t);
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

OpenAttempt* Scheduler::Impl::match_outcome(std::int64_t inbox_id, const SessionOutcome& o,
                                            OutcomeSource source, bool may_park) {
  OpenAttempt* a = nullptr;
  if (!o.call_id.empty()) {
    if (auto it = open_.by_call_id.find(o.call_id); it != open_.by_call_id.end())
      a = &open_.by_id.at(it->second);
  }
  if (a == nullptr && !o.session_id.empty()) {
    if (auto it = open_.by_session_id.find(o.session_id); it != open_.by_session_id.end()) {
      a = &open_.by_id.at(it->second);
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
      return nullptr;
    }
  }
  if (a == nullptr && !o.call_id.empty() && !o.to_number.empty()) {
    // An ambiguous start whose call shows up in an outcome: it existed. Only an unequivocal
    // match counts (one ambiguous attempt for that number and agent).
    OpenAttempt* match = nullptr;
    int matches = 0;
    for (std::int64_t id : open_.ambiguous) {
      OpenAttempt& cand = open_.by_id.at(id);
      if (cand.contact.phone == o.to_number &&
          (o.agent_id.empty() || same_uuid(cand.agent_id, o.agent_id))) {
        match = &cand;
        ++matches;
      }
    }
    if (matches == 1) a = match;
  }
  if (a == nullptr) {
    if (may_park && source == OutcomeSource::webhook && !open_.outstanding_starts.empty() &&
        open_.parked.size() < kMaxParked) {
      open_.parked.push_back({inbox_id, o, *open_.outstanding_starts.rbegin()});
      return nullptr;
    }
    spdlog::warn("session {} (call {}): no attempt of ours; ignored", o.session_id,
                 o.call_id.empty() ? "-" : o.call_id);
    mark_inbox_applied(inbox_id);
    return nullptr;
  }
  return a;
}

void Scheduler::Impl::count_outcome(CampaignRt& c, Outcome outcome, double credits,
                                    OutcomeSource source, TimePoint t) {
  ++stats_.outcomes_applied;
  if (metrics_) metrics_->outcomes[static_cast<std::size_t>(outcome)]->Increment();
  if (metrics_) {
    auto& per_outcome = c.m_outcomes[static_cast<std::size_t>(outcome)];
    if (per_outcome == nullptr) {
      per_outcome = &metrics_->campaign_outcomes->Add(
          {{"campaign", c.name()}, {"outcome", std::string(to_string(outcome))}});
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
}

bool Scheduler::Impl::apply_outcome(std::int64_t inbox_id, const SessionOutcome& o,
                                    OutcomeSource source, bool may_park) {
  OpenAttempt* a = match_outcome(inbox_id, o, source, may_park);
  if (a == nullptr) return true;

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
    auto tx = store_.begin();
    if (!tx) {
      spdlog::error("outcome of attempt {}: {}", a->id, tx.error().what());
      run_.inbox_retry = inbox_id > 0;
      return true;
    }
    auto fail = [&](const Error& e) {
      spdlog::error("outcome of attempt {}: {}", a->id, e.what());
      run_.inbox_retry = inbox_id > 0;
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
      auto r = inbox_.record_polled(o.session_id, o.call_id, o.raw_json, t);
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
    const bool refill = !run_.startup_drain && dispatch_.deferred_starts == nullptr;
    if (refill) {
      dispatch_.deferred_starts = &claims;
      dispatch_pass();
      dispatch_.deferred_starts = nullptr;
    }
    if (auto r = tx->commit(); !r) {
      spdlog::error("outcome of attempt {}: {}", finished.id, r.error().what());
      undo_failed_outcome(finished, credits, claims);
      run_.inbox_retry = inbox_id > 0;
      return true;
    }
    if (was == AttemptState::ambiguous) {
      ++stats_.reconciled_found;
      if (metrics_) metrics_->found->Increment();
      spdlog::info("attempt {}: ambiguous start settled by its outcome (call {})", finished.id,
                   o.call_id);
    }
    count_outcome(c, *outcome, credits, source, t);
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
    open_.outstanding_starts.erase(req.attempt_id);
    if (auto it = open_.by_id.find(req.attempt_id); it != open_.by_id.end()) release(it->second);
  }
  CampaignRt* c = campaign_by_id(finished.campaign_id);
  if (c != nullptr) c->row.credits_used -= credits;
  OpenAttempt restored = finished;
  restored.poll_at.reset();
  restored.stale_at.reset();
  restored.poll = PollState::none;
  const TimePoint started_at = restored.started_at.value_or(restored.reserved_at);
  auto [it, inserted] = open_.by_id.emplace(restored.id, std::move(restored));
  if (inserted) {
    ++open_.in_flight;
    if (c != nullptr) ++c->in_flight;
    OpenAttempt& a = it->second;
    if (a.state == AttemptState::started) {
      track_started(a, started_at);
    } else if (a.state == AttemptState::ambiguous) {
      open_.ambiguous.insert(a.id);
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

void Scheduler::Impl::on_session_completed(std::int64_t inbox_id, const SessionOutcome& outcome) {
  if (run_.stopped) return;
  if (!run_.recovered) return;  // recover() applies every unapplied inbox row in order
  apply_outcome(inbox_id, outcome, OutcomeSource::webhook);
  // A row whose application failed (a store error) stays unapplied: the drain, which parses
  // the stored bodies, tries every such row again — after each delivery until one drain
  // applies them all, as at startup.
  if (run_.inbox_retry) inbox_updated();
}

void Scheduler::Impl::inbox_updated() {
  if (run_.inbox_posted || run_.stopped || !run_.recovered) return;
  run_.inbox_posted = true;
  ex_.post(guard([this] {
    run_.inbox_posted = false;
    drain_inbox();
  }));
}

void Scheduler::Impl::drain_inbox() {
  constexpr std::size_t kPage = 256;
  run_.inbox_retry = false;
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
      const bool parked = std::any_of(open_.parked.begin(), open_.parked.end(),
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
