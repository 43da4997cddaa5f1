#include "scheduler/call_platform.hpp"

#include <stdexcept>

namespace dialer::scheduler {

void throw_exception_from_error(const PlatformError& e, const boost::source_location&) {
  throw std::runtime_error("platform request failed: " + e.message);
}

std::optional<Outcome> SessionOutcome::outcome() const {
  if (disposition) return outcome_of(disposition, status.value_or(CallStatus::completed));
  if (!status) return std::nullopt;
  return outcome_of(std::nullopt, *status);
}

}  // namespace dialer::scheduler
