// DNC import files: the phone column by its header, national numbers with the region, bad rows
// with their line, and numbers streamed in chunks.

#include "store/dnc_file.hpp"

#include "tests/support/mem_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace dialer::store {
namespace {

using ::testing::HasSubstr;
using testkit::MemFile;

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

}  // namespace
}  // namespace dialer::store
