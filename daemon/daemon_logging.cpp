// Logging as configured: text lines or JSON objects on stderr, syslog priorities under journald,
// silenced inside a LogMute.

#include "core/log_mute.hpp"
#include "daemon/daemon.hpp"
#include "daemon/log_fields.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace dialer::daemon {

namespace json = boost::json;

namespace {

/// One JSON object per line: {"time", "level", "message"} and the subjects the message names
/// (campaign, attempt, contact, call_id, session_id: daemon/log_fields.hpp). The message is
/// escaped by Boost.JSON (spdlog's patterns cannot escape a payload).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::time_point_cast<Millis>(msg.time);
    json::object o;
    o["time"] = format_iso8601(TimePoint{ms.time_since_epoch()});
    const auto level = spdlog::level::to_string_view(msg.level);
    o["level"] = std::string_view(level.data(), level.size());
    const std::string_view text(msg.payload.data(), msg.payload.size());
    o["message"] = text;
    const LogFields f = log_fields(text);
    if (f.campaign) o["campaign"] = *f.campaign;
    if (f.contact) o["contact"] = *f.contact;
    if (f.attempt) o["attempt"] = *f.attempt;
    if (f.call_id) o["call_id"] = *f.call_id;
    if (f.session_id) o["session_id"] = *f.session_id;
    const std::string line = json::serialize(o);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

/// Under journald (sd-daemon(3)): each line starts with its syslog priority, "<3>" for an
/// error, so `journalctl -p err` finds it; the journal stamps the time itself.
class JournalPrefixFormatter final : public spdlog::formatter {
 public:
  explicit JournalPrefixFormatter(std::unique_ptr<spdlog::formatter> inner)
      : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const char* prefix = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        prefix = "<7>";  // SD_DEBUG
        break;
      case spdlog::level::info:
        prefix = "<6>";  // SD_INFO
        break;
      case spdlog::level::warn:
        prefix = "<4>";  // SD_WARNING
        break;
      case spdlog::level::err:
        prefix = "<3>";  // SD_ERR
        break;
      case spdlog::level::critical:
        prefix = "<2>";  // SD_CRIT
        break;
      default:
        break;
    }
    dest.append(prefix, prefix + 3);
    inner_->format(msg, dest);
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JournalPrefixFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

/// Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to "DEV:INODE" of it, and
/// a stderr redirected elsewhere (a wrapper, a file) no longer matches (systemd.exec(5)).
bool stderr_is_journal() {
  const char* v = std::getenv("JOURNAL_STREAM");
  if (v == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(v, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

spdlog::level::level_enum to_spdlog(config::LogLevel l) {
  switch (l) {
    case config::LogLevel::trace:
      return spdlog::level::trace;
    case config::LogLevel::debug:
      return spdlog::level::debug;
    case config::LogLevel::info:
      return spdlog::level::info;
    case config::LogLevel::warn:
      return spdlog::level::warn;
    case config::LogLevel::error:
      return spdlog::level::err;
    case config::LogLevel::critical:
      return spdlog::level::critical;
    case config::LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

namespace {
/// stderr, except for threads inside a LogMute (a forecast's simulated scheduler).
class MutableStderrSink final : public spdlog::sinks::stderr_sink_mt {
 public:
  void log(const spdlog::details::log_msg& msg) override {
    if (!LogMute::active()) spdlog::sinks::stderr_sink_mt::log(msg);
  }
};
}  // namespace

void setup_logging(const config::LoggingConfig& logging) {
  auto logger = spdlog::default_logger();
  if (logger == nullptr || logger->name() != "dialerd") {
    logger = std::make_shared<spdlog::logger>("dialerd", std::make_shared<MutableStderrSink>());
    spdlog::set_default_logger(logger);
  }
  const bool journal = stderr_is_journal();
  std::unique_ptr<spdlog::formatter> formatter;
  if (logging.format == config::LogFormat::json) {
    formatter = std::make_unique<JsonFormatter>();
  } else if (journal) {
    // The journal stamps each line itself.
    formatter = std::make_unique<spdlog::pattern_formatter>("%l: %v");
  } else {
    formatter = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e%z %l: %v");
  }
  if (journal) formatter = std::make_unique<JournalPrefixFormatter>(std::move(formatter));
  logger->set_formatter(std::move(formatter));
  logger->set_level(to_spdlog(logging.level));
  logger->flush_on(spdlog::level::trace);
}

}  // namespace dialer::daemon
