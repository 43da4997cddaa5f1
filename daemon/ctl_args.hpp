#pragma once
/// dialerctl's command line (CONTRACT.md "dialerctl"): parsed with CLI11 into the admin request
/// it sends. Pure — no file or socket is touched here — so every subcommand's JSON is testable.

#include "core/time.hpp"

#include <boost/json/object.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dialer::daemon::ctl {

/// Exit statuses besides the admin result codes 0–4 (sysexits.h values).
inline constexpr int kExitUsage = 64;        ///< EX_USAGE: bad command line
inline constexpr int kExitNoInput = 66;      ///< EX_NOINPUT: a file to send cannot be read
inline constexpr int kExitUnavailable = 69;  ///< EX_UNAVAILABLE: daemon unreachable, timed out
                                             ///< or answered something that is not the protocol
inline constexpr int kExitCantCreate = 73;   ///< EX_CANTCREAT: an output file cannot be created

inline constexpr const char* kDefaultSocket = "/run/dialerd/admin.sock";
/// Deadline for ordinary commands; import, export and dnc import get kLongTimeout.
inline constexpr Millis kDefaultTimeout{30'000};
inline constexpr Millis kLongTimeout{6 * 3600 * 1000};

/// A file dialerctl opens with the invoking user's permissions and passes as a descriptor.
struct PassedFile {
  enum class Mode { read, write };
  std::filesystem::path path;  ///< "-" = dialerctl's own stdout (write) or stdin (read)
  Mode mode = Mode::read;
};

/// What dialerctl does after parsing.
enum class Action {
  request,  ///< send `command` + `arguments`, print the answer
  raw,      ///< send `raw_text` verbatim, print the answer
  import,   ///< contacts-import: request plus a progress bar on a terminal, then the report
  watch,    ///< live view from status-get and campaign-list
};

/// A fully parsed invocation.
struct Invocation {
  std::filesystem::path socket = kDefaultSocket;
  bool json = false;
  Millis timeout = kDefaultTimeout;
  Action action = Action::request;
  std::string command;
  boost::json::object arguments;
  std::string raw_text;
  /// Opened in order and passed with the request (fds[0], fds[1], …).
  std::vector<PassedFile> files;
  /// `campaign create -f FILE`: read and sent as arguments "spec_yaml" (text) and "spec_file".
  std::optional<std::filesystem::path> spec_file;
  /// `campaign list --names`: one name a line and nothing else (shell completion, scripts).
  bool names_only = false;
};

/// Either an invocation to run, or an exit status with text to print (help, usage errors).
struct ParseOutcome {
  std::optional<Invocation> invocation;
  int exit_code = 0;
  std::string out;  ///< for stdout (help)
  std::string err;  ///< for stderr (usage errors)
};

/// Parses dialerctl's arguments (without argv[0]). Paths given for reject files and export
/// outputs are made absolute (the daemon reports them; the cwd is dialerctl's).
ParseOutcome parse_command_line(const std::vector<std::string>& args);

/// An error of campaign-create / campaign-update in terms of the flags that set the fields:
/// "argument 'window.start': …" becomes "--window (window.start): …", "argument 'name'"
/// becomes "NAME". Other text is left as it is.
std::string name_flags(std::string text);

}  // namespace dialer::daemon::ctl
