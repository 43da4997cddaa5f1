#pragma once
/// Running a parsed dialerctl invocation: open the files to pass, send the request, show import
/// progress, print the answer, and the `watch` loop. The exit status is the result code.

#include "api/admin/unique_fd.hpp"
#include "daemon/ctl_args.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

namespace dialer::daemon::ctl {

/// The request ready to send.
struct Prepared {
  std::string request_text;
  std::vector<admin::UniqueFd> fds;  ///< in the order of Invocation::files
  /// Output files this run created (removed again when the command fails).
  std::vector<std::filesystem::path> created;
};

/// Why a request could not be prepared, and the exit status for it (66 or 73).
struct PrepareFailure {
  int exit_code = kExitNoInput;
  std::string message;
};

/// Opens Invocation::files (read: O_RDONLY, directories refused; write: created 0666 & ~umask or
/// truncated; "-" is stdin/stdout), reads the campaign YAML (at most 1 MiB) into "spec_yaml",
/// and serialises the request.
std::variant<Prepared, PrepareFailure> prepare(const Invocation& inv);

/// Where run() writes and whether to draw an import progress bar (stderr is a terminal).
struct Console {
  std::ostream& out;
  std::ostream& err;
  bool progress = false;
  int width = 80;
};

/// Sends the request, prints the answer (tables, or `arguments` as JSON with --json; the text
/// of a non-zero result on stderr) and returns the exit status: the result code, or 69 when
/// dialerd cannot be reached or does not answer properly.
int run(const Invocation& inv, Console& console);

/// The live view until `q`, end of input on a terminal, or SIGINT/SIGTERM/SIGHUP; the terminal
/// is restored on every way out.
int run_watch(const Invocation& inv);

/// dialerctl's main.
int ctl_main(int argc, char** argv);

}  // namespace dialer::daemon::ctl
