#pragma once
/// Pieces of dialerctl's command line shared by its source files: ctl_args.cpp (global options,
/// daemon, account, webhook and attempt commands, parsing), ctl_args_campaign.cpp (campaign …)
/// and ctl_args_contacts.cpp (import, export, contacts, calls, dnc …). Internal to daemon/.

#include "core/enums.hpp"
#include "daemon/ctl_args.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dialer::daemon::ctl::detail {

/// One leaf per request; `build` fills the invocation when that leaf was chosen.
struct Leaf {
  CLI::App* app;
  std::function<std::optional<std::string>(Invocation&)> build;
};

/// A number above 0 / of at least 0, the bound named in words (CLI11's own validators print
/// "not in range 0.000000 to <300 digits>").
extern const CLI::Validator kPositive;
extern const CLI::Validator kNonNegative;

/// The names of an enum of core/enums.hpp, the empty one left out.
template <class E>
std::vector<std::string> names_of() {
  std::vector<std::string> out;
  for (const auto n : EnumNames<E>::names) {
    if (!n.empty()) out.emplace_back(n);
  }
  return out;
}

/// A UUID (agent ids).
const CLI::Validator& uuid_validator();

/// `p` made absolute and normal ("-" stays as it is): the daemon reports paths, and the cwd is
/// dialerctl's.
std::filesystem::path absolute_path(const std::string& p);

/// `campaign create|update|list|get|start|pause|resume|stop|delete|stats|forecast`.
void add_campaign_commands(CLI::App& app, std::vector<Leaf>& leaves);
/// `import`, `export`, `contacts`, `calls` and `dnc add|remove|list|import`.
void add_contact_commands(CLI::App& app, std::vector<Leaf>& leaves);

}  // namespace dialer::daemon::ctl::detail
