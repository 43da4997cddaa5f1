#include "store/sqlite/contact_import.hpp"

#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/dnc.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace dialer::store {

// Readable failures for report rows (found by gtest through ADL).
void PrintTo(const ImportRowError& e, std::ostream* os) {
  *os << "{" << e.line << ", '" << e.column << "', '" << e.value << "', " << e.reason << "}";
}

namespace {

using testing::TempDir;

const std::filesystem::path kData = std::filesystem::path{DIALER_SHARED_DIR} / "data";

/// What a test checks of a stored contact.
struct Stored {
  std::int64_t line = 0;
  std::string phone{};
  std::string name{};
  std::string zones{};
  std::string variables{};
  NumberType type = NumberType::mobile;
  std::string region = "IN";
  ContactState state = ContactState::queued;
  std::string reason{};
  bool verified = true;
  bool operator==(const Stored&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Stored& s) {
  return os << "{" << s.line << ", " << s.phone << ", '" << s.name << "', '" << s.zones << "', "
            << s.variables << ", " << to_string(s.type) << ", " << s.region << ", "
            << to_string(s.state) << ", '" << s.reason << "', verified=" << s.verified << "}";
}

/// Every table's rows as text but the imports history, so two snapshots are equal only when
/// nothing else changed.
std::string snapshot(Database& db) {
  std::ostringstream out;
  std::vector<std::string> tables;
  {
    auto st = db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'imports' ORDER BY name");
    EXPECT_TRUE(st);
    while (st->step().value() == Step::row) tables.push_back(st->column_text(0));
  }
  EXPECT_GE(tables.size(), 7u);
  for (const auto& t : tables) {
    out << "== " << t << "\n";
    auto st = db.prepare("SELECT * FROM " + t + " ORDER BY 1, 2");
    EXPECT_TRUE(st) << t;
    while (st->step().value() == Step::row) {
      for (int c = 0; c < st->column_count(); ++c) {
        out << (st->is_null(c) ? std::string{"NULL"} : st->column_text(c)) << "|";
      }
      out << "\n";
    }
  }
  return out.str();
}

class CsvImport : public ::testing::Test {
 protected:
  void SetUp() override {
    auto zones = ZoneTable::load();
    ASSERT_TRUE(zones) << zones.error().what();
    zones_.emplace(std::move(*zones));
    importer_.emplace(*zones_, clock_);
    db_path_ = (dir_.path() / "dialer.db").string();
    auto db = Database::open(db_path_);
    ASSERT_TRUE(db) << db.error().what();
    db_.emplace(std::move(*db));
    campaign_ = create_campaign("spring");
  }

  std::int64_t create_campaign(const std::string& name) {
    auto id = SqlCampaigns{*db_}.create(testing::sample_spec(name), clock_.now());
    EXPECT_TRUE(id) << id.error().what();
    return id ? *id : 0;
  }

  ImportOptions options(std::string region = "IN") {
    ImportOptions o;
    o.default_region = std::move(region);
    if (chunk_rows_ != 0) o.chunk_rows = chunk_rows_;
    return o;
  }

  Result<ImportReport> import(const std::filesystem::path& file, const ImportOptions& o) {
    return importer_->run_file(*db_, campaign_, file, o);
  }
  Result<ImportReport> import_text(const std::string& text, const ImportOptions& o) {
    auto path = dir_.path() / "list.csv";
    std::ofstream{path, std::ios::binary} << text;
    return import(path, o);
  }

  std::vector<Stored> stored(std::int64_t campaign = 0) {
    auto rows = SqlContacts{*db_}.list(campaign == 0 ? campaign_ : campaign, std::nullopt, 100'000);
    EXPECT_TRUE(rows) << rows.error().what();
    std::vector<Stored> out;
    for (const auto& r : *rows) {
      out.push_back({r.source_line.value_or(-1), r.phone, r.name, r.zones, r.variables_json,
                     r.number_type, r.region, r.state, r.reason, r.verified});
    }
    return out;
  }

  /// Files in the test directory other than the database's own.
  std::vector<std::string> stray_files() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator{dir_.path()}) {
      auto name = e.path().filename().string();
      if (name.rfind("dialer.db", 0) != 0 && name != "list.csv") out.push_back(name);
    }
    return out;
  }

  TempDir dir_;
  ManualClock clock_{from_unix_ms(1'767'225'600'000)};
  std::optional<ZoneTable> zones_;
  std::optional<ContactImporter> importer_;
  std::string db_path_;
  std::optional<Database> db_;
  std::int64_t campaign_ = 0;
  std::size_t chunk_rows_ = 0;  ///< 0: the default
};

std::string us_zones() {
  return std::string{ZoneTable::load()->zones("US")};
}

// contacts-messy.csv: every accepted and rejected row exactly as data/README.md says.
TEST_F(CsvImport, MessyFileAsDocumented) {
  auto o = options("IN");
  o.reject_file = dir_.path() / "rejects.csv";
  auto r = import(kData / "contacts-messy.csv", o);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->rows, 18u);
  EXPECT_EQ(r->imported, 11u);
  EXPECT_EQ(r->duplicates, 1u);
  EXPECT_EQ(r->invalid, 6u);
  EXPECT_EQ(r->unverified, 0u);
  EXPECT_EQ(r->dnc, 0u);
  std::vector<ImportRowError> errors{
      {9, "Phone Number", "9.19876E+11", "lossy_scientific"},
      {14, "Phone Number", "12345", "too_short"},
      {15, "Phone Number", "+999 1234567", "invalid_country_code"},
      {16, "Phone Number", "abc-not-a-number", "not_a_number"},
      {17, "Phone Number", "", "empty"},
      {18, "timezone", "Mars/Olympus", "invalid_timezone"},
  };
  EXPECT_EQ(r->errors, errors);

  const std::string kol = "Asia/Kolkata";
  auto vars = [](const char* plan, const char* due) {
    return std::string{"{\"plan\":\""} + plan + "\",\"due_amount\":\"" + due + "\"}";
  };
  std::vector<Stored> want{
      {2, "+919876543210", "Asha Rao", kol, vars("gold", "1200")},
      {3, "+919876543211", "Kumar, Ravi", kol, vars("silver", "300")},
      {4, "+919876543212", "Meena", kol, vars("gold", "0")},
      {5, "+919876543213", "Line\nBreak Name", kol, vars("basic", "50")},
      {7, "+919876543214", "Quote Prefix", kol, vars("gold", "10")},
      {8, "+919876543215", "Excel Sci", kol, vars("gold", "10")},
      {11, "+14155552671", "US Parens", "America/Los_Angeles", vars("gold", "5"),
       NumberType::fixed_line_or_mobile, "US"},
      {12, "+14155552672", "US Intl", us_zones(), vars("gold", "5"),
       NumberType::fixed_line_or_mobile, "US"},
      {13, "+442079460958", "UK Landline", "Europe/London", vars("silver", "7"),
       NumberType::fixed_line, "GB"},
      {19, "+919876543217",
       "\xC3\x89mile \xC3\x9Cn\xC3\xAF"
       "code",
       kol, vars("gold", "9")},
      {20, "+919876543218", "Trailing Spaces", kol, vars("gold", "42")},
  };
  EXPECT_EQ(stored(), want);
  // A US number without a timezone column may only be called when every US zone allows it.
  EXPECT_EQ(us_zones().rfind("America/New_York,", 0), 0u);
  EXPECT_NE(us_zones().find("America/Los_Angeles"), std::string::npos);

  // The reject file holds the bad rows, original columns plus the row's line in the file (the
  // report's) and the reason, CRLF like the input.
  std::ifstream in{o.reject_file, std::ios::binary};
  std::string rejects{std::istreambuf_iterator<char>{in}, {}};
  EXPECT_EQ(rejects,
            "Phone Number,name,timezone,plan,due_amount,line,reason\r\n"
            "9.19876E+11,Excel Lossy,,gold,10,9,lossy_scientific\r\n"
            "12345,Too Short,,gold,1,14,too_short\r\n"
            "+999 1234567,Unknown Country,,gold,1,15,invalid_country_code\r\n"
            "abc-not-a-number,Garbage,,gold,1,16,not_a_number\r\n"
            ",Empty Phone,,gold,1,17,empty\r\n"
            "+919876543216,Bad Zone,Mars/Olympus,gold,1,18,invalid_timezone\r\n");
  std::vector<std::uint64_t> lines;
  for (const auto& e : r->errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{9, 14, 15, 16, 17, 18}));
  EXPECT_EQ(stray_files(), std::vector<std::string>{"rejects.csv"});
}

// contacts-semicolon.csv with region DE: `;` delimiter, national and "(0)" forms; its phone
// header `telefon` is found without the phone column option.
TEST_F(CsvImport, SemicolonFileAsDocumented) {
  auto r = import(kData / "contacts-semicolon.csv", options("DE"));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->rows, 3u);
  EXPECT_EQ(r->imported, 3u);
  EXPECT_EQ(r->invalid, 0u);
  EXPECT_TRUE(r->errors.empty());
  const std::string de = "Europe/Berlin,Europe/Zurich";
  std::vector<Stored> want{
      {2, "+4930901820", "Berlin Amt", de, R"({"stadt":"Berlin"})", NumberType::fixed_line, "DE"},
      {3, "+4930901821", "National DE", de, R"({"stadt":"Berlin"})", NumberType::fixed_line, "DE"},
      {4, "+4930901822", "Paren Zero", de, R"({"stadt":"Berlin"})", NumberType::fixed_line, "DE"},
  };
  EXPECT_EQ(stored(), want);
}

/// Runs a failing import against a database that already holds contacts, DNC entries and a
/// second campaign, and checks that nothing changed and no reject file was left. The one table
/// left out of the comparison is `imports`: it now legitimately records the failed attempt (the
/// import's rows are staged in chunks and deleted again), which is checked instead: no import
/// is left running, none holds a staged row, and a recorded failure says why.
class FailingImport : public CsvImport {
 protected:
  void SetUp() override {
    CsvImport::SetUp();
    ASSERT_TRUE(import(kData / "contacts-messy.csv", options()));
    std::vector<std::string> dnc{"+919876500001", "+919876543218"};
    ASSERT_TRUE(SqlDnc{*db_}.add(dnc, "customer request", "admin", clock_.now()));
    create_campaign("autumn");
  }

  Error expect_failure_changes_nothing(const std::filesystem::path& file) {
    std::string before = snapshot(*db_);
    auto o = options();
    o.reject_file = dir_.path() / "rejects.csv";
    const std::int64_t imports_before = import_count();
    auto r = import(file, o);
    EXPECT_FALSE(r);
    EXPECT_EQ(snapshot(*db_), before);
    EXPECT_EQ(stray_files(), std::vector<std::string>{});
    expect_failure_recorded(imports_before, r ? std::string{} : r.error().message);
    return r ? Error{} : r.error();
  }

  std::int64_t import_count() { return db_->query_int64("SELECT count(*) FROM imports").value(); }

  /// Nothing staged or running is left; an import row added since `imports_before` is failed
  /// with `message` (a failure found before the import began adds none).
  void expect_failure_recorded(std::int64_t imports_before, const std::string& message) {
    EXPECT_EQ(db_->query_int64("SELECT count(*) FROM contacts WHERE state = 'staged'").value(), 0);
    EXPECT_EQ(db_->query_int64("SELECT count(*) FROM imports WHERE state = 'running'").value(), 0);
    auto st = db_->prepare("SELECT state, report FROM imports WHERE id > ? ORDER BY id");
    ASSERT_TRUE(st);
    st->bind(1, imports_before);
    while (st->step().value() == Step::row) {
      EXPECT_EQ(st->column_text(0), "failed");
      auto report = boost::json::parse(st->column_text(1)).as_object();
      EXPECT_EQ(report.at("error").as_string(), message);
    }
  }
};

// contacts-broken-quote.csv: the unterminated quote fails the import; nothing is written.
TEST_F(FailingImport, BrokenQuoteFileWritesNothing) {
  auto e = expect_failure_changes_nothing(kData / "contacts-broken-quote.csv");
  EXPECT_EQ(e.code, make_error_code(errc::parse_error));
  EXPECT_EQ(e.message, "line 4: unterminated quoted field");
}

// contacts-no-phone-column.csv: no phone column fails the import; nothing is written.
TEST_F(FailingImport, NoPhoneColumnFileWritesNothing) {
  auto e = expect_failure_changes_nothing(kData / "contacts-no-phone-column.csv");
  EXPECT_EQ(e.code, make_error_code(errc::invalid_argument));
  EXPECT_EQ(e.message.rfind("line 1: no phone column", 0), 0u) << e.message;
}

// contacts-bad-header.csv: the import fails naming the bad variable header.
TEST_F(FailingImport, BadHeaderFileNamesTheHeader) {
  auto e = expect_failure_changes_nothing(kData / "contacts-bad-header.csv");
  EXPECT_EQ(e.code, make_error_code(errc::invalid_argument));
  EXPECT_EQ(e.message,
            "line 1: column 3 header 'due amount!' is not a valid variable name "
            "(^[a-zA-Z_][a-zA-Z0-9_]*$)");
}

// contacts-latin1.csv: invalid UTF-8 on line 2 fails the import; nothing is written.
TEST_F(FailingImport, Latin1FileWritesNothing) {
  auto e = expect_failure_changes_nothing(kData / "contacts-latin1.csv");
  EXPECT_EQ(e.code, make_error_code(errc::parse_error));
  EXPECT_EQ(e.message.rfind("line 2: invalid UTF-8", 0), 0u) << e.message;
}

std::string generated(int rows, int first = 0) {
  std::string text = "phone,name,plan\n";
  for (int i = first; i < first + rows; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "+91 98%03d %05d,Name %d,gold\n", i % 1000, i, i);
    text += line;
  }
  return text;
}

// A structural error far into a big file (after thousands of good rows were staged in several
// chunks) still leaves the contacts exactly as they were: the staged rows are deleted.
TEST_F(FailingImport, LateStructuralErrorRollsEverythingBack) {
  auto path = dir_.path() / "list.csv";
  std::ofstream{path, std::ios::binary} << generated(5000) << "+919876543299,Ren\xE9,gold\n";
  chunk_rows_ = 1000;
  auto e = expect_failure_changes_nothing(path);
  EXPECT_EQ(import_count(), 2);  // the set-up's import, then this failed one
  EXPECT_EQ(e.message.rfind("line 5002: invalid UTF-8", 0), 0u) << e.message;
}

// A binary file fails; nothing is written.
TEST_F(FailingImport, BinaryFileWritesNothing) {
  auto path = dir_.path() / "list.csv";
  std::ofstream{path, std::ios::binary} << std::string{
      "phone\n\x7f"
      "ELF\x02\x01\0\0",
      13};
  auto e = expect_failure_changes_nothing(path);
  EXPECT_EQ(e.message, "line 2: NUL byte: not a text (CSV) file");
}

// An unknown campaign and a finished one are refused before anything is written.
TEST_F(FailingImport, UnknownOrFinishedCampaignWritesNothing) {
  campaign_ = 999;
  auto e = expect_failure_changes_nothing(kData / "contacts-messy.csv");
  EXPECT_EQ(e.code, make_error_code(errc::not_found));
  campaign_ = create_campaign("done");
  ASSERT_TRUE(SqlCampaigns{*db_}.set_state(campaign_, CampaignState::completed, PauseReason::none,
                                           clock_.now()));
  e = expect_failure_changes_nothing(kData / "contacts-messy.csv");
  EXPECT_EQ(e.code, make_error_code(errc::conflict));
  EXPECT_EQ(import_count(), 1);  // refused before an import began: the set-up's import only
}

// Cancelling through the stop token mid-import leaves the contacts as they were; the import is
// recorded as failed.
TEST_F(FailingImport, CancelledImportWritesNothing) {
  auto path = dir_.path() / "list.csv";
  std::ofstream{path, std::ios::binary} << generated(3'000);
  std::string before = snapshot(*db_);
  const std::int64_t imports_before = import_count();
  std::stop_source stop;
  auto o = options();
  o.progress_rows = 1000;
  o.stop = stop.get_token();
  int calls = 0;
  o.on_progress = [&](const ImportProgress&) {
    ++calls;
    stop.request_stop();
  };
  auto r = import(path, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::cancelled));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(snapshot(*db_), before);
  EXPECT_EQ(import_count(), imports_before + 1);
  expect_failure_recorded(imports_before, "import cancelled");
}

// Numbers on the DNC list are stored as skipped/dnc and counted apart.
TEST_F(CsvImport, DncNumbersAreSkipped) {
  std::vector<std::string> dnc{"+919876543212", "+14155552672"};
  ASSERT_TRUE(SqlDnc{*db_}.add(dnc, "", "admin", clock_.now()));
  auto r = import(kData / "contacts-messy.csv", options());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->imported, 9u);
  EXPECT_EQ(r->dnc, 2u);
  EXPECT_EQ(r->rows, r->imported + r->dnc + r->duplicates + r->invalid);
  for (const auto& s : stored()) {
    bool listed = s.phone == "+919876543212" || s.phone == "+14155552672";
    EXPECT_EQ(s.state, listed ? ContactState::skipped : ContactState::queued) << s;
    EXPECT_EQ(s.reason, listed ? "dnc" : "") << s;
  }
}

// Numbers already in the campaign from an earlier import count as duplicates; another
// campaign may hold the same numbers.
TEST_F(CsvImport, DuplicatesAcrossImports) {
  ASSERT_TRUE(import(kData / "contacts-messy.csv", options()));
  auto again = import(kData / "contacts-messy.csv", options());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->imported, 0u);
  EXPECT_EQ(again->duplicates, 12u);
  EXPECT_EQ(again->invalid, 6u);
  EXPECT_EQ(stored().size(), 11u);
  campaign_ = create_campaign("other");
  auto other = import(kData / "contacts-messy.csv", options());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->imported, 11u);
}

// --mobile-only keeps mobile and fixed-line-or-mobile numbers and rejects the UK landline.
TEST_F(CsvImport, MobileOnly) {
  auto o = options();
  o.mobile_only = true;
  auto r = import(kData / "contacts-messy.csv", o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->imported, 10u);
  EXPECT_EQ(r->invalid, 7u);
  ASSERT_EQ(r->errors.size(), 7u);
  EXPECT_EQ(r->errors[1], (ImportRowError{13, "Phone Number", "+44 20 7946 0958", "not_mobile"}));
}

// A possible but not valid number is imported, marked unverified, and counted.
TEST_F(CsvImport, PossibleButInvalidIsUnverified) {
  auto r = import_text("phone\n+91 55555 12345\n9876543210\n", options());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->imported, 2u);
  EXPECT_EQ(r->unverified, 1u);
  auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (Stored{2, "+915555512345", "", "Asia/Kolkata", "{}", NumberType::unknown,
                             "IN", ContactState::queued, "", false}));
  EXPECT_TRUE(rows[1].verified);
}

// The phone column option picks any header (compared normalised); other phone-like headers
// then become variables.
TEST_F(CsvImport, PhoneColumnOption) {
  auto o = options();
  o.phone_column = "Backup Number";
  auto r = import_text("Phone,backup-number,Name\n9876543210,9876543211,Asha\n", o);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(stored(), (std::vector<Stored>{{2, "+919876543211", "Asha", "Asia/Kolkata",
                                            R"({"Phone":"9876543210"})"}}));
  o.phone_column = "fax";
  auto missing = import_text("Phone,Name\n9876543210,Asha\n", o);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "line 1: no phone column: the header has no column 'fax'");
}

// Header rules: the first known phone header wins, names are compared normalised, variable
// headers must be valid names and unique.
TEST_F(CsvImport, HeaderRules) {
  EXPECT_EQ(normalize_header("  Phone Number "), "phone_number");
  EXPECT_EQ(normalize_header("Mobile-No"), "mobile_no");
  auto r =
      import_text("id,MSISDN,Mobile,TimeZone\n7,9876543210,9876543211,Asia/Kolkata\n", options());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(stored(), (std::vector<Stored>{{2, "+919876543210", "", "Asia/Kolkata",
                                            R"({"id":"7","Mobile":"9876543211"})"}}));
  auto fails = [&](const std::string& text) {
    auto res = import_text(text, options());
    EXPECT_FALSE(res) << text;
    return res ? std::string{} : res.error().message;
  };
  EXPECT_EQ(fails("phone,plan,plan\n1\n"), "line 1: column 3 header 'plan' appears twice");
  EXPECT_EQ(fails("phone,name,Name\n1\n"), "line 1: column 3 header 'Name' appears twice");
  EXPECT_EQ(fails("phone,due-amount\n1\n"),
            "line 1: column 2 header 'due-amount' is not a valid variable name "
            "(^[a-zA-Z_][a-zA-Z0-9_]*$)");
  EXPECT_EQ(fails("phone,\n1\n"),
            "line 1: column 2 header '' is not a valid variable name (^[a-zA-Z_][a-zA-Z0-9_]*$)");
  EXPECT_EQ(fails(""), "empty file: a header row is required");
}

// Rows of empty cells are ignored like blank lines; extra non-empty fields reject the row;
// missing trailing fields read as empty.
TEST_F(CsvImport, RowShapes) {
  auto r = import_text(
      "phone,name,plan\n"
      ",,\n"
      "9876543210,Asha\n"
      "9876543211,Ravi,gold,\n"
      "9876543212,Meena,gold,extra\n",
      options());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->rows, 3u);
  EXPECT_EQ(r->imported, 2u);
  EXPECT_EQ(r->errors, (std::vector<ImportRowError>{{5, "", "extra", "too_many_fields"}}));
  auto rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].variables, R"({"plan":""})");
  EXPECT_EQ(rows[1].variables, R"({"plan":"gold"})");
}

// A list with only its header imports nothing and succeeds.
TEST_F(CsvImport, HeaderOnly) {
  auto r = import_text("phone,name\r\n", options());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->rows, 0u);
  EXPECT_EQ(r->imported, 0u);
  EXPECT_TRUE(stored().empty());
}

// Variable values are JSON-escaped (quotes, backslashes, control characters, Unicode).
TEST_F(CsvImport, VariablesAreEscapedJson) {
  auto r =
      import_text("phone,note\n9876543210,\"say \"\"hi\"\"\\\n\tnow \xE2\x82\xAC\"\n", options());
  ASSERT_TRUE(r) << r.error().what();
  auto rows = stored();
  ASSERT_EQ(rows.size(), 1u);
  auto parsed = boost::json::parse(rows[0].variables).as_object();
  EXPECT_EQ(parsed.at("note").as_string(), "say \"hi\"\\\n\tnow \xE2\x82\xAC");
}

// Only the first 100 errors are listed; every bad row is counted; lines stay exact.
TEST_F(CsvImport, ErrorListIsCapped) {
  std::string text = "phone\n";
  for (int i = 0; i < 150; ++i) text += "12345\n";
  auto r = import_text(text, options());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->invalid, 150u);
  ASSERT_EQ(r->errors.size(), 100u);
  EXPECT_EQ(r->errors.back().line, 101u);
}

// The report serialises to exactly the CONTRACT fields.
TEST_F(CsvImport, ReportJson) {
  auto r = import(kData / "contacts-messy.csv", options());
  ASSERT_TRUE(r);
  auto j = to_json(*r);
  std::vector<std::string> keys;
  for (const auto& kv : j) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"rows", "imported", "duplicates", "invalid",
                                            "unverified", "dnc", "errors", "elapsed_ms"}));
  EXPECT_EQ(j.at("rows").as_uint64(), 18u);
  auto first = j.at("errors").as_array().at(0).as_object();
  EXPECT_EQ(
      boost::json::serialize(first),
      R"({"line":9,"column":"Phone Number","value":"9.19876E+11","reason":"lossy_scientific"})");
}

// Progress reports bytes read of the total and rows, ending at the whole file.
TEST_F(CsvImport, ReportsProgress) {
  auto path = dir_.path() / "list.csv";
  std::string text = generated(2'500);
  std::ofstream{path, std::ios::binary} << text;
  std::vector<ImportProgress> seen;
  auto o = options();
  o.progress_rows = 1000;
  o.on_progress = [&](const ImportProgress& p) { seen.push_back(p); };
  auto r = import(path, o);
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_GE(seen.size(), 3u);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].bytes_read, seen[i - 1].bytes_read);
    EXPECT_GE(seen[i].rows, seen[i - 1].rows);
  }
  EXPECT_EQ(seen.back().bytes_read, text.size());
  EXPECT_EQ(seen.back().bytes_total, text.size());
  EXPECT_EQ(seen.back().rows, 2'500u);
}

// Helper threads change nothing in the result: same report, same rows in the same order.
TEST_F(CsvImport, HelperThreadsGiveIdenticalResults) {
  std::string text = "phone,name,plan\n";
  for (int i = 0; i < 3000; ++i) {
    char line[64];
    if (i % 50 == 7) {
      std::snprintf(line, sizeof line, "12%d,Bad %d,x\n", i, i);
    } else if (i % 100 == 3) {
      std::snprintf(line, sizeof line, "+91 98000 %05d,Dup %d,y\n", i - 1, i);
    } else {
      std::snprintf(line, sizeof line, "098000-%05d,Name %d,z\n", i, i);
    }
    text += line;
  }
  std::vector<std::vector<Stored>> results;
  std::vector<boost::json::object> reports;
  for (unsigned helpers : {0u, 1u, 3u}) {
    campaign_ = create_campaign("h" + std::to_string(helpers));
    auto o = options();
    o.helper_threads = helpers;
    auto r = import_text(text, o);
    ASSERT_TRUE(r) << r.error().what();
    r->elapsed_ms = 0;
    reports.push_back(to_json(*r));
    results.push_back(stored());
  }
  EXPECT_EQ(reports[0].at("duplicates").as_uint64(), 30u);
  EXPECT_EQ(reports[0].at("invalid").as_uint64(), 60u);
  for (std::size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(reports[i], reports[0]);
    EXPECT_EQ(results[i], results[0]);
  }
}

// A worker imports on its own connection while the event loop's connection keeps reading;
// the rows become visible only once the import commits (staged rows are not contacts yet).
TEST_F(CsvImport, WorkerThreadWithOwnConnection) {
  auto path = dir_.path() / "list.csv";
  std::ofstream{path, std::ios::binary} << generated(2'500);
  std::promise<void> mid_import;
  std::promise<void> may_continue;
  auto o = options();
  o.progress_rows = 1000;
  bool first = true;
  o.on_progress = [&](const ImportProgress&) {
    if (!std::exchange(first, false)) return;
    mid_import.set_value();
    may_continue.get_future().wait();
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::future<Result<ImportReport>> done = std::async(std::launch::async, [&] {
    return importer_->run_on_own_connection(db_path_, {}, campaign_, fd, o);
  });
  mid_import.get_future().wait();
  auto visible = db_->query_int64("SELECT count(*) FROM contacts WHERE state <> 'staged'");
  auto listed = SqlContacts{*db_}.list(campaign_, std::nullopt, 10);
  may_continue.set_value();
  ASSERT_TRUE(listed) << listed.error().what();
  EXPECT_TRUE(listed->empty());
  ASSERT_TRUE(visible) << visible.error().what();
  EXPECT_EQ(*visible, 0);
  auto r = done.get();
  ::close(fd);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->imported, 2'500u);
  EXPECT_EQ(db_->query_int64("SELECT count(*) FROM contacts").value(), 2'500);
}

// A default region libphonenumber does not know is refused up front.
TEST_F(CsvImport, UnknownDefaultRegion) {
  auto r = import(kData / "contacts-messy.csv", options("XX"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));
  EXPECT_EQ(r.error().message, "unknown default region 'XX': expected an ISO 3166 code such as IN");
}

// A reject file written by one import can be fixed and imported again as it is.
TEST_F(CsvImport, RejectFileCanBeReimported) {
  auto o = options();
  o.reject_file = dir_.path() / "rejects.csv";
  ASSERT_TRUE(import_text("phone;name;plan\n12345;\"A; B\";gold\n9876543210;C;x\n", o));
  std::ifstream in{o.reject_file, std::ios::binary};
  std::string rejects{std::istreambuf_iterator<char>{in}, {}};
  EXPECT_EQ(rejects, "phone;name;plan;line;reason\r\n12345;\"A; B\";gold;2;too_short\r\n");
  // Fixed by the user: the line and reason columns are variables on the way back in.
  std::string fixed = "phone;name;plan;line;reason\r\n9876543219;\"A; B\";gold;2;too_short\r\n";
  auto r = import_text(fixed, options());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->imported, 1u);
}

// National numbers imported without a default region are rejected as needs_region, and the
// report says what to do (the flag and an example), once, not per row.
TEST_F(CsvImport, NationalNumbersWithoutARegionSayARegionIsNeeded) {
  auto r = import_text("phone\n98765 43210\n+919876543211\n09876543212\n", options(""));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->imported, 1u);
  EXPECT_EQ(r->invalid, 2u);
  EXPECT_EQ(r->needs_region, 2u);
  ASSERT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(r->errors[0].reason, "needs_region");
  EXPECT_EQ(r->errors[0].line, 2u);
  const auto j = to_json(*r);
  ASSERT_TRUE(j.contains("hint"));
  EXPECT_EQ(j.at("hint").as_string(),
            "2 rows hold a national number (no + and country code): give the region to read "
            "them in with --default-region (argument default_region), e.g. --default-region IN");
  auto with_region = import_text("phone\n98765 43213\n", options("IN"));
  ASSERT_TRUE(with_region);
  EXPECT_FALSE(to_json(*with_region).contains("hint"));
}

}  // namespace
}  // namespace dialer::store
