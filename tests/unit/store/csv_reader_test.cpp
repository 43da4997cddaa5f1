#include "store/csv_reader.hpp"

#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace dialer::store {
namespace {

using testing::TempDir;

struct Rec {
  std::uint64_t line;
  std::vector<std::string> fields;
  bool operator==(const Rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  os << r.line << ":";
  for (const auto& f : r.fields) os << " [" << f << "]";
  return os;
}

/// Every record of `text`, or the error message.
struct ReadAll {
  std::vector<Rec> records;
  std::optional<Error> error;
  char delimiter = 0;
};

ReadAll read_all(const std::string& text, CsvLimits limits = {}) {
  TempDir dir;
  auto path = dir.path() / "in.csv";
  std::ofstream{path, std::ios::binary} << text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  ReadAll out;
  {
    CsvReader reader{fd, limits};
    CsvRecord rec;
    for (;;) {
      auto r = reader.next(rec);
      if (!r) {
        out.error = r.error();
        break;
      }
      if (!*r) break;
      out.records.push_back({rec.line, {rec.fields.begin(), rec.fields.end()}});
    }
    out.delimiter = reader.delimiter();
    if (!out.error) {
      EXPECT_EQ(reader.bytes_read(), text.size());
    }
    EXPECT_EQ(reader.bytes_total(), text.size());
  }
  ::close(fd);
  return out;
}

const std::string kMessy =
    "\xEF\xBB\xBFPhone Number,name,plan\r\n"
    "+91 98765 43210,Asha Rao,gold\r\n"
    "098765-43211,\"Kumar, Ravi\",silver\r\n"
    "0091 98765 43213,\"Line\nBreak\r\nName\",basic\r\n"
    "\r\n"
    "  \n"
    "9876543212,\"say \"\"hi\"\"\",gold\r\n"
    "last,row,no newline";

// Records carry the physical line where they start, across quoted newlines and blank lines.
TEST(CsvReader, PhysicalLineNumbersAndQuoting) {
  auto r = read_all(kMessy);
  ASSERT_FALSE(r.error) << r.error->what();
  EXPECT_EQ(r.delimiter, ',');
  std::vector<Rec> want{
      {1, {"Phone Number", "name", "plan"}},
      {2, {"+91 98765 43210", "Asha Rao", "gold"}},
      {3, {"098765-43211", "Kumar, Ravi", "silver"}},
      {4, {"0091 98765 43213", "Line\nBreak\r\nName", "basic"}},
      {9, {"9876543212", "say \"hi\"", "gold"}},
      {10, {"last", "row", "no newline"}},
  };
  EXPECT_EQ(r.records, want);
}

// Any chunk size (down to a few bytes, splitting CRLF, quotes and UTF-8) reads the same.
TEST(CsvReader, ChunkBoundariesDoNotMatter) {
  std::string text = kMessy + "\r\n+91 98765 43217,\xC3\x89mile \xC3\x9Cnicode,gold\r\n";
  auto whole = read_all(text);
  ASSERT_FALSE(whole.error);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u}) {
    CsvLimits limits;
    limits.chunk_bytes = chunk;
    auto r = read_all(text, limits);
    ASSERT_FALSE(r.error) << chunk << ": " << r.error->what();
    EXPECT_EQ(r.records, whole.records) << "chunk " << chunk;
  }
}

// The delimiter comes from the header line: `;` and tab as well as `,`.
TEST(CsvReader, DetectsDelimiter) {
  auto semi = read_all("telefon;name;stadt\n+49 30 901820;\"Amt; Berlin\";Berlin\n");
  EXPECT_EQ(semi.delimiter, ';');
  ASSERT_EQ(semi.records.size(), 2u);
  EXPECT_EQ(semi.records[1].fields,
            (std::vector<std::string>{"+49 30 901820", "Amt; Berlin", "Berlin"}));
  auto tab = read_all("phone\tname\n+91 98765 43210\t Asha Rao \n");
  EXPECT_EQ(tab.delimiter, '\t');
  ASSERT_EQ(tab.records.size(), 2u);
  EXPECT_EQ(tab.records[1].fields, (std::vector<std::string>{"+91 98765 43210", "Asha Rao"}));
  // A comma inside quotes does not count for the header.
  EXPECT_EQ(read_all("\"a,b,c\";d\n").delimiter, ';');
  EXPECT_EQ(read_all("phone\n1\n").delimiter, ',');
  // Blank lines before the header do not hide its delimiter.
  auto late = read_all("\xEF\xBB\xBF\r\n  \nphone;name\n1;a\n");
  EXPECT_EQ(late.delimiter, ';');
  EXPECT_EQ(late.records, (std::vector<Rec>{{3, {"phone", "name"}}, {4, {"1", "a"}}}));
}

// An unterminated quote fails, naming the line where its row starts.
TEST(CsvReader, UnterminatedQuoteIsStructural) {
  auto r = read_all("number,name\n+919876500001,One\n\"+919876500003,Unterminated\n");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, make_error_code(errc::parse_error));
  EXPECT_EQ(r.error->message, "line 3: unterminated quoted field");
}

// Invalid UTF-8 and NUL bytes fail with the physical line.
TEST(CsvReader, InvalidUtf8AndBinaryAreStructural) {
  auto latin1 = read_all("phone,name\n+919876543210,Ren\xE9\n");
  ASSERT_TRUE(latin1.error);
  EXPECT_EQ(latin1.error->code, make_error_code(errc::parse_error));
  EXPECT_EQ(latin1.error->message, "line 2: invalid UTF-8 at byte 18");

  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
    auto r = read_all(std::string{"phone\n1\n"} + bad + "\n");
    ASSERT_TRUE(r.error) << bad;
    EXPECT_EQ(r.error->message.rfind("line 3: invalid UTF-8", 0), 0u) << r.error->message;
  }

  auto binary = read_all(std::string{"phone\n\x01\x02\0\x03\n", 11});
  ASSERT_TRUE(binary.error);
  EXPECT_EQ(binary.error->message, "line 2: NUL byte: not a text (CSV) file");
}

// Size limits on fields, rows, lines and field counts fail with limit_exceeded.
TEST(CsvReader, LimitsAreEnforced) {
  CsvLimits limits;
  limits.max_field_bytes = 16;
  limits.max_row_bytes = 64;
  limits.max_fields = 4;
  limits.chunk_bytes = 8;
  auto field = read_all("a,b\n1,12345678901234567\n", limits);
  ASSERT_TRUE(field.error);
  EXPECT_EQ(field.error->code, make_error_code(errc::limit_exceeded));
  EXPECT_EQ(field.error->message, "line 2: a field is longer than 16 bytes");

  auto quoted = read_all("a,b\n1,\"12345\n67890\n12345\n67890\n\n", limits);
  ASSERT_TRUE(quoted.error);
  EXPECT_EQ(quoted.error->message, "line 2: a field is longer than 16 bytes (unterminated quote?)");

  auto fields = read_all("a,b\n1,2,3,4,5\n", limits);
  ASSERT_TRUE(fields.error);
  EXPECT_EQ(fields.error->message, "line 2: more than 4 fields in one row");

  auto line = read_all("a\n" + std::string(100, 'x') + "\n", limits);
  ASSERT_TRUE(line.error);
  EXPECT_EQ(line.error->code, make_error_code(errc::limit_exceeded));
  EXPECT_EQ(line.error->message, "line 2: a line is longer than 64 bytes");
}

// A stop request interrupts a read that is waiting on a silent pipe.
TEST(CsvReader, StopInterruptsWaitingRead) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::stop_source stop;
  ASSERT_EQ(::write(p[1], "phone\n", 6), 6);
  CsvReader reader{p[0], {}, stop.get_token()};
  CsvRecord rec;
  ASSERT_TRUE(reader.next(rec).value());
  EXPECT_EQ(reader.bytes_total(), 0u);  // a pipe: size unknown
  std::jthread stopper{[&] { stop.request_stop(); }};
  auto r = reader.next(rec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::cancelled));
  ::close(p[0]);
  ::close(p[1]);
}

// A pipe that stays silent past the read timeout fails with timeout.
TEST(CsvReader, SilentPipeTimesOut) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  CsvLimits limits;
  limits.read_timeout = Millis{300};
  CsvReader reader{p[0], limits};
  CsvRecord rec;
  auto r = reader.next(rec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::timeout));
  EXPECT_EQ(r.error().message, "line 1: no data for 300ms");
  ::close(p[0]);
  ::close(p[1]);
}

// An empty input yields no record and no error.
TEST(CsvReader, EmptyInput) {
  auto r = read_all("");
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(r.records.empty());
  auto bom = read_all("\xEF\xBB\xBF");
  EXPECT_FALSE(bom.error);
  EXPECT_TRUE(bom.records.empty());
}

}  // namespace
}  // namespace dialer::store
