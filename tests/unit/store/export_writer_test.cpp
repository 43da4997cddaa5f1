// The results export over a real store: CSV quoting, the columns and rows, and cells from people
// defused for spreadsheets.

#include "store/sqlite/export_writer.hpp"

#include "store/attempt_repo.hpp"
#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/sql_store.hpp"
#include "tests/support/mem_file.hpp"
#include "tests/unit/store/state_moves.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace dialer::store {
namespace {

using ::testing::HasSubstr;
using testkit::MemFile;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

// RFC 4180 quoting only where needed.
TEST(DaemonExport, CsvFieldQuoting) {
  std::string out;
  for (const char* f : {"plain", "a,b", "say \"hi\"", "two\nlines", " edge", ""}) {
    append_csv_field(out, f);
    out += '|';
  }
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" edge\"||");
}

/// A store in memory with one campaign named `name` (created at t0): for the export tests.
struct ExportStore {
  explicit ExportStore(const std::string& name)
      : db(store::Database::open(":memory:").value()), t0(from_unix_ms(1'800'000'000'000)) {
    CampaignSpec spec;
    spec.name = name;
    spec.agent_id = kAgent;
    campaign_id = store::SqlCampaigns(db).create(spec, t0).value();
  }
  store::Database db;
  TimePoint t0;
  std::int64_t campaign_id = 0;
};

// The export: the contract's columns, then x_<key> per extraction key seen, then the
// variables, then the transcript; the last call's figures and the total spend per contact.
TEST(DaemonExport, ColumnsAndRowsFromTheStore) {
  ExportStore es("exp");
  auto* db = &es.db;
  const TimePoint t0 = es.t0;
  const auto cid = std::optional<std::int64_t>(es.campaign_id);
  store::SqlContacts contacts(*db);
  store::NewContact a;
  a.phone = "+919800000001";
  a.name = "Ravi, Jr.";
  a.variables_json = R"({"city":"Pune","tier":1})";
  store::NewContact b;
  b.phone = "+919800000002";
  b.variables_json = R"({"plan":"gold"})";
  ASSERT_TRUE(contacts.insert(*cid, a, t0));
  ASSERT_TRUE(contacts.insert(*cid, b, t0));
  auto ca = contacts.find(*cid, a.phone);
  ASSERT_TRUE(ca && *ca);
  store::SqlStore sqlite(*db);
  store::testing::StateMoves attempts(sqlite);
  for (int i = 0; i < 2; ++i) {
    auto id = attempts.insert_reserved(*cid, (*ca)->id, Provider::twilio, a.phone, kAgent, t0);
    ASSERT_TRUE(id);
    ASSERT_TRUE(
        attempts.mark_started(*id, "call-" + std::to_string(i), "sess-" + std::to_string(i), t0));
    store::FinishedCall fc;
    fc.status = CallStatus::completed;
    fc.outcome = i == 0 ? Outcome::voicemail : Outcome::completed;
    fc.answered_by = AnsweredBy::human;
    fc.duration_seconds = 30.5;
    fc.credits_used = 0.5;
    fc.result_json = i == 0 ? std::string(R"({"extraction":{"values":{"old":1}}})")
                            : std::string(R"({"transcript":[{"role":"agent","content":"hi"}],
                                 "extraction":{"status":"done","values":{"interested":true,"score":0.75}}})");
    fc.ended_at = t0 + std::chrono::minutes(i + 1);
    ASSERT_TRUE(attempts.finish(*id, fc));
  }
  MemFile out("");
  auto summary = write_export(*db, *cid, out.fd(), true);
  ASSERT_TRUE(summary) << summary.error().what();
  EXPECT_EQ(summary->rows, 2u);
  const std::string csv = out.read_all();
  const auto header = csv.substr(0, csv.find("\r\n"));
  EXPECT_EQ(header,
            "phone,name,state,reason,attempts,last_outcome,answered_by,duration_seconds,"
            "credits_used,last_call_id,last_session_id,updated_at,callback_at,x_interested,x_score,"
            "city,tier,"
            "plan,transcript");
  EXPECT_THAT(csv, HasSubstr("+919800000001,\"Ravi, Jr.\",queued,,0,,human,30.5,1,call-1,sess-1,"));
  EXPECT_THAT(csv, HasSubstr(",true,0.75,Pune,1,,"));
  EXPECT_THAT(csv, HasSubstr("\"[{\"\"role\"\":\"\"agent\"\""));
  EXPECT_THAT(csv, HasSubstr("+919800000002,,queued,,0,,,,0,,,"));
  EXPECT_THAT(csv, HasSubstr(",gold,\r\n"));
}

// Cells that come from people and begin like a spreadsheet formula (=, +, -, @, tab, CR) are
// written with a leading apostrophe; the E.164 phone column is written as it is.
TEST(DaemonExport, FormulaCellsFromPeopleAreDefused) {
  ExportStore es("inj");
  auto* db = &es.db;
  const TimePoint t0 = es.t0;
  const auto cid = std::optional<std::int64_t>(es.campaign_id);
  store::SqlContacts contacts(*db);
  store::NewContact a;
  a.phone = "+919800000001";
  a.name = "=HYPERLINK(\"http://x\",\"y\")";
  a.variables_json =
      R"js({"note":"+1+cmd","who":"@SUM(A1)","minus":"-2","tab":"\tx","ok":"fine"})js";
  ASSERT_TRUE(contacts.insert(*cid, a, t0));
  MemFile out("");
  auto summary = write_export(*db, *cid, out.fd(), false);
  ASSERT_TRUE(summary) << summary.error().what();
  const std::string csv = out.read_all();
  const auto row = csv.substr(csv.find("\r\n") + 2);
  EXPECT_THAT(row, ::testing::StartsWith("+919800000001,\"'=HYPERLINK("));
  EXPECT_THAT(row, HasSubstr(",'-2,"));
  EXPECT_THAT(row, HasSubstr(",'+1+cmd,"));
  EXPECT_THAT(row, HasSubstr(",fine\r\n"));
  EXPECT_THAT(row, HasSubstr("'\tx"));
  EXPECT_THAT(row, HasSubstr("'@SUM(A1)"));
}

}  // namespace
}  // namespace dialer::store
