// Issue 11 item 4: nothing sent to the admin socket does more than the operator meant. Path
// arguments are refused unless admin.files_dir is set and the path lies inside it (no symlink
// followed, files created new, never truncated); descriptors always work; files that are not
// number lists are never echoed back; export is audited.

#include "daemon_test_support.hpp"

#include <gmock/gmock.h>

#include <sys/stat.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

class AdminPaths : public ::testing::Test {
 protected:
  void start(const std::string& admin_extra) {
    if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
    sim_ = std::make_unique<Sim>(
        dir_, std::vector<std::string>{"--api-key", "rg_test_secret_key", "--providers", "twilio"});
    std::string config = test_config(dir_, sim_->base_url());
    // admin_extra replaces the files_dir line the common test config has.
    const std::string files = "  files_dir: " + dir_.path().string() + "\n";
    config.replace(config.find(files), files.size(), admin_extra);
    config_ = dir_.write("dialerd.yaml", config);
    daemon_ = std::make_unique<Daemon>(dir_, config_);
    ASSERT_TRUE(daemon_->ready());
    ASSERT_EQ(result_of(call("campaign-create", {{"name", "spring"}, {"agent_id", kAgent}})), 0);
  }
  json::object call(const std::string& command, const json::object& args = {}) {
    return daemon_->call(command, args);
  }
  std::string db() const { return dir_.file("dialerd.db"); }
  static std::int64_t size_of(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
  }
  /// The store still answers and still holds the campaign.
  void expect_store_intact() {
    auto got = call("campaign-get", {{"campaign", "spring"}});
    EXPECT_EQ(result_of(got), 0) << text_of(got);
    auto q =
        run(dir_, {"/usr/bin/sqlite3", db(), "PRAGMA integrity_check; SELECT name FROM campaigns"});
    EXPECT_EQ(q.out, "ok\nspring\n") << q.err;
  }

  TempDir dir_;
  std::unique_ptr<Sim> sim_;
  std::string config_;
  std::unique_ptr<Daemon> daemon_;
};

// Without admin.files_dir no path argument is taken: the daemon's own database named as the
// export's output is refused and left whole; so are reads and reject files by path.
TEST_F(AdminPaths, PathArgumentsRefusedWithoutFilesDir) {
  start("");
  const auto before = size_of(db());
  ASSERT_GT(before, 0);
  auto r = call("campaign-export", {{"campaign", "spring"}, {"output", db()}});
  EXPECT_EQ(result_of(r), 1) << text_of(r);
  EXPECT_THAT(text_of(r), HasSubstr("files_dir"));
  EXPECT_GE(size_of(db()), before);
  expect_store_intact();

  const auto csv = dir_.write("list.csv", "phone\n+919876543210\n");
  auto imp = call("contacts-import", {{"campaign", "spring"}, {"path", csv}});
  EXPECT_EQ(result_of(imp), 1) << text_of(imp);
  auto dnc = call("dnc-import", {{"path", csv}});
  EXPECT_EQ(result_of(dnc), 1) << text_of(dnc);

  // A number argument far outside int64 is a usage error, not undefined behaviour.
  auto huge = call("contacts-list", {{"campaign", "spring"}, {"limit", 1e300}});
  EXPECT_EQ(result_of(huge), 1) << text_of(huge);
  expect_store_intact();
}

// With admin.files_dir: paths inside it work, new files are created with O_EXCL (an existing
// file — the database itself — is never truncated), a symlink or ".." out of it is refused, and
// a file that is not a number list is reported by line only, never echoed.
TEST_F(AdminPaths, FilesDirConfinesPathsAndNeverEchoesFiles) {
  const auto files = dir_.path() / "files";
  fs::create_directories(files);
  start("  files_dir: " + files.string() + "\n");

  // The export goes to a new file inside files_dir, and is audited.
  const auto out = (files / "out.csv").string();
  auto ok = call("campaign-export", {{"campaign", "spring"}, {"output", out}});
  EXPECT_EQ(result_of(ok), 0) << text_of(ok);
  EXPECT_THAT(read_file(out), HasSubstr("phone,name,state"));
  // Again to the same name: created new or refused, never truncated.
  ::truncate(out.c_str(), 0);
  {
    std::FILE* f = std::fopen(out.c_str(), "w");
    std::fputs("keep me\n", f);
    std::fclose(f);
  }
  auto again = call("campaign-export", {{"campaign", "spring"}, {"output", out}});
  EXPECT_EQ(result_of(again), 1) << text_of(again);
  EXPECT_EQ(read_file(out), "keep me\n");

  // Outside files_dir, through "..", through a symlink to the database: refused, db whole.
  const auto before = size_of(db());
  fs::create_symlink(db(), files / "db-link");
  for (const std::string& bad : {db(), (files / ".." / "x.csv").string(),
                                 (files / "db-link").string(), std::string("relative.csv")}) {
    auto r = call("campaign-export", {{"campaign", "spring"}, {"output", bad}});
    EXPECT_EQ(result_of(r), 1) << bad << ": " << text_of(r);
  }
  EXPECT_GE(size_of(db()), before);
  expect_store_intact();
  EXPECT_FALSE(fs::exists(dir_.path() / "x.csv"));

  // A secrets file named as a DNC list: its lines are never echoed back.
  const auto secrets = (files / "webhook-secrets");
  {
    std::FILE* f = std::fopen(secrets.c_str(), "w");
    std::fputs("whsec_TOPSECRET123\nrg_live_KEY456\n", f);
    std::fclose(f);
  }
  auto dnc = call("dnc-import", {{"path", secrets.string()}});
  EXPECT_THAT(json::serialize(dnc), Not(HasSubstr("TOPSECRET")));
  EXPECT_THAT(json::serialize(dnc), Not(HasSubstr("KEY456")));
  auto imp = call("contacts-import", {{"campaign", "spring"}, {"path", secrets.string()}});
  EXPECT_THAT(json::serialize(imp), Not(HasSubstr("TOPSECRET")));

  // A reject file that exists already is not renamed over.
  const auto csv = (files / "list.csv").string();
  {
    std::FILE* f = std::fopen(csv.c_str(), "w");
    std::fputs("phone\n+919876543210\nnot-a-number\n", f);
    std::fclose(f);
  }
  const auto rejects = (files / "rejects.csv").string();
  {
    std::FILE* f = std::fopen(rejects.c_str(), "w");
    std::fputs("mine\n", f);
    std::fclose(f);
  }
  auto clobber =
      call("contacts-import", {{"campaign", "spring"}, {"path", csv}, {"reject_file", rejects}});
  EXPECT_EQ(result_of(clobber), 1) << text_of(clobber);
  EXPECT_EQ(read_file(rejects), "mine\n");
  const auto fresh = (files / "rejects-new.csv").string();
  auto imported = call(
      "contacts-import",
      {{"campaign", "spring"}, {"path", csv}, {"reject_file", fresh}, {"default_region", "IN"}});
  EXPECT_EQ(result_of(imported), 0) << text_of(imported);
  EXPECT_THAT(read_file(fresh), HasSubstr("not-a-number"));

  auto audit =
      run(dir_, {"/usr/bin/sqlite3", db(),
                 "SELECT action || ' ' || result FROM audit_log WHERE actor LIKE 'uid:%'"});
  EXPECT_THAT(audit.out, HasSubstr("campaign-export 0"));
  EXPECT_THAT(audit.out, HasSubstr("campaign-export 1"));
}

}  // namespace
}  // namespace dialer::systest
