// campaign-delete: only drafts, audited, never under an import.

#include "engine_fixture.hpp"
#include "store/sql/imports.hpp"

namespace dialer::scheduler::testing {
namespace {

// A draft can be deleted with its contacts, audited with who did it; any other state is a
// conflict (stop ends those), an unknown name not_found, and an import under way a conflict.
TEST_F(EngineTest, OnlyADraftCanBeDeleted) {
  start_scheduler();
  const auto draft = create(spec("draft"));
  add_contacts(draft, 0, 3);
  const auto live = create(spec("live"));
  add_contacts(live, 10, 1);
  start("live");
  auto r = scheduler_->remove("live", "uid:1000");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::conflict));
  EXPECT_NE(r.error().message.find("only a draft can be deleted"), std::string::npos);
  EXPECT_EQ(scheduler_->remove("nope").error().code, make_error_code(errc::not_found));

  store::SqlImports imports(*db_);
  const auto import_id = imports.begin(draft, ex_.now());
  ASSERT_TRUE(import_id);
  auto busy = scheduler_->remove("draft", "uid:1000");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, make_error_code(errc::conflict));
  ASSERT_TRUE(imports.mark_failed(*import_id, "test", ex_.now()));

  ASSERT_TRUE(scheduler_->remove("draft", "uid:1000"));
  EXPECT_EQ(scheduler_->campaign_view("draft").error().code, make_error_code(errc::not_found));
  EXPECT_EQ(db_->query_int64("SELECT count(*) FROM contacts WHERE campaign_id = ?", draft).value(),
            0);
  EXPECT_EQ(db_->query_int64("SELECT count(*) FROM audit_log WHERE actor = 'uid:1000' AND "
                             "action = 'delete' AND subject = 'campaign:draft'")
                .value(),
            1);
  // The name is free again.
  EXPECT_GT(create(spec("draft")), 0);
}

}  // namespace
}  // namespace dialer::scheduler::testing
