#include "scheduler/fair_share.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace dialer::scheduler {
namespace {

std::int64_t weight_of(const ShareCandidate& c) {
  return std::max(1, c.weight);
}

}  // namespace

std::int64_t FairShare::credit(CampaignId id) const {
  auto it = credit_.find(id);
  return it == credit_.end() ? 0 : it->second;
}

std::optional<CampaignId> FairShare::pick(std::span<const ShareCandidate> campaigns,
                                          const CanUse& can_use) {
  std::vector<std::size_t> order(campaigns.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return campaigns[a].priority > campaigns[b].priority;
  });

  std::vector<std::size_t> eligible;
  for (std::size_t begin = 0; begin < order.size();) {
    const int level = campaigns[order[begin]].priority;
    std::size_t end = begin;
    for (; end < order.size() && campaigns[order[end]].priority == level; ++end) {
      if (can_use(campaigns[order[end]])) eligible.push_back(order[end]);
    }
    if (!eligible.empty()) break;
    begin = end;
  }
  if (eligible.empty()) return std::nullopt;
  // Input order breaks the last ties, whatever the sort did.
  std::sort(eligible.begin(), eligible.end());

  std::int64_t total = 0;
  for (auto i : eligible) total += weight_of(campaigns[i]);

  std::size_t best = eligible.front();
  for (auto i : eligible) {
    credit_[campaigns[i].id] += weight_of(campaigns[i]);
  }
  for (auto i : eligible) {
    if (i == best) continue;
    const auto& c = campaigns[i];
    const auto& b = campaigns[best];
    // Compare in_flight / weight without division: c.in_flight / wc < b.in_flight / wb.
    const auto lhs = static_cast<std::int64_t>(c.in_flight) * weight_of(b);
    const auto rhs = static_cast<std::int64_t>(b.in_flight) * weight_of(c);
    if (lhs < rhs || (lhs == rhs && credit_[c.id] > credit_[b.id])) best = i;
  }
  credit_[campaigns[best].id] -= total;
  for (auto i : eligible) {
    auto& cr = credit_[campaigns[i].id];
    cr = std::clamp(cr, -total, total);
  }
  return campaigns[best].id;
}

}  // namespace dialer::scheduler
