#pragma once
/// campaign-forecast (CONTRACT.md): when a campaign will finish and what it will cost from
/// here, by day. Not a second model of the scheduler: the real Scheduler runs in simulated time
/// (SimulatedExecutor) on a copy of the store, against SimulatedPlatform — the in-process Partner
/// API of the engine tests — configured with the account's limits and the outcome mix, slot
/// hold times and credits this campaign's calls have shown (stated defaults while fewer than 30
/// have finished). Windows, zones, holidays, retry rules, max_attempts, other campaigns sharing
/// the slots and the credit balance are the scheduler's own business, exactly as when dialling.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "scheduler/call_platform.hpp"
#include "scheduler/scheduler.hpp"
#include "store/sql/database.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace dialer::daemon {

struct ForecastRequest {
  std::string store_path;         ///< the live store (read on its own connection)
  std::filesystem::path scratch;  ///< where the copy is made (removed afterwards)
  std::string campaign;           ///< name or id
  TimePoint now{};
  scheduler::SchedulerOptions options;     ///< as in force
  scheduler::SessionParser parse_session;  ///< for inbox rows the copy holds
  int concurrency_limit = 5;
  int calls_per_minute = 10;
  int general_per_minute = 60;
  std::optional<double> credit_balance;          ///< unknown: credits never run out in the forecast
  scheduler::AccountProviders providers;         ///< empty lists: every provider usable
  Millis horizon = std::chrono::hours{24 * 60};  ///< simulated time at most
  Millis wall_budget = std::chrono::seconds{60};  ///< real time at most
  std::uint64_t seed = 1;
};

/// How the calls are assumed to end: per outcome its share, slot hold time and credits.
struct OutcomeFigure {
  std::string outcome;
  double share = 0;
  Millis hold{};  ///< reserved → outcome known (the slot's time)
  double credits = 0;
  std::int64_t seen = 0;  ///< calls of the campaign that ended so; 0 for a default
};

struct ForecastDay {
  std::string date;  ///< YYYY-MM-DD in the campaign's zone
  std::int64_t calls = 0;
  double credits = 0;
};

struct Forecast {
  std::string campaign;
  std::string zone;
  std::optional<TimePoint> finish_at;  ///< nullopt: not within the horizon or the time budget
  std::string finish_at_local;
  std::int64_t calls = 0;
  double credits = 0;
  std::vector<ForecastDay> by_day;
  std::vector<OutcomeFigure> mix;
  std::vector<std::string> assumptions;
  std::int64_t remaining_contacts = 0;  ///< not terminal at the start
  Millis simulated{};                   ///< simulated time run
  Millis wall{};                        ///< real time taken
  bool truncated = false;               ///< the horizon or the time budget ended it
};

/// Called now and then with simulated time done (of the horizon) and calls placed so far.
using ForecastProgress = std::function<void(Millis simulated, std::int64_t calls)>;

/// The outcome figures from finished attempts of `campaign_id` (at least `min_calls` of them),
/// else the stated defaults. Reads `db`.
Result<std::vector<OutcomeFigure>> outcome_figures(store::Database& db, std::int64_t campaign_id,
                                                   std::int64_t min_calls = 30);

/// Copies the store, runs the scheduler in simulated time until the campaign is completed or
/// cancelled (or the horizon, the time budget or `stop` ends it) and reads the attempts it
/// placed. errc::not_found for an unknown campaign.
Result<Forecast> run_forecast(const ForecastRequest& request, const ForecastProgress& progress,
                              std::stop_token stop = {});

}  // namespace dialer::daemon
