#include "store/sql/campaigns.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using testing::sample_spec;
using testing::StoreTest;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);
const TimePoint kT1 = kT0 + std::chrono::minutes{1};
const TimePoint kT2 = kT0 + std::chrono::minutes{2};

class CampaignRepoTest : public StoreTest {
 protected:
  CampaignRepo& repo() {
    if (repo_ == nullptr) repo_ = &store().campaigns();
    return *repo_;
  }
  CampaignRepo* repo_ = nullptr;
};
DIALER_STORE_CONFORMANCE(CampaignRepoTest);

// A created campaign reads back with every field, as a draft with its creation time.
TEST_P(CampaignRepoTest, CreateAndFindByNameOrId) {
  auto spec = sample_spec("spring");
  auto id = repo().create(spec, kT0);
  ASSERT_TRUE(id) << id.error().what();
  auto by_name = repo().find("spring");
  ASSERT_TRUE(by_name && by_name->has_value());
  const CampaignRow& row = **by_name;
  EXPECT_EQ(row.id, *id);
  EXPECT_EQ(row.spec, spec);
  EXPECT_EQ(row.state, CampaignState::draft);
  EXPECT_EQ(row.pause_reason, PauseReason::none);
  EXPECT_EQ(row.credits_used, 0);
  EXPECT_EQ(row.created_at, kT0);
  EXPECT_EQ(row.updated_at, kT0);
  EXPECT_EQ(row.started_at, std::nullopt);
  EXPECT_EQ(row.completed_at, std::nullopt);
  auto by_id = repo().find(std::to_string(*id));
  ASSERT_TRUE(by_id && by_id->has_value());
  EXPECT_EQ(**by_id, row);
  auto missing = repo().find("autumn");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

// Defaults (no budget, default retry policy) survive the trip through the table too.
TEST_P(CampaignRepoTest, DefaultSpecRoundTrips) {
  CampaignSpec spec;
  spec.name = "plain";
  auto id = repo().create(spec, kT0);
  ASSERT_TRUE(id);
  auto row = repo().get(*id);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->spec, spec);
}

// A taken name is refused with errc::duplicate and a message naming it.
TEST_P(CampaignRepoTest, DuplicateNameRefused) {
  ASSERT_TRUE(repo().create(sample_spec("spring"), kT0));
  auto again = repo().create(sample_spec("spring"), kT1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, make_error_code(errc::duplicate));
  EXPECT_NE(again.error().message.find("'spring'"), std::string::npos);
}

// A name made of digits wins over the id it spells.
TEST_P(CampaignRepoTest, NameTakesPrecedenceOverId) {
  auto first = repo().create(sample_spec("a"), kT0);
  auto second = repo().create(sample_spec(std::to_string(*first)), kT0);
  ASSERT_TRUE(first && second);
  auto found = repo().find(std::to_string(*first));
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->id, *second);
}

// list() returns every campaign in id order; list_in_state filters.
TEST_P(CampaignRepoTest, ListsInIdOrder) {
  auto a = repo().create(sample_spec("a"), kT0);
  auto b = repo().create(sample_spec("b"), kT0);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(repo().set_state(*b, CampaignState::running, PauseReason::none, kT1));
  auto all = repo().list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].spec.name, "a");
  EXPECT_EQ((*all)[1].spec.name, "b");
  auto running = repo().list_in_state(CampaignState::running);
  ASSERT_TRUE(running);
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ(running->front().id, *b);
}

// update_spec replaces the fields and updated_at; unknown ids and taken names are refused.
TEST_P(CampaignRepoTest, UpdateSpec) {
  auto id = repo().create(sample_spec("spring"), kT0);
  ASSERT_TRUE(repo().create(sample_spec("taken"), kT0));
  ASSERT_TRUE(id);
  CampaignSpec changed = sample_spec("summer");
  changed.max_concurrency = 11;
  changed.budget_credits.reset();
  ASSERT_TRUE(repo().update_spec(*id, changed, kT1));
  auto row = repo().get(*id);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->spec, changed);
  EXPECT_EQ((*row)->updated_at, kT1);
  EXPECT_EQ((*row)->created_at, kT0);

  auto missing = repo().update_spec(*id + 100, changed, kT1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(errc::not_found));
  auto clash = repo().update_spec(*id, sample_spec("taken"), kT1);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, make_error_code(errc::duplicate));
}

// started_at is the first time it ran, completed_at the time it ended; pause reasons persist.
TEST_P(CampaignRepoTest, SetStateStampsLifecycleTimes) {
  auto id = repo().create(sample_spec("spring"), kT0);
  ASSERT_TRUE(id);
  ASSERT_TRUE(repo().set_state(*id, CampaignState::running, PauseReason::none, kT1));
  ASSERT_TRUE(repo().set_state(*id, CampaignState::paused, PauseReason::budget, kT1));
  auto paused = repo().get(*id);
  ASSERT_TRUE(paused && paused->has_value());
  EXPECT_EQ((*paused)->state, CampaignState::paused);
  EXPECT_EQ((*paused)->pause_reason, PauseReason::budget);
  ASSERT_TRUE(repo().set_state(*id, CampaignState::running, PauseReason::none, kT2));
  ASSERT_TRUE(repo().set_state(*id, CampaignState::cancelled, PauseReason::none, kT2));
  auto row = repo().get(*id);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->state, CampaignState::cancelled);
  EXPECT_EQ((*row)->started_at, kT1);
  EXPECT_EQ((*row)->completed_at, kT2);
  EXPECT_EQ((*row)->updated_at, kT2);
  auto missing = repo().set_state(*id + 1, CampaignState::running, PauseReason::none, kT2);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(errc::not_found));
}

// Spend accumulates.
TEST_P(CampaignRepoTest, AddCreditsUsed) {
  auto id = repo().create(sample_spec("spring"), kT0);
  ASSERT_TRUE(id);
  ASSERT_TRUE(repo().add_credits_used(*id, 1.25));
  ASSERT_TRUE(repo().add_credits_used(*id, 0.5));
  auto row = repo().get(*id);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_DOUBLE_EQ((*row)->credits_used, 1.75);
  EXPECT_FALSE(repo().add_credits_used(*id + 1, 1));
}

// A damaged JSON column is reported as a db_error naming the campaign and column.
TEST_P(CampaignRepoTest, CorruptColumnIsReported) {
  auto id = repo().create(sample_spec("spring"), kT0);
  ASSERT_TRUE(id);
  ASSERT_TRUE(db().execute("UPDATE campaigns SET retry = '{\"no_answer\": 3}' WHERE id = ?", *id));
  auto row = repo().get(*id);
  ASSERT_FALSE(row);
  EXPECT_EQ(row.error().code, make_error_code(errc::db_error));
  EXPECT_NE(row.error().message.find("retry"), std::string::npos);
}

}  // namespace
}  // namespace dialer::store
