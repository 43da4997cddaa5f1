// The `recovery` benchmark in short (BENCHMARKS.md, issue acceptance "a shorter version runs in
// scripts/test"): the real dialerd binary killed with SIGKILL at seeded points 0.1–1.9 s after
// each start (the early ones can land in startup recovery) while vocobase-sim injects 5xx
// answers, lost responses, starts answered after the request timeout, listings without total
// or short, dropped or duplicated webhooks, and another integration's call on the account, with
// half the numbers in a second campaign dialling at once; then left to complete. The comparison
// of the simulator's view with the store is bench_recovery's own (one implementation, two sizes);
// this test runs it and asserts each of its counts.

#include "daemon_test_support.hpp"

#include <gtest/gtest.h>

namespace dialer::systest {
namespace {

TEST(Recovery, SigkillAtSeededPointsUnderFaultsLosesNothingAndNeverCallsTwice) {
  if (::access(kBenchRecovery.c_str(), X_OK) != 0) GTEST_SKIP() << "bench_recovery is not built";
  TempDir dir;
  constexpr int kKills = 6;
  const auto r = run(dir,
                     {kBenchRecovery, "--contacts", "80", "--limit", "8", "--kill-every", "1",
                      "--kill-jitter", "0.9", "--max-kills", std::to_string(kKills), "--seed", "23",
                      "--timeout", "400", "--dialerd", kDialerd},
                     -1, 450s);
  ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;
  const auto line = bench_line(r);
  ASSERT_FALSE(line.empty()) << r.out;
  EXPECT_TRUE(line.at("completed").as_bool()) << r.out;
  // All six normally land before the campaign completes; a very fast run may finish first.
  EXPECT_GE(count(line, "kills"), 3) << "the schedule should kill dialerd several times: " << r.out;
  EXPECT_GT(count(line, "calls"), 80) << "retries and faults should add calls: " << r.out;
  EXPECT_EQ(count(line, "campaigns"), 2) << r.out;
  EXPECT_EQ(count(line, "shared_numbers"), 40) << "half the list is in both campaigns: " << r.out;
  expect_audit_clean(line, r.out, r.err);
}

}  // namespace
}  // namespace dialer::systest
