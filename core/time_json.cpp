#include "core/time_json.hpp"

namespace dialer {

boost::json::value iso_or_null(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return boost::json::value(format_iso8601(*t));
}

}  // namespace dialer
