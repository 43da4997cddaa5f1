// dialerctl's `campaign …` commands and the campaign flags `create` and `update` share.

#include "core/campaign_spec.hpp"
#include "daemon/ctl_args_detail.hpp"

#include <boost/json/array.hpp>

#include <memory>

namespace dialer::daemon::ctl::detail {

namespace json = boost::json;

namespace {

/// The campaign flags shared by `campaign create` and `campaign update`.
struct CampaignFlags {
  std::string agent;
  std::vector<std::string> providers;
  std::string provider_strategy;
  int max_concurrency = 0;
  std::string timezone;
  std::string window;
  int max_attempts = 0;
  std::vector<std::string> retry;
  int priority = 0;
  int weight = 0;
  double budget = 0;
  std::string description;
  std::string start_at;
  std::string end_at;
  std::vector<CLI::Option*> options;  // to know which were given

  void add_to(CLI::App& cmd) {
    static const auto providers_list = names_of<Provider>();
    static const auto strategies = names_of<ProviderStrategy>();
    options = {
        cmd.add_option("--agent", agent, "Vocobase agent id")->check(uuid_validator()),
        cmd.add_option("--provider", providers,
                       "telephony provider, in order of preference (repeatable)")
            ->check(CLI::IsMember(providers_list))
            ->take_all()
            ->allow_extra_args(false),
        cmd.add_option("--provider-strategy", provider_strategy, "failover or round_robin")
            ->check(CLI::IsMember(strategies)),
        cmd.add_option("--max-concurrency", max_concurrency, "calls in flight at most")
            ->check(kPositive),
        cmd.add_option("--timezone", timezone, "IANA zone of contacts without one"),
        cmd.add_option("--window", window, "calling window, e.g. mon-sat,09:00-21:00"),
        cmd.add_option("--max-attempts", max_attempts, "attempts per contact at most")
            ->check(kPositive),
        cmd.add_option("--retry", retry, "retry rule OUTCOME=DELAY/MAX, e.g. no_answer=30m/3")
            ->take_all()
            ->allow_extra_args(false),
        cmd.add_option("--priority", priority, "higher runs first (default 0)"),
        cmd.add_option("--weight", weight, "share among equal priorities (default 1)")
            ->check(kPositive),
        cmd.add_option("--budget", budget, "stop after spending this many credits")
            ->check(kNonNegative),
        cmd.add_option("--description", description, "free text"),
        cmd.add_option("--start-at", start_at,
                       "a draft starts itself then, ISO 8601 with offset (\"\" = by hand)"),
        cmd.add_option("--end-at", end_at,
                       "no call after this, ISO 8601 with offset; queued contacts are skipped "
                       "(\"\" = no end)"),
    };
  }

  [[nodiscard]] bool given(std::size_t i) const { return options[i]->count() > 0; }

  /// The given flags as campaign fields (CONTRACT.md "Campaign fields").
  [[nodiscard]] std::optional<std::string> to_json(json::object& o) const {
    if (given(0)) o["agent_id"] = agent;
    if (given(1)) {
      json::array a;
      for (const auto& p : providers) a.emplace_back(p);
      o["providers"] = std::move(a);
    }
    if (given(2)) o["provider_strategy"] = provider_strategy;
    if (given(3)) o["max_concurrency"] = max_concurrency;
    if (given(4)) o["timezone"] = timezone;
    if (given(5)) o["window"] = window;
    if (given(6)) o["max_attempts"] = max_attempts;
    if (given(7)) {
      json::object rules;
      for (const auto& rule : retry) {
        const auto eq = rule.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == rule.size()) {
          return "--retry: expected OUTCOME=DELAY/MAX (e.g. no_answer=30m/3), got '" + rule + "'";
        }
        const std::string name = rule.substr(0, eq);
        const auto outcome = from_string<Outcome>(name);
        if (!outcome || *outcome == Outcome::completed || *outcome == Outcome::blocked) {
          std::string valid;
          for (const auto n : EnumNames<Outcome>::names) {
            if (n.empty() || n == to_string(Outcome::completed) ||
                n == to_string(Outcome::blocked)) {
              continue;
            }
            valid += (valid.empty() ? "" : ", ") + std::string(n);
          }
          return "--retry: no retry rule for '" + name + "' (outcomes that retry: " + valid + ")";
        }
        rules[name] = rule.substr(eq + 1);
      }
      o["retry"] = std::move(rules);
    }
    if (given(8)) o["priority"] = priority;
    if (given(9)) o["weight"] = weight;
    if (given(10)) o["budget_credits"] = budget;
    if (given(11)) o["description"] = description;
    // "" clears the time (campaign update).
    if (given(12)) o["start_at"] = start_at.empty() ? json::value(nullptr) : json::value(start_at);
    if (given(13)) o["end_at"] = end_at.empty() ? json::value(nullptr) : json::value(end_at);
    return std::nullopt;
  }
};

}  // namespace

void add_campaign_commands(CLI::App& app, std::vector<Leaf>& leaves) {
  const auto by_campaign = [&leaves](CLI::App* parent, const std::string& name,
                                     const std::string& help, const std::string& command) {
    auto* sub = parent->add_subcommand(name, help + " (" + command + ")");
    auto campaign = std::make_shared<std::string>();
    sub->add_option("campaign", *campaign, "campaign name or id")->required();
    leaves.push_back({sub, [command, campaign](Invocation& inv) -> std::optional<std::string> {
                        inv.command = command;
                        inv.arguments["campaign"] = *campaign;
                        return std::nullopt;
                      }});
    return sub;
  };

  // campaign …
  auto* campaign = app.add_subcommand("campaign", "create, inspect and control campaigns");
  campaign->require_subcommand(1);
  {
    auto* create = campaign->add_subcommand(
        "create", "create a campaign from flags or a YAML file (campaign-create)");
    auto name = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    auto flags = std::make_shared<CampaignFlags>();
    auto* name_opt = create->add_option("name", *name, "campaign name");
    auto* file_opt = create->add_option("-f,--file", *file, "campaign YAML file");
    flags->add_to(*create);
    leaves.push_back({create, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "campaign-create";
                        if (file_opt->count() == 0) {
                          if (name_opt->count() == 0)
                            return "campaign create: NAME or -f FILE is required";
                          if (!flags->given(0)) return "campaign create: --agent is required";
                        } else {
                          inv.spec_file = *file;
                        }
                        if (name_opt->count() > 0) inv.arguments["name"] = *name;
                        return flags->to_json(inv.arguments);
                      }});
    auto* update =
        campaign->add_subcommand("update", "change a campaign's fields (campaign-update)");
    auto target = std::make_shared<std::string>();
    auto uflags = std::make_shared<CampaignFlags>();
    update->add_option("campaign", *target, "campaign name or id")->required();
    uflags->add_to(*update);
    leaves.push_back({update, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "campaign-update";
                        inv.arguments["campaign"] = *target;
                        if (auto e = uflags->to_json(inv.arguments)) return e;
                        if (inv.arguments.size() == 1) return "campaign update: no field to change";
                        return std::nullopt;
                      }});
  }
  {
    auto* list = campaign->add_subcommand("list", "list campaigns (campaign-list)");
    auto state = std::make_shared<std::string>();
    static const auto campaign_states = names_of<CampaignState>();
    auto* state_opt = list->add_option("--state", *state, "only campaigns in this state")
                          ->check(CLI::IsMember(campaign_states));
    auto names = std::make_shared<bool>(false);
    list->add_flag("--names", *names, "print only the names, one a line (for scripts)");
    leaves.push_back({list, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "campaign-list";
                        inv.names_only = *names;
                        if (state_opt->count() > 0) inv.arguments["state"] = *state;
                        return std::nullopt;
                      }});
  }
  by_campaign(campaign, "get", "show a campaign", "campaign-get");
  by_campaign(campaign, "start", "start dialling", "campaign-start");
  by_campaign(campaign, "pause", "pause dialling (calls in flight finish)", "campaign-pause");
  by_campaign(campaign, "resume", "resume a paused campaign", "campaign-resume");
  by_campaign(campaign, "stop", "stop for good", "campaign-stop");
  by_campaign(campaign, "delete", "delete a draft and its contacts", "campaign-delete");
  by_campaign(campaign, "stats", "counts by contact state and outcome", "campaign-stats");
  {
    auto* fc = campaign->add_subcommand(
        "forecast",
        "when it finishes and what it costs from here, by day (campaign-forecast): the scheduler "
        "run in simulated time on a copy of the store");
    auto name = std::make_shared<std::string>();
    auto max_seconds = std::make_shared<int>(60);
    auto horizon = std::make_shared<int>(60);
    fc->add_option("campaign", *name, "campaign name or id")->required();
    fc->add_option("--max-seconds", *max_seconds, "stop the simulation after this long (1-600)")
        ->check(CLI::Range(1, 600));
    fc->add_option("--horizon-days", *horizon, "simulate at most this many days (1-366)")
        ->check(CLI::Range(1, 366));
    leaves.push_back({fc, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "campaign-forecast";
                        inv.arguments["campaign"] = *name;
                        inv.arguments["max_seconds"] = *max_seconds;
                        inv.arguments["horizon_days"] = *horizon;
                        // The answer comes after the simulation: wait for it.
                        inv.timeout = std::max(inv.timeout, Millis{(*max_seconds + 60) * 1000LL});
                        return std::nullopt;
                      }});
  }
}

}  // namespace dialer::daemon::ctl::detail
