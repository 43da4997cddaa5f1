#pragma once
/// Which running campaign gets the next free slot (STATE-MACHINES.md "Slots and rate",
/// fairness): strict priority between levels; within a level, slots go by weighted deficit
/// round robin on calls in flight, so each campaign's share of the calls in flight is
/// proportional to its weight.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>

namespace dialer::scheduler {

using CampaignId = std::int64_t;

/// One running campaign as the fair-share picker sees it.
struct ShareCandidate {
  CampaignId id = 0;
  int priority = 0;   ///< higher first; a lower level gets a slot only when no higher one can
  int weight = 1;     ///< share within the level; values below 1 count as 1
  int in_flight = 0;  ///< this campaign's calls in flight (reserved, ambiguous, started)
};

/// Stateful picker: remembers each campaign's round-robin credit between picks.
///
/// Within the chosen priority level, among the campaigns that can use a slot now:
/// 1. the campaign furthest below its weighted share of calls in flight wins (lowest
///    in_flight / weight) — with long calls this keeps in-flight counts ∝ weight (±1);
/// 2. ties (e.g. when calls end before the next pick, so everyone has 0 in flight) go to the
///    highest deficit credit: every pick credits each eligible campaign its weight and debits
///    the winner the level's total weight (smooth weighted round robin), so over many picks the
///    slots granted are ∝ weight (±1);
/// 3. remaining ties go to the earlier campaign in the input.
/// Credits are kept within ± the level's total weight, so a campaign that was blocked for a
/// long time cannot hoard a burst of slots when it comes back.
class FairShare {
 public:
  /// Says whether a campaign can use a slot now (below max_concurrency, a due contact inside
  /// its window, a usable provider…). Called at most once per campaign per pick, and only for
  /// campaigns of the levels examined (highest first).
  using CanUse = std::function<bool(const ShareCandidate&)>;

  /// The campaign that gets the next slot, or nullopt when none can use one. O(n log n) in the
  /// number of campaigns (a sort by priority), predicate calls O(n).
  std::optional<CampaignId> pick(std::span<const ShareCandidate> campaigns, const CanUse& can_use);

  /// Drops the credit of a campaign that stopped running.
  void forget(CampaignId id) { credit_.erase(id); }

  /// The campaign's current round-robin credit (0 when unknown); for tests and status.
  [[nodiscard]] std::int64_t credit(CampaignId id) const;

 private:
  std::unordered_map<CampaignId, std::int64_t> credit_;
};

}  // namespace dialer::scheduler
