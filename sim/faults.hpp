#pragma once
/// The simulator's fault catalogue: each fault is a probability, drawn per request (request
/// faults) or per webhook delivery (webhook faults) from the seeded generator.

#include "core/errc.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dialer::sim {

/// Every injectable fault. The names are the spellings of `--faults`, YAML and /_sim/faults.
enum class Fault {
  error_5xx,           ///< an /api/v2 request is answered 500/502/503; nothing is created
  lost_response,       ///< POST /calls/start creates the call, then the connection is closed
  lost_response_hold,  ///< POST /calls/start creates the call, the connection is held silent
  reset,               ///< an /api/v2 request is read, then the connection is reset (RST)
  slow,                ///< an /api/v2 response is delayed by --slow-delay
  webhook_drop,        ///< a delivery is never attempted
  webhook_duplicate,   ///< a delivery is sent twice (two independent deliveries)
  webhook_delay,       ///< a delivery's first attempt waits --webhook-delay
  webhook_reorder,     ///< a delivery is held back until a later event to that endpoint went out
  slow_start,          ///< POST /calls/start creates the call, answers after --slow-delay
  list_no_total,       ///< GET /calls answers without `total`
  list_short_page,     ///< GET /calls answers fewer records than asked while more exist
};

inline constexpr std::size_t kFaultCount = 12;

/// Wire name of a fault ("error_5xx", …).
std::string_view fault_name(Fault f) noexcept;
/// Exact match on a wire name.
std::optional<Fault> fault_from_name(std::string_view name) noexcept;
/// One line saying what the fault does (for --help and the README).
std::string_view fault_description(Fault f) noexcept;
/// All faults in declaration order.
std::array<Fault, kFaultCount> all_faults() noexcept;

/// A probability per fault, each in [0, 1].
struct FaultRates {
  std::array<double, kFaultCount> p{};

  [[nodiscard]] double get(Fault f) const noexcept { return p[static_cast<std::size_t>(f)]; }
  void set(Fault f, double v) noexcept { p[static_cast<std::size_t>(f)] = v; }
  bool operator==(const FaultRates&) const = default;
};

/// Parses "NAME=P,NAME=P" on top of `base` (names not listed keep their value).
Result<FaultRates> parse_fault_list(std::string_view text, FaultRates base = {});

/// Parses a probability in [0, 1] ("0.25", "1", "0").
std::optional<double> parse_probability(std::string_view text) noexcept;

}  // namespace dialer::sim
