#pragma once
// The integration tests' fixture over the sim stack (tests/support/sim_stack.hpp): the real
// scheduler, Partner API client, CallPlatform adapter, webhook receiver and inbox against
// vocobase-sim in-process on 127.0.0.1:0, plus the campaign, contacts and consistency checks the
// tests share.

#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "core/time.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "store/inbox_repo.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "tests/support/campaigns.hpp"
#include "tests/support/sim_stack.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dialer::it {

using namespace std::chrono_literals;

inline constexpr std::string_view kKey = testkit::kStackKey;
inline constexpr std::string_view kSecret = testkit::kStackSecret;
inline constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// A JSON number of the simulator's stats (they are unsigned) as a signed integer.
inline std::int64_t num(const boost::json::value& v) {
  return v.to_number<std::int64_t>();
}

using TempDir = ::dialer::testkit::TempDir;

using testkit::InboxSink;

/// A campaign for the sim stack: every day all day in UTC, 10 at once, 3 attempts, 1 s retries.
inline CampaignSpec sim_campaign(std::string name) {
  auto s = testkit::any_hour_campaign(std::move(name), kAgent, 10);
  s.max_attempts = 3;
  s.retry.clear();
  s.retry[Outcome::busy] = RetryRule{1s, 2};
  s.retry[Outcome::no_answer] = RetryRule{1s, 2};
  s.retry[Outcome::failed] = RetryRule{1s, 2};
  s.retry[Outcome::lost] = RetryRule{1s, 2};
  return s;
}

/// Scheduler timings for runs with faults that must finish in seconds: poll after 3 s, lost
/// after 60 s, absence proven after 2 s, the circuit breaker out of the way.
inline scheduler::SchedulerOptions fast_recovery_options() {
  scheduler::SchedulerOptions o;
  o.reconcile_after = 3s;
  o.stale_call_timeout = 60s;
  o.absent_grace = 2s;
  o.clock_skew = 5s;
  o.concurrency_poll_interval = 5s;
  o.error_burst_threshold = 1000;
  return o;
}

/// Everything but the simulator runs on `io_` on the test's thread.
class SimStackTest : public ::testing::Test, protected testkit::SimStack {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
  void TearDown() override { shut_down(); }

  void start(const sim::SimOptions& base, scheduler::SchedulerOptions options) {
    const auto failed = launch(base, options);
    ASSERT_FALSE(failed) << *failed;
  }

  CampaignSpec campaign(std::string name) { return sim_campaign(std::move(name)); }

  void add_contacts(std::int64_t campaign_id, int count) { add_contacts(campaign_id, 0, count); }

  /// Contacts +9198765<first> … +9198765<first + count − 1> (5-digit suffix).
  void add_contacts(std::int64_t campaign_id, int first, int count) {
    store::SqlContacts repo(*db_);
    for (int i = first; i < first + count; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "+9198765%05d", i);
      store::NewContact c;
      c.phone = buf;
      ASSERT_TRUE(repo.insert(campaign_id, c, clock_.now()));
    }
  }

  /// Every contact terminal, and the simulator placed exactly the calls the store counts.
  void expect_consistent(std::int64_t campaign_id) {
    const auto stats = sim_stats();
    EXPECT_EQ(num(stats.at("limit_violations")), 0) << stats;
    const auto& numbers = stats.at("numbers").as_object();
    store::SqlContacts repo(*db_);
    auto rows = repo.list(campaign_id, std::nullopt, 10000);
    ASSERT_TRUE(rows);
    for (const auto& c : *rows) {
      EXPECT_TRUE(is_terminal(c.state)) << c.phone << " " << to_string(c.state);
      const auto* n = numbers.if_contains(c.phone);
      const std::int64_t calls = n == nullptr ? 0 : num(n->at("calls"));
      EXPECT_EQ(calls, c.attempts) << c.phone << ": calls placed vs attempts counted";
      if (n != nullptr) {
        EXPECT_LE(num(n->at("max_concurrent")), 1) << c.phone;
      }
    }
    EXPECT_EQ(store_->inbox().count_unapplied().value(), 0);
  }
};

}  // namespace dialer::it
