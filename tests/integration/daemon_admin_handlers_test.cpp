// The pure parts of the admin handlers: campaign fields as dialerctl sends them (compact window
// and retry, a campaign file overridden by flags), CSV quoting, DNC files, and the results
// export over a real store.

#include "daemon/admin_handlers.hpp"
#include "store/attempt_repo.hpp"
#include "store/campaign_repo.hpp"
#include "store/contact_repo.hpp"
#include "tests/unit/store/state_moves.hpp"

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace dialer::daemon {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// A file with `content`, open for reading, unlinked already (closed on destruction).
class MemFile {
 public:
  explicit MemFile(const std::string& content) {
    char name[] = "/tmp/dialerd-handlers-XXXXXX";
    fd_ = ::mkstemp(name);
    ::unlink(name);
    (void)!::write(fd_, content.data(), content.size());
    ::lseek(fd_, 0, SEEK_SET);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] std::string read_all() const {
    std::string out;
    ::lseek(fd_, 0, SEEK_SET);
    char buf[4096];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  int fd_ = -1;
};

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

// RFC 4180 quoting only where needed.
TEST(DaemonExport, CsvFieldQuoting) {
  std::string out;
  for (const char* f : {"plain", "a,b", "say \"hi\"", "two\nlines", " edge", ""}) {
    append_csv_field(out, f);
    out += '|';
  }
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" edge\"||");
}

// DNC files: a header naming the phone column, national numbers with the region, bad rows
// counted with their line, duplicates once.
/// read_dnc_file collecting every number, and the sizes of the chunks it handed over.
struct Collected {
  std::vector<std::string> numbers;
  std::vector<std::size_t> chunks;
};
Result<DncFileReport> read_all(int fd, std::string_view region, Collected& c,
                               std::size_t chunk = 1000) {
  return read_dnc_file(fd, region, chunk, [&](std::span<const std::string> n) -> Result<void> {
    c.numbers.insert(c.numbers.end(), n.begin(), n.end());
    c.chunks.push_back(n.size());
    return {};
  });
}

TEST(DaemonDncFile, HeaderColumnRegionAndErrors) {
  MemFile f("name;mobile\nA;+919800000001\nB;098000 00002\nC;rubbish\nD;+919800000001\n");
  Collected got;
  auto r = read_all(f.fd(), "IN", got);
  ASSERT_TRUE(r) << r.error().what();
  // Repeats are passed on (the store keeps the first); the count is of valid rows.
  EXPECT_EQ(got.numbers,
            (std::vector<std::string>{"+919800000001", "+919800000002", "+919800000001"}));
  EXPECT_EQ(r->numbers, 3u);
  EXPECT_EQ(r->rows, 4u);
  EXPECT_EQ(r->invalid, 1u);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].line, 4u);
  EXPECT_EQ(r->errors[0].value, "rubbish");

  MemFile plain("+14155550100\n+14155550101\n");
  Collected plain_got;
  auto p = read_all(plain.fd(), "", plain_got);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->numbers, 2u);
  Collected none;
  EXPECT_FALSE(read_all(plain.fd(), "QQ", none));
}

// A DNC file is streamed: numbers reach the store in chunks of the given size (memory stays
// bounded whatever the file holds), and an error from the store stops the read.
TEST(DaemonDncFile, StreamedInChunks) {
  std::string text;
  for (int i = 0; i < 2500; ++i) {
    char line[32];
    std::snprintf(line, sizeof line, "+91987%07d\n", i);
    text += line;
  }
  MemFile f(text);
  Collected got;
  auto r = read_all(f.fd(), "", got, 1000);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->numbers, 2500u);
  EXPECT_EQ(got.chunks, (std::vector<std::size_t>{1000, 1000, 500}));

  MemFile again(text);
  int calls = 0;
  auto failed = read_dnc_file(again.fd(), "", 1000, [&](std::span<const std::string>) {
    ++calls;
    return Result<void>(Error{errc::db_error, "database is locked"});
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(failed.error().message, HasSubstr("locked"));
}

/// A store in memory with one campaign named `name` (created at t0): for the export tests.
struct ExportStore {
  explicit ExportStore(const std::string& name)
      : db(store::Database::open(":memory:").value()), t0(from_unix_ms(1'800'000'000'000)) {
    CampaignSpec spec;
    spec.name = name;
    spec.agent_id = kAgent;
    campaign_id = store::CampaignRepo(db).create(spec, t0).value();
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
  store::ContactRepo contacts(*db);
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
  store::testing::StateMoves attempts(*db);
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
  store::ContactRepo contacts(*db);
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
}  // namespace dialer::daemon
