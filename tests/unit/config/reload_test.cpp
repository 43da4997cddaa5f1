#include "config/config.hpp"
#include "config_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dialer::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Config loaded(const std::string& extra = "") {
  auto r = test::load(std::string(test::kMinimalConfig) + extra);
  if (!r) ADD_FAILURE() << format_diagnostics(r.error());
  return r ? *r : Config{};
}

// Reloading an unchanged file changes nothing.
TEST(ReloadDiff, IdenticalConfigsHaveNoChanges) {
  Config a = loaded();
  EXPECT_EQ(reload_diff(a, a), ReloadDiff{});
  EXPECT_EQ(reload_diff(a, loaded()), ReloadDiff{});
}

// Limits, intervals, defaults, logging and secrets apply live; only the changed keys are named.
TEST(ReloadDiff, LiveKeys) {
  Config old_config = loaded();
  Config new_config = old_config;
  new_config.scheduler.reconcile_after = 20min;
  new_config.vocobase.calls_per_minute = 20;
  new_config.defaults.window.start = 8h;
  new_config.defaults.retry[Outcome::busy].max = 1;
  new_config.logging.level = LogLevel::debug;
  new_config.webhook.secrets.push_back(Secret{"whsec_rotated"});
  new_config.vocobase.api_key = Secret{"rg_new"};
  new_config.admin.allowed_uids = {1000};
  ReloadDiff d = reload_diff(old_config, new_config);
  EXPECT_THAT(d.changed,
              ElementsAre("vocobase.api_key", "vocobase.calls_per_minute", "webhook.secrets",
                          "admin.allowed_uids", "scheduler.reconcile_after",
                          "defaults.window.start", "defaults.retry", "logging.level"));
  EXPECT_THAT(d.needs_restart, IsEmpty());
}

// Listen address, socket, store path (and what is bound or opened with them) need a restart.
TEST(ReloadDiff, RestartKeys) {
  Config old_config = loaded();
  Config new_config = loaded(
      "  listen: \"[::1]:9090\"\n"
      "admin:\n  socket: /tmp/other.sock\n  mode: \"0600\"\n"
      "store:\n  path: /tmp/other.db\n  synchronous: normal\n"
      "scheduler:\n  clock_skew: 1m\n");
  ReloadDiff d = reload_diff(old_config, new_config);
  EXPECT_THAT(d.changed, ElementsAre("webhook.listen", "admin.socket", "admin.mode", "store.path",
                                     "store.synchronous", "scheduler.clock_skew"));
  EXPECT_THAT(d.needs_restart, UnorderedElementsAre("webhook.listen", "admin.socket", "admin.mode",
                                                    "store.path", "store.synchronous"));
}

}  // namespace
}  // namespace dialer::config

namespace dialer::config {
namespace {

// After a reload, the keys only a restart applies stay as they run; every other key is the
// file's. pending_keys lists exactly the kept ones, with both values as config-get shows them.
TEST(InForce, RestartKeysStayUntilARestart) {
  Config running = loaded();
  Config file = loaded();
  file.webhook.listen = HostPort{"127.0.0.1", 9999};
  file.scheduler.reconcile_after = 20min;
  const std::vector<std::string> keep = {"webhook.listen"};
  const Config in_force = in_force_after_reload(running, file, keep);
  EXPECT_EQ(in_force.webhook.listen, running.webhook.listen);
  EXPECT_EQ(in_force.scheduler.reconcile_after, 20min);
  const auto pending = pending_keys(in_force, file);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].key, "webhook.listen");
  EXPECT_EQ(pending[0].in_force, "127.0.0.1:8080");
  EXPECT_EQ(pending[0].in_file, "127.0.0.1:9999");
  // The file put back: nothing to reload, nothing pending.
  EXPECT_EQ(reload_diff(in_force, running).needs_restart, std::vector<std::string>{});
  EXPECT_TRUE(pending_keys(in_force, in_force).empty());
}

}  // namespace
}  // namespace dialer::config
