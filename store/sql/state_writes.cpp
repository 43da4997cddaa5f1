#include "store/sql/state_writes.hpp"

namespace dialer::store {
namespace {

/// "" is "keep" for the text columns a change carries from an API answer.
std::optional<std::string_view> keep_if_empty(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  return std::string_view{*s};
}

Result<bool> wrote_one(const Result<std::int64_t>& n) {
  if (!n) return n.error();
  return *n == 1;
}

constexpr std::string_view kContactMove =
    "UPDATE contacts SET state = ?1, reason = coalesce(?2, reason),"
    " attempts = coalesce(?3, attempts), next_attempt_at = coalesce(?4, next_attempt_at),"
    " last_outcome = coalesce(?5, last_outcome), updated_at = ?6 WHERE id = ?7 AND state = ?8";

}  // namespace

Result<bool> SqlStateWrites::contact(std::int64_t contact_id, ContactState from, ContactState to,
                                     const ContactChange& c, TimePoint now, NumberGuard guard) {
  // The open attempts are few (bounded by the concurrency limit) and indexed (attempts_open),
  // so the NOT EXISTS costs a short scan of that partial index.
  static const std::string guarded =
      std::string(kContactMove) +
      " AND NOT EXISTS (SELECT 1 FROM attempts INDEXED BY attempts_open"
      " WHERE attempts.state IN ('reserved','started','ambiguous')"
      " AND attempts.to_number = contacts.phone)";
  const std::string_view sql = guard == NumberGuard::none ? kContactMove : guarded;
  return wrote_one(db_.execute(sql, to, c.reason, c.attempts, c.next_attempt_at, c.last_outcome,
                               now, contact_id, from));
}

Result<std::int64_t> SqlStateWrites::contacts_of_campaign(std::int64_t campaign_id,
                                                          ContactState from, ContactState to,
                                                          std::string_view reason, TimePoint now) {
  return db_.execute(
      "UPDATE contacts SET state = ?, reason = ?, updated_at = ?"
      " WHERE campaign_id = ? AND state = ?",
      to, reason, now, campaign_id, from);
}

Result<std::int64_t> SqlStateWrites::contacts_with_phone(std::string_view phone, ContactState from,
                                                         ContactState to, std::string_view reason,
                                                         TimePoint now) {
  // campaign_id IN (…) lets SQLite seek the UNIQUE (campaign_id, phone) index once per
  // campaign; there is deliberately no index on phone alone (see store/schema.cpp).
  return db_.execute(
      "UPDATE contacts SET state = ?, reason = ?, updated_at = ?"
      " WHERE campaign_id IN (SELECT id FROM campaigns) AND phone = ? AND state = ?",
      to, reason, now, phone, from);
}

Result<bool> SqlStateWrites::attempt(std::int64_t attempt_id, AttemptState from, AttemptState to,
                                     const AttemptChange& c) {
  return wrote_one(db_.execute(
      "UPDATE attempts SET state = ?1, counted = coalesce(?2, counted),"
      " call_id = coalesce(?3, call_id), session_id = coalesce(?4, session_id),"
      " started_at = coalesce(?5, started_at), ended_at = coalesce(?6, ended_at),"
      " error_code = coalesce(?7, error_code), error = coalesce(?8, error),"
      " status = coalesce(?9, status), disposition = coalesce(?10, disposition),"
      " outcome = coalesce(?11, outcome), answered_by = coalesce(?12, answered_by),"
      " duration_seconds = coalesce(?13, duration_seconds),"
      " credits_used = coalesce(?14, credits_used), result = coalesce(?15, result)"
      " WHERE id = ?16 AND state = ?17",
      to, c.counted, keep_if_empty(c.call_id), keep_if_empty(c.session_id), c.started_at,
      c.ended_at, c.error_code, c.error, c.status, c.disposition, c.outcome, c.answered_by,
      c.duration_seconds, c.credits_used, keep_if_empty(c.result_json), attempt_id, from));
}

Result<std::int64_t> SqlStateWrites::insert_attempt(AttemptState state, std::int64_t campaign_id,
                                                    std::int64_t contact_id, Provider provider,
                                                    std::string_view to_number,
                                                    std::string_view agent_id,
                                                    TimePoint reserved_at) {
  return db_.query_int64(
      "INSERT INTO attempts (campaign_id, contact_id, state, provider, to_number, agent_id,"
      " reserved_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      campaign_id, contact_id, state, provider, to_number, agent_id, reserved_at);
}

}  // namespace dialer::store
