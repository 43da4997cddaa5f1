// dialerctl's command line → the exact admin request each subcommand sends (pure).

#include "daemon/ctl_args.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace dialer::daemon::ctl {
namespace {

namespace json = boost::json;

Invocation parse_ok(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  EXPECT_TRUE(r.invocation) << "args failed: " << r.err;
  return r.invocation ? *r.invocation : Invocation{};
}

ParseOutcome parse_bad(const std::vector<std::string>& args) {
  auto r = parse_command_line(args);
  EXPECT_FALSE(r.invocation);
  EXPECT_EQ(r.exit_code, kExitUsage);
  return r;
}

/// The request as sent: command plus arguments.
json::value request_of(const Invocation& inv) {
  return json::value{{"command", inv.command}, {"arguments", inv.arguments}};
}

// A --retry rule for an outcome that does not retry names the flag and the outcomes that do.
TEST(CtlArgs, RetryOfAnUnknownOutcomeListsTheValidOnes) {
  auto r = parse_bad({"campaign", "create", "x", "--agent", "0f8fad5b-d9cb-469f-a165-70867728950e",
                      "--retry", "noanswer=10m/3"});
  EXPECT_NE(r.err.find("--retry: no retry rule for 'noanswer'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no_answer"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("completed,"), std::string::npos) << r.err;
  parse_bad({"campaign", "create", "x", "--agent", "0f8fad5b-d9cb-469f-a165-70867728950e",
             "--retry", "completed=1m/1"});
  parse_ok({"campaign", "create", "x", "--agent", "0f8fad5b-d9cb-469f-a165-70867728950e", "--retry",
            "no_answer=10m/3"});
}

// A word where a subcommand belongs is named, with the subcommands that exist there.
TEST(CtlArgs, UnknownSubcommandIsNamedWithTheValidOnes) {
  auto top = parse_bad({"campain"});
  EXPECT_NE(top.err.find("unknown command 'campain'"), std::string::npos) << top.err;
  EXPECT_NE(top.err.find("campaign"), std::string::npos) << top.err;
  auto nested = parse_bad({"campaign", "strat", "spring"});
  EXPECT_NE(nested.err.find("unknown command 'strat' of 'campaign'"), std::string::npos)
      << nested.err;
  EXPECT_NE(nested.err.find("start"), std::string::npos) << nested.err;
}

// A number out of range names the flag and the bound in words, not CLI11's 300-digit range.
TEST(CtlArgs, NumberOutOfRangeSaysSoBriefly) {
  auto r = parse_bad({"campaign", "create", "x", "--agent", "0f8fad5b-d9cb-469f-a165-70867728950e",
                      "--budget", "-1"});
  EXPECT_NE(r.err.find("--budget"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("must be a number of at least 0, got -1"), std::string::npos) << r.err;
  EXPECT_LT(r.err.size(), 200u) << r.err;
  auto w = parse_bad({"campaign", "create", "x", "--agent", "0f8fad5b-d9cb-469f-a165-70867728950e",
                      "--weight", "0"});
  EXPECT_NE(w.err.find("must be a number above 0, got 0"), std::string::npos) << w.err;
  parse_ok({"campaign", "create", "x", "--agent", "0f8fad5b-d9cb-469f-a165-70867728950e",
            "--budget", "0", "--weight", "2"});
}

// Every plain subcommand maps to its admin command with empty arguments.
TEST(CtlArgs, PlainCommands) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"status"}, "status-get"},
      {{"version"}, "version-get"},
      {{"commands"}, "list-commands"},
      {{"shutdown"}, "shutdown"},
      {{"config", "get"}, "config-get"},
      {{"config", "reload"}, "config-reload"},
      {{"campaign", "list"}, "campaign-list"},
      {{"calls"}, "calls-list"},
      {{"dnc", "list"}, "dnc-list"},
      {{"account", "unblock"}, "account-unblock"},
  };
  for (const auto& [args, command] : cases) {
    const auto inv = parse_ok(args);
    EXPECT_EQ(inv.action, Action::request) << command;
    EXPECT_EQ(request_of(inv), (json::value{{"command", command}, {"arguments", json::object{}}}));
    EXPECT_TRUE(inv.files.empty());
  }
}

// attempt resolve ID --as void|lost sends attempt-resolve {id, as}; anything else is a usage
// error before anything is sent.
TEST(CtlArgs, AttemptResolve) {
  const auto inv = parse_ok({"attempt", "resolve", "42", "--as", "void"});
  EXPECT_EQ(request_of(inv), (json::value{{"command", "attempt-resolve"},
                                          {"arguments", {{"id", 42}, {"as", "void"}}}}));
  EXPECT_EQ(request_of(parse_ok({"attempt", "resolve", "7", "--as", "lost"})).at("arguments"),
            (json::value{{"id", 7}, {"as", "lost"}}));
  parse_bad({"attempt", "resolve", "42"});
  parse_bad({"attempt", "resolve", "42", "--as", "maybe"});
  parse_bad({"attempt", "resolve", "0", "--as", "void"});
  parse_bad({"attempt"});
}

// Defaults: the socket is /run/dialerd/admin.sock, human output, a 30 s deadline.
TEST(CtlArgs, GlobalDefaults) {
  const auto inv = parse_ok({"status"});
  EXPECT_EQ(inv.socket, "/run/dialerd/admin.sock");
  EXPECT_FALSE(inv.json);
  EXPECT_EQ(inv.timeout, kDefaultTimeout);
}

// --socket, --json and --timeout work before or after the subcommand.
TEST(CtlArgs, GlobalOptionsAnywhere) {
  auto a = parse_ok({"--socket", "/tmp/x.sock", "--json", "--timeout", "5s", "status"});
  EXPECT_EQ(a.socket, "/tmp/x.sock");
  EXPECT_TRUE(a.json);
  EXPECT_EQ(a.timeout, Millis(5000));
  auto b = parse_ok({"campaign", "get", "spring", "--json", "--socket", "/tmp/y.sock"});
  EXPECT_EQ(b.socket, "/tmp/y.sock");
  EXPECT_TRUE(b.json);
  parse_bad({"--timeout", "soon", "status"});
}

// campaign get/start/pause/resume/stop/stats send {"campaign": NAME}.
TEST(CtlArgs, CampaignByName) {
  for (const auto& [verb, command] :
       std::vector<std::pair<std::string, std::string>>{{"get", "campaign-get"},
                                                        {"start", "campaign-start"},
                                                        {"pause", "campaign-pause"},
                                                        {"resume", "campaign-resume"},
                                                        {"stop", "campaign-stop"},
                                                        {"stats", "campaign-stats"}}) {
    EXPECT_EQ(request_of(parse_ok({"campaign", verb, "spring"})),
              (json::value{{"command", command}, {"arguments", {{"campaign", "spring"}}}}));
    parse_bad({"campaign", verb});
  }
  parse_bad({"campaign"});
  parse_bad({"campaign", "launch", "spring"});
}

// campaign create with every flag sends the campaign fields, compact forms as strings.
TEST(CtlArgs, CampaignCreateFlags) {
  const auto inv = parse_ok({"campaign",
                             "create",
                             "spring",
                             "--agent",
                             "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                             "--provider",
                             "twilio",
                             "--provider",
                             "plivo",
                             "--provider-strategy",
                             "round_robin",
                             "--max-concurrency",
                             "8",
                             "--timezone",
                             "Asia/Kolkata",
                             "--window",
                             "mon-sat,09:00-21:00",
                             "--max-attempts",
                             "4",
                             "--retry",
                             "no_answer=30m/3",
                             "--retry",
                             "busy=10m/2",
                             "--priority",
                             "5",
                             "--weight",
                             "2",
                             "--budget",
                             "150.5",
                             "--description",
                             "spring sale"});
  EXPECT_EQ(request_of(inv), json::parse(R"({"command": "campaign-create", "arguments": {
      "name": "spring", "agent_id": "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
      "providers": ["twilio", "plivo"], "provider_strategy": "round_robin",
      "max_concurrency": 8, "timezone": "Asia/Kolkata", "window": "mon-sat,09:00-21:00",
      "max_attempts": 4, "retry": {"no_answer": "30m/3", "busy": "10m/2"},
      "priority": 5, "weight": 2, "budget_credits": 150.5, "description": "spring sale"}})"));
  EXPECT_FALSE(inv.spec_file);
}

// Flags left out are left out of the request (the daemon fills the defaults).
TEST(CtlArgs, CampaignCreateMinimal) {
  const auto inv =
      parse_ok({"campaign", "create", "spring", "--agent", "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"});
  EXPECT_EQ(inv.arguments, (json::object{{"name", "spring"},
                                         {"agent_id", "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}}));
}

// A repeated option takes one value each time, so a positional after it stays positional.
TEST(CtlArgs, RepeatableOptionsAreNotGreedy) {
  const auto inv = parse_ok({"campaign", "create", "--provider", "twilio", "spring", "--agent",
                             "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"});
  EXPECT_EQ(inv.arguments.at("name"), "spring");
  EXPECT_EQ(inv.arguments.at("providers"), (json::array{"twilio"}));
}

// campaign create -f FILE records the file (read later into spec_yaml); NAME is optional, and
// flags given too are sent beside it.
TEST(CtlArgs, CampaignCreateFromFile) {
  const auto inv = parse_ok({"campaign", "create", "-f", "spring.yaml", "--priority", "3"});
  EXPECT_EQ(inv.command, "campaign-create");
  ASSERT_TRUE(inv.spec_file);
  EXPECT_EQ(*inv.spec_file, "spring.yaml");
  EXPECT_EQ(inv.arguments, (json::object{{"priority", 3}}));
}

// Bad campaign-create input is a usage error naming the problem.
TEST(CtlArgs, CampaignCreateUsageErrors) {
  EXPECT_NE(parse_bad({"campaign", "create", "spring"}).err.find("--agent is required"),
            std::string::npos);
  EXPECT_NE(parse_bad({"campaign", "create", "--agent", "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"})
                .err.find("NAME or -f FILE"),
            std::string::npos);
  parse_bad({"campaign", "create", "spring", "--agent", "not-a-uuid"});
  parse_bad({"campaign", "create", "spring", "--agent", "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
             "--provider", "carrier-pigeon"});
  parse_bad({"campaign", "create", "spring", "--agent", "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
             "--max-concurrency", "0"});
  EXPECT_NE(parse_bad({"campaign", "create", "spring", "--agent",
                       "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "--retry", "no_answer"})
                .err.find("OUTCOME=DELAY/MAX"),
            std::string::npos);
}

// campaign update NAME sends {"campaign": NAME} plus the changed fields, and needs one.
TEST(CtlArgs, CampaignUpdate) {
  EXPECT_EQ(request_of(parse_ok({"campaign", "update", "spring", "--max-concurrency", "3",
                                 "--window", "mon-fri,10:00-18:00"})),
            json::parse(R"({"command": "campaign-update", "arguments": {"campaign": "spring",
                "max_concurrency": 3, "window": "mon-fri,10:00-18:00"}})"));
  parse_bad({"campaign", "update", "spring"});
}

// import sends contacts-import with the options and passes the CSV (and reject file) by fd.
TEST(CtlArgs, Import) {
  const auto inv =
      parse_ok({"import", "spring", "contacts.csv", "--default-region", "IN", "--phone-column",
                "Mobile No", "--reject-file", "rejects.csv", "--mobile-only"});
  EXPECT_EQ(inv.action, Action::import);
  const auto reject = (std::filesystem::current_path() / "rejects.csv").string();
  EXPECT_EQ(request_of(inv), (json::value{{"command", "contacts-import"},
                                          {"arguments",
                                           {{"campaign", "spring"},
                                            {"default_region", "IN"},
                                            {"phone_column", "Mobile No"},
                                            {"mobile_only", true},
                                            {"reject_file", reject}}}}));
  ASSERT_EQ(inv.files.size(), 2u);
  EXPECT_EQ(inv.files[0].path, "contacts.csv");
  EXPECT_EQ(inv.files[0].mode, PassedFile::Mode::read);
  EXPECT_EQ(inv.files[1].path, reject);
  EXPECT_EQ(inv.files[1].mode, PassedFile::Mode::write);
  EXPECT_EQ(inv.timeout, kLongTimeout);

  const auto bare = parse_ok({"import", "spring", "contacts.csv"});
  EXPECT_EQ(bare.arguments, (json::object{{"campaign", "spring"}}));
  ASSERT_EQ(bare.files.size(), 1u);
  parse_bad({"import", "spring"});
}

// export passes the output file by fd and names it; --with-transcript adds a flag.
TEST(CtlArgs, Export) {
  const auto inv = parse_ok({"export", "spring", "-o", "/tmp/out.csv", "--with-transcript"});
  EXPECT_EQ(request_of(inv), json::parse(R"({"command": "campaign-export", "arguments": {
      "campaign": "spring", "with_transcript": true, "output": "/tmp/out.csv"}})"));
  ASSERT_EQ(inv.files.size(), 1u);
  EXPECT_EQ(inv.files[0].mode, PassedFile::Mode::write);
  EXPECT_EQ(parse_ok({"export", "spring", "-o", "-"}).files[0].path, "-");
  parse_bad({"export", "spring"});
}

// contacts NAME [--state S] [--limit N] → contacts-list; the state must be a contact state.
TEST(CtlArgs, Contacts) {
  EXPECT_EQ(request_of(parse_ok({"contacts", "spring", "--state", "queued", "--limit", "50"})),
            json::parse(R"({"command": "contacts-list", "arguments": {"campaign": "spring",
                "state": "queued", "limit": 50}})"));
  EXPECT_EQ(parse_ok({"contacts", "spring"}).arguments, (json::object{{"campaign", "spring"}}));
  EXPECT_EQ(parse_ok({"contacts", "spring", "--offset", "100"}).arguments,
            (json::object{{"campaign", "spring"}, {"offset", 100}}));
  parse_bad({"contacts", "spring", "--state", "sleeping"});
  parse_bad({"contacts", "spring", "--limit", "-1"});
}

// calls [--in-flight] [--campaign NAME] [--limit N] → calls-list.
TEST(CtlArgs, Calls) {
  EXPECT_EQ(parse_ok({"calls", "--in-flight"}).arguments, (json::object{{"in_flight", true}}));
  EXPECT_EQ(parse_ok({"calls", "--campaign", "spring", "--limit", "10"}).arguments,
            (json::object{{"campaign", "spring"}, {"limit", 10}}));
}

// campaign list --state filters by campaign state (checked locally).
TEST(CtlArgs, CampaignListState) {
  EXPECT_EQ(parse_ok({"campaign", "list", "--state", "running"}).arguments,
            (json::object{{"state", "running"}}));
  parse_bad({"campaign", "list", "--state", "sleeping"});
}

// dnc add/remove send the numbers; dnc import passes the file by fd.
TEST(CtlArgs, Dnc) {
  EXPECT_EQ(request_of(parse_ok({"dnc", "add", "+919876543210", "+919876543211"})),
            json::parse(R"({"command": "dnc-add", "arguments":
                {"numbers": ["+919876543210", "+919876543211"]}})"));
  EXPECT_EQ(
      request_of(parse_ok({"dnc", "remove", "+919876543210"})),
      json::parse(R"({"command": "dnc-remove", "arguments": {"numbers": ["+919876543210"]}})"));
  EXPECT_EQ(
      parse_ok({"dnc", "add", "09876543210", "--default-region", "IN", "--reason", "asked"})
          .arguments,
      (json::object{
          {"numbers", json::array{"09876543210"}}, {"default_region", "IN"}, {"reason", "asked"}}));
  parse_bad({"dnc", "remove", "+919876543210", "--reason", "x"});  // only add keeps a reason
  EXPECT_EQ(parse_ok({"dnc", "list", "--limit", "5"}).arguments, (json::object{{"limit", 5}}));
  EXPECT_EQ(
      parse_ok({"dnc", "import", "b.txt", "--default-region", "IN", "--reason", "list"}).arguments,
      (json::object{{"default_region", "IN"}, {"reason", "list"}}));
  const auto imp = parse_ok({"dnc", "import", "blocked.txt"});
  EXPECT_EQ(imp.command, "dnc-import");
  EXPECT_TRUE(imp.arguments.empty());
  ASSERT_EQ(imp.files.size(), 1u);
  EXPECT_EQ(imp.files[0].path, "blocked.txt");
  parse_bad({"dnc", "add"});
  parse_bad({"dnc"});
}

// raw keeps the text exactly; watch is its own action.
TEST(CtlArgs, RawAndWatch) {
  const auto raw = parse_ok({"raw", R"({"command":"status-get" , "arguments": {}})"});
  EXPECT_EQ(raw.action, Action::raw);
  EXPECT_EQ(raw.raw_text, R"({"command":"status-get" , "arguments": {}})");
  EXPECT_EQ(parse_ok({"watch"}).action, Action::watch);
}

// --help on the program and on a subcommand prints help on stdout and exits 0.
TEST(CtlArgs, HelpEverywhere) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"},
                                                                {"campaign", "create", "--help"},
                                                                {"import", "--help"},
                                                                {"dnc", "add", "-h"}}) {
    const auto r = parse_command_line(args);
    EXPECT_FALSE(r.invocation);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Usage: dialerctl"), std::string::npos) << r.out;
  }
  EXPECT_NE(parse_command_line({"import", "--help"}).out.find("--default-region"),
            std::string::npos);
}

// No subcommand, or an unknown one, is a usage error (64) with a message on stderr.
TEST(CtlArgs, UsageErrors) {
  EXPECT_FALSE(parse_bad({}).err.empty());
  EXPECT_FALSE(parse_bad({"frobnicate"}).err.empty());
}

}  // namespace
}  // namespace dialer::daemon::ctl

namespace dialer::daemon::ctl {
namespace {

// Errors about campaign fields name the flag that set them, not a member of the JSON dialerctl
// built (nor a position inside it); text about anything else is left alone.
TEST(CtlArgs, CampaignFieldErrorsNameTheFlag) {
  EXPECT_EQ(name_flags("argument 'window.start': invalid time \"25:00\""),
            "--window (window.start): invalid time \"25:00\"");
  EXPECT_EQ(name_flags("argument 'max_concurrency': must be 1 to 1000\n"
                       "argument 'timezone': unknown time zone \"Mars/Olympus\""),
            "--max-concurrency: must be 1 to 1000\n"
            "--timezone: unknown time zone \"Mars/Olympus\"");
  EXPECT_EQ(name_flags("argument 'name': required"), "NAME: required");
  EXPECT_EQ(name_flags("argument 'retry.busy': invalid duration"),
            "--retry (retry.busy): invalid duration");
  EXPECT_EQ(name_flags("argument 'spec_yaml' must be a string"),
            "argument 'spec_yaml' must be a string");
  EXPECT_EQ(name_flags("campaign.yaml:3:5: window.start: invalid"),
            "campaign.yaml:3:5: window.start: invalid");
}

}  // namespace
}  // namespace dialer::daemon::ctl
