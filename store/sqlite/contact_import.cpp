#include "store/sqlite/contact_import.hpp"

#include "core/campaign_spec.hpp"
#include "store/contact_repo.hpp"
#include "store/import_pipeline.hpp"
#include "store/phone.hpp"
#include "store/reject_file.hpp"
#include "store/sql/dnc.hpp"
#include "store/sql/imports.hpp"
#include "store/sqlite/import_recovery.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace dialer::store {

namespace {

using detail::Batch;
using detail::Columns;
using detail::kNone;
using detail::Pipeline;
using detail::Prepared;
using detail::RowPreparer;

/// At most `max` bytes of `s`, cut on a code point boundary.
std::string clip_utf8(std::string_view s, std::size_t max = 200) {
  if (s.size() <= max) return std::string{s};
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string{s.substr(0, cut)};
}

std::string in_quotes(std::string_view s) {
  return "'" + std::string{s} + "'";
}

Result<Columns> plan_columns(std::span<const std::string_view> header,
                             std::string_view phone_option) {
  Columns cols;
  std::vector<std::string> normalized;
  for (auto h : header) {
    cols.headers.emplace_back(trim_csv_field(h));
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
    if (db_.backend() != Backend::sqlite) return;  // PostgreSQL's commits are its own business
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
  if (!cols) return Error{cols.error().code, csv_line_prefix(record.line) + cols.error().message};

  std::unique_ptr<RejectFile> rejects;
  if (!options.reject_file.empty()) {
    auto r = RejectFile::open(options.reject_file, cols->headers, reader.delimiter());
    if (!r) return r.error();
    rejects = std::move(*r);
  }

  RelaxedSync sync{db};
  // The import's row, in a transaction of its own: from here on its staged rows are either
  // made visible (committed) or deleted (failed), now or by recovery after a crash.
  SqlImports imports{db};
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
    SqlDnc dnc{db};
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