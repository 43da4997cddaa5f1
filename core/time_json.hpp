#pragma once
/// JSON forms of time values shared by the admin answers and the simulator's bodies.

#include "core/time.hpp"

#include <boost/json/value.hpp>

#include <optional>

namespace dialer {

/// The ISO-8601 text of `t` (format_iso8601), or JSON null when there is none.
boost::json::value iso_or_null(const std::optional<TimePoint>& t);

}  // namespace dialer
