// What the engine logs for an operator: an update says what changed, a completed campaign gets
// one summary line.

#include "engine_fixture.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>

#include <algorithm>

namespace dialer::scheduler::testing {
namespace {

/// Info lines logged while `fn` runs.
template <class Fn>
std::vector<std::string> info_lines(Fn&& fn) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  sink->set_pattern("%v");
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::info);
  spdlog::default_logger()->sinks().push_back(sink);
  fn();
  spdlog::default_logger()->sinks().pop_back();
  spdlog::set_level(level);
  return sink->last_formatted();
}

std::size_t count_with(const std::vector<std::string>& lines, std::string_view text) {
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
    return l.find(text) != std::string::npos;
  }));
}

// "campaign … updated" names each field that changed, old and new, and who changed it.
TEST_F(EngineTest, AnUpdateSaysWhatChanged) {
  start_scheduler();
  auto s = spec("upd");
  create(s);
  s.max_concurrency = 2;
  s.priority = 7;
  const auto lines = info_lines([&] { ASSERT_TRUE(scheduler_->update("upd", s, "uid:1000")); });
  EXPECT_EQ(count_with(lines,
                       "campaign upd: updated by uid:1000: max_concurrency 5 -> 2, "
                       "priority 0 -> 7"),
            1u)
      << ::testing::PrintToString(lines);
  const auto same = info_lines([&] { ASSERT_TRUE(scheduler_->update("upd", s, "uid:1000")); });
  EXPECT_EQ(count_with(same, "campaign upd: updated by uid:1000: nothing changed"), 1u);
}

// A campaign that completes logs one summary line: contacts by state, attempts by outcome,
// credits and how long it took.
TEST_F(EngineTest, ACompletedCampaignLogsOneSummaryLine) {
  platform_.default_call = CallScript{};  // completed after 2 min, 1 credit, by webhook
  platform_.call_scripts[phone(1)] = {CallScript{CallStatus::busy, Disposition::busy, 0s, 0.0},
                                      CallScript{}};
  start_scheduler();
  auto s = spec("sum");
  s.retry[Outcome::busy] = RetryRule{1min, 3};
  add_contacts(create(s), 0, 3);
  std::vector<std::string> lines = info_lines([&] {
    start("sum");
    run_for(30min);
  });
  ASSERT_EQ(state("sum"), CampaignState::completed)
      << to_text(view("sum").blocked_by) << " " << ::testing::PrintToString(lines);
  EXPECT_EQ(count_with(lines, "campaign sum completed in "), 1u) << ::testing::PrintToString(lines);
  EXPECT_EQ(count_with(lines,
                       ": 3 contacts (done 3), 4 attempts (completed 3, busy 1), 3.00 "
                       "credits"),
            1u)
      << ::testing::PrintToString(lines);
}

}  // namespace
}  // namespace dialer::scheduler::testing
