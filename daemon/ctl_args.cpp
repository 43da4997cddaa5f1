#include "daemon/ctl_args.hpp"

#include "core/campaign_spec.hpp"
#include "core/enums.hpp"
#include "daemon/ctl_args_detail.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>

#include <sstream>
#include <utility>

namespace dialer::daemon::ctl {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace detail {

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

}  // namespace

const CLI::Validator kPositive = number_from_zero(false);
const CLI::Validator kNonNegative = number_from_zero(true);

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

}  // namespace detail

using namespace detail;

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

  simple(&app, "status", "show daemon status: slots, rate, credits, campaigns", "status-get");
  simple(&app, "version", "show the daemon's version", "version-get");
  simple(&app, "commands", "list the commands the daemon answers", "list-commands");
  simple(&app, "shutdown", "stop the daemon cleanly", "shutdown");
  auto* config = app.add_subcommand("config", "daemon configuration");
  config->require_subcommand(1);
  simple(config, "get", "print the running configuration, secrets redacted", "config-get");
  simple(config, "reload", "re-read the configuration file", "config-reload");

  add_campaign_commands(app, leaves);
  add_contact_commands(app, leaves);

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