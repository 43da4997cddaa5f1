// Campaign fields as dialerctl sends them: compact window and retry, a campaign file overridden
// by flags.

#include "daemon/commands/campaign_commands.hpp"

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dialer::daemon {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

// dialerctl's compact --window and --retry forms become the documented shapes and merge onto
// the defaults.
TEST(DaemonCampaignArguments, CompactWindowAndRetry) {
  const CampaignSpec base;
  auto spec =
      campaign_spec_from_arguments(json::object{{"name", "spring"},
                                                {"agent_id", kAgent},
                                                {"window", "mon-fri,10:00-18:30"},
                                                {"retry", {{"no_answer", "45m/2"}}},
                                                {"providers", json::array{"twilio", "plivo"}}},
                                   base, true);
  ASSERT_TRUE(spec) << spec.error().what();
  EXPECT_EQ(spec->name, "spring");
  EXPECT_EQ(spec->window.start, std::chrono::minutes(10 * 60));
  EXPECT_EQ(spec->window.end, std::chrono::minutes(18 * 60 + 30));
  EXPECT_FALSE(spec->window.days[5]);                          // saturday off
  EXPECT_EQ(spec->window.end_margin, base.window.end_margin);  // kept from the base
  EXPECT_EQ(spec->retry.at(Outcome::no_answer).delay, Millis(45min));
  EXPECT_EQ(spec->retry.at(Outcome::no_answer).max, 2);
  EXPECT_EQ(spec->retry.at(Outcome::busy), base.retry.at(Outcome::busy));
  EXPECT_EQ(spec->providers, (std::vector<Provider>{Provider::twilio, Provider::plivo}));

  auto bad_window = campaign_spec_from_arguments(
      json::object{{"name", "x"}, {"agent_id", kAgent}, {"window", "someday"}}, base, true);
  ASSERT_FALSE(bad_window);
  EXPECT_THAT(bad_window.error().message, HasSubstr("window"));
  auto bad_retry = campaign_spec_from_arguments(
      json::object{{"name", "x"}, {"agent_id", kAgent}, {"retry", {{"completed", "1m/1"}}}}, base,
      true);
  EXPECT_FALSE(bad_retry);
}

// A campaign file is read with its own name and positions in messages; other arguments (the
// NAME and flags of the command line) override it; create needs a name and an agent.
TEST(DaemonCampaignArguments, SpecFileOverriddenByArguments) {
  const CampaignSpec base;
  const std::string yaml =
      "name: fromfile\nagent_id: " + std::string(kAgent) + "\nmax_concurrency: 4\npriority: 2\n";
  auto spec = campaign_spec_from_arguments(
      json::object{{"spec_yaml", yaml}, {"spec_file", "c.yaml"}, {"priority", 9}}, base, true);
  ASSERT_TRUE(spec) << spec.error().what();
  EXPECT_EQ(spec->name, "fromfile");
  EXPECT_EQ(spec->max_concurrency, 4);
  EXPECT_EQ(spec->priority, 9);

  auto bad = campaign_spec_from_arguments(
      json::object{{"spec_yaml", "name: y\nagent_id: nope\n"}, {"spec_file", "c.yaml"}}, base,
      true);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("c.yaml:2:"));

  auto no_agent = campaign_spec_from_arguments(json::object{{"name", "y"}}, base, true);
  ASSERT_FALSE(no_agent);
  EXPECT_THAT(no_agent.error().message, HasSubstr("agent_id"));
  // An update needs neither.
  EXPECT_TRUE(campaign_spec_from_arguments(json::object{{"weight", 3}}, base, false));
  // Unknown fields are refused, naming them.
  auto unknown = campaign_spec_from_arguments(json::object{{"colour", "red"}}, base, false);
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message, HasSubstr("colour"));
}

}  // namespace
}  // namespace dialer::daemon
