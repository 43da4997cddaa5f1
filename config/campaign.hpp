#pragma once
/// Campaign fields (CONTRACT.md "Campaign fields") from YAML or JSON, with the same strict,
/// positioned messages as the config file: `campaign.yaml:3:5: window.start: invalid time …`.
///
/// Used by `dialerctl campaign create -f campaign.yaml` and by the admin commands
/// `campaign-create` / `campaign-update`: JSON is YAML, so the request's `arguments`, serialized
/// as text, parse here with their positions intact.
///
/// Fields left out keep the value of `base`: for a new campaign that is
/// `config.defaults.to_spec()`; for an update, the campaign's current spec. `window` and `retry`
/// merge field by field (a window with only `start` keeps the base days and end; a retry map
/// with only `busy` keeps every other outcome's rule).

#include "config/diagnostic.hpp"
#include "config/values.hpp"
#include "core/campaign_spec.hpp"
#include "core/errc.hpp"

#include <boost/json/object.hpp>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace dialer::config {

/// How a campaign document is read.
struct CampaignParseOptions {
  /// Label in messages: "campaign.yaml", "request".
  std::string source = "campaign";
  /// campaign-create: `name` and `agent_id` must be given. campaign-update: every field optional.
  bool require_identity = true;
  /// Top-level keys the caller handles itself and the validator skips (e.g. "campaign", the
  /// name or id argument of campaign-update).
  std::set<std::string, std::less<>> ignored_keys;

  /// campaign-create and `dialerctl campaign create -f`: name and agent_id required.
  static CampaignParseOptions for_create(std::string source) {
    CampaignParseOptions o;
    o.source = std::move(source);
    return o;
  }
  /// campaign-update: every field optional; `ignored` (by default the "campaign" argument that
  /// names the campaign) is left to the caller.
  static CampaignParseOptions for_update(std::string source,
                                         std::set<std::string, std::less<>> ignored = {
                                             "campaign"}) {
    CampaignParseOptions o;
    o.source = std::move(source);
    o.require_identity = false;
    o.ignored_keys = std::move(ignored);
    return o;
  }
};

/// Validates a mapping of campaign fields on top of `base`. Every problem is reported.
Checked<CampaignSpec> parse_campaign(const YAML::Node& node, const CampaignSpec& base,
                                     const CampaignParseOptions& options = {});

/// The same from YAML or JSON text (a syntax error is reported with its position too).
Checked<CampaignSpec> parse_campaign_text(std::string_view text, const CampaignSpec& base,
                                          const CampaignParseOptions& options = {});

/// The window part of a `dialerctl --window` flag: "mon-sat,09:00-21:00", "09:00-18:00",
/// "mon-fri" or "mon,wed,fri-sun,10:00-20:00". Fields not given stay unset.
struct CompactWindow {
  std::optional<WeekDays> days;
  std::optional<std::chrono::minutes> start;
  std::optional<std::chrono::minutes> end;

  /// `base` with the given fields replaced.
  [[nodiscard]] Window apply_to(Window base) const;
  /// {"days": [...], "start": "09:00", "end": "21:00"} with only the fields given: the
  /// `window` argument of campaign-create.
  [[nodiscard]] boost::json::object to_json() const;

  bool operator==(const CompactWindow&) const = default;
};
Result<CompactWindow> parse_window_compact(std::string_view text);

/// One `dialerctl --retry` flag: "no_answer=30m/3" (outcome=delay/max). `completed` and `blocked`
/// are refused: they are never retried.
Result<std::pair<Outcome, RetryRule>> parse_retry_compact(std::string_view text);

}  // namespace dialer::config
