#include "store/csv_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <csv.h>
#include <optional>
#include <poll.h>
#include <sys/stat.h>
#include <unicode/utf8.h>
#include <unistd.h>
#include <vector>

namespace dialer::store {

std::string csv_line_prefix(std::uint64_t line) {
  return "line " + std::to_string(line) + ": ";
}

bool is_csv_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim_csv_field(std::string_view s) noexcept {
  while (!s.empty() && is_csv_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_csv_space(s.back())) s.remove_suffix(1);
  return s;
}

namespace {

/// Offset of the first byte that is not well-formed UTF-8 (ICU's U8_NEXT: no overlongs,
/// surrogates or code points past U+10FFFF), or nullopt.
std::optional<std::size_t> invalid_utf8_at(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto n = static_cast<std::int32_t>(s.size());
  std::int32_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    std::int32_t at = i;
    UChar32 c = 0;
    U8_NEXT(p, i, n, c);
    if (c < 0) return static_cast<std::size_t>(at);
  }
  return std::nullopt;
}

// libcsv treats space and tab as padding around unquoted fields; with a tab delimiter only the
// space may be padding.
int space_only(unsigned char c) {
  return c == ' ' ? 1 : 0;
}
int space_or_tab(unsigned char c) {
  return c == ' ' || c == '\t' ? 1 : 0;
}

/// The delimiter of a header line: the most frequent of `,` `;` tab outside quotes (`,` wins a
/// tie, and a single-column file).
char detect_delimiter(std::string_view header) noexcept {
  std::size_t comma = 0, semicolon = 0, tab = 0;
  bool quoted = false;
  for (char c : header) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    comma += c == ',';
    semicolon += c == ';';
    tab += c == '\t';
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

// libcsv's parser states (libcsv.c; csv.h exports the field but not the names): between rows,
// and inside a field. csv_fini() reports an unterminated quote only in CSV_STRICT mode, which
// would also refuse every stray quote, so the state tells it instead.
constexpr int kRowNotBegun = 0;
constexpr int kFieldBegun = 2;

}  // namespace

// ---------------------------------------------------------------------------------------------
// CsvReader

struct CsvReader::Impl {
  struct FieldRef {
    std::size_t offset;
    std::size_t size;
  };
  struct Record {
    std::uint64_t line;
    std::size_t first;
    std::size_t count;
  };

  int fd;
  CsvLimits limits;
  std::stop_token stop;

  csv_parser parser{};
  bool parser_ready = false;
  bool finished = false;  // csv_fini() has run
  char delimiter = ',';

  std::vector<char> buffer;  // [begin, end) not yet fed to the parser
  std::size_t begin = 0;
  std::size_t end = 0;
  bool eof = false;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_total = 0;

  std::uint64_t line = 0;       // physical line last fed
  std::uint64_t row_start = 1;  // physical line where the record being built started

  std::string arena;             // field bytes of completed and in-progress records
  std::vector<FieldRef> fields;  // completed records' fields, then the open record's
  std::vector<Record> records;   // completed, not yet returned
  std::size_t next_record = 0;   // first not yet returned
  std::size_t open_first = 0;    // index in `fields` where the open record starts
  std::size_t open_bytes = 0;    // bytes of the open record's completed fields
  std::optional<Error> error;    // from a callback
  std::vector<std::string_view> views;

  Impl(int f, CsvLimits l, std::stop_token s) : fd(f), limits(l), stop(std::move(s)) {
    buffer.resize(limits.max_row_bytes + limits.chunk_bytes);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      off_t pos = ::lseek(fd, 0, SEEK_CUR);
      if (pos >= 0 && pos <= st.st_size) bytes_total = static_cast<std::uint64_t>(st.st_size - pos);
    }
  }
  ~Impl() {
    if (parser_ready) csv_free(&parser);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  static void on_field(void* data, std::size_t size, void* ctx) {
    auto& self = *static_cast<Impl*>(ctx);
    if (self.error) return;
    if (size > self.limits.max_field_bytes) {
      self.fail(errc::limit_exceeded,
                "a field is longer than " + std::to_string(self.limits.max_field_bytes) + " bytes");
      return;
    }
    if (self.fields.size() - self.open_first >= self.limits.max_fields) {
      self.fail(errc::limit_exceeded,
                "more than " + std::to_string(self.limits.max_fields) + " fields in one row");
      return;
    }
    self.open_bytes += size;
    if (self.open_bytes > self.limits.max_row_bytes) {
      self.fail(errc::limit_exceeded,
                "a row is longer than " + std::to_string(self.limits.max_row_bytes) + " bytes");
      return;
    }
    self.fields.push_back({self.arena.size(), size});
    if (size > 0) self.arena.append(static_cast<const char*>(data), size);
  }

  static void on_row(int, void* ctx) {
    auto& self = *static_cast<Impl*>(ctx);
    if (self.error) return;
    self.records.push_back({self.row_start, self.open_first, self.fields.size() - self.open_first});
    self.open_first = self.fields.size();
    self.open_bytes = 0;
    // A record that starts after a bare CR starts on this same line.
    self.row_start = self.line;
  }

  void fail(errc code, const std::string& what) {
    if (!error) error = Error{code, csv_line_prefix(row_start) + what};
  }

  // Drops the records already returned; the open record's fields move to the front.
  void compact() {
    records.clear();
    next_record = 0;
    std::size_t keep_from = open_first < fields.size() ? fields[open_first].offset : arena.size();
    arena.erase(0, keep_from);
    fields.erase(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(open_first));
    for (auto& f : fields) f.offset -= keep_from;
    open_first = 0;
  }

  Result<void> fill() {
    if (begin > 0) {
      std::memmove(buffer.data(), buffer.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    auto deadline = std::chrono::steady_clock::now() + limits.read_timeout;
    for (;;) {
      if (stop.stop_requested()) return Error{errc::cancelled, "import cancelled"};
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, 200);
      if (ready < 0 && errno != EINTR) {
        return Error{errc::io_error, std::string{"poll: "} + std::strerror(errno)};
      }
      if (ready <= 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          return Error{errc::timeout, csv_line_prefix(line + 1) + "no data for " +
                                          format_duration(limits.read_timeout)};
        }
        continue;
      }
      std::size_t room = std::min(limits.chunk_bytes, buffer.size() - end);
      ssize_t n = ::read(fd, buffer.data() + end, room);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return Error{errc::io_error, std::string{"read: "} + std::strerror(errno)};
      }
      if (n == 0) eof = true;
      end += static_cast<std::size_t>(n);
      bytes_read += static_cast<std::uint64_t>(n);
      return {};
    }
  }

  Result<void> feed(std::string_view text) {
    ++line;
    if (line == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
      return Error{errc::parse_error, csv_line_prefix(line) + "NUL byte: not a text (CSV) file"};
    }
    if (auto at = invalid_utf8_at(text)) {
      return Error{errc::parse_error,
                   csv_line_prefix(line) + "invalid UTF-8 at byte " + std::to_string(*at + 1)};
    }
    if (!parser_ready) {
      // The delimiter comes from the header: the first line that is not blank.
      if (trim_csv_field(text).empty()) return {};
      delimiter = detect_delimiter(text);
      if (csv_init(&parser, 0) != 0) {
        return Error{errc::io_error, "cannot initialise the CSV parser"};
      }
      parser_ready = true;
      csv_set_delim(&parser, static_cast<unsigned char>(delimiter));
      csv_set_space_func(&parser, delimiter == '\t' ? space_only : space_or_tab);
    }
    if (parser.pstate == kRowNotBegun && open_first == fields.size()) row_start = line;
    std::size_t done = csv_parse(&parser, text.data(), text.size(), on_field, on_row, this);
    if (error) return *error;
    if (done != text.size()) {
      return Error{errc::limit_exceeded,
                   csv_line_prefix(row_start) + csv_strerror(csv_error(&parser))};
    }
    if (parser.entry_pos > limits.max_field_bytes) {
      fail(errc::limit_exceeded, "a field is longer than " +
                                     std::to_string(limits.max_field_bytes) + " bytes" +
                                     (parser.quoted != 0 ? " (unterminated quote?)" : ""));
      return *error;
    }
    if (open_bytes + parser.entry_pos > limits.max_row_bytes) {
      fail(errc::limit_exceeded,
           "a row is longer than " + std::to_string(limits.max_row_bytes) + " bytes");
      return *error;
    }
    return {};
  }

  Result<void> finish() {
    finished = true;
    if (!parser_ready) return {};
    if (parser.pstate == kFieldBegun && parser.quoted != 0) {
      return Error{errc::parse_error, csv_line_prefix(row_start) + "unterminated quoted field"};
    }
    if (csv_fini(&parser, on_field, on_row, this) != 0) {
      return Error{errc::parse_error,
                   csv_line_prefix(row_start) + csv_strerror(csv_error(&parser))};
    }
    if (error) return *error;
    return {};
  }

  // Feeds one physical line (or the rest of the input) to the parser.
  Result<void> step() {
    for (;;) {
      if (stop.stop_requested()) return Error{errc::cancelled, "import cancelled"};
      const char* start = buffer.data() + begin;
      const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end - begin));
      if (nl != nullptr) {
        std::size_t size = static_cast<std::size_t>(nl - start) + 1;
        begin += size;
        return feed({start, size});
      }
      if (end - begin > limits.max_row_bytes) {
        return Error{errc::limit_exceeded, csv_line_prefix(line + 1) + "a line is longer than " +
                                               std::to_string(limits.max_row_bytes) + " bytes"};
      }
      if (eof) {
        if (end > begin) {
          std::string_view rest{start, end - begin};
          begin = end;
          return feed(rest);
        }
        return finish();
      }
      if (auto r = fill(); !r) return r;
    }
  }

  Result<bool> next(CsvRecord& out) {
    while (next_record == records.size()) {
      compact();
      if (error) return *error;
      if (finished) return false;
      if (auto r = step(); !r) return r.error();
    }
    const Record& rec = records[next_record++];
    views.clear();
    for (std::size_t i = 0; i < rec.count; ++i) {
      const FieldRef& f = fields[rec.first + i];
      views.emplace_back(arena.data() + f.offset, f.size);
    }
    out.line = rec.line;
    out.fields = views;
    return true;
  }
};

CsvReader::CsvReader(int fd, CsvLimits limits, std::stop_token stop)
    : impl_(std::make_unique<Impl>(fd, limits, std::move(stop))) {}
CsvReader::~CsvReader() = default;
Result<bool> CsvReader::next(CsvRecord& out) {
  return impl_->next(out);
}
char CsvReader::delimiter() const noexcept {
  return impl_->delimiter;
}
std::uint64_t CsvReader::bytes_read() const noexcept {
  return impl_->bytes_read;
}
std::uint64_t CsvReader::bytes_total() const noexcept {
  return impl_->bytes_total;
}

}  // namespace dialer::store
