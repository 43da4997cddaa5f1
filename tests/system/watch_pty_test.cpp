// `dialerctl watch` in a pseudo-terminal of 80 × 24, against a running dialerd and
// vocobase-sim: what the screen shows, that it fits the terminal, and that q leaves it as it
// was (alternate screen closed, cursor shown).

#include "daemon_test_support.hpp"

#include <gmock/gmock.h>

#include <pty.h>
#include <sys/wait.h>
#include <termios.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// dialerctl watch on a pty; the bytes it wrote, and its exit status.
class PtyWatch {
 public:
  PtyWatch(const fs::path& socket, unsigned short cols, unsigned short rows) {
    winsize ws{};
    ws.ws_col = cols;
    ws.ws_row = rows;
    pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ < 0) throw std::runtime_error("forkpty failed");
    if (pid_ == 0) {
      const std::string sock = socket.string();
      ::execl(kDialerctl.c_str(), "dialerctl", "--socket", sock.c_str(), "watch",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~PtyWatch() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  PtyWatch(const PtyWatch&) = delete;
  PtyWatch& operator=(const PtyWatch&) = delete;

  /// Reads until the last complete screen satisfies `pred` (true) or `timeout` passes.
  bool wait_for_screen(const std::function<bool(const std::string&)>& pred,
                       std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(screen())) return true;
      if (!read_some(std::chrono::milliseconds(200))) break;
    }
    return pred(screen());
  }

  /// The last complete screen: after the last clear, up to "q quits"; without the pty's \r.
  [[nodiscard]] std::string screen() const {
    const std::string clear = "\x1b[H\x1b[2J";
    std::size_t at = out_.rfind(clear);
    while (at != std::string::npos) {
      std::string s = out_.substr(at + clear.size());
      const auto end = s.find("q quits");
      if (end != std::string::npos) {
        s.erase(end);
        s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
        return s;
      }
      if (at == 0) break;
      at = out_.rfind(clear, at - 1);  // this one is still being written: the one before
    }
    return {};
  }

  /// Sends keys, then reads until the program exits; its exit status.
  int quit_with(const std::string& keys, std::chrono::milliseconds timeout) {
    if (::write(master_, keys.data(), keys.size()) < 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline &&
           read_some(std::chrono::milliseconds(200))) {
    }
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  [[nodiscard]] const std::string& bytes() const { return out_; }

 private:
  /// False once the other side is gone (EIO on a pty).
  bool read_some(std::chrono::milliseconds wait) {
    pollfd p{master_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (n <= 0) return true;
    char buf[4096];
    const ssize_t got = ::read(master_, buf, sizeof buf);
    if (got <= 0) return false;
    out_.append(buf, static_cast<std::size_t>(got));
    return true;
  }

  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string out_;
};

std::size_t columns_of(const std::string& line) {
  return static_cast<std::size_t>(
      std::count_if(line.begin(), line.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// In an 80 × 24 terminal, watch shows the header (slots, rate, credits with their age,
// webhooks), a row per campaign with its progress and its reason to wait, drafts folded into
// one line; no line is wider than 80 columns; q ends it with exit 0 and the terminal restored.
TEST(WatchPty, ShowsARealTimeReportThatFitsTheTerminal) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  QuickStack stack;
  auto& dir = stack.dir;
  auto& d = stack.daemon;
  ASSERT_TRUE(d.ready());
  const auto list = dir.write("list.csv", "phone\n+919876560001\n+919876560002\n");
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "live"}, {"agent_id", kAgent}})), 0);
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "live"}, {"path", list}})), 0);
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "later-one"}, {"agent_id", kAgent}})), 0);
  ASSERT_TRUE(d.config_polled());
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "live"}})), 0) << d.log();
  ASSERT_TRUE(eventually(
      [&] {
        const auto s = args_of(d.call("campaign-stats", {{"campaign", "live"}}));
        return s.at("state").as_string() == "completed";
      },
      120s));

  PtyWatch watch(d.socket(), 80, 24);
  const bool shown = watch.wait_for_screen(
      [](const std::string& s) {
        return s.find("drafts (1): later-one") != std::string::npos &&
               s.find("live      completed  2/2 100%") != std::string::npos;
      },
      30s);
  const std::string screen = watch.screen();
  EXPECT_TRUE(shown) << screen << "\n---\n" << watch.bytes();
  EXPECT_THAT(screen, HasSubstr("slots 0/"));
  EXPECT_THAT(screen, HasSubstr("credits "));
  EXPECT_THAT(screen, HasSubstr(" ago)"));  // the reading's age
  EXPECT_THAT(screen, HasSubstr("webhooks last stored "));
  EXPECT_THAT(screen, HasSubstr("CAMPAIGN  STATE"));
  std::istringstream lines(screen);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_LE(columns_of(line), 80u) << line;
  }
  EXPECT_LE(count, 24);
  EXPECT_EQ(watch.quit_with("q", 10s), 0);
  // The alternate screen was closed and the cursor shown again.
  const std::string& all = watch.bytes();
  const auto restored = all.rfind("\x1b[?25h\x1b[?1049l");
  EXPECT_NE(restored, std::string::npos);
  EXPECT_GT(restored, all.rfind("\x1b[H\x1b[2J"));
}

}  // namespace
}  // namespace dialer::systest
