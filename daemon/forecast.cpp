#include "daemon/forecast.hpp"

#include "core/log_mute.hpp"
#include "scheduler/calling_window.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/simulated_platform.hpp"
#include "store/sql/sql_store.hpp"

#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <unistd.h>

namespace dialer::daemon {

using namespace scheduler;  // the engine this runs, in simulated time

namespace {

/// Simulated time run between checks of the campaign's state.
constexpr Millis kSlice = std::chrono::minutes{5};

/// The stated defaults while too few calls have ended (CONTRACT.md): the mix vocobase-sim
/// draws from by default, two-minute answered calls billed per minute.
std::vector<OutcomeFigure> default_figures() {
  return {{"completed", 0.5, std::chrono::seconds{150}, 2.0, 0},
          {"no_answer", 0.2, std::chrono::seconds{40}, 0.0, 0},
          {"busy", 0.1, std::chrono::seconds{15}, 0.0, 0},
          {"voicemail", 0.1, std::chrono::seconds{45}, 0.5, 0},
          {"failed", 0.1, std::chrono::seconds{10}, 0.0, 0}};
}

std::optional<CallScript> script_for(const OutcomeFigure& f) {
  CallScript s;
  s.duration = std::max<Millis>(f.hold, Millis{1000});
  s.credits = f.credits;
  s.webhook = true;
  if (auto d = from_string<Disposition>(f.outcome)) {
    s.status = CallStatus::completed;
    s.disposition = *d;
  } else if (auto st = from_string<CallStatus>(f.outcome)) {
    s.status = *st;
    s.disposition = std::nullopt;
  } else {
    return std::nullopt;
  }
  return s;
}

std::string local_date(Zone zone, TimePoint t) {
  const auto z = date::make_zoned(zone, date::floor<std::chrono::seconds>(t));
  return date::format("%F", z.get_local_time());
}

std::string local_time(Zone zone, TimePoint t) {
  const auto z = date::make_zoned(zone, date::floor<std::chrono::seconds>(t));
  return date::format("%a %F %R %Z", z);
}

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

/// Removes the copy and its WAL files.
struct CopyFiles {
  std::filesystem::path path;
  ~CopyFiles() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(path.string() + suffix, ec);
    }
  }
};

}  // namespace

Result<std::vector<OutcomeFigure>> outcome_figures(store::Database& db, std::int64_t campaign_id,
                                                   std::int64_t min_calls) {
  auto st = db.prepare(
      "SELECT outcome, count(*), avg(ended_at - reserved_at), avg(coalesce(credits_used, 0)) "
      "FROM attempts WHERE campaign_id = ? AND state = 'finished' AND outcome IS NOT NULL "
      "AND outcome != 'lost' AND ended_at IS NOT NULL GROUP BY outcome");
  if (!st) return st.error();
  st->bind_all(campaign_id);
  std::vector<OutcomeFigure> out;
  std::int64_t total = 0;
  for (;;) {
    auto step = st->step();
    if (!step) return step.error();
    if (*step == store::Step::done) break;
    OutcomeFigure f;
    f.outcome = st->column_text(0);
    f.seen = st->column_int64(1);
    f.hold = Millis{static_cast<std::int64_t>(std::llround(st->column_double(2)))};
    f.credits = st->column_double(3);
    if (!script_for(f)) continue;
    total += f.seen;
    out.push_back(std::move(f));
  }
  st->reset();
  if (total < min_calls || total == 0) return default_figures();
  for (auto& f : out) f.share = static_cast<double>(f.seen) / static_cast<double>(total);
  return out;
}

Result<Forecast> run_forecast(const ForecastRequest& rq, const ForecastProgress& progress,
                              std::stop_token stop) {
  const auto wall_start = std::chrono::steady_clock::now();
  Forecast fc;
  store::OpenOptions live_open;
  live_open.migrate = false;
  live_open.busy_timeout = Millis{5000};
  CopyFiles copy{rq.scratch / ("forecast-" + std::to_string(::getpid()) + "-" +
                               std::to_string(wall_start.time_since_epoch().count()) + ".db")};
  std::int64_t campaign_id = 0;
  {
    auto live = store::Database::open(rq.store_path, live_open);
    if (!live) return live.error();
    store::SqlCampaigns campaigns(*live);
    auto row = campaigns.find(rq.campaign);
    if (!row) return row.error();
    if (!*row) return Error(errc::not_found, "no campaign " + rq.campaign);
    campaign_id = (*row)->id;
    fc.campaign = (*row)->spec.name;
    fc.zone = (*row)->spec.timezone;
    auto figures = outcome_figures(*live, campaign_id);
    if (!figures) return figures.error();
    fc.mix = std::move(*figures);
    // A consistent snapshot, without stopping the daemon's writes for longer than a read.
    if (auto r = live->execute("VACUUM INTO ?", copy.path.string()); !r) {
      return Error(r.error().code, "cannot copy the store for the forecast: " + r.error().message);
    }
  }
  store::OpenOptions copy_open;
  copy_open.migrate = false;
  copy_open.synchronous = store::Synchronous::normal;
  auto db = store::Database::open(copy.path.string(), copy_open);
  if (!db) return db.error();

  auto zone = locate_zone(fc.zone);
  if (!zone) return zone.error();
  {
    auto st =
        db->prepare("SELECT state, count(*) FROM contacts WHERE campaign_id = ? GROUP BY state");
    if (!st) return st.error();
    st->bind_all(campaign_id);
    for (;;) {
      auto step = st->step();
      if (!step) return step.error();
      if (*step == store::Step::done) break;
      auto s = from_string<ContactState>(st->column_text_view(0));
      if (s && !is_terminal(*s)) fc.remaining_contacts += st->column_int64(1);
    }
    st->reset();
  }

  SimulatedExecutor ex(rq.now);
  // As the client counts: a token comes back a window plus its 1 s guard after the send
  // (api/vocobase/rate_budget.hpp RateLimits::guard).
  SimulatedPlatform platform(ex, rq.calls_per_minute, rq.general_per_minute,
                             std::chrono::seconds{61});
  platform.id_prefix = "forecast-";
  platform.concurrency_limit = rq.concurrency_limit;
  platform.credit_balance = rq.credit_balance;
  if (rq.providers.allowed.empty() && rq.providers.configured.empty()) {
    AccountProviders all;
    for (Provider p : all_values<Provider>()) {
      all.allowed.emplace_back(to_string(p));
      all.configured.emplace_back(to_string(p));
    }
    platform.account = all;
  } else {
    platform.account = rq.providers;
  }
  // The /calls/* window is not empty at `now`: the starts of the last minute still count.
  {
    auto st = db->prepare(
        "SELECT reserved_at FROM attempts WHERE reserved_at > ? AND sent_at IS NOT NULL "
        "ORDER BY reserved_at");
    if (!st) return st.error();
    st->bind_all(rq.now - std::chrono::seconds{61});
    std::vector<TimePoint> sent;
    for (;;) {
      auto step = st->step();
      if (!step) return step.error();
      if (*step == store::Step::done) break;
      sent.push_back(st->column_time(0));
    }
    st->reset();
    platform.prefill(RateBucket::calls, sent);
  }
  std::mt19937_64 rng(rq.seed);
  std::vector<double> weights;
  for (const auto& f : fc.mix) weights.push_back(f.share);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  platform.draw_call = [&](const SimulatedCall&) { return script_for(fc.mix[pick(rng)]); };

  store::SqlStore copy_store(*db);
  std::unique_ptr<Scheduler> sched;
  platform.webhook = [&](const SessionOutcome& o) {
    if (sched) sched->on_session_completed(o);
  };
  // Calls in flight when the copy was made end as the mix says, from now.
  {
    auto st = db->prepare(
        "SELECT call_id, coalesce(session_id, ''), agent_id, to_number, provider FROM attempts "
        "WHERE state = 'started' AND call_id IS NOT NULL");
    if (!st) return st.error();
    for (;;) {
      auto step = st->step();
      if (!step) return step.error();
      if (*step == store::Step::done) break;
      SimulatedCall c;
      c.call_id = st->column_text(0);
      c.session_id = st->column_text(1);
      c.agent_id = st->column_text(2);
      c.to_number = st->column_text(3);
      c.provider = from_string<Provider>(st->column_text_view(4)).value_or(Provider::mcube);
      c.created_at = rq.now;
      c.status = CallStatus::in_progress;
      platform.adopt_call(std::move(c));
    }
    st->reset();
  }

  LogMute mute;  // the simulated scheduler's lines are not the daemon's
  SchedulerOptions options = rq.options;
  options.rng_seed = rq.seed;
  sched = std::make_unique<Scheduler>(
      SchedulerDeps{ex, copy_store, platform, rq.parse_session, nullptr}, options);
  if (auto r = sched->recover(); !r) return r.error();
  ex.run_for(std::chrono::seconds{2});  // GET /config and the first concurrency reading

  auto state_of = [&]() -> Result<CampaignState> {
    store::SqlCampaigns repo(*db);
    auto row = repo.find(std::to_string(campaign_id));
    if (!row) return row.error();
    if (!*row) return Error(errc::not_found, "campaign vanished from the copy");
    return (*row)->state;
  };
  auto state = state_of();
  if (!state) return state.error();
  if (*state == CampaignState::draft) {
    fc.assumptions.push_back("a draft: forecast as if started now");
    if (auto r = sched->start(fc.campaign, "forecast"); !r) return r.error();
  } else if (*state == CampaignState::paused || *state == CampaignState::credit_exhausted) {
    fc.assumptions.push_back(std::string("") + std::string(to_string(*state)) +
                             ": forecast as if resumed now");
    if (auto r = sched->resume(fc.campaign, "forecast"); !r) return r.error();
  }

  auto last_progress = std::chrono::steady_clock::now();
  for (;;) {
    state = state_of();
    if (!state) return state.error();
    if (is_terminal(*state)) break;
    if (ex.now() - rq.now >= rq.horizon || stop.stop_requested() ||
        std::chrono::steady_clock::now() - wall_start >= rq.wall_budget) {
      fc.truncated = true;
      break;
    }
    ex.run_for(kSlice);
    if (progress &&
        std::chrono::steady_clock::now() - last_progress > std::chrono::milliseconds{250}) {
      last_progress = std::chrono::steady_clock::now();
      progress(std::chrono::duration_cast<Millis>(ex.now() - rq.now),
               static_cast<std::int64_t>(platform.starts.size()));
    }
  }
  if (stop.stop_requested()) return Error(errc::cancelled, "forecast cancelled");
  fc.simulated = std::chrono::duration_cast<Millis>(ex.now() - rq.now);

  // What the simulated scheduler placed and spent from `now` on.
  std::map<std::string, ForecastDay> days;
  {
    auto st = db->prepare(
        "SELECT reserved_at, ended_at, coalesce(credits_used, 0), state FROM attempts "
        "WHERE campaign_id = ? AND (reserved_at >= ? OR ended_at >= ?)");
    if (!st) return st.error();
    st->bind_all(campaign_id, rq.now, rq.now);
    for (;;) {
      auto step = st->step();
      if (!step) return step.error();
      if (*step == store::Step::done) break;
      const TimePoint reserved = st->column_time(0);
      const auto ended = st->column_optional_time(1);
      const double credits = st->column_double(2);
      const auto s = st->column_text_view(3);
      if (reserved >= rq.now && s != "rejected" && s != "void") {
        auto d = local_date(*zone, reserved);
        days[d].date = d;
        ++days[d].calls;
        ++fc.calls;
      }
      if (ended && *ended >= rq.now && credits > 0) {
        auto d = local_date(*zone, *ended);
        days[d].date = d;
        days[d].credits += credits;
        fc.credits += credits;
      }
    }
    st->reset();
  }
  for (auto& [d, v] : days) fc.by_day.push_back(v);
  {
    store::SqlCampaigns repo(*db);
    auto row = repo.find(std::to_string(campaign_id));
    if (row && *row && (*row)->completed_at && !fc.truncated) {
      fc.finish_at = (*row)->completed_at;
      fc.finish_at_local = local_time(*zone, *fc.finish_at);
    }
  }

  // What the figures rest on.
  std::int64_t seen = 0;
  for (const auto& f : fc.mix) seen += f.seen;
  if (seen == 0) {
    fc.assumptions.push_back(
        "fewer than 30 calls of this campaign have ended: stated defaults (completed 50 %, "
        "no_answer 20 %, busy, voicemail, failed 10 % each; answered calls hold a slot 150 s "
        "and cost 2 credits)");
  } else {
    fc.assumptions.push_back("outcome mix, slot hold times and credits from the " +
                             std::to_string(seen) + " calls of this campaign that have ended");
  }
  fc.assumptions.push_back("concurrency limit " + std::to_string(rq.concurrency_limit) + ", " +
                           std::to_string(rq.calls_per_minute) + " /calls/* requests a minute");
  fc.assumptions.push_back(rq.credit_balance
                               ? "credit balance " + number_text(*rq.credit_balance)
                               : std::string("credit balance unknown: never runs out here"));
  fc.assumptions.push_back("other campaigns run as they are now, sharing the slots");
  if (fc.truncated) {
    fc.assumptions.push_back(ex.now() - rq.now >= rq.horizon
                                 ? "not finished within the horizon"
                                 : "stopped at the time budget: not finished by the simulated " +
                                       format_iso8601(ex.now()));
  }
  fc.wall = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - wall_start);
  return fc;
}

}  // namespace dialer::daemon
