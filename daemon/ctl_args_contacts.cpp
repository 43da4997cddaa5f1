// dialerctl's commands on contacts and numbers: import, export, contacts, calls and dnc.

#include "daemon/ctl_args_detail.hpp"

#include <boost/json/array.hpp>

#include <memory>
#include <tuple>

namespace dialer::daemon::ctl::detail {

namespace json = boost::json;

void add_contact_commands(CLI::App& app, std::vector<Leaf>& leaves) {
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
}

}  // namespace dialer::daemon::ctl::detail
