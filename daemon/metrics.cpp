#include "daemon/metrics.hpp"

#include "core/version.hpp"

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

namespace dialer::daemon {
namespace {

/// Boot time in seconds since the epoch (the `btime` line of /proc/stat).
std::optional<double> boot_time() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return std::nullopt;
}

double count_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  double n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

std::optional<ProcessSample> sample_process() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: fields after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string x; fields >> x && f.size() < 22;) f.push_back(x);
  if (f.size() < 22) return std::nullopt;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessSample s;
  try {
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime (14, 15)
    s.virtual_bytes = std::stod(f[20]);                             // vsize (23)
    s.resident_bytes = std::stod(f[21]) * page;                     // rss pages (24)
    if (auto boot = boot_time()) s.start_time_seconds = *boot + std::stod(f[19]) / ticks;  // 22
  } catch (const std::exception&) {
    return std::nullopt;
  }
  s.open_fds = count_fds();
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = static_cast<double>(lim.rlim_cur);
  return s;
}

DaemonMetrics::DaemonMetrics(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("dialer_build_info")
      .Help("Always 1; the version of dialerd in its label")
      .Register(registry)
      .Add({{"version", std::string(dialer::version())}})
      .Set(1);
  cpu_ = &prometheus::BuildCounter()
              .Name("process_cpu_seconds_total")
              .Help("Total user and system CPU time spent in seconds")
              .Register(registry)
              .Add({});
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  resident_ = gauge("process_resident_memory_bytes", "Resident memory size in bytes");
  virtual_ = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes");
  start_time_ =
      gauge("process_start_time_seconds", "Start time of the process since the Unix epoch");
  open_fds_ = gauge("process_open_fds", "Number of open file descriptors");
  max_fds_ = gauge("process_max_fds", "Maximum number of open file descriptors");
  contacts_ = &prometheus::BuildGauge()
                   .Name("dialer_campaign_contacts")
                   .Help("Contacts of a campaign by state (read from the store every few seconds)")
                   .Register(registry);
  due_now_ = &prometheus::BuildGauge()
                  .Name("dialer_campaign_due_now")
                  .Help("Queued contacts of a campaign whose next attempt is due")
                  .Register(registry);
  leader_ = gauge("dialer_leader",
                  "1 while this node dials (it holds the leader lease, or runs on SQLite alone); "
                  "0 on a standby");
  leader_->Set(1);
  takeovers_ = &prometheus::BuildCounter()
                    .Name("dialer_takeovers_total")
                    .Help("Times this process took the leader lease over from another node")
                    .Register(registry)
                    .Add({});
  refresh_process();
}

void DaemonMetrics::set_role(bool dials, std::uint64_t takeovers) {
  leader_->Set(dials ? 1 : 0);
  if (takeovers > takeovers_seen_) {
    takeovers_->Increment(static_cast<double>(takeovers - takeovers_seen_));
    takeovers_seen_ = takeovers;
  }
}

void DaemonMetrics::refresh_process() {
  const auto s = sample_process();
  if (!s) return;
  if (s->cpu_seconds > cpu_seen_) {
    cpu_->Increment(s->cpu_seconds - cpu_seen_);
    cpu_seen_ = s->cpu_seconds;
  }
  resident_->Set(s->resident_bytes);
  virtual_->Set(s->virtual_bytes);
  start_time_->Set(s->start_time_seconds);
  open_fds_->Set(s->open_fds);
  max_fds_->Set(s->max_fds);
}

void DaemonMetrics::apply(const std::vector<store::CampaignContactCounts>& counts) {
  for (const auto& c : counts) {
    for (const auto& [state, n] : c.by_state) {
      contacts_->Add({{"campaign", c.name}, {"state", std::string(to_string(state))}})
          .Set(static_cast<double>(n));
    }
    due_now_->Add({{"campaign", c.name}}).Set(static_cast<double>(c.due_now));
  }
}

}  // namespace dialer::daemon
