#pragma once
/// Private to the scheduler engine: what it keeps per campaign and per open attempt, and the
/// engine's constants. Not for other folders; include scheduler/scheduler.hpp instead.

#include "core/hour_counter.hpp"
#include "scheduler/blocked_by.hpp"
#include "scheduler/call_platform.hpp"
#include "scheduler/calling_window.hpp"
#include "scheduler/scheduler.hpp"
#include "store/attempt_repo.hpp"
#include "store/campaign_repo.hpp"
#include "store/contact_repo.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dialer::scheduler {

/// The calling window of a zone list, or the zone that tzdata cannot resolve (fail closed:
/// nobody in it is called).
struct WindowLookup {
  std::shared_ptr<const CallingWindow> window;  ///< null when unknown_zone is set
  std::string unknown_zone;
};

/// A campaign as the engine keeps it between passes.
struct CampaignRt {
  store::CampaignRow row;
  Zone zone = nullptr;  ///< the campaign's own zone (null when the name is unknown)
  int in_flight = 0;    ///< attempts holding a slot
  int failure_streak = 0;
  std::deque<std::string> last_errors;  ///< the newest few failed-start messages
  /// The error that paused it (pause_reason errors), kept across restarts (kv store).
  std::string pause_error;
  /// A scheduled start that was refused is tried again then.
  std::optional<TimePoint> start_retry_at;
  BlockedBy blocked_by = BlockedBy::not_running();
  /// CallingWindow per stored contact zone list ("" = the campaign zone).
  std::unordered_map<std::string, WindowLookup> windows;
  /// Earliest opening that contacts were deferred to while their window was closed.
  std::optional<TimePoint> deferred_to_window;
  /// Token planning, of the current dispatch pass: it has contacts due now or within the window.
  bool plan_due = false;
  /// Earliest retry of contacts deferred because their number was in another campaign's call.
  std::optional<TimePoint> deferred_busy;
  /// Earliest retry of contacts deferred because a zone of theirs is unknown, and that zone.
  std::optional<TimePoint> deferred_unknown_zone;
  std::string unknown_zone;

  // Per dispatch pass.
  std::deque<store::ContactRow> due;  ///< due contacts fetched and checked in this pass
  bool no_contact = false;            ///< no eligible contact left in this pass
  bool provider_ok = true;            ///< some provider of the campaign is usable now
  bool budget_hit = false;            ///< examined its per-pass budget of contacts
  int examined = 0;

  HourCounter starts;    ///< calls started (watch: last 5 min, last hour)
  HourCounter finished;  ///< contacts a call's outcome made terminal (watch: pace, ETA)

  // Its metric series (campaign label), looked up once.
  prometheus::Gauge* m_in_flight = nullptr;
  prometheus::Counter* m_credits = nullptr;
  std::array<prometheus::Counter*, EnumNames<Outcome>::names.size()> m_outcomes{};

  [[nodiscard]] std::int64_t id() const { return row.id; }
  [[nodiscard]] const CampaignSpec& spec() const { return row.spec; }
  [[nodiscard]] const std::string& name() const { return row.spec.name; }
};

/// Where an attempt's reconciliation / polling stands.
enum class PollState {
  none,         ///< nothing to do before its next deadline
  overdue,      ///< no outcome after reconcile_after: wants a listing or a session poll
  session,      ///< wants GET /sessions/{id}
  outstanding,  ///< GET /sessions/{id} sent
};

/// An attempt holding a slot (reserved, ambiguous, started).
struct OpenAttempt {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  store::ContactRow contact;  ///< as claimed (variables dropped once sent)
  AttemptState state = AttemptState::reserved;
  Provider provider = Provider::mcube;
  std::string agent_id;
  std::string call_id;
  std::string session_id;
  TimePoint reserved_at{};
  std::optional<TimePoint> started_at;
  TimePoint ambiguous_since{};
  /// The earliest start of a listing (from offset 0) that may prove this ambiguous start absent:
  /// the last moment the request could have reached the API (sent_at, or for a reservation
  /// found at startup reserved_at + start_wait_limit) + request_timeout + absent_grace.
  TimePoint absent_after{};
  bool start_outstanding = false;
  PollState poll = PollState::none;
  std::optional<TimePoint> poll_at;   ///< its entry in the deadline set (reconcile_after)
  std::optional<TimePoint> stale_at;  ///< its entry in the deadline set (stale_call_timeout)
  /// The last GET /sessions/{id} answered that the call is still pending/ringing/in progress:
  /// at stale_call_timeout it is not lost, its deadline moves on.
  bool live_at_last_poll = false;
};

/// Account blocks (401, unexplained 403) are probed with GET /config after 30 s, doubling to
/// 15 min; an unreachable API after 5 s, doubling to 1 min. A probe answered 200 lifts them.
inline constexpr Millis kAccountProbeFirst = std::chrono::seconds{30};
inline constexpr Millis kAccountProbeMax = std::chrono::minutes{15};
inline constexpr Millis kUnreachableProbeFirst = std::chrono::seconds{5};
inline constexpr Millis kUnreachableProbeMax = std::chrono::minutes{1};
/// A dispatch pass that met a store error is followed by the next one this much later.
inline constexpr Millis kStoreRetry = std::chrono::seconds{1};
/// An unusable page of a listing (failed, without total, short) is asked again this often
/// before the listing counts as proving nothing.
inline constexpr int kListingPageRetries = 3;
/// With no balance key, the credit probe interval doubles up to this.
inline constexpr Millis kCreditProbeMax = std::chrono::hours{1};

/// Where a webhook/poll outcome came from.
enum class OutcomeSource { webhook, poll };

/// A requested callback further ahead than this is ignored.
inline constexpr Millis kMaxCallbackAhead = std::chrono::hours{24 * 30};

/// A refused scheduled start (start_at) is tried again after this.
inline constexpr Millis kScheduledStartRetry = std::chrono::minutes{1};

/// The kv key holding the error that paused a campaign (pause_reason errors).
inline std::string pause_error_key(std::int64_t campaign_id) {
  return "campaign." + std::to_string(campaign_id) + ".pause_error";
}

/// UUIDs compare without regard to letter case (the API may echo them in either).
inline bool same_uuid(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

/// Most outcomes parked while waiting for their start's answer.
inline constexpr std::size_t kMaxParked = 1024;
/// Contacts one campaign may examine (window/DNC checks) in one pass before yielding.
inline constexpr int kMaxExaminedPerPass = 512;
/// GET /calls page size.
inline constexpr int kListingPage = 100;
/// A failed listing or session poll is retried after this.
inline constexpr Millis kPollRetry = std::chrono::seconds{30};
/// First retry of a failed GET /calls listing (doubling up to kPollRetry): ambiguous attempts
/// hold slots until a listing settles them, so a transient 5xx should not idle them for 30 s.
inline constexpr Millis kListingRetryFirst = std::chrono::seconds{2};
/// Longest wait between listings that keep proving nothing (pages without total, short pages).
inline constexpr Millis kInconclusiveListingRetryMax = std::chrono::minutes{5};
/// How long after a concurrency reading a call counted over may still see its webhook arrive
/// before its outcome is taken as missing (settle_ended_early).
inline constexpr Millis kLateWebhookGrace = std::chrono::seconds{2};
/// Overdue ambiguous attempts listed in status-get (the count is always complete).
inline constexpr std::size_t kMaxOverdueShown = 20;
/// Slot holds remembered for token planning (the shortest is the turnover, the longest with
/// kLateWebhookGrace says when a webhook is overdue).
inline constexpr std::size_t kHolds = 32;
/// Before any webhook reported a hold, a started call counts as overdue this long after its
/// start (webhooks down from the outset: its slot is then left to reads).
inline constexpr Millis kDefaultLongestHold = std::chrono::minutes{2};
/// An optional read never waits longer than this for a slack token (a backlog that keeps every
/// token busy for hours still re-reads the limit and polls calls without a session id).
inline constexpr Millis kOptionalReadMaxWait = std::chrono::minutes{5};
/// While a concurrency 429 holds dispatch, a failed GET /calls/concurrency is retried this soon.
inline constexpr Millis kConcurrencyHoldRepoll = std::chrono::seconds{5};

}  // namespace dialer::scheduler
