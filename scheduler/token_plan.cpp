#include "scheduler/token_plan.hpp"

#include <algorithm>
#include <functional>
#include <queue>

namespace dialer::scheduler {

int slack_tokens(const TokenPlan& p) {
  if (p.tokens <= 0) return 0;
  if (!p.due_from || *p.due_from >= p.horizon || p.max_starts <= 0) return p.tokens;
  const TimePoint from = std::max(p.now, *p.due_from);
  const Millis turnover = std::max(p.turnover, kMinTurnover);

  // Most starts the slots could take before the horizon, whatever the tokens: when the tokens
  // now exceed it, the rest is slack without simulating.
  const std::int64_t slots = std::min<std::int64_t>(
      p.free_slots + static_cast<std::int64_t>(p.slot_frees.size()), std::max(p.max_slots, 0));
  if (slots <= 0) return p.tokens;
  const std::int64_t per_slot = (p.horizon - from) / turnover + 1;
  const std::int64_t most = std::min(slots * per_slot, p.max_starts);
  if (p.tokens > most) return static_cast<int>(p.tokens - most);

  // Starts in time order: each of the `slots` earliest-freeing slots is refilled the moment it
  // frees (the demand's earliest shape; a start that waits for a token only pushes later ones
  // further out).
  std::vector<TimePoint> first(static_cast<std::size_t>(p.free_slots), from);
  for (TimePoint f : p.slot_frees) first.push_back(std::max(from, f));
  std::sort(first.begin(), first.end());
  first.resize(static_cast<std::size_t>(slots));
  std::priority_queue<TimePoint, std::vector<TimePoint>, std::greater<>> frees(std::greater<>{},
                                                                               std::move(first));

  std::int64_t supply = p.tokens;
  std::int64_t slack = p.tokens;
  std::size_t returned = 0;
  std::int64_t starts = 0;
  while (!frees.empty() && starts < p.max_starts) {
    const TimePoint at = frees.top();
    frees.pop();
    if (at >= p.horizon) break;
    while (returned < p.returns.size() && p.returns[returned] <= at) {
      ++supply;
      ++returned;
    }
    ++starts;
    slack = std::min(slack, supply - starts);
    if (slack <= 0 || starts >= kMaxPlannedStarts) return 0;
    frees.push(at + turnover);
  }
  return static_cast<int>(std::max<std::int64_t>(slack, 0));
}

}  // namespace dialer::scheduler
