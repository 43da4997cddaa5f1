#include "store/dnc_file.hpp"

#include "store/phone.hpp"

#include <algorithm>
#include <array>

namespace dialer::store {

namespace {

/// Whether the first record of a file is a header, and which column holds the numbers: a known
/// phone header names the column; a first cell with letters that is no number is a header of a
/// one-column file.
bool is_header(const CsvRecord& rec, const PhoneNormalizer& normalizer, std::size_t& column) {
  for (std::size_t i = 0; i < rec.fields.size(); ++i) {
    const auto h = normalize_header(rec.fields[i]);
    if (std::find(kPhoneHeaders.begin(), kPhoneHeaders.end(), h) != kPhoneHeaders.end()) {
      column = i;
      return true;
    }
  }
  return !rec.fields.empty() && !normalizer.normalize(rec.fields[0]) &&
         std::any_of(rec.fields[0].begin(), rec.fields[0].end(),
                     [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); });
}

}  // namespace

Result<DncFileReport> read_dnc_file(int fd, std::string_view default_region, std::size_t chunk,
                                    const DncChunkSink& sink) {
  auto normalizer = PhoneNormalizer::make(default_region);
  if (!normalizer) {
    return Error{errc::invalid_argument,
                 "default_region: unknown region '" + std::string(default_region) + "'"};
  }
  CsvReader reader(fd);
  DncFileReport report;
  std::vector<std::string> pending;
  pending.reserve(std::max<std::size_t>(chunk, 1));
  std::size_t column = 0;
  bool first = true;
  CsvRecord rec;
  for (;;) {
    auto more = reader.next(rec);
    if (!more) return more.error();
    if (!*more) break;
    if (first) {
      first = false;
      if (is_header(rec, *normalizer, column)) continue;
    }
    ++report.rows;
    const std::string_view raw =
        column < rec.fields.size() ? rec.fields[column] : std::string_view{};
    auto phone = normalizer->normalize(raw);
    if (!phone) {
      ++report.invalid;
      if (report.errors.size() < ImportReport::kMaxReportedErrors) {
        report.errors.push_back(ImportRowError{rec.line, "", std::string(raw.substr(0, 200)),
                                               std::string(to_string(phone.error()))});
      }
      continue;
    }
    if (report.numbers >= kMaxDncFileNumbers) {
      return Error{errc::limit_exceeded, "a DNC file may hold at most " +
                                             std::to_string(kMaxDncFileNumbers) + " numbers"};
    }
    ++report.numbers;
    pending.push_back(std::move(phone->e164));
    if (pending.size() >= std::max<std::size_t>(chunk, 1)) {
      if (auto r = sink(pending); !r) return r.error();
      pending.clear();
    }
  }
  if (!pending.empty()) {
    if (auto r = sink(pending); !r) return r.error();
  }
  return report;
}

}  // namespace dialer::store
