#include "sim/faults.hpp"

#include "sim/text_util.hpp"

#include <charconv>
#include <cmath>

namespace dialer::sim {

namespace {

constexpr std::array<std::string_view, kFaultCount> kNames = {
    "error_5xx",     "lost_response",     "lost_response_hold", "reset",           "slow",
    "webhook_drop",  "webhook_duplicate", "webhook_delay",      "webhook_reorder", "slow_start",
    "list_no_total", "list_short_page"};

constexpr std::array<std::string_view, kFaultCount> kDescriptions = {
    "an /api/v2 request is answered 500, 502 or 503 before anything is created",
    "POST /calls/start creates the call, then closes the connection without a response",
    "POST /calls/start creates the call, then holds the connection silent for --hold-time",
    "an /api/v2 request is read, then the connection is reset (TCP RST); nothing is created",
    "an /api/v2 response is sent only after --slow-delay (the work is done first)",
    "a webhook delivery is never attempted",
    "a webhook delivery is sent twice (a second, independent delivery of the same event)",
    "a webhook delivery's first attempt waits --webhook-delay",
    "a webhook delivery is held back until a later event to the same endpoint was sent "
    "(at most --webhook-delay)",
    "POST /calls/start creates the call at once and answers only after --slow-delay",
    "GET /calls answers a page without `total`",
    "GET /calls answers a short page: the second half of the records asked for is left out "
    "(`total` still counts them)",
};

}  // namespace

std::string_view fault_name(Fault f) noexcept {
  return kNames[static_cast<std::size_t>(f)];
}

std::optional<Fault> fault_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Fault>(i);
  }
  return std::nullopt;
}

std::string_view fault_description(Fault f) noexcept {
  return kDescriptions[static_cast<std::size_t>(f)];
}

std::array<Fault, kFaultCount> all_faults() noexcept {
  std::array<Fault, kFaultCount> out{};
  for (std::size_t i = 0; i < kFaultCount; ++i) out[i] = static_cast<Fault>(i);
  return out;
}

std::optional<double> parse_probability(std::string_view text) noexcept {
  auto v = parse_double(text);
  if (!v || !std::isfinite(*v) || *v < 0.0 || *v > 1.0) return std::nullopt;
  return v;
}

Result<FaultRates> parse_fault_list(std::string_view text, FaultRates base) {
  for (auto item : split_list(text)) {
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Error{errc::invalid_argument, "fault '" + std::string(item) + "' needs NAME=P"};
    }
    auto name = trim(item.substr(0, eq));
    auto fault = fault_from_name(name);
    if (!fault) {
      std::string known;
      for (auto n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return Error{errc::invalid_argument,
                   "unknown fault '" + std::string(name) + "' (known: " + known + ")"};
    }
    auto p = parse_probability(trim(item.substr(eq + 1)));
    if (!p) {
      return Error{errc::invalid_argument,
                   "fault " + std::string(name) + ": probability must be between 0 and 1"};
    }
    base.set(*fault, *p);
  }
  return base;
}

}  // namespace dialer::sim
