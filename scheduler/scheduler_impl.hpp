#pragma once
/// Private to the scheduler engine (scheduler*.cpp): the engine's in-memory state and its
/// internal steps. Not for other folders; include scheduler/scheduler.hpp instead.

#include "core/hour_counter.hpp"
#include "scheduler/blocked_by.hpp"
#include "scheduler/call_platform.hpp"
#include "scheduler/calling_window.hpp"
#include "scheduler/credits.hpp"
#include "scheduler/engine_types.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/fair_share.hpp"
#include "scheduler/lifecycle.hpp"
#include "scheduler/providers.hpp"
#include "scheduler/retry_policy.hpp"
#include "scheduler/scheduler.hpp"
#include "scheduler/slots.hpp"
#include "scheduler/state_machines.hpp"
#include "scheduler/token_plan.hpp"
#include "store/attempt_repo.hpp"
#include "store/audit_repo.hpp"
#include "store/campaign_repo.hpp"
#include "store/contact_repo.hpp"
#include "store/dnc_repo.hpp"
#include "store/import_repo.hpp"
#include "store/inbox_repo.hpp"
#include "store/kv_repo.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dialer::scheduler {

class Scheduler::Impl {
 public:
  Impl(SchedulerDeps deps, SchedulerOptions options);
  ~Impl();

  // --- public API (scheduler.cpp)
  Result<void> recover();
  Result<std::int64_t> create(const CampaignSpec& spec, std::string_view actor);
  Result<void> update(std::string_view campaign, const CampaignSpec& spec, std::string_view actor);
  Result<void> start(std::string_view campaign, std::string_view actor);
  Result<void> pause(std::string_view campaign, std::string_view actor);
  Result<void> resume(std::string_view campaign, std::string_view actor);
  Result<void> stop(std::string_view campaign, std::string_view actor);
  Result<void> remove(std::string_view campaign, std::string_view actor);
  Result<void> contacts_added(std::string_view campaign);
  void inbox_updated();
  void on_session_completed(std::int64_t inbox_id, const SessionOutcome& outcome);
  void clear_account_block();
  /// Stops dispatch for the account (a 401 or an unexplained 403) and arms the GET /config probe.
  void block_account(AccountBlock why, std::string message);
  /// A start could not reach the API: hold dispatch and probe.
  void enter_unreachable(std::string message);
  /// The API answered: lift an unreachable hold.
  void leave_unreachable();
  void arm_probe(Millis after);
  /// With no balance key: resume one credit_exhausted campaign to see whether credits are back.
  void maybe_probe_credits(TimePoint t);
  /// A start was accepted: credits, account and network are fine.
  void start_accepted_account_checks();
  Result<void> resolve_attempt(std::int64_t attempt_id, Resolution as, std::string_view actor);
  void shutdown(TimePoint deadline, std::function<void()> done);
  [[nodiscard]] SchedulerStatus status() const;
  Result<CampaignView> campaign_view(std::string_view campaign);
  /// Before recover() (a standby of a pair): the campaign as the store has it, nothing from
  /// memory.
  Result<CampaignView> stored_campaign_view(std::string_view campaign);

  SchedulerOptions options_;
  SchedulerStats stats_;

 private:
  friend class Scheduler;

  // --- helpers (scheduler.cpp)
  [[nodiscard]] TimePoint now() const { return ex_.clock().now(); }
  CampaignRt* find_campaign(std::string_view name_or_id);
  CampaignRt* campaign_by_id(std::int64_t id);
  CampaignRt& add_campaign(store::CampaignRow row);
  /// Runs a campaign event through the table, stores state + audit in one transaction, logs it.
  Result<void> campaign_event(CampaignRt& c, CampaignEvent event, PauseReason reason,
                              std::string_view actor, std::string_view note = {});
  /// Checks a contact/attempt event against its table, logs it and appends the audit row
  /// (inside the caller's transaction). Returns the new state.
  /// The start of `a` is known — its answer, a reconciliation that found the call, or an
  /// outcome that beat both: the attempt -> started with the call's ids, its contact -> in_call
  /// with the attempt counted, in the caller's transaction. False when the store no longer has
  /// the attempt reserved or ambiguous (nothing written).
  Result<bool> record_started(OpenAttempt& a, std::string_view call_id, std::string_view session_id,
                              TimePoint started_at, TimePoint t);
  void audit(std::string_view actor, std::string_view action, std::string subject,
             std::string detail_json, std::string_view result = "ok");
  void credits_low_all(std::string_view why);
  void credits_restored();
  void maybe_drained(CampaignRt& c);
  /// The callback time a finished call's extraction values ask for (campaign field
  /// `callback`), moved into the contact's calling window; nullopt (with a logged reason when
  /// a value was there) when none, unreadable, past, more than 30 days ahead, or the contact's
  /// attempts are used up.
  std::optional<TimePoint> requested_callback(CampaignRt& c, const store::ContactRow& contact,
                                              Outcome outcome, std::string_view session_json,
                                              TimePoint now);
  /// The one summary line of a campaign that completed.
  void log_completion(const CampaignRt& c);
  void maybe_budget(CampaignRt& c);
  /// Re-arms the concurrency/config polls at their intervals.
  void arm_poll_timers();

  // --- dispatch (scheduler_dispatch.cpp)
  void request_dispatch();
  void dispatch_pass();
  std::optional<store::ContactRow> next_contact(CampaignRt& c, TimePoint now, int batch);
  WindowLookup window_for(CampaignRt& c, const std::string& zones);
  /// A store error in a dispatch pass: logged, counted, and the pass ends (the next one comes
  /// kStoreRetry later) instead of trying contact after contact against a locked store.
  void pass_store_error(std::string_view what, const Error& e);
  bool claim_and_start(CampaignRt& c, const store::ContactRow& contact, Provider provider,
                       TimePoint now);
  /// Hands a committed claim's request to the platform.
  void send_start(StartRequest req);
  void compute_blocked_by(TimePoint now, BlockReason pass_stop, TimePoint& wake);
  /// Keeps one timer on the next start_at of a draft or end_at of a campaign not yet ended.
  void arm_schedule(TimePoint now);
  /// The timer's work: drafts whose start_at came start (as the scheduler), campaigns whose
  /// end_at came end.
  void run_schedule();
  /// end_at: queued contacts skipped (campaign_ended), the campaign completed; calls in flight
  /// are still followed to their outcome.
  void end_campaign(CampaignRt& c);
  /// stop and end_at alike, in one transaction: queued contacts skipped with `reason` (the
  /// contact machine's campaign_stopped), then the campaign's `event`. How many were skipped.
  Result<std::int64_t> close_campaign(CampaignRt& c, CampaignEvent event, std::string_view reason,
                                      std::string_view actor, std::string note = {});
  /// Why a campaign that is not running does not dial (not_running, credit_exhausted, or
  /// paused_by_errors with the error that paused it).
  [[nodiscard]] BlockedBy stopped_reason(const CampaignRt& c) const;
  /// The campaign's own reason to wait, from the contact due first: its window is closed
  /// (naming the contact and the zone that keeps it closed), its zone is unknown, or it is not
  /// due yet (its retry delay). nullopt when that contact is due now and in its window.
  std::optional<BlockedBy> own_wait(CampaignRt& c, const store::ContactRow& next, TimePoint t);
  void arm_wake(TimePoint at);
  [[nodiscard]] SlotAccount slot_account() const;
  /// /calls/* tokens left now, net of claims whose requests are not sent yet.
  [[nodiscard]] int calls_tokens() const;
  [[nodiscard]] bool reconcile_wants_token(TimePoint now) const;
  /// Token planning (token_plan.hpp): /calls/* tokens an optional read may spend now without
  /// delaying a start the window can place. Uses plan_due_from_ of the current pass.
  [[nodiscard]] int optional_tokens(TimePoint now,
                                    std::optional<TimePoint> waiting_since = std::nullopt) const;
  /// The longest recent slot hold (kDefaultLongestHold before any webhook reported one), and
  /// the turnover the plan assumes (a low quantile of recent holds).
  [[nodiscard]] Millis longest_hold() const;
  [[nodiscard]] Millis turnover() const;
  /// When an optional read kept waiting for slack should look again (the bucket's next token
  /// when it is spent; else a token back, a call becoming overdue, the longest wait ending);
  /// TimePoint::max() when only an event can change the answer.
  [[nodiscard]] TimePoint slack_check_at(TimePoint now) const;
  /// A started call with no outcome although its webhook is overdue (`longest`: longest_hold()):
  /// its slot frees only when a read learns the outcome.
  [[nodiscard]] bool outcome_overdue(const OpenAttempt& a, TimePoint now, Millis longest) const;
  /// The periodic concurrency poll, once due: sent on a slack token, skipped while every slot is
  /// accounted for and nothing is due. Returns when to look again.
  std::optional<TimePoint> maybe_periodic_poll(TimePoint now);
  /// Arms the periodic concurrency poll `after` from now.
  void arm_periodic_poll(Millis after);
  /// Remembers how long a call held its slot (outcome by webhook − start answered).
  void note_hold(Millis held);
  /// The earliest absent_after of the ambiguous attempts (a listing started then can both find
  /// its call and prove it absent); nullopt when none is ambiguous.
  [[nodiscard]] std::optional<TimePoint> reconcile_ready_at() const;
  void update_gauges();

  // --- settling (scheduler_settle.cpp)
  void on_start_result(std::int64_t attempt_id, StartResult result);
  void start_accepted(OpenAttempt& a, CampaignRt& c, const StartResult& r, TimePoint t);
  /// Releases `a`: it must not be used after.
  void start_refused(OpenAttempt& a, CampaignRt& c, const StartResult& r, TimePoint t);
  void start_ambiguous(OpenAttempt& a, CampaignRt& c, const StartResult& r, TimePoint t);
  void note_failure(CampaignRt& c, std::string message);
  void release(OpenAttempt& a);
  void track_started(OpenAttempt& a, TimePoint started_at);
  /// The open attempt an outcome is about (by call id, session id, or the one ambiguous start
  /// for its number); nullptr when there is none and the outcome was dealt with here: applied
  /// late to a `lost` attempt, a duplicate, parked while starts are unanswered, or not ours.
  OpenAttempt* match_outcome(std::int64_t inbox_id, const SessionOutcome& o, OutcomeSource source,
                             bool may_park);
  /// Counters and metric series of an applied outcome.
  void count_outcome(CampaignRt& c, Outcome outcome, double credits, OutcomeSource source,
                     TimePoint t);
  /// Applies an outcome; false when it is not final yet (a poll of a call still running).
  bool apply_outcome(std::int64_t inbox_id, const SessionOutcome& o, OutcomeSource source,
                     bool may_park = true);
  void apply_late_outcome(const store::AttemptRow& row, std::int64_t inbox_id,
                          const SessionOutcome& o, OutcomeSource source);
  void mark_inbox_applied(std::int64_t inbox_id);
  /// A contact just put back to queued in a stopped campaign is skipped (reason "stopped"),
  /// in the caller's transaction. `u` is the update that queued it.
  void skip_if_stopped(const CampaignRt& c, std::int64_t contact_id, TimePoint t);
  void flush_parked();
  /// The contact's next step after an attempt ended with `outcome`, written in the caller's
  /// transaction. Returns whether the number went on the DNC list.
  /// The contact's next state after `outcome` (retry policy, DNC for blocked), from `from`:
  /// in_call for an outcome in time, queued for a late one after `lost`.
  /// `session_json`: the outcome's session data (its extraction values may ask for a callback).
  Result<void> close_contact(CampaignRt& c, const store::ContactRow& contact, Outcome outcome,
                             TimePoint now, ContactState from = ContactState::in_call,
                             std::string_view session_json = {});
  void on_lost(std::int64_t attempt_id);
  void drain_inbox();

  // --- deadlines, reconciliation, polling, credits, recovery (scheduler_recovery.cpp)
  void add_deadline(TimePoint at, std::int64_t attempt_id, bool stale);
  void remove_deadlines(std::int64_t attempt_id);
  void arm_deadline_timer();
  void on_deadlines();
  /// Sends a GET /calls page when ambiguous or several overdue attempts want one; returns when
  /// the engine must look again (a token, a grace period, a retry after a failure).
  std::optional<TimePoint> maybe_reconcile();
  void on_listing(PlatformResult<CallListing> result);
  void settle_found(OpenAttempt& a, const ListedCall& call);
  /// Voids an ambiguous attempt (proven absent, or an operator's resolution): the contact is
  /// queued again without counting.
  void settle_void(OpenAttempt& a, AttemptEvent event = AttemptEvent::reconciled_absent);
  /// Logs (once each) ambiguous attempts older than stale_call_timeout.
  void report_overdue_ambiguous(TimePoint t);
  std::optional<TimePoint> maybe_poll_sessions();
  void on_session_poll(std::int64_t attempt_id, PlatformResult<SessionOutcome> result);
  /// The common part of a poll's answer: the attempt still open (nullptr when settled
  /// meanwhile, or when `error` was handled: retried on a token or after kPollRetry, logged
  /// naming `request` followed by the attempt's `id_field`).
  OpenAttempt* poll_answered(std::int64_t attempt_id, const PlatformError* error,
                             std::string_view request, std::string OpenAttempt::*id_field);
  /// GET /calls/{id} for a call whose start answer had no session_id.
  void on_call_poll(std::int64_t attempt_id, PlatformResult<ListedCall> result);
  void poll_concurrency();
  void on_concurrency(PlatformResult<ConcurrencyReading> result);
  /// kLateWebhookGrace after a concurrency reading: when the platform counted fewer active calls
  /// than are still without outcome among those started before the poll, settles them now
  /// instead of at reconcile_after.
  void settle_ended_early(const std::vector<std::int64_t>& started_before, int platform_active);
  void poll_config();
  void on_config(PlatformResult<AccountInfo> result);
  void check_shutdown_done();
  void finish_shutdown();

  /// Wraps a callback so it is dropped once the engine is gone or shut down.
  template <class F>
  auto guard(F f) {
    return [alive = std::weak_ptr<bool>(alive_), f = std::move(f)](auto&&... args) mutable {
      if (auto a = alive.lock(); a && *a) f(std::forward<decltype(args)>(args)...);
    };
  }

  Executor& ex_;
  store::Store& store_;
  CallPlatform& platform_;
  SessionParser parse_session_;

  store::CampaignRepo& campaigns_repo_;
  store::ContactRepo& contacts_;
  store::AttemptRepo& attempts_;
  store::InboxRepo& inbox_;
  store::DncRepo& dnc_;
  store::AuditRepo& audit_;
  Lifecycle lifecycle_;
  store::KvRepo& kv_;

  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  // Campaigns (all of them; there are few).
  std::map<std::int64_t, CampaignRt> campaigns_;

  /// An outcome for a call id not known yet while starts were outstanding (a webhook can beat
  /// the start's own answer). It is resolved once every start outstanding when it arrived has
  /// been answered. Bounded by kMaxParked.
  struct Parked {
    std::int64_t inbox_id = 0;
    SessionOutcome outcome;
    std::int64_t last_outstanding = 0;  ///< newest attempt id whose start was outstanding
  };

  /// Attempts holding a slot and their deadlines (open_attempts.cpp; started by dispatch.cpp,
  /// settled by settle_start.cpp, settle_outcome.cpp and reconciler.cpp).
  struct OpenAttempts {
    std::unordered_map<std::int64_t, OpenAttempt> by_id;
    std::unordered_map<std::string, std::int64_t> by_call_id;
    std::unordered_map<std::string, std::int64_t> by_session_id;
    std::set<std::int64_t> ambiguous;         ///< attempt ids, oldest first
    std::set<std::int64_t> overdue_reported;  ///< of them, logged as overdue
    std::set<std::int64_t> outstanding_starts;
    int in_flight = 0;  ///< every open attempt
    std::vector<Parked> parked;
    TimerId deadline_timer = 0;
    TimePoint deadline_at{};
    std::set<std::tuple<TimePoint, std::int64_t, bool>> deadlines;  ///< (at, attempt, stale)
    /// How long recent calls held their slot (webhook outcomes), oldest first; at most kHolds.
    std::deque<Millis> holds;
  };
  OpenAttempts open_;

  // Policy pieces.
  FairShare fair_;
  ProviderSelector providers_;
  ZoneCache zones_;
  Rng rng_;

  /// The account as the engine knows it: concurrency, credits, config, blocks and the API
  /// being unreachable, with their polls and probes (account_monitor.cpp).
  struct Account {
    std::optional<ConcurrencySnapshot> concurrency;
    /// After a concurrency 429 the account is full whatever our last poll said: no new start
    /// until a GET /calls/concurrency sent after the latest 429 answers (the 429 is itself the
    /// reading; calls of ours ending meanwhile free no slot, the limit may have dropped below
    /// them).
    bool full_until_fresh_poll = false;
    std::uint64_t concurrency_429s = 0;          ///< concurrency refusals seen
    std::uint64_t concurrency_429s_at_poll = 0;  ///< of them, when the outstanding poll was sent
    int ours_at_concurrency_poll = 0;
    std::string limit_source = "default";
    bool concurrency_poll_outstanding = false;
    /// Started attempts without outcome when the outstanding concurrency poll was sent: if the
    /// platform then counts fewer active calls, some of them are over and their outcomes
    /// missing.
    std::vector<std::int64_t> started_at_concurrency_poll;
    /// The periodic concurrency poll is due and waits for a slack token.
    bool concurrency_poll_due = false;
    /// Since when the periodic poll waits for a slack token: after kOptionalReadMaxWait it takes
    /// the next token whatever the plan says.
    std::optional<TimePoint> poll_waiting_since;
    TimerId concurrency_timer = 0;
    TimerId config_timer = 0;
    std::optional<double> balance;
    std::optional<TimePoint> balance_polled_at;
    bool balance_key_missing_logged = false;
    CreditState credit_state = CreditState::ok;
    bool config_poll_outstanding = false;
    AccountBlock block = AccountBlock::none;
    std::string block_message;
    /// Starts could not reach the API (connect failures): dispatch holds until a GET /config
    /// probe (or any other request) is answered.
    bool api_unreachable = false;
    std::string unreachable_message;
    /// The GET /config probe that lifts an account block or an unreachable hold.
    TimerId probe_timer = 0;
    TimePoint probe_at{};
    Millis account_probe_interval = kAccountProbeFirst;
    Millis unreachable_probe_interval = kUnreachableProbeFirst;
    /// With no balance key, a campaign resumed to find out whether credits are back.
    std::optional<std::int64_t> credit_probe;
    Millis credit_probe_interval{0};  ///< 0: credit_poll_interval
    TimePoint credit_probe_at{};
  };
  Account account_;

  /// Dispatch passes, their timers and the plan of the current pass (dispatch.cpp,
  /// dispatch_plan.cpp, engine_campaigns.cpp for the schedule).
  struct Dispatch {
    bool posted = false;
    bool store_error = false;  ///< the current pass met a store error
    TimerId wake_timer = 0;
    TimePoint wake_at{};
    TimerId schedule_timer = 0;            ///< arm_schedule()
    std::optional<TimePoint> schedule_at;  ///< when schedule_timer fires
    /// Of the current pass: the earliest time a running campaign has a contact due (now when
    /// one still had due contacts); nullopt when none before a day.
    std::optional<TimePoint> plan_due_from;
    /// While set, claims join the caller's open transaction (an outcome that freed the slot:
    /// one commit for both) and their requests wait here until it commits.
    std::vector<StartRequest>* deferred_starts = nullptr;
  };
  Dispatch dispatch_;

  /// GET /calls listings and session / call polls (reconciler.cpp).
  struct Reconciler {
    bool listing_outstanding = false;
    /// A GET /calls listing in progress: pages newest first from offset 0. It proves absence
    /// only while every page so far was whole (a total, no short page, no unreadable record
    /// that could be ours); a failed page ends it, and the next listing starts again at 0.
    struct ListingRun {
      TimePoint started_at{};           ///< when its offset-0 page was requested
      int offset = 0;                   ///< of the next page
      std::optional<TimePoint> oldest;  ///< oldest created_at seen on its pages
      bool proves = true;
      /// Times the page at `offset` came back unusable (failed, no total, short) and was asked
      /// again: asking the same offset again skips no record (new calls only push older ones
      /// to higher offsets), so the listing stays a proof; after kListingPageRetries it is not.
      int page_retries = 0;
    };
    std::optional<ListingRun> listing;
    std::optional<TimePoint> listing_failed_until;
    int listing_failures = 0;  ///< consecutive failed listings (not 429): the backoff's exponent
    int inconclusive_listings = 0;  ///< consecutive listings that could prove nothing
    int sessions_outstanding = 0;
    std::set<std::int64_t> poll_queue;  ///< attempts waiting for a listing or session poll
    /// Since when a GET /calls/{id} waits for a slack token (see Account::poll_waiting_since).
    std::optional<TimePoint> call_poll_waiting_since;
  };
  Reconciler reconciler_;

  /// The engine's own run: recovery, the inbox drain, shutdown (startup_recovery.cpp,
  /// settle_outcome.cpp).
  struct Run {
    bool recovered = false;
    /// True while recover() applies the inbox: no dispatch before every row is applied.
    bool startup_drain = false;
    bool inbox_posted = false;
    /// An inbox row's application failed (store error): the next delivery drains the inbox.
    bool inbox_retry = false;
    bool stopping = false;
    bool stopped = false;
    TimerId shutdown_timer = 0;
    std::vector<std::function<void()>> shutdown_done;
  };
  Run run_;

  /// Brings memory back in line with the store after a transaction holding an outcome and the
  /// claims it allowed failed to commit.
  void undo_failed_outcome(const OpenAttempt& finished, double credits,
                           const std::vector<StartRequest>& claims);

  // Metrics (null without a registry).
  struct Metrics {
    prometheus::Counter* passes = nullptr;
    std::array<prometheus::Counter*, EnumNames<StartKind>::names.size()> starts{};
    std::array<prometheus::Counter*, EnumNames<Outcome>::names.size()> outcomes{};
    prometheus::Counter* found = nullptr;
    prometheus::Counter* voided = nullptr;
    prometheus::Counter* polled = nullptr;
    prometheus::Counter* credits_spent = nullptr;
    prometheus::Gauge* paused_by_errors = nullptr;
    std::array<prometheus::Gauge*, 2> account_blocked{};  ///< reason auth, account
    prometheus::Family<prometheus::Counter>* campaign_outcomes = nullptr;
    prometheus::Family<prometheus::Counter>* campaign_credits = nullptr;
    prometheus::Family<prometheus::Gauge>* campaign_in_flight = nullptr;
    prometheus::Gauge* in_flight = nullptr;
    prometheus::Gauge* capacity = nullptr;
    prometheus::Gauge* limit = nullptr;
    prometheus::Gauge* foreign = nullptr;
    prometheus::Gauge* ambiguous = nullptr;
    prometheus::Gauge* ambiguous_overdue = nullptr;
    prometheus::Gauge* balance = nullptr;
    std::array<prometheus::Gauge*, EnumNames<CampaignState>::names.size()> campaigns{};
    prometheus::Histogram* handoff = nullptr;
    prometheus::Histogram* claim = nullptr;
  };
  void init_metrics(prometheus::Registry& registry);
  std::unique_ptr<Metrics> metrics_;
  HourCounter polled_outcomes_;  ///< status-get outcomes_by_poll_last_hour
  std::optional<std::chrono::steady_clock::time_point> handoff_from_;
};

/// Failed-start messages kept per campaign for the circuit breaker's log line.
inline constexpr std::size_t kLastErrors = 3;
/// Most distinct zone lists whose windows one campaign keeps built.
inline constexpr std::size_t kMaxWindowsPerCampaign = 1024;
/// A contact whose number is in an open attempt of another campaign is looked at again after
/// this (the other call usually lasts minutes; a retry costs one indexed write).
inline constexpr Millis kNumberBusyRetry = std::chrono::seconds{30};
/// A contact in a zone tzdata does not know is looked at again after this (a tzdata upgrade or a
/// corrected campaign zone lets it be called).
inline constexpr Millis kUnknownZoneRetry = std::chrono::hours{1};

/// "started", "rejected/rate: …": a start's answer for log lines.
std::string describe(const StartResult& r);
/// What the store keeps of a call's outcome.
store::FinishedCall finished_call(const SessionOutcome& o, Outcome outcome, TimePoint ended_at);

}  // namespace dialer::scheduler
