#include "store/csv_import.hpp"

#include "core/campaign_spec.hpp"
#include "store/contact_repo.hpp"
#include "store/dnc_repo.hpp"
#include "store/import_recovery.hpp"
#include "store/import_repo.hpp"
#include "store/phone.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/string_view.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <csv.h>
#include <exception>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <poll.h>
#include <sys/stat.h>
#include <thread>
#include <unicode/utf8.h>
#include <unistd.h>

namespace dialer::store {

namespace {

std::string line_prefix(std::uint64_t line) {
  return "line " + std::to_string(line) + ": ";
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

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

/// At most `max` bytes of `s`, cut on a code point boundary.
std::string clip_utf8(std::string_view s, std::size_t max = 200) {
  if (s.size() <= max) return std::string{s};
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string{s.substr(0, cut)};
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
    if (!error) error = Error{code, line_prefix(row_start) + what};
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
          return Error{errc::timeout, line_prefix(line + 1) + "no data for " +
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
      return Error{errc::parse_error, line_prefix(line) + "NUL byte: not a text (CSV) file"};
    }
    if (auto at = invalid_utf8_at(text)) {
      return Error{errc::parse_error,
                   line_prefix(line) + "invalid UTF-8 at byte " + std::to_string(*at + 1)};
    }
    if (!parser_ready) {
      // The delimiter comes from the header: the first line that is not blank.
      if (trim(text).empty()) return {};
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
      return Error{errc::limit_exceeded, line_prefix(row_start) + csv_strerror(csv_error(&parser))};
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
      return Error{errc::parse_error, line_prefix(row_start) + "unterminated quoted field"};
    }
    if (csv_fini(&parser, on_field, on_row, this) != 0) {
      return Error{errc::parse_error, line_prefix(row_start) + csv_strerror(csv_error(&parser))};
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
        return Error{errc::limit_exceeded, line_prefix(line + 1) + "a line is longer than " +
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

// ---------------------------------------------------------------------------------------------
// Report

std::string needs_region_hint(std::uint64_t rows) {
  return std::to_string(rows) + (rows == 1 ? " row holds" : " rows hold") +
         " a national number (no + and country code): give the region to read them in with "
         "--default-region (argument default_region), e.g. --default-region IN";
}

boost::json::object to_json(const ImportReport& report) {
  boost::json::array errors;
  errors.reserve(report.errors.size());
  for (const auto& e : report.errors) {
    errors.push_back(boost::json::object{
        {"line", e.line}, {"column", e.column}, {"value", e.value}, {"reason", e.reason}});
  }
  boost::json::object o{{"rows", report.rows},
                        {"imported", report.imported},
                        {"duplicates", report.duplicates},
                        {"invalid", report.invalid},
                        {"unverified", report.unverified},
                        {"dnc", report.dnc},
                        {"errors", std::move(errors)},
                        {"elapsed_ms", report.elapsed_ms}};
  if (report.needs_region > 0) o["hint"] = needs_region_hint(report.needs_region);
  return o;
}

std::string normalize_header(std::string_view name) {
  std::string out{trim(name)};
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == ' ' || c == '-') c = '_';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Import

namespace {

// CONTRACT.md's phone headers, in its order of preference.
constexpr std::array<std::string_view, 8> kPhoneHeaders{
    "phone",  "phone_number", "mobile", "mobile_number",
    "number", "to_number",    "msisdn", "contact_number"};
// Looked for only when none of the above is present, so a file the contract accepts always
// gets the same column: common spellings in other languages and spreadsheets ("telefon" in
// data/contacts-semicolon.csv).
constexpr std::array<std::string_view, 11> kMorePhoneHeaders{
    "telephone", "tel",  "telefon",    "telefono",  "telefone", "phone_no",
    "mobile_no", "cell", "cell_phone", "cellphone", "handy"};

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

/// What each column of the file is.
struct Columns {
  std::vector<std::string> headers;  // trimmed, as written
  std::size_t phone = kNone;
  std::size_t name = kNone;
  std::size_t timezone = kNone;
  struct Variable {
    std::size_t index;
    std::string key_json;  // `"key":`
  };
  std::vector<Variable> variables;
};

std::string in_quotes(std::string_view s) {
  return "'" + std::string{s} + "'";
}

Result<Columns> plan_columns(std::span<const std::string_view> header,
                             std::string_view phone_option) {
  Columns cols;
  std::vector<std::string> normalized;
  for (auto h : header) {
    cols.headers.emplace_back(trim(h));
    normalized.push_back(normalize_header(h));
  }
  if (!phone_option.empty()) {
    auto wanted = normalize_header(phone_option);
    auto it = std::find(normalized.begin(), normalized.end(), wanted);
    if (it == normalized.end()) {
      return Error{errc::invalid_argument,
                   "no phone column: the header has no column " + in_quotes(phone_option)};
    }
    cols.phone = static_cast<std::size_t>(it - normalized.begin());
  } else {
    auto first_of = [&](std::span<const std::string_view> names) {
      for (std::size_t i = 0; i < normalized.size(); ++i) {
        if (std::find(names.begin(), names.end(), normalized[i]) != names.end()) return i;
      }
      return kNone;
    };
    cols.phone = first_of(kPhoneHeaders);
    if (cols.phone == kNone) cols.phone = first_of(kMorePhoneHeaders);
    if (cols.phone == kNone) {
      return Error{errc::invalid_argument,
                   "no phone column: expected a header named phone, phone_number, mobile, "
                   "mobile_number, number, to_number, msisdn or contact_number (or choose one "
                   "with the phone column option)"};
    }
  }
  std::vector<std::string_view> keys;
  for (std::size_t i = 0; i < normalized.size(); ++i) {
    if (i == cols.phone) continue;
    const std::string& key = cols.headers[i];
    std::string where = "column " + std::to_string(i + 1) + " header " + in_quotes(key);
    if (normalized[i] == normalized[cols.phone]) {
      return Error{errc::invalid_argument, where + " repeats the phone column"};
    }
    if (normalized[i] == "name" || normalized[i] == "timezone") {
      std::size_t& slot = normalized[i] == "name" ? cols.name : cols.timezone;
      if (slot != kNone) return Error{errc::invalid_argument, where + " appears twice"};
      slot = i;
      continue;
    }
    if (!is_variable_name(key)) {
      return Error{errc::invalid_argument,
                   where + " is not a valid variable name (^[a-zA-Z_][a-zA-Z0-9_]*$)"};
    }
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      return Error{errc::invalid_argument, where + " appears twice"};
    }
    keys.push_back(key);
    cols.variables.push_back({i, boost::json::serialize(boost::json::string_view{key}) + ":"});
  }
  return cols;
}

/// Appends `s` as a JSON string (Boost.JSON's escaping) without allocating per call.
void append_json_string(boost::json::serializer& sr, std::string_view s, std::string& out) {
  std::array<char, 1024> buf;
  sr.reset(boost::json::string_view{s.data(), s.size()});
  while (!sr.done()) {
    auto part = sr.read(buf.data(), buf.size());
    out.append(part.data(), part.size());
  }
}

/// One row of a batch after the per-row work (what the writer needs).
struct Prepared {
  enum class Kind { blank, rejected, accepted } kind = Kind::blank;
  // rejected
  std::string_view reason;
  std::size_t bad_column = kNone;
  std::string_view bad_value;
  // accepted
  Phone phone;
  std::string zones;
  std::string name;
  std::string variables_json;
};

/// Rows handed between the reading thread and the helper threads.
struct Batch {
  struct Row {
    std::uint64_t line;
    std::size_t first;
    std::size_t count;
  };
  std::string arena;
  std::vector<std::pair<std::size_t, std::size_t>> fields;  // offset, size in arena
  std::vector<Row> rows;
  std::vector<Prepared> prepared;
  std::vector<std::string_view> views;  // scratch for one row

  enum class State { free, filled, claimed, done } state = State::free;
  std::exception_ptr failure;

  void clear() {
    arena.clear();
    fields.clear();
    rows.clear();
  }
  void add(const CsvRecord& rec) {
    rows.push_back({rec.line, fields.size(), rec.fields.size()});
    for (auto f : rec.fields) {
      fields.emplace_back(arena.size(), f.size());
      arena.append(f);
    }
  }
  std::span<const std::string_view> row_fields(std::size_t r) {
    views.clear();
    for (std::size_t i = 0; i < rows[r].count; ++i) {
      auto [off, size] = fields[rows[r].first + i];
      views.emplace_back(arena.data() + off, size);
    }
    return views;
  }
};

/// The per-row work that needs no database: number, zone, name, variables. Thread-safe.
class RowPreparer {
 public:
  RowPreparer(const Columns& cols, const PhoneNormalizer& phones, const ZoneTable& zones,
              bool mobile_only)
      : cols_(cols), phones_(phones), zones_(zones), mobile_only_(mobile_only) {}

  void prepare(Batch& batch, boost::json::serializer& sr) const {
    batch.prepared.resize(batch.rows.size());
    for (std::size_t r = 0; r < batch.rows.size(); ++r) {
      // Views into batch.arena stay valid: prepare() runs before the batch is reused.
      prepare_row(batch.row_fields(r), batch.prepared[r], sr);
    }
  }

 private:
  void reject(Prepared& out, std::string_view reason, std::size_t column,
              std::string_view value) const {
    out.kind = Prepared::Kind::rejected;
    out.reason = reason;
    out.bad_column = column;
    out.bad_value = value;
  }

  void prepare_row(std::span<const std::string_view> f, Prepared& out,
                   boost::json::serializer& sr) const {
    auto field = [&](std::size_t i) { return i < f.size() ? trim(f[i]) : std::string_view{}; };
    // A record of empty cells (spreadsheets pad lists with them) is like a blank line.
    if (std::all_of(f.begin(), f.end(), [](std::string_view v) { return trim(v).empty(); })) {
      out.kind = Prepared::Kind::blank;
      return;
    }
    for (std::size_t i = cols_.headers.size(); i < f.size(); ++i) {
      if (!trim(f[i]).empty()) return reject(out, "too_many_fields", kNone, trim(f[i]));
    }
    std::string_view raw_phone = field(cols_.phone);
    auto phone = phones_.normalize(raw_phone);
    if (!phone) return reject(out, to_string(phone.error()), cols_.phone, raw_phone);
    if (mobile_only_ && !is_mobile_type(phone->type)) {
      return reject(out, "not_mobile", cols_.phone, raw_phone);
    }
    std::string_view tz = cols_.timezone == kNone ? std::string_view{} : field(cols_.timezone);
    if (!tz.empty() && !is_valid_zone(tz)) {
      return reject(out, "invalid_timezone", cols_.timezone, tz);
    }
    out.kind = Prepared::Kind::accepted;
    out.phone = std::move(*phone);
    out.zones.assign(tz.empty() ? zones_.zones(out.phone.region) : tz);
    out.name.assign(cols_.name == kNone ? std::string_view{} : field(cols_.name));
    out.variables_json.assign(1, '{');
    for (std::size_t v = 0; v < cols_.variables.size(); ++v) {
      if (v > 0) out.variables_json += ',';
      out.variables_json += cols_.variables[v].key_json;
      append_json_string(sr, field(cols_.variables[v].index), out.variables_json);
    }
    out.variables_json += '}';
  }

  const Columns& cols_;
  const PhoneNormalizer& phones_;
  const ZoneTable& zones_;
  bool mobile_only_;
};

/// The rejected rows as CSV, in a temp file beside the destination until commit().
class RejectFile {
 public:
  static Result<std::unique_ptr<RejectFile>> open(const std::filesystem::path& path,
                                                  const std::vector<std::string>& headers,
                                                  char delimiter) {
    auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path{"."};
    std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
      return Error{errc::io_error, "cannot create the reject file in " + dir.string() + ": " +
                                       std::strerror(errno)};
    }
    ::fchmod(fd, 0640);
    FILE* f = ::fdopen(fd, "w");
    if (f == nullptr) {
      ::close(fd);
      ::unlink(tmpl.c_str());
      return Error{errc::io_error,
                   "cannot open the reject file: " + std::string{std::strerror(errno)}};
    }
    auto out = std::unique_ptr<RejectFile>(new RejectFile(path, tmpl, f, delimiter));
    const auto taken = [&](std::string_view name) {
      return std::any_of(headers.begin(), headers.end(),
                         [&](const std::string& h) { return normalize_header(h) == name; });
    };
    std::vector<std::string_view> fields(headers.begin(), headers.end());
    out->count_ = headers.size();
    out->write_row(fields, taken("line") ? "reject_line" : "line",
                   taken("reason") ? "reject_reason" : "reason");
    return out;
  }

  ~RejectFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!renamed_) ::unlink(temp_.c_str());
  }
  RejectFile(const RejectFile&) = delete;
  RejectFile& operator=(const RejectFile&) = delete;

  /// The original fields (padded or cut to the header's count), then the row's line in the
  /// source file and the reason.
  void write(std::span<const std::string_view> fields, std::uint64_t line,
             std::string_view reason) {
    write_row(fields, std::to_string(line), reason);
  }

  void write_row(std::span<const std::string_view> fields, std::string_view line,
                 std::string_view reason) {
    for (std::size_t i = 0; i < count_; ++i) {
      write_field(i < fields.size() ? fields[i] : std::string_view{});
      std::fputc(delimiter_, file_);
    }
    write_field(line);
    std::fputc(delimiter_, file_);
    write_field(reason);
    std::fputs("\r\n", file_);
  }

  /// Flushes, syncs and renames the temp file onto the destination.
  Result<void> commit() {
    bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    if (!ok || ::rename(temp_.c_str(), path_.c_str()) != 0) {
      return Error{errc::io_error,
                   "cannot write the reject file " + path_.string() + ": " + std::strerror(errno)};
    }
    renamed_ = true;
    return {};
  }

  /// Removes the destination again (the import failed after commit()).
  void discard() noexcept {
    if (renamed_) ::unlink(path_.c_str());
  }

 private:
  RejectFile(std::filesystem::path path, std::string temp, FILE* f, char delimiter)
      : path_(std::move(path)), temp_(std::move(temp)), file_(f), delimiter_(delimiter) {}

  void write_field(std::string_view v) {
    bool needs_quotes = v.find_first_of("\"\r\n") != std::string_view::npos ||
                        v.find(delimiter_) != std::string_view::npos ||
                        (!v.empty() && (is_space(v.front()) || is_space(v.back())));
    if (needs_quotes) {
      csv_fwrite(file_, v.data(), v.size());  // libcsv's RFC 4180 quoting
    } else {
      std::fwrite(v.data(), 1, v.size(), file_);
    }
  }

  std::filesystem::path path_;
  std::string temp_;
  FILE* file_;
  char delimiter_;
  std::size_t count_ = 0;
  bool renamed_ = false;
};

/// Runs RowPreparer over batches on helper threads while the owner reads and writes. The
/// owner fills batches in file order, hands them over, and consumes them in the same order;
/// while the oldest is not ready it prepares pending ones itself, so no thread idles.
class Pipeline {
 public:
  /// Batches in flight at most, whatever the cores: the read-ahead of a slow input (a pipe),
  /// rows read but not yet written or counted in progress, stays under 8 × 512 rows.
  static constexpr std::size_t kMaxBatches = 8;

  Pipeline(const RowPreparer& preparer, unsigned helpers)
      : preparer_(preparer), batches_(std::min<std::size_t>(2 * (helpers + 1), kMaxBatches)) {
    for (unsigned i = 0; i < helpers; ++i) {
      threads_.emplace_back([this] { help(); });
    }
  }
  ~Pipeline() {
    {
      std::lock_guard lock{mutex_};
      closing_ = true;
    }
    work_.notify_all();
    threads_.clear();  // joins
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// The batch to fill next, or nullptr while all are in flight.
  Batch* free_batch() {
    if (filled_ - consumed_ == batches_.size()) return nullptr;
    Batch& b = batches_[filled_ % batches_.size()];
    b.clear();
    return &b;
  }
  /// Hands the batch returned by free_batch() to the preparers.
  void submit() {
    {
      std::lock_guard lock{mutex_};
      batches_[filled_ % batches_.size()].state = Batch::State::filled;
      ++filled_;
    }
    work_.notify_one();
  }
  [[nodiscard]] bool empty() const { return filled_ == consumed_; }

  /// The oldest batch once prepared (helping meanwhile); rethrows a helper's failure.
  Batch& oldest() {
    Batch& head = batches_[consumed_ % batches_.size()];
    std::unique_lock lock{mutex_};
    while (head.state != Batch::State::done) {
      if (Batch* b = claim()) {
        lock.unlock();
        run(*b, owner_serializer_);
        lock.lock();
        continue;
      }
      done_.wait(lock);
    }
    if (head.failure) std::rethrow_exception(head.failure);
    return head;
  }
  /// Releases the batch returned by oldest().
  void consumed() {
    std::lock_guard lock{mutex_};
    batches_[consumed_ % batches_.size()].state = Batch::State::free;
    ++consumed_;
  }

 private:
  // The filled batch with the lowest sequence, marked claimed; nullptr when none.
  Batch* claim() {
    for (std::uint64_t s = consumed_; s < filled_; ++s) {
      Batch& b = batches_[s % batches_.size()];
      if (b.state == Batch::State::filled) {
        b.state = Batch::State::claimed;
        return &b;
      }
    }
    return nullptr;
  }

  void run(Batch& b, boost::json::serializer& sr) {
    b.failure = nullptr;
    try {
      preparer_.prepare(b, sr);
    } catch (...) {
      b.failure = std::current_exception();
    }
    {
      std::lock_guard lock{mutex_};
      b.state = Batch::State::done;
    }
    done_.notify_all();
  }

  void help() {
    boost::json::serializer sr;
    std::unique_lock lock{mutex_};
    for (;;) {
      Batch* b = nullptr;
      work_.wait(lock, [&] { return closing_ || (b = claim()) != nullptr; });
      if (closing_) return;
      lock.unlock();
      run(*b, sr);
      lock.lock();
    }
  }

  const RowPreparer& preparer_;
  std::vector<Batch> batches_;
  std::uint64_t filled_ = 0;    // written by the owner only; read by helpers under the mutex
  std::uint64_t consumed_ = 0;  // same
  boost::json::serializer owner_serializer_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable done_;
  bool closing_ = false;
  std::vector<std::jthread> threads_;  // last: joined before the rest is destroyed
};

constexpr std::size_t kBatchRows = 512;
constexpr std::uint64_t kProgressBytes = 1 << 20;

/// The campaign exists and still takes contacts: not_found or conflict otherwise.
Result<void> check_campaign_open(Database& db, std::int64_t campaign_id, std::string_view when) {
  auto st = db.prepare("SELECT state FROM campaigns WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, campaign_id);
  auto step = st->step();
  if (!step) return step.error();
  if (*step == Step::done) {
    return Error{errc::not_found, "no campaign with id " + std::to_string(campaign_id)};
  }
  auto state = st->column_enum<CampaignState>(0);
  if (!state) return state.error();
  if (is_terminal(*state)) {
    return Error{errc::conflict, "campaign " + std::to_string(campaign_id) + " is " +
                                     std::string{to_string(*state)} + std::string{when} +
                                     ": contacts can only be added to an unfinished campaign"};
  }
  return {};
}

/// Runs the connection at PRAGMA synchronous=NORMAL while it lives, except between strict()
/// and relaxed(). The staged chunks and the flip need no fsync of their own: until the commit
/// point a lost chunk is a running import that recovery deletes anyway, after it a lost flip
/// chunk is one recovery redoes; and the commit point, run at the connection's own level,
/// makes every earlier WAL frame durable with it. Each chunk then holds the write lock without
/// waiting for a disk flush.
class RelaxedSync {
 public:
  explicit RelaxedSync(Database& db) : db_(db) {
    auto level = db_.query_int64("PRAGMA synchronous");
    if (level && *level > kNormal) {
      own_ = *level;
      set(kNormal);
    }
  }
  ~RelaxedSync() { strict(); }
  RelaxedSync(const RelaxedSync&) = delete;
  RelaxedSync& operator=(const RelaxedSync&) = delete;

  /// Back to the connection's own level.
  void strict() { set(own_); }
  void relaxed() { set(kNormal); }

 private:
  static constexpr std::int64_t kNormal = 1;
  void set(std::int64_t level) {
    if (own_ > kNormal) (void)db_.exec("PRAGMA synchronous = " + std::to_string(level));
  }
  Database& db_;
  std::int64_t own_ = 0;
};

}  // namespace

ContactImporter::ContactImporter(const ZoneTable& zones, const Clock& clock)
    : zones_(zones), clock_(clock) {}

Result<ImportReport> ContactImporter::run(Database& db, std::int64_t campaign_id, int fd,
                                          const ImportOptions& options) const {
  const auto started = std::chrono::steady_clock::now();
  const TimePoint now = clock_.now();

  auto phones = PhoneNormalizer::make(options.default_region);
  if (!phones) {
    return Error{errc::invalid_argument, "unknown default region " +
                                             in_quotes(options.default_region) +
                                             ": expected an ISO 3166 code such as IN"};
  }

  CsvReader reader{fd, options.limits, options.stop};
  CsvRecord record;
  auto got = reader.next(record);
  if (!got) return got.error();
  if (!*got) return Error{errc::parse_error, "empty file: a header row is required"};
  auto cols = plan_columns(record.fields, options.phone_column);
  if (!cols) return Error{cols.error().code, line_prefix(record.line) + cols.error().message};

  std::unique_ptr<RejectFile> rejects;
  if (!options.reject_file.empty()) {
    auto r = RejectFile::open(options.reject_file, cols->headers, reader.delimiter());
    if (!r) return r.error();
    rejects = std::move(*r);
  }

  RelaxedSync sync{db};
  // The import's row, in a transaction of its own: from here on its staged rows are either
  // made visible (committed) or deleted (failed), now or by recovery after a crash.
  ImportRepo imports{db};
  std::int64_t import_id = 0;
  {
    auto tx = Transaction::begin(db, TransactionKind::immediate);
    if (!tx) return tx.error();
    if (auto open = check_campaign_open(db, campaign_id, ""); !open) return open.error();
    auto id = imports.begin(campaign_id, now);
    if (!id) return id.error();
    if (auto c = tx->commit(); !c) return c.error();
    import_id = *id;
  }

  const std::int64_t chunk_rows =
      static_cast<std::int64_t>(std::max<std::size_t>(options.chunk_rows, 1));
  ImportReport report;
  report.import_id = import_id;

  // Reading, parsing and normalising run outside any transaction; the accepted rows of one
  // chunk are then written in one short transaction, so the write lock is held only while
  // inserting and other connections get it between chunks.
  auto stage_all = [&]() -> Result<void> {
    // tzdb loads on first use; do it here, not concurrently in the helpers.
    (void)is_valid_zone("UTC");
    RowPreparer preparer{*cols, *phones, zones_, options.mobile_only};
    Pipeline pipeline{preparer, options.helper_threads};
    DncRepo dnc{db};
    std::vector<NewContact> pending(static_cast<std::size_t>(chunk_rows));
    std::size_t used = 0;
    std::uint64_t progress_bytes = 0;
    std::uint64_t progress_rows = 0;
    auto progress = [&] {
      if (!options.on_progress) return;
      if (reader.bytes_read() - progress_bytes < kProgressBytes &&
          report.rows - progress_rows < options.progress_rows) {
        return;
      }
      progress_bytes = reader.bytes_read();
      progress_rows = report.rows;
      options.on_progress({progress_bytes, reader.bytes_total(), progress_rows});
    };
    auto flush = [&]() -> Result<void> {
      if (used == 0) return {};
      if (options.stop.stop_requested()) return Error{errc::cancelled, "import cancelled"};
      auto tx = Transaction::begin(db, TransactionKind::immediate);
      if (!tx) return tx.error();
      // The DNC list may change between chunks (the flip checks it again); when it is empty,
      // the common case, no row needs a lookup.
      auto dnc_rows = db.query_int64("SELECT EXISTS (SELECT 1 FROM dnc)");
      if (!dnc_rows) return dnc_rows.error();
      for (std::size_t i = 0; i < used; ++i) {
        NewContact& c = pending[i];
        Result<bool> listed = false;
        if (*dnc_rows != 0) listed = dnc.contains(c.phone);
        if (!listed) return listed.error();
        c.reason.assign(*listed ? "dnc" : "");
        auto inserted = imports.stage(campaign_id, import_id, c, now);
        if (!inserted) return inserted.error();
        if (!*inserted) {
          ++report.duplicates;
          continue;
        }
        ++(*listed ? report.dnc : report.imported);
        if (!c.verified) ++report.unverified;
      }
      if (auto r = tx->commit(); !r) return r.error();
      used = 0;
      return {};
    };

    bool input_done = false;
    for (;;) {
      while (!input_done) {
        Batch* batch = pipeline.free_batch();
        if (batch == nullptr) break;
        while (batch->rows.size() < kBatchRows) {
          auto more = reader.next(record);
          if (!more) return more.error();
          if (!*more) {
            input_done = true;
            break;
          }
          batch->add(record);
        }
        if (batch->rows.empty()) break;
        pipeline.submit();
      }
      if (pipeline.empty()) break;

      Batch& batch = pipeline.oldest();
      for (std::size_t r = 0; r < batch.rows.size(); ++r) {
        Prepared& p = batch.prepared[r];
        if (p.kind == Prepared::Kind::blank) continue;
        ++report.rows;
        const std::uint64_t line = batch.rows[r].line;
        if (p.kind == Prepared::Kind::rejected) {
          ++report.invalid;
          if (p.reason == "needs_region") ++report.needs_region;
          if (report.errors.size() < ImportReport::kMaxReportedErrors) {
            report.errors.push_back(
                {line, p.bad_column == kNone ? std::string{} : cols->headers[p.bad_column],
                 clip_utf8(p.bad_value), std::string{p.reason}});
          }
          if (rejects) rejects->write(batch.row_fields(r), line, p.reason);
          continue;
        }
        // Swapped, not copied: the strings' buffers circulate between batches and chunk.
        NewContact& contact = pending[used++];
        contact.phone.swap(p.phone.e164);
        contact.number_type = p.phone.type;
        contact.verified = p.phone.valid;
        contact.region.swap(p.phone.region);
        contact.name.swap(p.name);
        contact.zones.swap(p.zones);
        contact.variables_json.swap(p.variables_json);
        contact.source_line = static_cast<std::int64_t>(line);
        if (used == pending.size()) {
          if (auto f = flush(); !f) return f.error();
        }
      }
      pipeline.consumed();
      progress();
    }
    return flush();
  };

  // The commit point: one short transaction marks the import committed, after the campaign is
  // checked again (it may have been stopped or completed meanwhile).
  auto commit = [&]() -> Result<void> {
    if (options.stop.stop_requested()) return Error{errc::cancelled, "import cancelled"};
    if (rejects) {
      if (auto r = rejects->commit(); !r) return r.error();
    }
    sync.strict();
    auto tx = Transaction::begin(db, TransactionKind::immediate);
    if (!tx) return tx.error();
    if (auto open = check_campaign_open(db, campaign_id, " now"); !open) return open.error();
    report.elapsed_ms =
        std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count();
    auto marked =
        imports.mark_committed(import_id, boost::json::serialize(to_json(report)), clock_.now());
    if (!marked) return marked.error();
    if (!*marked) {
      return Error{errc::db_error, "import " + std::to_string(import_id) + " is no longer running"};
    }
    auto committed = tx->commit();
    sync.relaxed();
    return committed;
  };

  Result<void> done = [&]() -> Result<void> {
    try {
      if (auto r = stage_all(); !r) return r;
      return commit();
    } catch (const std::exception& e) {
      return Error{errc::io_error, std::string{"import failed: "} + e.what()};
    }
  }();
  if (!done) {
    if (rejects) rejects->discard();
    // Should the clean-up fail too, the import stays running and recovery deletes its rows at
    // the next start; the error that matters to the caller is the first one.
    if (auto rb = roll_back_import(db, import_id, done.error().message, clock_.now(), chunk_rows);
        !rb) {
      return Error{done.error().code, done.error().message + " (removing its staged rows failed " +
                                          "too: " + rb.error().message +
                                          "; they are removed at the next start)"};
    }
    return done.error();
  }

  auto flipped = complete_import(db, import_id, clock_.now(), chunk_rows);
  if (!flipped) {
    return Error{flipped.error().code,
                 "import " + std::to_string(import_id) +
                     " is committed, but making its contacts dialable stopped (it is finished "
                     "at the next start): " +
                     flipped.error().message};
  }
  // Numbers put on the DNC list, or a campaign stopped, since their chunk was written.
  report.imported = static_cast<std::uint64_t>(flipped->queued + flipped->stopped);
  report.dnc = static_cast<std::uint64_t>(flipped->dnc);
  if (options.on_progress)
    options.on_progress({reader.bytes_read(), reader.bytes_total(), report.rows});
  report.elapsed_ms =
      std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count();
  // The stored report gets the final counts; the one written at the commit point differs at
  // most in elapsed_ms and a late DNC count, so a failure here is not the import's.
  if (auto r = imports.set_report(import_id, boost::json::serialize(to_json(report))); !r) {
    report.warning = "the final report was not stored: " + r.error().message;
  }
  return report;
}

Result<ImportReport> ContactImporter::run_file(Database& db, std::int64_t campaign_id,
                                               const std::filesystem::path& path,
                                               const ImportOptions& options) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error{errc::io_error, "cannot open " + path.string() + ": " + std::strerror(errno)};
  }
  auto report = run(db, campaign_id, fd, options);
  ::close(fd);
  return report;
}

Result<ImportReport> ContactImporter::run_on_own_connection(const std::string& db_path,
                                                            const OpenOptions& open_options,
                                                            std::int64_t campaign_id, int fd,
                                                            const ImportOptions& options) const {
  auto db = Database::open(db_path, open_options);
  if (!db) return db.error();
  return run(*db, campaign_id, fd, options);
}

}  // namespace dialer::store
