#include "store/import_pipeline.hpp"

#include <algorithm>
#include <array>

namespace dialer::store::detail {

namespace {

/// Appends `s` as a JSON string (Boost.JSON's escaping) without allocating per call.
void append_json_string(boost::json::serializer& sr, std::string_view s, std::string& out) {
  std::array<char, 1024> buf;
  sr.reset(boost::json::string_view{s.data(), s.size()});
  while (!sr.done()) {
    auto part = sr.read(buf.data(), buf.size());
    out.append(part.data(), part.size());
  }
}

}  // namespace

void RowPreparer::prepare(Batch& batch, boost::json::serializer& sr) const {
  batch.prepared.resize(batch.rows.size());
  for (std::size_t r = 0; r < batch.rows.size(); ++r) {
    // Views into batch.arena stay valid: prepare() runs before the batch is reused.
    prepare_row(batch.row_fields(r), batch.prepared[r], sr);
  }
}

void RowPreparer::reject(Prepared& out, std::string_view reason, std::size_t column,
                         std::string_view value) const {
  out.kind = Prepared::Kind::rejected;
  out.reason = reason;
  out.bad_column = column;
  out.bad_value = value;
}

void RowPreparer::prepare_row(std::span<const std::string_view> f, Prepared& out,
                              boost::json::serializer& sr) const {
  auto field = [&](std::size_t i) {
    return i < f.size() ? trim_csv_field(f[i]) : std::string_view{};
  };
  // A record of empty cells (spreadsheets pad lists with them) is like a blank line.
  if (std::all_of(f.begin(), f.end(),
                  [](std::string_view v) { return trim_csv_field(v).empty(); })) {
    out.kind = Prepared::Kind::blank;
    return;
  }
  for (std::size_t i = cols_.headers.size(); i < f.size(); ++i) {
    if (!trim_csv_field(f[i]).empty())
      return reject(out, "too_many_fields", kNone, trim_csv_field(f[i]));
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

Pipeline::Pipeline(const RowPreparer& preparer, unsigned helpers)
    : preparer_(preparer), batches_(std::min<std::size_t>(2 * (helpers + 1), kMaxBatches)) {
  for (unsigned i = 0; i < helpers; ++i) {
    threads_.emplace_back([this] { help(); });
  }
}

Pipeline::~Pipeline() {
  {
    std::lock_guard lock{mutex_};
    closing_ = true;
  }
  work_.notify_all();
  threads_.clear();  // joins
}

Batch* Pipeline::free_batch() {
  if (filled_ - consumed_ == batches_.size()) return nullptr;
  Batch& b = batches_[filled_ % batches_.size()];
  b.clear();
  return &b;
}

void Pipeline::submit() {
  {
    std::lock_guard lock{mutex_};
    batches_[filled_ % batches_.size()].state = Batch::State::filled;
    ++filled_;
  }
  work_.notify_one();
}

Batch& Pipeline::oldest() {
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

void Pipeline::consumed() {
  std::lock_guard lock{mutex_};
  batches_[consumed_ % batches_.size()].state = Batch::State::free;
  ++consumed_;
}

Batch* Pipeline::claim() {
  for (std::uint64_t s = consumed_; s < filled_; ++s) {
    Batch& b = batches_[s % batches_.size()];
    if (b.state == Batch::State::filled) {
      b.state = Batch::State::claimed;
      return &b;
    }
  }
  return nullptr;
}

void Pipeline::run(Batch& b, boost::json::serializer& sr) {
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

void Pipeline::help() {
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

}  // namespace dialer::store::detail
