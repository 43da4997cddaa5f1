#include "daemon/ctl_run.hpp"

#include "api/admin/client.hpp"
#include "core/errno_text.hpp"
#include "daemon/ctl_render.hpp"

#include <boost/json/serialize.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <poll.h>
#include <random>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <system_error>
#include <termios.h>
#include <unistd.h>

namespace dialer::daemon::ctl {

namespace json = boost::json;
namespace fs = std::filesystem;
using admin::UniqueFd;

namespace {

constexpr std::size_t kMaxSpecBytes = 1024 * 1024;
constexpr auto kProgressInterval = std::chrono::milliseconds(250);
constexpr auto kWatchInterval = std::chrono::milliseconds(1000);
constexpr std::chrono::milliseconds kPollTimeout{5'000};

std::variant<std::string, PrepareFailure> read_spec(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return PrepareFailure{kExitNoInput, path.string() + ": " + errno_text(errno)};
  std::string text;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return PrepareFailure{kExitNoInput, path.string() + ": " + errno_text(errno)};
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxSpecBytes) {
      return PrepareFailure{kExitNoInput, path.string() + ": larger than 1 MiB"};
    }
  }
  return text;
}

/// A random id for import-progress, chosen here so it can be polled before any answer.
std::string progress_id() {
  std::random_device rd;
  std::uniform_int_distribution<std::uint64_t> dist;
  char buf[40];
  std::snprintf(buf, sizeof buf, "ctl-%d-%016llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(dist(rd)));
  return buf;
}

void remove_created(const std::vector<fs::path>& created) {
  for (const auto& p : created) {
    std::error_code ec;
    fs::remove(p, ec);
  }
}

int terminal_width(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

/// Sends the import while polling its progress on a second connection, drawing a bar.
Result<admin::Response> call_with_progress(const Invocation& inv, Prepared& prep,
                                           const std::string& id, Console& console) {
  std::vector<int> raw;
  for (const auto& fd : prep.fds) raw.push_back(fd.get());
  const admin::CallOptions options{inv.timeout};
  auto pending = std::async(std::launch::async, [&] {
    return admin::call_raw(inv.socket, prep.request_text, raw, options);
  });
  bool drawn = false;
  while (pending.wait_for(kProgressInterval) != std::future_status::ready) {
    const auto p = admin::call(inv.socket, "import-progress", {{"id", id}}, {},
                               admin::CallOptions{std::chrono::milliseconds(2'000)});
    if (p && p->result == admin::ResultCode::success) {
      console.err << '\r' << render_progress_line(p->arguments, console.width - 1) << "\x1b[K"
                  << std::flush;
      drawn = true;
    }
  }
  if (drawn) console.err << "\r\x1b[K" << std::flush;
  return pending.get();
}

}  // namespace

std::variant<Prepared, PrepareFailure> prepare(const Invocation& inv) {
  Prepared prep;
  json::object arguments = inv.arguments;
  if (inv.spec_file) {
    auto text = read_spec(*inv.spec_file);
    if (auto* failure = std::get_if<PrepareFailure>(&text)) return *failure;
    arguments["spec_yaml"] = std::get<std::string>(text);
    arguments["spec_file"] = inv.spec_file->string();
  }
  for (const auto& file : inv.files) {
    const bool read = file.mode == PassedFile::Mode::read;
    if (file.path == "-") {
      prep.fds.emplace_back(::fcntl(read ? STDIN_FILENO : STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
      continue;
    }
    UniqueFd fd;
    if (read) {
      fd.reset(::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
      if (!fd) {
        remove_created(prep.created);
        return PrepareFailure{kExitNoInput, file.path.string() + ": " + errno_text(errno)};
      }
      struct stat st {};
      if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
        remove_created(prep.created);
        return PrepareFailure{kExitNoInput, file.path.string() + ": is a directory"};
      }
    } else {
      // O_EXCL first, to know whether this run created the file (and may remove it again).
      fd.reset(::open(file.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
      if (fd) {
        prep.created.push_back(file.path);
      } else if (errno == EEXIST) {
        fd.reset(::open(file.path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY));
      }
      if (!fd) {
        const int err = errno;
        remove_created(prep.created);
        return PrepareFailure{kExitCantCreate, file.path.string() + ": " + errno_text(err)};
      }
    }
    prep.fds.push_back(std::move(fd));
  }
  prep.request_text =
      inv.action == Action::raw ? inv.raw_text : admin::serialize_request(inv.command, arguments);
  return prep;
}

int run(const Invocation& inv, Console& console) {
  if (inv.action == Action::watch) return run_watch(inv);

  Invocation sent = inv;
  std::string id;
  const bool show_progress = (inv.action == Action::import || inv.command == "campaign-forecast") &&
                             console.progress && !inv.json;
  if (show_progress) {
    id = progress_id();
    sent.arguments["progress_id"] = id;
  }
  auto prepared = prepare(sent);
  if (auto* failure = std::get_if<PrepareFailure>(&prepared)) {
    console.err << "dialerctl: " << failure->message << "\n";
    return failure->exit_code;
  }
  auto& prep = std::get<Prepared>(prepared);

  Result<admin::Response> answer = Error(errc::io_error, "not sent");
  if (show_progress) {
    answer = call_with_progress(sent, prep, id, console);
  } else {
    std::vector<int> raw;
    for (const auto& fd : prep.fds) raw.push_back(fd.get());
    answer = admin::call_raw(inv.socket, prep.request_text, raw, admin::CallOptions{inv.timeout});
  }
  prep.fds.clear();  // our copies; the daemon has its own

  if (!answer) {
    remove_created(prep.created);
    console.err << "dialerctl: " << answer.error().what() << "\n";
    return kExitUnavailable;
  }
  auto& r = *answer;
  const int code = admin::to_int(r.result);
  if (code != 0) remove_created(prep.created);
  // The reject file is named only when the import succeeded: a failed one removed it.
  if (code == 0 && inv.action == Action::import && !r.arguments.contains("reject_file")) {
    if (const auto* reject = inv.arguments.if_contains("reject_file")) {
      r.arguments["reject_file"] = *reject;
    }
  }

  if (code != 0 && !r.text.empty()) {
    // Flags, not JSON members, are what the user typed.
    const bool from_flags = inv.action != Action::raw &&
                            (inv.command == "campaign-create" || inv.command == "campaign-update");
    console.err << (from_flags ? name_flags(r.text) : r.text) << "\n";
  }
  if (inv.names_only && (code == 0 || code == 3)) {
    if (const auto* list = r.arguments.if_contains("campaigns"); list && list->is_array()) {
      for (const auto& c : list->get_array()) {
        const auto* n = c.is_object() ? c.get_object().if_contains("name") : nullptr;
        if (n != nullptr && n->is_string())
          console.out << std::string_view(n->get_string()) << "\n";
      }
    }
    console.out.flush();
    return code;
  }
  if (inv.action == Action::raw) {
    // raw: the response exactly as the daemon sent it, as JSON.
    console.out << pretty_json(admin::to_json(r));
  } else if (inv.json) {
    // A result other than 0 or 3: the whole response, so scripts see why (CONTRACT.md).
    console.out << pretty_json(code == 0 || code == 3 ? r.arguments : admin::to_json(r));
  } else if (inv.command == "account-check" && (code == 0 || code == 4)) {
    // A failing check is result 4, and its rows are the point. Wrapped to a terminal; one line
    // per detail when piped (grep, logs).
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    console.out << render_check(
        r.arguments,
        tty ? static_cast<std::size_t>(terminal_width(STDOUT_FILENO)) : std::size_t{100'000});
  } else if (code == 0) {
    console.out << render_response(inv.command, r);
  } else if (!r.arguments.empty()) {
    console.out << render_arguments(r.arguments);
  }
  console.out.flush();
  return code;
}

namespace {

volatile std::sig_atomic_t g_watch_stop = 0;

extern "C" void on_watch_signal(int sig) {
  if (sig != SIGWINCH) g_watch_stop = 1;
}

/// Non-canonical, no-echo input on the alternate screen with the cursor hidden; everything
/// restored on destruction (and signals only set a flag, so destruction always runs).
class TerminalGuard {
 public:
  TerminalGuard() {
    if (::isatty(STDIN_FILENO) != 0 && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      tty_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      struct sigaction sa {};
      sa.sa_handler = on_watch_signal;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = 0;  // no SA_RESTART: poll() must return on a signal
      ::sigaction(kSignals[i], &sa, &old_[i]);
    }
    std::cout << "\x1b[?1049h\x1b[?25l" << std::flush;
  }
  ~TerminalGuard() {
    std::cout << "\x1b[?25h\x1b[?1049l" << std::flush;
    if (tty_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
  }
  TerminalGuard(const TerminalGuard&) = delete;
  TerminalGuard& operator=(const TerminalGuard&) = delete;

 private:
  static constexpr std::array<int, 4> kSignals{SIGINT, SIGTERM, SIGHUP, SIGWINCH};
  termios saved_{};
  bool tty_ = false;
  std::array<struct sigaction, 4> old_{};
};

}  // namespace

int run_watch(const Invocation& inv) {
  g_watch_stop = 0;
  TerminalGuard guard;
  bool input_open = true;
  const admin::CallOptions options{std::min(inv.timeout, kPollTimeout)};
  while (g_watch_stop == 0) {
    const auto status = admin::call(inv.socket, "status-get", {}, {}, options);
    Result<admin::Response> campaigns = Error(errc::io_error, "not asked");
    if (status) campaigns = admin::call(inv.socket, "campaign-list", {}, {}, options);
    const int width = terminal_width(STDOUT_FILENO);
    std::string screen = "\x1b[H\x1b[2J";
    if (!status) {
      screen += "dialerctl: " + status.error().what() + "\n";
    } else if (!campaigns) {
      screen += "dialerctl: " + campaigns.error().what() + "\n";
    } else {
      screen += render_watch(status->arguments, campaigns->arguments, width);
    }
    screen += "\nq quits\n";
    std::cout << screen << std::flush;

    const auto deadline = std::chrono::steady_clock::now() + kWatchInterval;
    while (g_watch_stop == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{input_open ? STDIN_FILENO : -1, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) break;  // a signal: redraw now or stop
      if (n <= 0) continue;
      char keys[64];
      const ssize_t got = ::read(STDIN_FILENO, keys, sizeof keys);
      if (got <= 0) {
        input_open = false;  // end of input: keep watching until a signal
        continue;
      }
      for (ssize_t i = 0; i < got; ++i) {
        if (keys[i] == 'q' || keys[i] == 'Q' || keys[i] == 4) return 0;
      }
    }
  }
  return 0;
}

int ctl_main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  auto parsed = parse_command_line(args);
  if (!parsed.invocation) {
    std::cout << parsed.out << std::flush;
    std::cerr << parsed.err << std::flush;
    return parsed.exit_code;
  }
  Console console{std::cout, std::cerr, ::isatty(STDERR_FILENO) != 0,
                  terminal_width(STDERR_FILENO)};
  return run(*parsed.invocation, console);
}

}  // namespace dialer::daemon::ctl
