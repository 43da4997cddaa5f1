#include "daemon/ctl_args.hpp"

#include "core/campaign_spec.hpp"
#include "core/enums.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>

#include <sstream>
#include <utility>

namespace dialer::daemon::ctl {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

/// CLI11's NonNegativeNumber / PositiveNumber say "not in range 0.000000 to <300 digits>";
/// these name the bound in words.
CLI::Validator number_from_zero(bool zero_allowed) {
  return CLI::Validator(
      [zero_allowed](std::string& text) -> std::string {
        double v = -1;
        std::size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == text.size() && (zero_allowed ? v >= 0 : v > 0)) return {};
        return std::string("must be a number ") + (zero_allowed ? "of at least 0" : "above 0") +
               ", got " + text;
      },
      zero_allowed ? "NUMBER >= 0" : "NUMBER > 0");
}
const CLI::Validator kPositive = number_from_zero(false);
const CLI::Validator kNonNegative = number_from_zero(true);

template <class E>
std::vector<std::string> names_of() {
  std::vector<std::string> out;
  for (const auto n : EnumNames<E>::names) {
    if (!n.empty()) out.emplace_back(n);
  }
  return out;
}

const CLI::Validator& uuid_validator() {
  static const CLI::Validator v(
      [](std::string& s) { return is_uuid(s) ? std::string() : "not a UUID: " + s; }, "UUID");
  return v;
}

fs::path absolute_path(const std::string& p) {
  if (p == "-") return p;
  std::error_code ec;
  auto abs = fs::absolute(p, ec);
  return ec ? fs::path(p) : abs.lexically_normal();
}

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

std::string name_flags(std::string text) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kFlags = {
      {"name", "NAME"},
      {"agent_id", "--agent"},
      {"providers", "--provider"},
      {"provider_strategy", "--provider-strategy"},
      {"max_concurrency", "--max-concurrency"},
      {"timezone", "--timezone"},
      {"window", "--window"},
      {"max_attempts", "--max-attempts"},
      {"retry", "--retry"},
      {"priority", "--priority"},
      {"weight", "--weight"},
      {"budget_credits", "--budget"},
      {"description", "--description"},
      {"start_at", "--start-at"},
      {"end_at", "--end-at"},
  };
  const std::string_view open = "argument '";
  std::string out;
  std::size_t at = 0;
  for (;;) {
    const auto start = text.find(open, at);
    const auto close = start == std::string::npos ? start : text.find('\'', start + open.size());
    if (close == std::string::npos) break;
    const std::string key = text.substr(start + open.size(), close - start - open.size());
    const std::string top = key.substr(0, key.find_first_of(".["));
    const auto flag =
        std::find_if(kFlags.begin(), kFlags.end(), [&](const auto& f) { return f.first == top; });
    out += text.substr(at, start - at);
    if (flag == kFlags.end()) {
      out += text.substr(start, close + 1 - start);
    } else {
      out += std::string(flag->second);
      if (key != top) out += " (" + key + ")";
    }
    at = close + 1;
  }
  return out + text.substr(at);
}

ParseOutcome parse_command_line(const std::vector<std::string>& args) {
  CLI::App app{"Control a running dialerd through its admin socket.", "dialerctl"};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Exit status: the admin result code (0 success, 1 error, 2 unknown command, 3 nothing "
      "found, 4 conflict with the current state); 64 usage error, 66 input file unreadable, "
      "69 dialerd unreachable or not answering, 73 output file cannot be created.");

  std::string socket = kDefaultSocket;
  bool json_out = false;
  std::string timeout_text;
  app.add_option("--socket", socket, "admin socket path")
      ->envname("DIALERCTL_SOCKET")
      ->capture_default_str();
  app.add_flag("--json", json_out, "print the answer's arguments as JSON");
  app.add_option("--timeout", timeout_text, "give up after this long (30s; 6h for import/export)");

  // One leaf per request; `build` fills the invocation when that leaf was chosen.
  struct Leaf {
    CLI::App* app;
    std::function<std::optional<std::string>(Invocation&)> build;
  };
  std::vector<Leaf> leaves;
  const auto simple = [&leaves](CLI::App* parent, const std::string& name, const std::string& help,
                                const std::string& command) {
    auto* sub = parent->add_subcommand(name, help + " (" + command + ")");
    leaves.push_back({sub, [command](Invocation& inv) -> std::optional<std::string> {
                        inv.command = command;
                        return std::nullopt;
                      }});
    return sub;
  };
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

  simple(&app, "status", "show daemon status: slots, rate, credits, campaigns", "status-get");
  simple(&app, "version", "show the daemon's version", "version-get");
  simple(&app, "commands", "list the commands the daemon answers", "list-commands");
  simple(&app, "shutdown", "stop the daemon cleanly", "shutdown");
  auto* config = app.add_subcommand("config", "daemon configuration");
  config->require_subcommand(1);
  simple(config, "get", "print the running configuration, secrets redacted", "config-get");
  simple(config, "reload", "re-read the configuration file", "config-reload");

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

  // import NAME FILE
  {
    auto* import = app.add_subcommand("import", "import a CSV contact list (contacts-import)");
    auto campaign_name = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    auto region = std::make_shared<std::string>();
    auto column = std::make_shared<std::string>();
    auto reject = std::make_shared<std::string>();
    auto mobile_only = std::make_shared<bool>(false);
    import->add_option("campaign", *campaign_name, "campaign name or id")->required();
    import->add_option("file", *file, "CSV file ('-' = standard input)")->required();
    auto* region_opt =
        import->add_option("--default-region", *region, "ISO 3166 region for national numbers");
    auto* column_opt = import->add_option("--phone-column", *column, "header of the phone column");
    auto* reject_opt = import->add_option("--reject-file", *reject, "write rejected rows here");
    import->add_flag("--mobile-only", *mobile_only, "reject numbers that are not mobile");
    leaves.push_back({import, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.action = Action::import;
                        inv.command = "contacts-import";
                        inv.arguments["campaign"] = *campaign_name;
                        if (region_opt->count() > 0) inv.arguments["default_region"] = *region;
                        if (column_opt->count() > 0) inv.arguments["phone_column"] = *column;
                        if (*mobile_only) inv.arguments["mobile_only"] = true;
                        inv.files.push_back({*file, PassedFile::Mode::read});
                        if (reject_opt->count() > 0) {
                          const auto abs = absolute_path(*reject);
                          inv.arguments["reject_file"] = abs.string();
                          inv.files.push_back({abs, PassedFile::Mode::write});
                        }
                        inv.timeout = kLongTimeout;
                        return std::nullopt;
                      }});
  }

  // export NAME -o FILE
  {
    auto* exp = app.add_subcommand("export", "write a campaign's results as CSV (campaign-export)");
    auto campaign_name = std::make_shared<std::string>();
    auto output = std::make_shared<std::string>();
    auto transcript = std::make_shared<bool>(false);
    exp->add_option("campaign", *campaign_name, "campaign name or id")->required();
    exp->add_option("-o,--output", *output, "output CSV file ('-' = standard output)")->required();
    exp->add_flag("--with-transcript", *transcript, "add the last transcript as JSON");
    leaves.push_back({exp, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "campaign-export";
                        inv.arguments["campaign"] = *campaign_name;
                        if (*transcript) inv.arguments["with_transcript"] = true;
                        const auto abs = absolute_path(*output);
                        inv.arguments["output"] = abs.string();
                        inv.files.push_back({abs, PassedFile::Mode::write});
                        inv.timeout = kLongTimeout;
                        return std::nullopt;
                      }});
  }

  // contacts NAME [--state S] [--limit N]
  {
    auto* contacts = app.add_subcommand("contacts", "list a campaign's contacts (contacts-list)");
    auto campaign_name = std::make_shared<std::string>();
    auto state = std::make_shared<std::string>();
    auto limit = std::make_shared<int>(0);
    static const auto states = names_of<ContactState>();
    contacts->add_option("campaign", *campaign_name, "campaign name or id")->required();
    auto* state_opt = contacts->add_option("--state", *state, "only contacts in this state")
                          ->check(CLI::IsMember(states));
    auto* limit_opt =
        contacts->add_option("--limit", *limit, "at most this many")->check(kPositive);
    auto offset = std::make_shared<int>(0);
    auto* offset_opt =
        contacts->add_option("--offset", *offset, "skip this many first")->check(kNonNegative);
    leaves.push_back({contacts, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "contacts-list";
                        inv.arguments["campaign"] = *campaign_name;
                        if (state_opt->count() > 0) inv.arguments["state"] = *state;
                        if (limit_opt->count() > 0) inv.arguments["limit"] = *limit;
                        if (offset_opt->count() > 0) inv.arguments["offset"] = *offset;
                        return std::nullopt;
                      }});
  }

  // calls [--in-flight]
  {
    auto* calls = app.add_subcommand("calls", "list calls (calls-list)");
    auto in_flight = std::make_shared<bool>(false);
    calls->add_flag("--in-flight", *in_flight, "only calls not finished yet");
    auto campaign_name = std::make_shared<std::string>();
    auto limit = std::make_shared<int>(0);
    auto* campaign_opt = calls->add_option("--campaign", *campaign_name, "only this campaign");
    auto* limit_opt = calls->add_option("--limit", *limit, "at most this many")->check(kPositive);
    leaves.push_back({calls, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "calls-list";
                        if (*in_flight) inv.arguments["in_flight"] = true;
                        if (campaign_opt->count() > 0) inv.arguments["campaign"] = *campaign_name;
                        if (limit_opt->count() > 0) inv.arguments["limit"] = *limit;
                        return std::nullopt;
                      }});
  }

  // dnc add|remove|list|import
  {
    auto* dnc = app.add_subcommand("dnc", "the do-not-call list");
    dnc->require_subcommand(1);
    for (const auto& [name, command, help] :
         {std::tuple{"add", "dnc-add", "add numbers"},
          std::tuple{"remove", "dnc-remove", "remove numbers"}}) {
      auto* sub = dnc->add_subcommand(name, std::string(help) + " (" + command + ")");
      auto numbers = std::make_shared<std::vector<std::string>>();
      auto region = std::make_shared<std::string>();
      auto reason = std::make_shared<std::string>();
      sub->add_option("numbers", *numbers, "phone numbers (E.164, or national with a region)")
          ->required();
      auto* region_opt =
          sub->add_option("--default-region", *region, "ISO 3166 region for national numbers");
      CLI::Option* reason_opt = nullptr;
      if (std::string_view(name) == "add") {
        reason_opt = sub->add_option("--reason", *reason, "why (kept with the entry)");
      }
      leaves.push_back(
          {sub, [=, cmd = std::string(command)](Invocation& inv) -> std::optional<std::string> {
             inv.command = cmd;
             json::array a;
             for (const auto& n : *numbers) a.emplace_back(n);
             inv.arguments["numbers"] = std::move(a);
             if (region_opt->count() > 0) inv.arguments["default_region"] = *region;
             if (reason_opt != nullptr && reason_opt->count() > 0) {
               inv.arguments["reason"] = *reason;
             }
             return std::nullopt;
           }});
    }
    auto* list = dnc->add_subcommand("list", "list the do-not-call numbers (dnc-list)");
    auto limit = std::make_shared<int>(0);
    auto* limit_opt = list->add_option("--limit", *limit, "at most this many")->check(kPositive);
    leaves.push_back({list, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "dnc-list";
                        if (limit_opt->count() > 0) inv.arguments["limit"] = *limit;
                        return std::nullopt;
                      }});
    auto* imp = dnc->add_subcommand("import", "add every number in a file (dnc-import)");
    auto file = std::make_shared<std::string>();
    auto region = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    imp->add_option("file", *file, "file of numbers, one a line or CSV ('-' = stdin)")->required();
    auto* region_opt =
        imp->add_option("--default-region", *region, "ISO 3166 region for national numbers");
    auto* reason_opt = imp->add_option("--reason", *reason, "why (kept with each entry)");
    leaves.push_back({imp, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "dnc-import";
                        if (region_opt->count() > 0) inv.arguments["default_region"] = *region;
                        if (reason_opt->count() > 0) inv.arguments["reason"] = *reason;
                        inv.files.push_back({*file, PassedFile::Mode::read});
                        inv.timeout = kLongTimeout;
                        return std::nullopt;
                      }});
  }

  // check, account check|unblock
  simple(&app, "check",
         "can this daemon dial? key, account, agents, providers, webhook endpoint, limits, credits",
         "account-check");
  {
    auto* account = app.add_subcommand("account", "the Vocobase account as dialerd sees it");
    account->require_subcommand(1);
    simple(account, "check", "the same as `dialerctl check`", "account-check");
    simple(account, "unblock", "dial again after the API refused the key or the account",
           "account-unblock");
  }

  // webhook register|rotate
  {
    auto* webhook = app.add_subcommand(
        "webhook", "the Vocobase webhook endpoint for webhook.public_url, set up by dialerd");
    webhook->require_subcommand(1);
    simple(webhook, "register",
           "create the endpoint and keep its secret in the state directory (in force at once)",
           "webhook-register");
    simple(webhook, "rotate",
           "new secret; the old one is accepted until a delivery signed with the new one arrives",
           "webhook-rotate");
  }

  // log-level LEVEL
  {
    auto* sub = app.add_subcommand(
        "log-level", "change dialerd's log level until the next reload or restart (log-level-set)");
    auto level = std::make_shared<std::string>();
    sub->add_option("level", *level, "trace, debug, info, warn, error, critical or off")
        ->required()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    leaves.push_back({sub, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "log-level-set";
                        inv.arguments["level"] = *level;
                        return std::nullopt;
                      }});
  }

  // attempt resolve ID --as void|lost
  {
    auto* attempt = app.add_subcommand("attempt", "settle attempts by hand");
    attempt->require_subcommand(1);
    auto* resolve = attempt->add_subcommand(
        "resolve",
        "settle an ambiguous attempt listings could not (status shows them): void = no call "
        "was made, the contact is queued again uncounted; lost = a call may have been made, it "
        "counts (attempt-resolve)");
    auto id = std::make_shared<std::int64_t>(0);
    auto as = std::make_shared<std::string>();
    resolve->add_option("id", *id, "the attempt's id (calls --in-flight shows it)")
        ->required()
        ->check(kPositive);
    resolve->add_option("--as", *as, "void or lost")
        ->required()
        ->check(CLI::IsMember({"void", "lost"}));
    leaves.push_back({resolve, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.command = "attempt-resolve";
                        inv.arguments["id"] = *id;
                        inv.arguments["as"] = *as;
                        return std::nullopt;
                      }});
  }

  // watch, raw
  {
    auto* watch = app.add_subcommand("watch", "live view, refreshed every second; q quits");
    leaves.push_back({watch, [](Invocation& inv) -> std::optional<std::string> {
                        inv.action = Action::watch;
                        return std::nullopt;
                      }});
    auto* raw = app.add_subcommand("raw", "send a JSON request exactly as given");
    auto text = std::make_shared<std::string>();
    raw->add_option("request", *text, R"(e.g. '{"command": "status-get"}')")->required();
    leaves.push_back({raw, [=](Invocation& inv) -> std::optional<std::string> {
                        inv.action = Action::raw;
                        inv.raw_text = *text;
                        return std::nullopt;
                      }});
  }

  ParseOutcome outcome;
  std::ostringstream out;
  std::ostringstream err;
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    outcome.exit_code = code == 0 ? 0 : kExitUsage;
    outcome.out = out.str();
    outcome.err = err.str();
    if (code != 0) {
      // A word where a subcommand belongs ("dialerctl campain") is named, with the ones that
      // exist there, instead of CLI11's "A subcommand is required".
      CLI::App* at = &app;
      for (auto parsed = at->get_subcommands(); !parsed.empty(); parsed = at->get_subcommands()) {
        at = parsed.front();
      }
      const auto all = at->get_subcommands([](CLI::App*) { return true; });
      // With fallthrough the unmatched words may sit with the top-level app.
      auto rest = at->remaining();
      if (rest.empty()) rest = app.remaining();
      if (!all.empty() && !rest.empty() && !rest.front().starts_with("-")) {
        std::string names;
        for (const auto* sub : all) names += (names.empty() ? "" : ", ") + sub->get_name();
        const std::string where = at == &app ? "" : " of '" + at->get_name() + "'";
        outcome.err = "unknown command '" + rest.front() + "'" + where + " (one of: " + names +
                      ")\nRun with --help for more information.\n";
      }
    }
    return outcome;
  }

  Invocation inv;
  inv.socket = socket;
  inv.json = json_out;
  for (const auto& leaf : leaves) {
    if (!leaf.app->parsed()) continue;
    if (auto problem = leaf.build(inv)) {
      outcome.exit_code = kExitUsage;
      outcome.err = *problem + "\nRun with --help for more information.\n";
      return outcome;
    }
    break;
  }
  if (!timeout_text.empty()) {
    const auto t = parse_duration(timeout_text);
    if (!t || t->count() <= 0) {
      outcome.exit_code = kExitUsage;
      outcome.err = "--timeout: not a duration: " + timeout_text + "\n";
      return outcome;
    }
    inv.timeout = *t;
  }
  outcome.invocation = std::move(inv);
  return outcome;
}

}  // namespace dialer::daemon::ctl
