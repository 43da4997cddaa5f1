#include "core/enums.hpp"

namespace dialer {

std::optional<Outcome> outcome_of(std::optional<Disposition> disposition,
                                  CallStatus status) noexcept {
  if (disposition) {
    // Disposition names are a subset of Outcome names.
    return from_string<Outcome>(to_string(*disposition));
  }
  if (!is_terminal(status)) return std::nullopt;
  return from_string<Outcome>(to_string(status));
}

}  // namespace dialer
