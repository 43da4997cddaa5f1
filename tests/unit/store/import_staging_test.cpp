// Imports staged in short transactions: staged rows invisible to every reader, the commit point,
// the flip, the clean-up, recovery of a crash at either stage, and another connection writing
// while a large import runs.

#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/dnc.hpp"
#include "store/sql/imports.hpp"
#include "store/sql/kv.hpp"
#include "store/sqlite/contact_import.hpp"
#include "store/sqlite/export_repo.hpp"
#include "store/sqlite/import_recovery.hpp"
#include "tests/unit/store/state_moves.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

namespace dialer::store {
namespace {

using namespace std::chrono_literals;
using testing::sample_spec;
using testing::StoreTest;
using testing::TempDir;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);
const TimePoint kT1 = kT0 + 1h;

std::string phone_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+9198%08d", i);
  return buf;
}

std::int64_t query_count(Database& db, const std::string& sql) {
  auto n = db.query_int64(sql);
  EXPECT_TRUE(n) << n.error().what();
  return n ? *n : -1;
}

/// Every column of the campaign's visible contacts, to compare before and after.
std::vector<ContactRow> visible(Database& db, std::int64_t campaign) {
  auto rows = SqlContacts{db}.list(campaign, std::nullopt, 1'000'000);
  EXPECT_TRUE(rows) << rows.error().what();
  return rows ? *rows : std::vector<ContactRow>{};
}

// ---------------------------------------------------------------------------------------------
// The repository and recovery on states built directly (both backings).

class ImportRepoTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    auto& campaigns = store().campaigns();
    camp_a_ = campaigns.create(sample_spec("a"), kT0).value();
    camp_b_ = campaigns.create(sample_spec("b"), kT0).value();
  }

  ContactRepo& contacts() { return store().contacts(); }
  ImportRepo& imports() { return store().imports(); }

  std::int64_t begin_import(std::int64_t campaign) {
    auto tx = Transaction::begin(db());
    EXPECT_TRUE(tx);
    auto id = imports().begin(campaign, kT0);
    EXPECT_TRUE(id) << id.error().what();
    EXPECT_TRUE(tx->commit());
    return id ? *id : 0;
  }

  /// Stages phone_of(first) … phone_of(first + n - 1); true for each row written.
  void stage(std::int64_t campaign, std::int64_t import_id, int first, int n,
             std::string reason = "") {
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    for (int i = first; i < first + n; ++i) {
      NewContact c;
      c.phone = phone_of(i);
      c.reason = reason;
      c.source_line = i + 2;
      auto staged = imports().stage(campaign, import_id, c, kT0);
      ASSERT_TRUE(staged) << staged.error().what();
      EXPECT_TRUE(*staged) << c.phone;
    }
    ASSERT_TRUE(tx->commit());
  }

  void insert(std::int64_t campaign, const std::string& phone) {
    NewContact c;
    c.phone = phone;
    ASSERT_TRUE(contacts().insert(campaign, c, kT0).value());
  }

  void commit(std::int64_t import_id) {
    ASSERT_TRUE(imports().mark_committed(import_id, R"({"rows":0})", kT0).value());
  }

  std::int64_t staged() {
    return query_count(db(), "SELECT count(*) FROM contacts WHERE state = 'staged'");
  }

  std::int64_t camp_a_ = 0;
  std::int64_t camp_b_ = 0;
};
DIALER_STORE_CONFORMANCE(ImportRepoTest);

// Staged rows are no contacts: no read of ContactRepo or ExportRepo returns or counts them, and
// dispatch's next_due never sees them; they still make a later insert of the phone a duplicate.
TEST_P(ImportRepoTest, StagedRowsAreInvisible) {
  insert(camp_a_, phone_of(0));
  auto id = begin_import(camp_b_);
  stage(camp_b_, id, 0, 3);
  stage(camp_b_, id, 3, 1, "dnc");
  ASSERT_EQ(staged(), 4);
  const auto staged_id = query_count(db(), "SELECT min(id) FROM contacts WHERE state = 'staged'");

  auto counts = contacts().counts_by_state(camp_b_);
  ASSERT_TRUE(counts) << counts.error().what();
  for (const auto& [state, n] : *counts) EXPECT_EQ(n, 0) << to_string(state);
  EXPECT_TRUE(visible(db(), camp_b_).empty());
  EXPECT_TRUE(contacts().list(camp_b_, ContactState::queued, 10).value().empty());
  int seen = 0;
  ASSERT_TRUE(contacts().for_each(camp_b_, [&](const ContactRow&) {
    ++seen;
    return true;
  }));
  EXPECT_EQ(seen, 0);
  EXPECT_FALSE(contacts().exists_in_state(camp_b_, ContactState::queued).value());
  EXPECT_FALSE(contacts().any_active(camp_b_).value());
  EXPECT_TRUE(contacts().next_due(camp_b_, kT1, 10).value().empty());
  EXPECT_FALSE(contacts().next_due_time(camp_b_).value().has_value());
  EXPECT_FALSE(contacts().get(staged_id).value().has_value());
  EXPECT_FALSE(contacts().find(camp_b_, phone_of(0)).value().has_value());
  ASSERT_TRUE(ExportRepo{db()}.for_each(camp_b_, [&](const ExportRow&) {
    ++seen;
    return true;
  }));
  EXPECT_EQ(seen, 0);
  // The campaign without an import is unaffected.
  EXPECT_EQ(contacts().counts_by_state(camp_a_).value().at(ContactState::queued), 1);
  // A stop and a DNC entry touch queued contacts only; the flip applies them instead.
  EXPECT_EQ(testing::StateMoves(store()).skip_queued_by_phone(phone_of(1), "dnc", kT0).value(), 0);
  EXPECT_EQ(testing::StateMoves(store()).skip_queued(camp_b_, "stopped", kT0).value(), 0);
  EXPECT_EQ(staged(), 4);
  // The phone is taken all the same: a second writer of it finds a duplicate.
  NewContact dup;
  dup.phone = phone_of(2);
  EXPECT_FALSE(contacts().insert(camp_b_, dup, kT0).value());
}

// Once the import is committed and until its rows are flipped, the campaign is not drained
// (a drain check then would complete it just before its new contacts appear); after the flip
// they are ordinary contacts, due at once.
TEST_P(ImportRepoTest, CommitThenFlipMakesRowsContacts) {
  auto id = begin_import(camp_b_);
  stage(camp_b_, id, 0, 5);
  stage(camp_b_, id, 5, 1, "dnc");
  EXPECT_FALSE(contacts().any_active(camp_b_).value());
  commit(id);
  EXPECT_TRUE(contacts().any_active(camp_b_).value());
  EXPECT_TRUE(visible(db(), camp_b_).empty());
  // A number listed after its row was staged is skipped at the flip.
  std::vector<std::string> listed{phone_of(4)};
  ASSERT_TRUE(store().dnc().add(listed, "", "admin", kT0));

  auto flipped = complete_import(db(), id, kT1, 2);
  ASSERT_TRUE(flipped) << flipped.error().what();
  EXPECT_EQ(flipped->queued, 4);
  EXPECT_EQ(flipped->dnc, 2);
  EXPECT_EQ(flipped->stopped, 0);
  EXPECT_EQ(staged(), 0);
  auto rows = visible(db(), camp_b_);
  ASSERT_EQ(rows.size(), 6u);
  for (const auto& r : rows) {
    bool dnc = r.phone == phone_of(4) || r.phone == phone_of(5);
    EXPECT_EQ(r.state, dnc ? ContactState::skipped : ContactState::queued) << r.phone;
    EXPECT_EQ(r.reason, dnc ? "dnc" : "") << r.phone;
    EXPECT_EQ(r.updated_at, kT1);
  }
  EXPECT_EQ(contacts().next_due(camp_b_, kT0, 10).value().size(), 4u);
  auto row = imports().get(id).value();
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, ImportState::committed);
  EXPECT_EQ(row->campaign_id, camp_b_);
  EXPECT_EQ(row->started_at, kT0);
  EXPECT_EQ(row->finished_at, kT0);
  EXPECT_EQ(row->report_json, R"({"rows":0})");
  EXPECT_FALSE(imports().get(id + 100).value().has_value());
}

// A campaign stopped after the commit point gets the rows it could not see skipped, as the
// stop skipped its queued ones.
TEST_P(ImportRepoTest, FlipIntoStoppedCampaignSkipsRows) {
  auto id = begin_import(camp_b_);
  stage(camp_b_, id, 0, 3);
  commit(id);
  ASSERT_TRUE(
      store().campaigns().set_state(camp_b_, CampaignState::cancelled, PauseReason::none, kT0));
  auto flipped = complete_import(db(), id, kT1);
  ASSERT_TRUE(flipped);
  EXPECT_EQ(flipped->stopped, 3);
  for (const auto& r : visible(db(), camp_b_)) {
    EXPECT_EQ(r.state, ContactState::skipped);
    EXPECT_EQ(r.reason, "stopped");
  }
}

// One running import per campaign: a second is refused until the first is over; other
// campaigns are independent.
TEST_P(ImportRepoTest, OneRunningImportPerCampaign) {
  auto first = begin_import(camp_a_);
  auto tx = Transaction::begin(db());
  ASSERT_TRUE(tx);
  auto second = imports().begin(camp_a_, kT0);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, make_error_code(errc::conflict));
  EXPECT_TRUE(imports().begin(camp_b_, kT0));
  ASSERT_TRUE(tx->commit());
  ASSERT_TRUE(roll_back_import(db(), first, "gave up", kT1));
  EXPECT_NE(begin_import(camp_a_), 0);
}

// A crash while staging: recovery deletes the import's staged rows (chunk by chunk), marks it
// failed, and leaves the campaign's contacts exactly as they were; the numbers can be imported
// again.
TEST_P(ImportRepoTest, RecoveryRollsBackRunningImport) {
  insert(camp_a_, phone_of(0));
  insert(camp_a_, "+14155550100");
  const auto before = visible(db(), camp_a_);
  auto id = begin_import(camp_a_);
  stage(camp_a_, id, 1, 2500);
  // The number the campaign already has is a duplicate, not staged.
  NewContact dup;
  dup.phone = phone_of(0);
  EXPECT_FALSE(imports().stage(camp_a_, id, dup, kT0).value());
  ASSERT_EQ(staged(), 2500);

  auto report = recover_imports(db(), kT1, 1000);
  ASSERT_TRUE(report) << report.error().what();
  EXPECT_EQ(*report, (ImportRecoveryReport{1, 2500, 0, 0}));
  EXPECT_EQ(staged(), 0);
  EXPECT_EQ(visible(db(), camp_a_), before);
  auto row = imports().get(id).value();
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, ImportState::failed);
  EXPECT_EQ(row->finished_at, kT1);
  auto error = boost::json::parse(row->report_json.value()).as_object().at("error").as_string();
  EXPECT_EQ(error, "interrupted: the daemon stopped during the import");

  EXPECT_EQ(recover_imports(db(), kT1).value(), ImportRecoveryReport{});
  auto again = begin_import(camp_a_);
  stage(camp_a_, again, 1, 10);  // not duplicates: nothing of the lost import is left
}

// A crash mid-flip: recovery finishes the flip of the committed import, applying the DNC list
// as it is now; the import's contacts are all there, due at once.
TEST_P(ImportRepoTest, RecoveryFinishesCommittedImport) {
  insert(camp_a_, "+14155550100");
  auto id = begin_import(camp_a_);
  stage(camp_a_, id, 0, 1, "dnc");
  stage(camp_a_, id, 1, 2499);
  commit(id);
  auto part = store().imports().flip_staged(id, 1000, kT0);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->total(), 1000);
  std::vector<std::string> listed{phone_of(2499)};
  ASSERT_TRUE(store().dnc().add(listed, "", "admin", kT0));
  ASSERT_EQ(staged(), 1500);

  auto report = recover_imports(db(), kT1, 700);
  ASSERT_TRUE(report) << report.error().what();
  EXPECT_EQ(*report, (ImportRecoveryReport{0, 0, 1, 1500}));
  EXPECT_EQ(staged(), 0);
  auto counts = contacts().counts_by_state(camp_a_).value();
  EXPECT_EQ(counts.at(ContactState::queued), 2499);
  EXPECT_EQ(counts.at(ContactState::skipped), 2);
  EXPECT_EQ(contacts().find(camp_a_, phone_of(2499)).value()->reason, "dnc");
  EXPECT_EQ(contacts().find(camp_a_, phone_of(0)).value()->reason, "dnc");
  EXPECT_EQ(imports().get(id).value()->state, ImportState::committed);
  EXPECT_EQ(recover_imports(db(), kT1).value(), ImportRecoveryReport{});
}

// Recovery handles several imports at once: one cut off while staging, one mid-flip, and a
// finished one it leaves alone.
TEST_P(ImportRepoTest, RecoveryOfMixedStates) {
  auto done = begin_import(camp_a_);
  stage(camp_a_, done, 0, 10);
  commit(done);
  ASSERT_TRUE(complete_import(db(), done, kT0));
  auto flipping = begin_import(camp_b_);
  stage(camp_b_, flipping, 0, 10);
  commit(flipping);
  auto running = begin_import(camp_a_);
  stage(camp_a_, running, 100, 10);

  auto report = recover_imports(db(), kT1, 3);
  ASSERT_TRUE(report) << report.error().what();
  EXPECT_EQ(*report, (ImportRecoveryReport{1, 10, 1, 10}));
  EXPECT_EQ(contacts().counts_by_state(camp_a_).value().at(ContactState::queued), 10);
  EXPECT_EQ(contacts().counts_by_state(camp_b_).value().at(ContactState::queued), 10);
  EXPECT_EQ(imports().get(done).value()->finished_at, kT0);
  EXPECT_EQ(imports().get(running).value()->state, ImportState::failed);
}

// ---------------------------------------------------------------------------------------------
// The importer against a file database, with other connections at work.

std::string generated(int rows) {
  std::string text = "phone,name,plan\n";
  for (int i = 0; i < rows; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "+91 98%03d %05d,Name %d,gold\n", i % 1000, i % 100'000, i);
    text += line;
  }
  return text;
}

class ImportStaging : public ::testing::Test {
 protected:
  void SetUp() override {
    auto zones = ZoneTable::load();
    ASSERT_TRUE(zones) << zones.error().what();
    zones_.emplace(std::move(*zones));
    importer_.emplace(*zones_, clock_);
    db_path_ = (dir_.path() / "dialer.db").string();
    db_.emplace(open());
    importer_db_.emplace(open());
    campaign_ = SqlCampaigns{*db_}.create(sample_spec("spring"), clock_.now()).value();
    other_ = SqlCampaigns{*db_}.create(sample_spec("autumn"), clock_.now()).value();
  }

  Database open(Millis busy_timeout = Millis{5000}) {
    OpenOptions o;
    o.synchronous = Synchronous::normal;  // durability is not under test; fsyncs only slow it
    o.busy_timeout = busy_timeout;
    auto db = Database::open(db_path_, o);
    EXPECT_TRUE(db) << db.error().what();
    return std::move(*db);
  }

  std::filesystem::path write_list(const std::string& text) {
    auto path = dir_.path() / ("list" + std::to_string(++lists_) + ".csv");
    std::ofstream{path, std::ios::binary} << text;
    return path;
  }

  ImportOptions options() {
    ImportOptions o;
    o.default_region = "IN";
    o.chunk_rows = 1000;
    o.progress_rows = 2000;
    return o;
  }

  Result<ImportReport> import(const std::filesystem::path& file, const ImportOptions& o) {
    return importer_->run_file(*importer_db_, campaign_, file, o);
  }

  std::int64_t staged() {
    return query_count(*db_, "SELECT count(*) FROM contacts WHERE state = 'staged'");
  }

  TempDir dir_;
  ManualClock clock_{kT0};
  std::optional<ZoneTable> zones_;
  std::optional<ContactImporter> importer_;
  std::string db_path_;
  std::optional<Database> db_;           ///< the event loop's connection
  std::optional<Database> importer_db_;  ///< the import worker's
  std::int64_t campaign_ = 0;
  std::int64_t other_ = 0;
  int lists_ = 0;
};

// While a large import runs, another connection with a 200 ms busy timeout keeps writing to
// contacts and kv: at each progress report the importer waits until that connection has
// committed one more write, which only succeeds if the import holds no lock between chunks.
TEST_F(ImportStaging, ConcurrentWriterProgressesDuringLargeImport) {
  constexpr int kRows = 50'000;
  auto path = write_list(generated(kRows));
  NewContact c;
  c.phone = "+14155550100";
  ASSERT_TRUE(SqlContacts{*db_}.insert(other_, c, kT0).value());
  const auto contact_id = SqlContacts{*db_}.find(other_, c.phone).value()->id;

  std::mutex m;
  std::condition_variable cv;
  std::int64_t successes = 0;
  std::int64_t failures = 0;  // busy: the lock was not free within 200 ms
  std::int64_t last_written = 0;
  bool waiting = false;
  bool done = false;
  std::jthread writer{[&] {
    Database db = open(Millis{200});
    for (std::int64_t n = 1;; ++n) {
      auto write = [&]() -> Result<void> {
        auto tx = Transaction::begin(db);
        if (!tx) return tx.error();
        // What dispatch writes: a contact's due time, and a small piece of state.
        if (auto d = SqlContacts{db}.defer(contact_id, kT0 + Millis{n}, kT0); !d) return d.error();
        if (auto k = SqlKv{db}.set("writer", std::to_string(n)); !k) return k.error();
        return tx->commit();
      };
      auto r = write();
      std::unique_lock lock{m};
      ++(r ? successes : failures);
      if (r) last_written = n;
      cv.notify_all();
      // Between writes, rest unless the importer is waiting for one (a throttle, so this
      // loop does not take a core from the import; not a synchronisation).
      cv.wait_for(lock, 5ms, [&] { return done || waiting; });
      if (done) return;
    }
  }};

  int rendezvous = 0;
  int missed = 0;
  int amid_chunks = 0;  // rendezvous with some but not all rows staged
  auto o = options();
  o.on_progress = [&](const ImportProgress&) {
    const auto rows_staged =
        query_count(*db_, "SELECT count(*) FROM contacts WHERE state = 'staged'");
    std::unique_lock lock{m};
    ++rendezvous;
    if (rows_staged > 0 && rows_staged < kRows) ++amid_chunks;
    const std::int64_t target = successes + 1;
    if (missed > 0) return;  // already failed: do not wait again
    waiting = true;
    cv.notify_all();
    if (!cv.wait_for(lock, 30s, [&] { return successes >= target; })) ++missed;
    waiting = false;
  };
  std::int64_t at_start = 0;
  {
    std::lock_guard lock{m};
    at_start = successes;
  }
  auto r = import(path, o);
  std::int64_t during = 0;
  {
    std::lock_guard lock{m};
    during = successes - at_start;
    done = true;
  }
  cv.notify_all();
  writer.join();
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->imported + r->duplicates, static_cast<std::uint64_t>(kRows));
  EXPECT_EQ(missed, 0);
  EXPECT_GE(rendezvous, kRows / 2000);
  EXPECT_GE(during, rendezvous);
  EXPECT_GE(amid_chunks, rendezvous - 1);  // the writes came between chunks, not before them
  RecordProperty("writes_during_import", static_cast<int>(during));
  RecordProperty("busy_failures", static_cast<int>(failures));
  // The other connection's last write is there.
  EXPECT_EQ(SqlKv{*db_}.get("writer").value(), std::to_string(last_written));
}

// Mid-import the staged rows are in the database but the event loop's connection sees no
// contact, no due contact and no activity; the import is recorded as running, then committed
// with its report.
TEST_F(ImportStaging, StagedRowsInvisibleMidImport) {
  auto path = write_list(generated(10'000));
  auto o = options();
  int checks = 0;
  std::int64_t most_staged = 0;
  o.on_progress = [&](const ImportProgress& p) {
    if (p.rows == 10'000) return;  // the final report, after the flip
    ++checks;
    SqlContacts contacts{*db_};
    most_staged = std::max(most_staged, staged());
    for (const auto& [state, n] : contacts.counts_by_state(campaign_).value()) {
      EXPECT_EQ(n, 0) << to_string(state);
    }
    EXPECT_TRUE(contacts.next_due(campaign_, kT1, 10).value().empty());
    EXPECT_FALSE(contacts.any_active(campaign_).value());
    EXPECT_TRUE(visible(*db_, campaign_).empty());
    EXPECT_EQ(query_count(*db_, "SELECT count(*) FROM imports WHERE state = 'running'"), 1);
  };
  auto r = import(path, o);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_GE(checks, 3);
  EXPECT_GE(most_staged, 2000);  // several chunks were written while nothing was visible
  EXPECT_EQ(staged(), 0);
  EXPECT_EQ(r->imported, 10'000u);
  EXPECT_EQ(SqlContacts{*db_}.counts_by_state(campaign_).value().at(ContactState::queued), 10'000);
  auto row = SqlImports{*db_}.get(r->import_id).value();
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, ImportState::committed);
  EXPECT_EQ(row->campaign_id, campaign_);
  EXPECT_EQ(row->report_json, boost::json::serialize(to_json(*r)));
}

// Cancelling after chunks were staged leaves the campaign's contacts as they were and the
// import failed; the reject file is not written.
TEST_F(ImportStaging, CancelMidImportLeavesNothing) {
  ASSERT_TRUE(import(write_list("phone\n9876543210\n9876543211\n"), options()));
  const auto before = visible(*db_, campaign_);
  ASSERT_EQ(before.size(), 2u);
  auto path = write_list(generated(10'000));
  std::stop_source stop;
  auto o = options();
  o.stop = stop.get_token();
  o.reject_file = dir_.path() / "rejects.csv";
  std::int64_t staged_at_cancel = 0;
  o.on_progress = [&](const ImportProgress&) {
    staged_at_cancel = staged();
    stop.request_stop();
  };
  auto r = import(path, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::cancelled));
  EXPECT_GE(staged_at_cancel, 1000);
  EXPECT_EQ(staged(), 0);
  EXPECT_EQ(visible(*db_, campaign_), before);
  EXPECT_FALSE(std::filesystem::exists(o.reject_file));
  EXPECT_EQ(query_count(*db_, "SELECT count(*) FROM imports WHERE state = 'failed'"), 1);
  EXPECT_EQ(query_count(*db_, "SELECT count(*) FROM imports WHERE state = 'running'"), 0);
}

// A campaign stopped while its import stages rows fails the import at the commit point:
// nothing becomes a contact.
TEST_F(ImportStaging, CampaignStoppedMidImportFailsIt) {
  auto path = write_list(generated(6'000));
  auto o = options();
  o.on_progress = [&](const ImportProgress&) {
    (void)SqlCampaigns{*db_}.set_state(campaign_, CampaignState::cancelled, PauseReason::none, kT0);
  };
  auto r = import(path, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::conflict));
  EXPECT_EQ(query_count(*db_, "SELECT count(*) FROM contacts"), 0);
}

// A second import into a campaign whose import is running is refused; the first completes.
TEST_F(ImportStaging, SecondImportIntoSameCampaignRefused) {
  auto path = write_list(generated(6'000));
  auto small = write_list("phone\n+14155550100\n");
  auto o = options();
  std::optional<Result<ImportReport>> second;
  std::optional<Result<ImportReport>> elsewhere;
  o.on_progress = [&](const ImportProgress&) {
    if (second) return;
    second = importer_->run_file(*db_, campaign_, small, options());
    elsewhere = importer_->run_file(*db_, other_, small, options());
  };
  auto r = import(path, o);
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_TRUE(second && elsewhere);
  ASSERT_FALSE(*second);
  EXPECT_EQ(second->error().code, make_error_code(errc::conflict));
  ASSERT_TRUE(*elsewhere) << (*elsewhere).error().what();
  EXPECT_EQ((*elsewhere)->imported, 1u);
  EXPECT_EQ(r->imported, 6'000u);
}

// Chunks and the flip run at synchronous=NORMAL (the commit point makes them durable); the
// connection gets its own level back afterwards, whether the import succeeds or fails.
TEST_F(ImportStaging, SynchronousLevelRestored) {
  OpenOptions full;
  full.synchronous = Synchronous::full;
  auto db = Database::open(db_path_, full);
  ASSERT_TRUE(db) << db.error().what();
  ASSERT_EQ(db->query_int64("PRAGMA synchronous").value(), 2);
  auto o = options();
  std::int64_t mid = -1;
  o.on_progress = [&](const ImportProgress&) {
    if (mid < 0) mid = db->query_int64("PRAGMA synchronous").value();
  };
  ASSERT_TRUE(importer_->run_file(*db, campaign_, write_list(generated(3'000)), o));
  EXPECT_EQ(mid, 1);
  EXPECT_EQ(db->query_int64("PRAGMA synchronous").value(), 2);
  EXPECT_FALSE(importer_->run_file(*db, campaign_, write_list("phone\n+91\xE9\n"), o));
  EXPECT_EQ(db->query_int64("PRAGMA synchronous").value(), 2);
}

}  // namespace
}  // namespace dialer::store
