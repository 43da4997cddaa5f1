#pragma once
/// The daemon's own /metrics families (CONTRACT.md "Webhook endpoint": `metrics.listen`):
/// dialer_build_info, the process_* set Prometheus' client libraries export, the per-campaign
/// contact series that need a store scan, and the leader lease's dialer_leader and
/// dialer_takeovers_total.
///
/// prometheus-cpp 1.0.1 (Debian 12) has no process collector, so process_* are read here from
/// /proc/self, with the names and units of the Prometheus client conventions.
///
/// Thread-safety: prometheus-cpp metrics are; `refresh_process` and `apply` may run on any one
/// thread at a time.

#include "store/contact_repo.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dialer::daemon {

/// What /proc/self says about this process.
struct ProcessSample {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  ///< since the Unix epoch
  double open_fds = 0;
  double max_fds = 0;
};
/// Reads /proc/self/stat, /proc/stat (boot time), /proc/self/fd and RLIMIT_NOFILE.
std::optional<ProcessSample> sample_process();

class DaemonMetrics {
 public:
  explicit DaemonMetrics(prometheus::Registry& registry);

  void refresh_process();
  /// Sets dialer_campaign_contacts{campaign,state} and dialer_campaign_due_now{campaign}.
  void apply(const std::vector<store::CampaignContactCounts>& counts);
  /// dialer_leader (1 when this node dials) and dialer_takeovers_total (this process' count).
  void set_role(bool dials, std::uint64_t takeovers);

 private:
  prometheus::Counter* cpu_ = nullptr;
  double cpu_seen_ = 0;
  prometheus::Gauge* resident_ = nullptr;
  prometheus::Gauge* virtual_ = nullptr;
  prometheus::Gauge* start_time_ = nullptr;
  prometheus::Gauge* open_fds_ = nullptr;
  prometheus::Gauge* max_fds_ = nullptr;
  prometheus::Family<prometheus::Gauge>* contacts_ = nullptr;
  prometheus::Family<prometheus::Gauge>* due_now_ = nullptr;
  prometheus::Gauge* leader_ = nullptr;
  prometheus::Counter* takeovers_ = nullptr;
  std::uint64_t takeovers_seen_ = 0;
};

}  // namespace dialer::daemon
