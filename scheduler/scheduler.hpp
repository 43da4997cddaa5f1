#pragma once
/// The dispatch engine (issues 5 and 6): ties the store, the Partner API (through CallPlatform)
/// and the policy pieces of this folder together. It claims due contacts, reserves an attempt
/// row before every start, settles starts, applies outcomes through the retry policy, keeps the
/// account's slots, rate and credits, reconciles ambiguous starts, polls for missing webhooks,
/// recovers after a crash and shuts down gracefully. STATE-MACHINES.md is the spec.
///
/// Threading: every public member must be called on the executor's thread (the daemon's single
/// event-loop thread); platform callbacks arrive there too. Nothing here blocks except SQLite's
/// short transactions.

#include "core/campaign_spec.hpp"
#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "scheduler/blocked_by.hpp"
#include "scheduler/call_platform.hpp"
#include "scheduler/executor.hpp"
#include "store/campaign_repo.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace dialer::scheduler {

/// Intervals, thresholds and defaults; the daemon fills them from config/ (scheduler.*,
/// vocobase.min/resume_credit_balance, defaults.*).
struct SchedulerOptions {
  Millis concurrency_poll_interval = std::chrono::seconds{60};
  Millis credit_poll_interval = std::chrono::seconds{60};
  /// A started call with no outcome after this is polled (GET /sessions/{id}, GET /calls).
  Millis reconcile_after = std::chrono::minutes{10};
  /// A started call with no outcome after this is closed as `lost`.
  Millis stale_call_timeout = std::chrono::minutes{75};
  /// Reconciliation matches calls created at or after reserved_at − clock_skew.
  Millis clock_skew = std::chrono::minutes{2};
  /// An ambiguous attempt is proven absent only by a listing requested at least this long after
  /// it became ambiguous: a slow server may still create the call after our deadline passed.
  /// The first listing for it waits this long too, so one page both finds and disproves.
  Millis absent_grace = std::chrono::seconds{10};
  /// The API client's whole-request deadline: a server may still create a call until a request
  /// written at `sent_at` is this old (proof of absence waits for it, plus absent_grace).
  Millis request_timeout = std::chrono::seconds{15};
  /// The longest a start can wait for a rate token and a connection before its first byte is
  /// written (client queue_timeout + connect_timeout): for a reserved attempt found at startup
  /// the send time is unknown, so proof of absence counts from reserved_at plus this.
  Millis start_wait_limit = std::chrono::seconds{310};
  double min_credit_balance = 0.3;
  double resume_credit_balance = 1.0;
  /// Consecutive failed starts of one campaign that pause it (pause_reason errors).
  int error_burst_threshold = 5;
  /// A provider refused as not enabled/configured is skipped this long.
  Millis provider_cooldown = std::chrono::minutes{5};
  /// Default time shutdown() waits for outstanding starts.
  Millis shutdown_grace = std::chrono::seconds{10};
  /// What campaign-create starts from (config `defaults:`). Carried for the admin handlers
  /// (the base of campaign_spec_from_json); create() stores the spec it is given as is.
  CampaignSpec campaign_defaults;
  /// GET /sessions/{id} polls outstanding at once (a bound on the polling queue).
  int max_session_polls = 4;
  /// Seed of the retry jitter; 0 = seeded from std::random_device.
  std::uint64_t rng_seed = 0;
};

/// Turns a stored webhook body (webhook_inbox.body) into an outcome. The daemon passes the
/// API model's parser; tests pass their own.
using SessionParser = std::function<Result<SessionOutcome>(std::string_view body)>;

/// What the scheduler works with; all must outlive it.
struct SchedulerDeps {
  Executor& executor;
  store::Store& store;
  CallPlatform& platform;
  SessionParser parse_session;
  prometheus::Registry* registry = nullptr;  ///< optional: dialer_* metrics
};

/// The account's credit situation.
enum class CreditState { ok, exhausted };
/// Why every dispatch is stopped for the whole account (a 401, or a 403 about the account).
enum class AccountBlock { none, auth, account };

/// `status-get` figures.
/// How an operator settles an ambiguous attempt (attempt-resolve).
enum class Resolution {
  void_,  ///< no call was made: the contact is queued again without counting
  lost,   ///< a call may have been made: counted, the contact goes through the `lost` rule
};

struct SchedulerStatus {
  struct Slots {
    int used = 0;        ///< ours in flight + foreign calls
    int limit = 0;       ///< the account limit
    std::string source;  ///< GET /calls/concurrency limit_source, or "default" before a poll
    int in_flight = 0;   ///< our attempts holding a slot
    int foreign = 0;     ///< calls of the account this daemon did not start
    int capacity = 0;    ///< what this daemon may have in flight
  } slots;
  struct Rate {
    int calls_per_minute = 0;
    int used_last_minute = 0;
    int general_per_minute = 0;
    int general_used_last_minute = 0;
    TimePoint next_token_at{};  ///< /calls/* bucket
  } rate;
  struct Credits {
    std::optional<double> balance;  ///< last known; null when never read
    CreditState state = CreditState::ok;
    std::optional<TimePoint> polled_at;
    /// How old the reading is (now − polled_at): a balance read before credits ran out says
    /// little.
    std::optional<Millis> age;
    /// Exhausted with an unknown balance: when a campaign is next resumed as a probe.
    std::optional<TimePoint> probe_at;
  } credits;
  std::map<CampaignState, std::int64_t> campaigns;  ///< count by state, every state present
  AccountBlock account_block = AccountBlock::none;
  std::string account_message;   ///< the API's message for the block
  bool api_unreachable = false;  ///< starts could not reach the API: dispatch holds
  int ambiguous = 0;             ///< attempts waiting for reconciliation
  /// Ambiguous attempts older than stale_call_timeout (listings could not settle them): an
  /// operator can settle them with resolve_attempt. At most kMaxOverdueShown, oldest first.
  struct Overdue {
    std::int64_t attempt_id = 0;
    std::string campaign;
    TimePoint since{};
  };
  int ambiguous_overdue = 0;
  std::vector<Overdue> overdue;
  int starts_outstanding = 0;  ///< POST /calls/start sent, answer not settled yet
  /// Outcomes that had to be fetched (GET /sessions, /calls) because no webhook came, in the
  /// last hour: a high number means webhooks are not arriving.
  std::uint64_t outcomes_by_poll_last_hour = 0;
  bool shutting_down = false;
};

/// `campaign-get` / `campaign-stats` figures.
struct CampaignView {
  store::CampaignRow campaign;
  std::map<ContactState, std::int64_t> contacts;  ///< every state present
  std::map<Outcome, std::int64_t> outcomes;       ///< outcomes that occurred
  std::int64_t attempts = 0;
  int in_flight = 0;
  BlockedBy blocked_by;
  TimePoint now{};  ///< when it was taken (blocked_by's "in 7 s")
  /// Queued contacts due now, counted up to kDueNowCap (a bounded index scan).
  std::int64_t due_now = 0;
  std::uint64_t starts_last_5m = 0;
  std::uint64_t starts_last_hour = 0;
  std::uint64_t finished_last_hour = 0;  ///< contacts a call's outcome made terminal
  /// Remaining (non-terminal) contacts at the pace of the last hour (or since the start, if
  /// later, and at least 5 min); nullopt without a pace.
  std::optional<Millis> eta;
  std::string last_error;  ///< the newest failed-start message (or the one that paused it)
};

/// CampaignView::due_now counts at most this many.
inline constexpr std::int64_t kDueNowCap = 100'000;

/// Counters for tests, benchmarks and logs (metrics carry the same figures).
struct SchedulerStats {
  std::uint64_t dispatch_passes = 0;
  std::uint64_t starts_sent = 0;
  std::uint64_t started = 0;
  std::uint64_t rejected = 0;
  std::uint64_t ambiguous = 0;
  std::uint64_t not_sent = 0;
  std::uint64_t outcomes_applied = 0;
  std::uint64_t listings_sent = 0;
  std::uint64_t reconciled_found = 0;
  std::uint64_t reconciled_void = 0;
  std::uint64_t sessions_polled = 0;
  std::uint64_t outcomes_polled = 0;             ///< outcomes applied from a poll, not a webhook
  std::uint64_t concurrency_polls_skipped = 0;   ///< periodic polls with nothing to learn
  std::uint64_t concurrency_polls_deferred = 0;  ///< passes a due poll waited for a slack token
  std::uint64_t early_settles = 0;  ///< concurrency readings that showed calls of ours over
  std::uint64_t lost = 0;
  /// Store errors that ended a dispatch pass (e.g. the write lock held past busy_timeout).
  std::uint64_t store_errors = 0;
  int max_in_flight = 0;  ///< highest number of our attempts holding a slot at once
};

/// "max_concurrency 5 -> 2, window {…} -> {…}" between two campaign field objects (long values
/// shortened), or "nothing changed": the `campaign … updated` log line.
std::string describe_changes(const boost::json::object& before, const boost::json::object& after);

class Scheduler {
 public:
  /// Actor written to the audit log for the engine's own transitions.
  static constexpr std::string_view kActor = "scheduler";

  Scheduler(SchedulerDeps deps, SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Startup, before the first dispatch: verifies the transition tables, loads campaigns and
  /// open attempts, turns `reserved` attempts into `ambiguous` (the crash may have followed the
  /// write), re-arms the timers of started calls from their stored started_at, repairs
  /// claimed contacts without an open attempt, applies every unapplied inbox row in id order,
  /// then polls concurrency and config and dispatches. Call once.
  Result<void> recover();

  /// Applies new intervals and thresholds (config reload); campaign specs are not touched.
  void update_options(const SchedulerOptions& options);
  [[nodiscard]] const SchedulerOptions& options() const noexcept;

  // Lifecycle commands (admin handlers). `campaign` is a name or an id. A refused transition
  // or unmet precondition is errc::conflict (admin result 4), an unknown campaign
  // errc::not_found, bad input errc::invalid_argument. `actor` goes to the audit log.

  /// Stores a new draft campaign; returns its id (errc::duplicate when the name is taken).
  Result<std::int64_t> create(const CampaignSpec& spec, std::string_view actor = kActor);
  /// Replaces a campaign's fields; refused (conflict) once it is completed or cancelled.
  Result<void> update(std::string_view campaign, const CampaignSpec& spec,
                      std::string_view actor = kActor);
  /// draft → running: needs ≥ 1 queued contact, an agent id and ≥ 1 provider that the last
  /// GET /config lists as allowed and configured.
  Result<void> start(std::string_view campaign, std::string_view actor = kActor);
  /// running → paused (manual): no new attempts, calls in flight are still tracked.
  Result<void> pause(std::string_view campaign, std::string_view actor = kActor);
  /// paused → running, or credit_exhausted → running (refused while the known balance is below
  /// min_credit_balance; refused for a budget pause while the budget is still spent).
  Result<void> resume(std::string_view campaign, std::string_view actor = kActor);
  /// → cancelled: queued contacts become skipped (reason "stopped"); calls in flight are still
  /// tracked to their outcome.
  Result<void> stop(std::string_view campaign, std::string_view actor = kActor);
  /// Deletes a draft campaign with its contacts (audited); conflict for any other state, or
  /// while an import into it is under way.
  Result<void> remove(std::string_view campaign, std::string_view actor = kActor);
  /// Contacts were imported into the campaign: wake the dispatcher.
  Result<void> contacts_added(std::string_view campaign);

  /// New rows were stored in the webhook inbox: apply every unapplied one in id order (the
  /// body goes through SchedulerDeps::parse_session). Coalesced. The daemon hands each
  /// delivery's parsed outcome to on_session_completed instead (one parse per webhook); the
  /// drain with its parser is for startup and for rows whose application failed.
  void inbox_updated();
  /// Applies one stored webhook event (its inbox row id) at once, without re-parsing its body.
  /// Unknown calls and duplicates only mark the row applied. Ignored before recover() (which
  /// applies every unapplied row itself).
  void on_session_completed(std::int64_t inbox_id, const SessionOutcome& outcome);
  /// The same, finding the inbox row by the outcome's session_id (InboxRepo::find_by_session);
  /// an outcome with no stored row is applied without marking one.
  void on_session_completed(const SessionOutcome& outcome);

  /// Lifts an auth/account block (e.g. after a config reload with a new key) and dispatches.
  void clear_account_block();
  /// GET /config was read outside the scheduler's own poll (campaign-start's check): its
  /// providers replace what the scheduler knew, so a start is judged on the fresh answer.
  void account_seen(const AccountInfo& info);

  /// An operator settles an ambiguous attempt (STATE-MACHINES.md: reported once older than
  /// stale_call_timeout, but any ambiguous attempt whose start is no longer on the wire may be
  /// resolved). not_found: no such attempt; conflict: it is not ambiguous, or its start request
  /// is still waiting for an answer.
  Result<void> resolve_attempt(std::int64_t attempt_id, Resolution as,
                               std::string_view actor = kActor);

  /// Stops claiming, waits until no start request is outstanding (their results are settled
  /// and stored normally) or `deadline` passes (those attempts stay `reserved`; recovery treats
  /// them as ambiguous), cancels every timer, then calls `done` (through the executor). Later
  /// platform callbacks are ignored. Idempotent; `done` of a second call also runs.
  void shutdown(TimePoint deadline, std::function<void()> done);
  /// shutdown(now + options.shutdown_grace, done).
  void shutdown(std::function<void()> done);

  /// status-get figures (no store query beyond counting campaigns by state).
  [[nodiscard]] SchedulerStatus status() const;
  /// campaign-get / campaign-stats figures (a few indexed counts). Before recover() (a standby
  /// of a pair) from the store alone: blocked_by `standby` for a running campaign, no pace.
  Result<CampaignView> campaign_view(std::string_view campaign);
  [[nodiscard]] const SchedulerStats& stats() const noexcept;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace dialer::scheduler

namespace dialer {
template <>
struct EnumNames<scheduler::CreditState> {
  static constexpr auto names = std::to_array<std::string_view>({"ok", "exhausted"});
};
template <>
struct EnumNames<scheduler::AccountBlock> {
  static constexpr auto names = std::to_array<std::string_view>({"", "auth", "account"});
};
}  // namespace dialer
