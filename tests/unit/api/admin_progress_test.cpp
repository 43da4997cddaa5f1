// Import progress: asked on a second connection while the import request is outstanding.

#include "api/admin/progress.hpp"
#include "tests/support/admin_test_support.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <future>

namespace dialer::admin::test {
namespace {

namespace json = boost::json;

// Tickets register under their id, report updates, and vanish when destroyed.
TEST(AdminProgressTable, TicketLifecycle) {
  ProgressTable table(2);
  {
    auto t = table.begin("job-1", "contacts-import spring", 1000);
    ASSERT_TRUE(t) << t.error().what();
    t->update(250, 12);
    const auto s = table.snapshot("job-1");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->label, "contacts-import spring");
    EXPECT_EQ(s->bytes_done, 250u);
    EXPECT_EQ(s->bytes_total, 1000u);
    EXPECT_EQ(s->rows, 12u);
    EXPECT_EQ(table.begin("job-1", "again").error().code, make_error_code(errc::duplicate));
    auto moved = std::move(*t);
    EXPECT_TRUE(table.snapshot("job-1"));
    auto t2 = table.begin("job-2", "");
    ASSERT_TRUE(t2);
    EXPECT_EQ(table.begin("job-3", "").error().code, make_error_code(errc::limit_exceeded));
    EXPECT_EQ(table.all().size(), 2u);
  }
  EXPECT_FALSE(table.snapshot("job-1"));
  EXPECT_TRUE(table.all().empty());
  EXPECT_EQ(table.begin("bad id!", "").error().code, make_error_code(errc::invalid_argument));
  EXPECT_EQ(table.begin("", "").error().code, make_error_code(errc::invalid_argument));
}

class AdminProgressTest : public AdminServerTest {};

// While an import handler works on a worker thread, `import-progress` on another connection
// answers its live counters; once it is done the id is unknown (result 3).
TEST_F(AdminProgressTest, ProgressWhileImportOutstanding) {
  ProgressTable progress;
  ASSERT_TRUE(progress.register_commands(registry_));
  boost::asio::thread_pool pool(1);
  std::promise<void> counted;
  std::promise<void> release;
  auto released = release.get_future().share();
  ASSERT_TRUE(registry_.add("test-import", "a fake import", Effect::changes_state,
                            [&](Request q) -> boost::asio::awaitable<Response> {
                              auto ticket = progress.begin(
                                  std::string(q.arguments.at("progress_id").as_string()),
                                  "test-import", 1000);
                              if (!ticket) co_return Response::from_error(ticket.error());
                              // Named, not a temporary inside the co_await: see run_on's note on
                              // GCC 12.
                              auto work = [&, t = std::move(*ticket)]() mutable {
                                t.update(400, 17);
                                counted.set_value();
                                released.wait();
                                t.update(1000, 42);
                              };
                              co_await run_on(pool.get_executor(), std::move(work));
                              co_return Response::success("imported", {{"rows", 42}});
                            }));
  start();

  auto import = std::async(std::launch::async, [&] {
    return call(socket_path(), "test-import", {{"progress_id", "p-1"}});
  });
  counted.get_future().wait();
  const auto live = must_call("import-progress", {{"id", "p-1"}});
  ASSERT_EQ(live.result, ResultCode::success) << live.text;
  EXPECT_EQ(live.arguments.at("bytes_done").to_number<int>(), 400);
  EXPECT_EQ(live.arguments.at("bytes_total").to_number<int>(), 1000);
  EXPECT_EQ(live.arguments.at("rows").to_number<int>(), 17);
  const auto all = must_call("import-progress");
  ASSERT_EQ(all.result, ResultCode::success);
  EXPECT_EQ(all.arguments.at("jobs").as_array().size(), 1u);

  release.set_value();
  const auto done = import.get();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->result, ResultCode::success);
  EXPECT_EQ(done->arguments.at("rows").to_number<int>(), 42);

  EXPECT_EQ(must_call("import-progress", {{"id", "p-1"}}).result, ResultCode::empty);
  EXPECT_EQ(must_call("import-progress").result, ResultCode::empty);
  EXPECT_EQ(must_call("import-progress", {{"id", 5}}).result, ResultCode::error);
  pool.join();
}

}  // namespace
}  // namespace dialer::admin::test
