// The scheduler engine on a real io_context, over the real Partner API client and the daemon's
// CallPlatform adapter, against vocobase-sim in-process on 127.0.0.1:0, with outcomes arriving
// as signed webhooks through the real webhook receiver and durable inbox.

#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "core/time.hpp"
#include "daemon/scheduler_json.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "store/inbox_repo.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "tests/integration/sim_stack.hpp"

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

namespace dialer {
namespace {

using namespace std::chrono_literals;

using namespace it;
using daemon::to_json;

class SchedulerOverSim : public SimStackTest {};

sim::SimOptions fast_sim() {
  sim::SimOptions so;
  so.concurrency_limit = 3;
  so.calls_per_minute = 600;
  so.general_per_minute = 600;
  so.credits = 10'000;
  so.time_scale = 100;  // a 2-minute call lasts about 1.2 s
  so.duration_mean = 120s;
  so.seed = 11;
  so.outcomes = {};
  so.outcomes.set(Disposition::completed, 0.6);
  so.outcomes.set(Disposition::busy, 0.2);
  so.outcomes.set(Disposition::no_answer, 0.2);
  return so;
}

// A campaign runs to completion over HTTP: outcomes arrive as signed webhooks, retries happen,
// the account limit is never exceeded, no number is ever called twice at once, and the calls
// the simulator placed are exactly the attempts the store counted.
TEST_F(SchedulerOverSim, CampaignCompletesWithinTheLimits) {
  scheduler::SchedulerOptions options;
  options.reconcile_after = 20s;
  options.concurrency_poll_interval = 5s;
  start(fast_sim(), options);
  auto id = scheduler_->create(campaign("sim"));
  ASSERT_TRUE(id) << id.error().what();
  add_contacts(*id, 12);
  ASSERT_TRUE(scheduler_->start("sim"));
  ASSERT_TRUE(run_until(
      [&] { return scheduler_->campaign_view("sim")->campaign.state == CampaignState::completed; },
      120s))
      << to_json(*scheduler_->campaign_view("sim"));
  expect_consistent(*id);
  const auto stats = sim_stats();
  EXPECT_LE(num(stats.at("max_concurrent")), 3);
  EXPECT_EQ(num(stats.at("refused").at("concurrency")), 0) << stats;
  EXPECT_EQ(num(stats.at("refused").at("rate_calls")), 0) << stats;
  EXPECT_GT(scheduler_->stats().outcomes_applied, 12U);  // some calls were retried
}

// With faults on (5xx answers, responses lost after the call was created, dropped and
// duplicated webhooks) every contact still ends terminal with no call beyond the attempts the
// store counted: ambiguous starts are reconciled, missing outcomes polled.
TEST_F(SchedulerOverSim, FaultsNeverPlaceACallTwice) {
  auto so = fast_sim();
  so.faults.set(sim::Fault::error_5xx, 0.05);
  so.faults.set(sim::Fault::lost_response, 0.1);
  so.faults.set(sim::Fault::webhook_drop, 0.2);
  so.faults.set(sim::Fault::webhook_duplicate, 0.1);
  start(so, fast_recovery_options());
  auto id = scheduler_->create(campaign("faults"));
  ASSERT_TRUE(id) << id.error().what();
  add_contacts(*id, 15);
  ASSERT_TRUE(scheduler_->start("faults"));
  ASSERT_TRUE(run_until(
      [&] {
        return scheduler_->campaign_view("faults")->campaign.state == CampaignState::completed;
      },
      180s))
      << to_json(*scheduler_->campaign_view("faults"));
  expect_consistent(*id);
  // What the faults exercised (seeded, but request order follows real timing): for the record.
  const auto& st = scheduler_->stats();
  RecordProperty("ambiguous", static_cast<int>(st.ambiguous));
  RecordProperty("reconciled_found", static_cast<int>(st.reconciled_found));
  RecordProperty("reconciled_void", static_cast<int>(st.reconciled_void));
  RecordProperty("sessions_polled", static_cast<int>(st.sessions_polled));
}

// Issue 5's end-to-end rule check: 500 contacts across 2 campaigns, each number scripted in the
// simulator, end in exactly the state their script implies (done, exhausted by a rule, exhausted
// for want of a rule, skipped as blocked), with zero limit violations, zero 429s and no number
// ever active twice at once.
TEST_F(SchedulerOverSim, ScriptedOutcomesEndInTheStatesTheyImply) {
  constexpr int kPerCampaign = 250;
  auto phone = [](int campaign, int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "+91987%d%05d", 60 + campaign, i);
    return std::string(buf);
  };
  // i % 5 → the outcomes of its calls, in order, and the end state they imply.
  using D = Disposition;
  const std::vector<std::vector<D>> scripts = {
      {D::completed},                              // done after 1 attempt
      {D::busy, D::completed},                     // busy retried once, then done
      {D::no_answer, D::no_answer, D::no_answer},  // no_answer {max: 2} → exhausted after 2
      {D::blocked},                                // skipped, reason blocked, number put on DNC
      {D::voicemail},  // no voicemail rule in this campaign → exhausted
  };
  const ContactState expected_state[] = {ContactState::done, ContactState::done,
                                         ContactState::exhausted, ContactState::skipped,
                                         ContactState::exhausted};
  const int expected_attempts[] = {1, 2, 2, 1, 1};

  auto so = fast_sim();
  so.concurrency_limit = 20;
  so.calls_per_minute = 6000;
  so.general_per_minute = 6000;
  so.time_scale = 600;  // a 2-minute call lasts about 0.2 s
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < kPerCampaign; ++i) {
      auto& entries = so.script[phone(c, i)];
      for (auto d : scripts[static_cast<std::size_t>(i % 5)]) entries.push_back({d, std::nullopt});
    }
  }
  scheduler::SchedulerOptions options;
  options.concurrency_poll_interval = 30s;
  start(so, options);

  std::int64_t ids[2] = {};
  for (int c = 0; c < 2; ++c) {
    auto spec = campaign(c == 0 ? "alpha" : "beta");
    spec.weight = c + 1;
    auto id = scheduler_->create(spec);
    ASSERT_TRUE(id) << id.error().what();
    ids[c] = *id;
    store::SqlContacts repo(*db_);
    for (int i = 0; i < kPerCampaign; ++i) {
      store::NewContact contact;
      contact.phone = phone(c, i);
      ASSERT_TRUE(repo.insert(*id, contact, clock_.now()));
    }
  }
  ASSERT_TRUE(scheduler_->start("alpha"));
  ASSERT_TRUE(scheduler_->start("beta"));
  ASSERT_TRUE(run_until(
      [&] {
        return scheduler_->campaign_view("alpha")->campaign.state == CampaignState::completed &&
               scheduler_->campaign_view("beta")->campaign.state == CampaignState::completed;
      },
      600s))
      << to_json(*scheduler_->campaign_view("alpha")) << "\n"
      << to_json(*scheduler_->campaign_view("beta"));

  store::SqlContacts repo(*db_);
  for (int c = 0; c < 2; ++c) {
    expect_consistent(ids[c]);
    for (int i = 0; i < kPerCampaign; ++i) {
      auto row = repo.find(ids[c], phone(c, i));
      ASSERT_TRUE(row && *row) << phone(c, i);
      const auto k = static_cast<std::size_t>(i % 5);
      EXPECT_EQ((*row)->state, expected_state[k]) << phone(c, i);
      EXPECT_EQ((*row)->attempts, expected_attempts[k]) << phone(c, i);
      if (k == 3) {
        EXPECT_EQ((*row)->reason, "blocked") << phone(c, i);
      }
    }
  }
  const auto stats = sim_stats();
  EXPECT_EQ(num(stats.at("calls_started")), 2 * kPerCampaign / 5 * 7) << stats;
  EXPECT_LE(num(stats.at("max_concurrent")), 20);
  for (const char* refusal : {"rate_calls", "rate_general", "concurrency"}) {
    EXPECT_EQ(num(stats.at("refused").at(refusal)), 0) << refusal << " " << stats;
  }
}

}  // namespace
}  // namespace dialer
