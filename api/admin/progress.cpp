#include "api/admin/progress.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

namespace dialer::admin {

namespace json = boost::json;
using Steady = std::chrono::steady_clock;

struct ProgressTicket::Entry {
  std::string id;
  std::string label;
  Steady::time_point started = Steady::now();
  std::atomic<std::uint64_t> bytes_done{0};
  std::atomic<std::uint64_t> bytes_total{0};
  std::atomic<std::uint64_t> rows{0};

  [[nodiscard]] ProgressSnapshot snapshot() const {
    return {id,
            label,
            bytes_done.load(std::memory_order_relaxed),
            bytes_total.load(std::memory_order_relaxed),
            rows.load(std::memory_order_relaxed),
            std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - started)};
  }
};

struct ProgressTicket::Shared {
  explicit Shared(std::size_t max) : max_jobs(max) {}
  const std::size_t max_jobs;
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> jobs;
};

json::object to_json(const ProgressSnapshot& s) {
  json::object o;
  o["id"] = s.id;
  o["label"] = s.label;
  o["bytes_done"] = s.bytes_done;
  o["bytes_total"] = s.bytes_total;
  o["rows"] = s.rows;
  o["elapsed_ms"] = s.elapsed.count();
  return o;
}

ProgressTicket::ProgressTicket(std::shared_ptr<Shared> table, std::shared_ptr<Entry> entry)
    : table_(std::move(table)), entry_(std::move(entry)) {}

ProgressTicket& ProgressTicket::operator=(ProgressTicket&& other) noexcept {
  if (this != &other) {
    release();
    table_ = std::move(other.table_);
    entry_ = std::move(other.entry_);
  }
  return *this;
}

ProgressTicket::~ProgressTicket() {
  release();
}

void ProgressTicket::release() noexcept {
  if (table_ && entry_) {
    const std::lock_guard lock(table_->mutex);
    const auto it = table_->jobs.find(entry_->id);
    if (it != table_->jobs.end() && it->second == entry_) table_->jobs.erase(it);
  }
  table_.reset();
  entry_.reset();
}

void ProgressTicket::update(std::uint64_t bytes_done, std::uint64_t rows) noexcept {
  if (!entry_) return;
  entry_->bytes_done.store(bytes_done, std::memory_order_relaxed);
  entry_->rows.store(rows, std::memory_order_relaxed);
}

void ProgressTicket::set_total(std::uint64_t bytes_total) noexcept {
  if (entry_) entry_->bytes_total.store(bytes_total, std::memory_order_relaxed);
}

const std::string& ProgressTicket::id() const noexcept {
  static const std::string none;
  return entry_ ? entry_->id : none;
}

ProgressTable::ProgressTable(std::size_t max_jobs)
    : shared_(std::make_shared<ProgressTicket::Shared>(max_jobs)) {}

namespace {

bool valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

}  // namespace

Result<ProgressTicket> ProgressTable::begin(std::string id, std::string label,
                                            std::uint64_t bytes_total) {
  if (!valid_id(id)) {
    return Error(errc::invalid_argument,
                 "invalid progress id (1-64 characters of letters, digits, '_', '-', '.')");
  }
  auto entry = std::make_shared<ProgressTicket::Entry>();
  entry->id = id;
  entry->label = std::move(label);
  entry->bytes_total.store(bytes_total, std::memory_order_relaxed);
  const std::lock_guard lock(shared_->mutex);
  if (shared_->jobs.contains(id)) {
    return Error(errc::duplicate, "progress id '" + id + "' is already in use");
  }
  if (shared_->jobs.size() >= shared_->max_jobs) {
    return Error(errc::limit_exceeded,
                 "too many jobs running (at most " + std::to_string(shared_->max_jobs) + ")");
  }
  shared_->jobs.emplace(std::move(id), entry);
  return ProgressTicket(shared_, std::move(entry));
}

namespace {

std::optional<ProgressSnapshot> find_job(const ProgressTicket::Shared& shared,
                                         std::string_view id) {
  const std::lock_guard lock(shared.mutex);
  const auto it = shared.jobs.find(id);
  if (it == shared.jobs.end()) return std::nullopt;
  return it->second->snapshot();
}

std::vector<ProgressSnapshot> all_jobs(const ProgressTicket::Shared& shared) {
  const std::lock_guard lock(shared.mutex);
  std::vector<ProgressSnapshot> out;
  out.reserve(shared.jobs.size());
  for (const auto& [id, entry] : shared.jobs) out.push_back(entry->snapshot());
  return out;
}

}  // namespace

std::optional<ProgressSnapshot> ProgressTable::snapshot(std::string_view id) const {
  return find_job(*shared_, id);
}

std::vector<ProgressSnapshot> ProgressTable::all() const {
  return all_jobs(*shared_);
}

Result<void> ProgressTable::register_commands(Registry& registry) {
  // The command holds the shared state, not the table, so it stays valid on its own.
  return registry.add_sync("import-progress", "progress of a running import: {\"id\": progress_id}",
                           Effect::read_only, [shared = shared_](Request& request) {
                             const auto* id = request.arguments.if_contains("id");
                             if (id == nullptr || id->is_null()) {
                               json::array jobs;
                               for (const auto& s : all_jobs(*shared)) jobs.push_back(to_json(s));
                               json::object args;
                               const bool none = jobs.empty();
                               args["jobs"] = std::move(jobs);
                               if (none)
                                 return Response::empty("no import running", std::move(args));
                               return Response::success("", std::move(args));
                             }
                             if (!id->is_string())
                               return Response::error("\"id\" must be a string");
                             const auto snap = find_job(*shared, id->get_string());
                             if (!snap) {
                               return Response::empty("no import running with id '" +
                                                      std::string(id->get_string()) + "'");
                             }
                             return Response::success("", to_json(*snap));
                           });
}

}  // namespace dialer::admin
