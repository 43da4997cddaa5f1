#pragma once
/// The per-row work of a contact import (store/contact_import.hpp) and the threads that share
/// it: rows are read into batches in file order, normalised (number, zone, name, variables) by
/// helper threads and by the reading thread while it waits, and consumed in file order again.
/// Internal to the importer.

#include "store/csv_reader.hpp"
#include "store/phone.hpp"
#include "store/zones.hpp"

#include <boost/json/serializer.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace dialer::store::detail {

inline constexpr std::size_t kNone = static_cast<std::size_t>(-1);

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

  /// Fills `batch.prepared`, one entry per row.
  void prepare(Batch& batch, boost::json::serializer& sr) const;

 private:
  void reject(Prepared& out, std::string_view reason, std::size_t column,
              std::string_view value) const;
  void prepare_row(std::span<const std::string_view> f, Prepared& out,
                   boost::json::serializer& sr) const;

  const Columns& cols_;
  const PhoneNormalizer& phones_;
  const ZoneTable& zones_;
  bool mobile_only_;
};

/// Runs RowPreparer over batches on helper threads while the owner reads and writes. The
/// owner fills batches in file order, hands them over, and consumes them in the same order;
/// while the oldest is not ready it prepares pending ones itself, so no thread idles.
class Pipeline {
 public:
  /// Batches in flight at most, whatever the cores: the read-ahead of a slow input (a pipe),
  /// rows read but not yet written or counted in progress, stays under 8 × 512 rows.
  static constexpr std::size_t kMaxBatches = 8;

  Pipeline(const RowPreparer& preparer, unsigned helpers);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// The batch to fill next, or nullptr while all are in flight.
  Batch* free_batch();
  /// Hands the batch returned by free_batch() to the preparers.
  void submit();
  [[nodiscard]] bool empty() const { return filled_ == consumed_; }

  /// The oldest batch once prepared (helping meanwhile); rethrows a helper's failure.
  Batch& oldest();
  /// Releases the batch returned by oldest().
  void consumed();

 private:
  // The filled batch with the lowest sequence, marked claimed; nullptr when none.
  Batch* claim();
  void run(Batch& b, boost::json::serializer& sr);
  void help();

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

}  // namespace dialer::store::detail
