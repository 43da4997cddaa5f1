#include "store/sql/dnc.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using namespace std::chrono_literals;
using testing::StoreTest;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);

class DncRepoTest : public StoreTest {
 protected:
  DncRepo& repo() { return store().dnc(); }
};
DIALER_STORE_CONFORMANCE(DncRepoTest);

// add counts only numbers not yet listed; a listed number keeps its first reason and time.
TEST_P(DncRepoTest, AddCountsNewNumbers) {
  std::vector<std::string> first{"+14155550001", "+14155550002"};
  EXPECT_EQ(repo().add(first, "customer request", "admin", kT0).value(), 2);
  std::vector<std::string> second{"+14155550002", "+14155550003", "+14155550003"};
  EXPECT_EQ(repo().add(second, "blocked", "blocked", kT0 + 1h).value(), 1);
  EXPECT_EQ(repo().count().value(), 3);
  auto all = repo().list(10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1], (DncEntry{"+14155550002", "customer request", "admin", kT0}));
  EXPECT_EQ((*all)[2], (DncEntry{"+14155550003", "blocked", "blocked", kT0 + 1h}));
}

// contains answers for listed numbers only; remove counts the numbers it took off.
TEST_P(DncRepoTest, ContainsAndRemove) {
  std::vector<std::string> nums{"+14155550001", "+14155550002"};
  ASSERT_TRUE(repo().add(nums, "", "admin", kT0));
  EXPECT_TRUE(repo().contains("+14155550001").value());
  EXPECT_FALSE(repo().contains("+14155550009").value());
  std::vector<std::string> gone{"+14155550001", "+14155550009"};
  EXPECT_EQ(repo().remove(gone).value(), 1);
  EXPECT_FALSE(repo().contains("+14155550001").value());
  EXPECT_TRUE(repo().contains("+14155550002").value());
}

// list pages through the numbers in order.
TEST_P(DncRepoTest, ListPages) {
  std::vector<std::string> nums{"+3", "+1", "+2"};
  ASSERT_TRUE(repo().add(nums, "", "import", kT0));
  auto page = repo().list(2, 1);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].phone, "+2");
  EXPECT_EQ((*page)[1].phone, "+3");
}

}  // namespace
}  // namespace dialer::store
