// campaign-forecast in simulated time: the forecast (the real scheduler on a copy of the store,
// against SimulatedPlatform with the outcome mix seen so far) against the run it forecasts.
#include "daemon/forecast.hpp"

#include "tests/unit/scheduler/engine_fixture.hpp"

#include <gmock/gmock.h>

#include <random>

namespace dialer::scheduler::testing {
namespace {

using daemon::ForecastRequest;
using daemon::run_forecast;

class ForecastTest : public EngineTest {
 protected:
  ForecastRequest request(std::string campaign) {
    ForecastRequest rq;
    rq.store_path = path_;
    rq.scratch = dir_.path();
    rq.campaign = std::move(campaign);
    rq.now = ex_.now();
    rq.options = options_;
    rq.parse_session = parse_body;
    rq.concurrency_limit = platform_.concurrency_limit;
    rq.calls_per_minute = 600;
    rq.general_per_minute = 600;
    rq.credit_balance = platform_.credit_balance;
    rq.providers = platform_.account;
    rq.horizon = std::chrono::hours{24 * 30};
    rq.wall_budget = std::chrono::seconds{120};
    return rq;
  }

  std::int64_t finished(std::string_view name) {
    std::int64_t n = 0;
    for (const auto& [s, count] : view(name).contacts) {
      if (is_terminal(s)) n += count;
    }
    return n;
  }
};

// At 10 % finished, the forecast of a 200-contact campaign (three outcomes, retries) is within
// 15 % of the run that follows, in time left and in credits.
TEST_F(ForecastTest, TheForecastMatchesTheRunThatFollows) {
  std::mt19937_64 rng(5);
  platform_.draw_call = [&rng](const SimulatedCall&) -> std::optional<CallScript> {
    const double u = std::uniform_real_distribution<>(0, 1)(rng);
    if (u < 0.6) return CallScript{CallStatus::completed, Disposition::completed, 3min, 3.0};
    if (u < 0.85) return CallScript{CallStatus::no_answer, Disposition::no_answer, 45s, 0.0};
    return CallScript{CallStatus::busy, Disposition::busy, 20s, 0.0};
  };
  platform_.credit_balance = 1e9;
  start_scheduler();
  auto s = spec("fc");
  s.retry[Outcome::no_answer] = {10min, 3};
  s.retry[Outcome::busy] = {5min, 3};
  const auto id = create(s);
  add_contacts(id, 0, 200);
  start("fc");
  while (finished("fc") < 20) run_for(30s);

  auto fc = run_forecast(request("fc"), {});
  ASSERT_TRUE(fc) << fc.error().what();
  ASSERT_TRUE(fc->finish_at) << "no finish within the horizon";
  EXPECT_FALSE(fc->truncated);
  EXPECT_EQ(fc->mix.size(), 3u);
  std::int64_t by_day = 0;
  for (const auto& d : fc->by_day) by_day += d.calls;
  EXPECT_EQ(by_day, fc->calls);
  EXPECT_EQ(state("fc"), CampaignState::running);  // the forecast touched a copy

  const TimePoint t0 = ex_.now();
  while (state("fc") != CampaignState::completed) run_for(1min);
  const auto completed_at = view("fc").campaign.completed_at;
  ASSERT_TRUE(completed_at);
  double credits = 0;
  std::int64_t calls = 0;
  for (const auto& a : attempts_of(id)) {
    if (a.ended_at && *a.ended_at >= t0 && a.credits_used) credits += *a.credits_used;
    if (a.reserved_at >= t0) ++calls;
  }
  const double actual_left = std::chrono::duration<double>(*completed_at - t0).count();
  const double predicted_left = std::chrono::duration<double>(*fc->finish_at - t0).count();
  EXPECT_NEAR(predicted_left, actual_left, 0.15 * actual_left)
      << "predicted " << predicted_left << " s, actual " << actual_left << " s";
  EXPECT_NEAR(fc->credits, credits, 0.15 * credits);
  EXPECT_NEAR(static_cast<double>(fc->calls), static_cast<double>(calls), 0.15 * calls);
}

// A draft whose window opens at 14:00 (it is 10:00): forecast as if started now, it cannot
// finish before the window opens — the scheduler's own rules, not a model of them.
TEST_F(ForecastTest, ADraftWaitsForItsWindowInTheForecast) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 2min, 2.0};
  start_scheduler();
  auto s = spec("later");
  s.window.start = std::chrono::minutes{14 * 60};
  s.window.end = std::chrono::minutes{15 * 60};
  const auto id = create(s);
  add_contacts(id, 0, 10);

  auto fc = run_forecast(request("later"), {});
  ASSERT_TRUE(fc) << fc.error().what();
  ASSERT_TRUE(fc->finish_at);
  EXPECT_GE(*fc->finish_at, utc(2026, 3, 9, 14, 0));
  ASSERT_FALSE(fc->by_day.empty());
  EXPECT_EQ(fc->by_day.front().date, "2026-03-09");
  EXPECT_GE(fc->calls, 10);
  EXPECT_GT(fc->credits, 0.0);  // no call has ended yet: the stated defaults apply
  ASSERT_GE(fc->assumptions.size(), 2u);
  EXPECT_EQ(fc->assumptions[0], "a draft: forecast as if started now");
  EXPECT_THAT(fc->assumptions[1], ::testing::HasSubstr("fewer than 30 calls"));
  EXPECT_EQ(state("later"), CampaignState::draft);

  auto missing = run_forecast(request("nope"), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(errc::not_found));
}

}  // namespace
}  // namespace dialer::scheduler::testing
