#pragma once
/// The key tables: one row per config key (and one per campaign field) with its path, type,
/// default, range, restart flag and help text, plus the functions that parse, print and compare
/// that key's value. Validation, defaults, `reload_diff`, `redacted_json` and
/// `reference_markdown` are all driven by these rows, so a key exists in exactly one place.

#include "config/config.hpp"
#include "config/diagnostic.hpp"
#include "core/campaign_spec.hpp"

#include <boost/json/value.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dialer::config {

/// Where a value sits: its key path (as printed in messages) and its 0-based yaml-cpp mark.
struct Field {
  std::string path;
  YAML::Mark mark;
};

/// Collects diagnostics while one document is validated, and remembers which keys it set.
class ParseContext {
 public:
  explicit ParseContext(std::string file) : file_(std::move(file)) {}

  /// Records a problem at `at` (the mark is converted to 1-based line and column).
  void error(const Field& at, std::string message);
  void error(const YAML::Mark& mark, std::string key, std::string message);

  /// Remembers that the document set `path`, with its value at `mark`.
  void mark_set(const std::string& path, const YAML::Mark& mark);
  /// Where the document set `path`, when it did.
  [[nodiscard]] std::optional<YAML::Mark> where_set(std::string_view path) const;

  [[nodiscard]] bool has_errors() const noexcept { return !diagnostics_.empty(); }
  /// Whether a problem was recorded at `key` itself (its value was refused).
  [[nodiscard]] bool has_error_at(std::string_view key) const {
    return std::any_of(diagnostics_.begin(), diagnostics_.end(),
                       [&](const Diagnostic& d) { return d.key == key; });
  }
  [[nodiscard]] std::size_t error_count() const noexcept { return diagnostics_.size(); }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  /// From here on, problems are consequences of the document as a whole (a key missing, two
  /// keys that disagree): they are reported after every problem of a key itself, so a typo'd
  /// key comes before the "missing key" it causes.
  void begin_consequences() noexcept { consequences_from_ = diagnostics_.size(); }
  /// The diagnostics so far: the keys' own problems in document order (line, then column, then
  /// discovery), then the consequences in document order.
  Diagnostics take();

 private:
  std::string file_;
  Diagnostics diagnostics_;
  std::size_t consequences_from_ = static_cast<std::size_t>(-1);
  std::map<std::string, YAML::Mark, std::less<>> set_;
};

/// The descriptive part of a key row.
struct KeyInfo {
  std::string_view path;          ///< "scheduler.reconcile_after"
  std::string_view type;          ///< "duration", "integer", "host:port", … (from the codec)
  std::string_view default_text;  ///< YAML text of the default; empty = no default
  std::optional<double> min;      ///< numbers as is, durations in ms, strings: minimum length
  std::optional<double> max;      ///< as min; strings: maximum length
  bool min_exclusive = false;     ///< the value must be greater than min, not equal
  bool needs_restart = false;     ///< a reload cannot apply a change of this key
  std::string_view help;
};

/// One row: the description and the typed operations on `Root`'s member.
template <class Root>
struct KeyDef {
  KeyInfo info;
  /// Validates `node` and stores it into the member (merging, for window and retry values).
  void (*parse)(const KeyInfo&, const YAML::Node&, const Field&, Root&, ParseContext&) = nullptr;
  /// The member as config-get / campaign-get show it (secrets redacted).
  boost::json::value (*to_json)(const Root&) = nullptr;
  /// Whether the member differs between two roots.
  bool (*equal)(const Root&, const Root&) = nullptr;
  /// Copies the member from one root to another.
  void (*copy)(const Root& from, Root& to) = nullptr;
};

/// Every config key (CONTRACT.md "Config file" plus the documented extensions).
std::span<const KeyDef<Config>> config_keys();
/// Every campaign field (CONTRACT.md "Campaign fields"); window fields as "window.start" etc.
std::span<const KeyDef<CampaignSpec>> campaign_keys();

/// "1 to 100000", "at least 1s", "greater than 0", "at most 107 characters" or "".
std::string range_text(const KeyInfo& info);

/// The config reference as a Markdown table (key, type, default, range, reload, description).
std::string reference_markdown();

}  // namespace dialer::config
