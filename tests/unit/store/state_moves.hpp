#pragma once
// The store's state writes as the store tests use them: the moves scheduler::Lifecycle makes,
// each with the from-states the transition tables allow for it (the store tests cannot link the
// scheduler). One guarded StateWrites statement per try.

#include "store/contact_repo.hpp"
#include "store/state_writes.hpp"
#include "store/store.hpp"

#include <initializer_list>

namespace dialer::store {

namespace testing {

class StateMoves {
 public:
  explicit StateMoves(Store& store) : store_(store), w_(store.state_writes()) {}

  // --- contacts
  Result<Claim> claim(std::int64_t id, TimePoint now) {
    auto w = w_.contact(id, ContactState::queued, ContactState::dialing, {}, now,
                        NumberGuard::no_open_attempt);
    if (!w) return w.error();
    if (*w) return Claim::claimed;
    auto s = store_.contacts().state_of(id);
    if (!s) return s.error();
    return *s == ContactState::queued ? Claim::number_busy : Claim::not_queued;
  }
  Result<bool> transition(std::int64_t id, ContactState from, ContactState to,
                          const ContactChange& change, TimePoint now) {
    return w_.contact(id, from, to, change, now);
  }
  Result<std::int64_t> skip_queued(std::int64_t campaign_id, std::string_view reason,
                                   TimePoint now) {
    return w_.contacts_of_campaign(campaign_id, ContactState::queued, ContactState::skipped, reason,
                                   now);
  }
  Result<std::int64_t> skip_queued_by_phone(std::string_view phone, std::string_view reason,
                                            TimePoint now) {
    return w_.contacts_with_phone(phone, ContactState::queued, ContactState::skipped, reason, now);
  }

  // --- attempts
  Result<std::int64_t> insert_reserved(std::int64_t campaign_id, std::int64_t contact_id,
                                       Provider provider, std::string_view to_number,
                                       std::string_view agent_id, TimePoint reserved_at) {
    return w_.insert_attempt(AttemptState::reserved, campaign_id, contact_id, provider, to_number,
                             agent_id, reserved_at);
  }
  Result<bool> mark_started(std::int64_t id, std::string_view call_id, std::string_view session_id,
                            TimePoint started_at) {
    return first_of({AttemptState::reserved, AttemptState::ambiguous}, id, AttemptState::started,
                    {.call_id = std::string(call_id),
                     .session_id = std::string(session_id),
                     .started_at = started_at});
  }
  Result<bool> mark_ambiguous(std::int64_t id, std::string_view code, std::string_view error) {
    return first_of({AttemptState::reserved}, id, AttemptState::ambiguous,
                    {.error_code = std::string(code), .error = std::string(error)});
  }
  Result<bool> mark_rejected(std::int64_t id, std::string_view code, std::string_view error,
                             bool counted, TimePoint now) {
    return first_of({AttemptState::reserved}, id, AttemptState::rejected,
                    {.counted = counted,
                     .ended_at = now,
                     .error_code = std::string(code),
                     .error = std::string(error)});
  }
  Result<bool> mark_void(std::int64_t id, TimePoint now) {
    return first_of({AttemptState::ambiguous}, id, AttemptState::void_,
                    {.counted = false, .ended_at = now});
  }
  Result<bool> finish(std::int64_t id, const FinishedCall& call) {
    return first_of({AttemptState::started, AttemptState::lost}, id, AttemptState::finished,
                    AttemptChange::finished(call));
  }
  Result<bool> mark_lost(std::int64_t id, TimePoint now) {
    return first_of({AttemptState::started, AttemptState::ambiguous}, id, AttemptState::lost,
                    {.counted = true, .ended_at = now, .outcome = Outcome::lost});
  }

 private:
  Result<bool> first_of(std::initializer_list<AttemptState> from, std::int64_t id, AttemptState to,
                        const AttemptChange& change) {
    for (AttemptState f : from) {
      auto w = w_.attempt(id, f, to, change);
      if (!w || *w) return w;
    }
    return false;
  }

  Store& store_;
  StateWrites& w_;
};

}  // namespace testing
}  // namespace dialer::store
