#include "scheduler/slots.hpp"

#include <algorithm>

namespace dialer::scheduler {

SlotAccount account_slots(const std::optional<ConcurrencySnapshot>& snapshot, int ours_in_flight,
                          int ours_active_on_server) noexcept {
  SlotAccount a;
  a.in_flight = std::max(0, ours_in_flight);
  if (snapshot) {
    a.limit = std::max(0, snapshot->limit);
    a.foreign = std::max(0, snapshot->active - std::max(0, ours_active_on_server));
  } else {
    a.limit = kDefaultAccountLimit;
  }
  a.capacity = std::max(0, a.limit - a.foreign);
  return a;
}

SlotCheck campaign_slot(const SlotAccount& account, int campaign_in_flight,
                        int max_concurrency) noexcept {
  SlotCheck c;
  if (account.in_flight >= account.capacity) {
    c.account_bound = true;
    c.used = account.used();
    c.limit = account.limit;
    return c;
  }
  c.used = campaign_in_flight;
  c.limit = max_concurrency;
  c.allowed = campaign_in_flight < max_concurrency;
  return c;
}

}  // namespace dialer::scheduler
