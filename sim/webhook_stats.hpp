#pragma once
/// Counters of webhook delivery, reported under "webhooks" in GET /_sim/stats.

#include <cstdint>

namespace dialer::sim {

/// A "delivery" is one event for one endpoint (a duplicate is a second delivery); an
/// "attempt" is one HTTP POST of a delivery (at most 4).
struct WebhookStats {
  std::uint64_t sent = 0;              ///< attempts started (first tries, retries and duplicates)
  std::uint64_t retried = 0;           ///< attempts that were retries (2nd to 4th of a delivery)
  std::uint64_t failed = 0;            ///< attempts that got no 2xx (status, timeout, I/O error)
  std::uint64_t dropped = 0;           ///< deliveries that ended without a 2xx, for any reason
  std::uint64_t duplicated = 0;        ///< extra deliveries made by webhook_duplicate
  std::uint64_t delivered = 0;         ///< deliveries acknowledged with a 2xx
  std::uint64_t exhausted = 0;         ///< deliveries dropped after 4 failed attempts
  std::uint64_t dropped_by_fault = 0;  ///< deliveries dropped by webhook_drop
  std::uint64_t overflow = 0;          ///< deliveries dropped because the queue was full
  std::uint64_t delayed = 0;           ///< deliveries delayed by webhook_delay
  std::uint64_t reordered = 0;         ///< deliveries held back by webhook_reorder
  std::uint64_t pending = 0;           ///< deliveries waiting or in flight now
};

}  // namespace dialer::sim
