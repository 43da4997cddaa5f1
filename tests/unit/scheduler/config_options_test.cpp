#include "scheduler/config_options.hpp"

#include <gtest/gtest.h>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;

// Every scheduler option the config names is taken from it; defaults become the campaign base.
TEST(ConfigOptions, TakesEveryConfiguredValue) {
  config::Config c;
  c.scheduler.concurrency_poll_interval = 15s;
  c.scheduler.credit_poll_interval = 2min;
  c.scheduler.reconcile_after = 3min;
  c.scheduler.stale_call_timeout = 30min;
  c.scheduler.clock_skew = 30s;
  c.scheduler.error_burst_threshold = 9;
  c.scheduler.provider_cooldown = 1min;
  c.scheduler.shutdown_grace = 4s;
  c.vocobase.min_credit_balance = 2;
  c.vocobase.resume_credit_balance = 7;
  c.defaults.timezone = "Europe/Paris";
  c.defaults.max_attempts = 8;
  SchedulerOptions base;
  base.max_session_polls = 11;
  const auto o = options_from_config(c, base);
  EXPECT_EQ(o.concurrency_poll_interval, 15s);
  EXPECT_EQ(o.credit_poll_interval, 2min);
  EXPECT_EQ(o.reconcile_after, 3min);
  EXPECT_EQ(o.stale_call_timeout, 30min);
  EXPECT_EQ(o.clock_skew, 30s);
  EXPECT_EQ(o.error_burst_threshold, 9);
  EXPECT_EQ(o.provider_cooldown, 1min);
  EXPECT_EQ(o.shutdown_grace, 4s);
  EXPECT_DOUBLE_EQ(o.min_credit_balance, 2);
  EXPECT_DOUBLE_EQ(o.resume_credit_balance, 7);
  EXPECT_EQ(o.campaign_defaults.timezone, "Europe/Paris");
  EXPECT_EQ(o.campaign_defaults.max_attempts, 8);
  EXPECT_EQ(o.max_session_polls, 11);  // not a config key: kept from base
}

}  // namespace
}  // namespace dialer::scheduler
