#include "store/sqlite/export_writer.hpp"

#include "core/enums.hpp"
#include "store/fd_writer.hpp"
#include "store/sqlite/export_repo.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <optional>
#include <unordered_set>

namespace dialer::store {

namespace json = boost::json;

// Hand-written rather than libcsv's csv_write(): that one quotes every field, which makes the
// export needlessly hard to read and diff; RFC 4180's rule is this small.
void append_csv_field(std::string& out, std::string_view field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string defuse_formula(std::string cell) {
  // CONTRACT.md "Results export": a cell that came from a person and that a spreadsheet would
  // run as a formula gets a leading apostrophe.
  if (!cell.empty() && std::string_view("=+-@\t\r").find(cell.front()) != std::string_view::npos) {
    cell.insert(cell.begin(), '\'');
  }
  return cell;
}

namespace {

/// Shortest text that reads back as the same number ("2", "0.0333…"), not Boost.JSON's "2E0".
std::string format_number(double d) {
  return fmt::format("{}", d);
}

std::string cell_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return {};
  if (v.is_double()) return format_number(v.get_double());
  return json::serialize(v);
}

std::string number_cell(const std::optional<double>& d) {
  if (!d) return {};
  return format_number(*d);
}

/// Keys in order of first appearance.
class KeyOrder {
 public:
  void add(std::string_view key) {
    if (seen_.insert(std::string(key)).second) keys_.emplace_back(key);
  }
  [[nodiscard]] const std::vector<std::string>& keys() const { return keys_; }

 private:
  std::unordered_set<std::string> seen_;
  std::vector<std::string> keys_;
};

struct ParsedCall {
  json::object extraction;
  json::value transcript;
};

ParsedCall parse_call_result(const std::optional<AttemptRow>& call) {
  ParsedCall out;
  if (!call || !call->result_json || call->result_json->empty()) return out;
  boost::system::error_code ec;
  auto doc = json::parse(*call->result_json, ec);
  if (ec || !doc.is_object()) return out;
  const auto& data = doc.get_object();
  if (const auto* x = data.if_contains("extraction"); x != nullptr && x->is_object()) {
    if (const auto* values = x->get_object().if_contains("values");
        values != nullptr && values->is_object()) {
      out.extraction = values->get_object();
    }
  }
  if (const auto* t = data.if_contains("transcript")) out.transcript = *t;
  return out;
}

json::object parse_variables(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

/// The cells of one contact's row, in the order of `columns` (see write_export).
std::vector<std::string> row_cells(const ExportRow& row, const KeyOrder& extraction_keys,
                                   const KeyOrder& variable_keys, bool with_transcript) {
  const auto& c = row.contact;
  const auto& call = row.last_call;
  const ParsedCall parsed = parse_call_result(call);
  const json::object vars = parse_variables(c.variables_json);
  std::vector<std::string> cells{
      c.phone, defuse_formula(c.name), std::string(to_string(c.state)), c.reason,
      std::to_string(c.attempts),
      c.last_outcome ? std::string(to_string(*c.last_outcome)) : std::string(),
      call && call->answered_by ? std::string(to_string(*call->answered_by)) : std::string(),
      call ? number_cell(call->duration_seconds) : std::string(), number_cell(row.credits_used),
      call && call->call_id ? *call->call_id : std::string(),
      call && call->session_id ? *call->session_id : std::string(), format_iso8601(c.updated_at),
      // A callback the callee asked for (campaign field `callback`), while it is pending.
      c.state == ContactState::queued && c.reason == "callback" ? format_iso8601(c.next_attempt_at)
                                                                : std::string()};
  for (const auto& k : extraction_keys.keys()) {
    const auto* v = parsed.extraction.if_contains(k);
    cells.push_back(v != nullptr ? defuse_formula(cell_of(*v)) : std::string());
  }
  for (const auto& k : variable_keys.keys()) {
    const auto* v = vars.if_contains(k);
    cells.push_back(v != nullptr ? defuse_formula(cell_of(*v)) : std::string());
  }
  if (with_transcript) {
    cells.push_back(parsed.transcript.is_null()
                        ? std::string()
                        : defuse_formula(json::serialize(parsed.transcript)));
  }
  return cells;
}

}  // namespace

Result<ExportSummary> write_export(Database& db, std::int64_t campaign_id, int fd,
                                   bool with_transcript, Millis write_timeout) {
  auto tx = Transaction::begin(db, TransactionKind::deferred);
  if (!tx) return tx.error();
  ExportRepo repo(db);

  KeyOrder extraction_keys;
  KeyOrder variable_keys;
  auto scan = repo.for_each(campaign_id, [&](const ExportRow& row) {
    for (const auto& m : parse_call_result(row.last_call).extraction) extraction_keys.add(m.key());
    for (const auto& m : parse_variables(row.contact.variables_json)) variable_keys.add(m.key());
    return true;
  });
  if (!scan) return scan.error();

  ExportSummary summary;
  summary.columns = {"phone",        "name",         "state",           "reason",
                     "attempts",     "last_outcome", "answered_by",     "duration_seconds",
                     "credits_used", "last_call_id", "last_session_id", "updated_at",
                     "callback_at"};
  for (const auto& k : extraction_keys.keys()) summary.columns.push_back("x_" + k);
  for (const auto& k : variable_keys.keys()) summary.columns.push_back(k);
  if (with_transcript) summary.columns.emplace_back("transcript");

  FdWriter out(fd, write_timeout);
  std::string line;
  const auto write_line = [&](const std::vector<std::string>& cells) -> Result<void> {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) line.push_back(',');
      append_csv_field(line, cells[i]);
    }
    line.append("\r\n");
    auto r = out.write(line);
    line.clear();
    return r;
  };
  if (auto r = write_line(summary.columns); !r) return r.error();

  std::optional<Error> failure;
  auto written = repo.for_each(campaign_id, [&](const ExportRow& row) {
    if (auto r = write_line(row_cells(row, extraction_keys, variable_keys, with_transcript)); !r) {
      failure = r.error();
      return false;
    }
    ++summary.rows;
    return true;
  });
  if (failure) return *failure;
  if (!written) return written.error();
  if (auto r = out.flush(); !r) return r.error();
  return summary;
}

}  // namespace dialer::store
