#pragma once
/// Provider choice for POST /calls/start: the campaign's ordered list, narrowed to what the
/// account allows and has configured (GET /config), minus providers cooling down after a
/// "not enabled / not configured" refusal; then failover (first usable) or round robin.

#include "core/enums.hpp"
#include "core/time.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace dialer::scheduler {

using CampaignId = std::int64_t;

/// The account's provider setup as GET /config reports it.
struct AccountProviders {
  std::vector<std::string> allowed;     ///< `allowed_telephony_providers`, any letter case
  std::vector<std::string> configured;  ///< `telephony` entries with `configured: true`
};

/// How long a provider refused as not enabled/configured is skipped, unless configured otherwise.
inline constexpr Millis kDefaultProviderCooldown = std::chrono::minutes{10};

/// Usable-provider bookkeeping for the whole account, plus each campaign's round-robin position.
/// Until set_account() has been called nothing is usable: GET /config decides.
class ProviderSelector {
 public:
  explicit ProviderSelector(Millis cooldown = kDefaultProviderCooldown) : cooldown_(cooldown) {}

  /// Changes the cooldown for later refusals (config reload); running cooldowns keep their end.
  void set_cooldown(Millis cooldown) noexcept { cooldown_ = cooldown; }

  /// Replaces the account's setup (after each GET /config). Names are compared
  /// case-insensitively; names this build does not know are ignored.
  void set_account(const AccountProviders& account);

  /// True once set_account() has been called.
  [[nodiscard]] bool account_known() const noexcept { return known_; }

  /// A start was refused because `p` is not enabled or configured: skip it until
  /// now + cooldown (a later refusal extends it).
  void cool_down(Provider p, TimePoint now);

  /// The end of `p`'s cooldown when it is cooling down at `now`.
  [[nodiscard]] std::optional<TimePoint> cooldown_until(Provider p, TimePoint now) const;

  /// The campaign's providers, in its order, that are allowed, configured and not cooling down.
  /// An empty campaign list stands for the API's default provider, mcube.
  [[nodiscard]] std::vector<Provider> usable(std::span<const Provider> campaign_providers,
                                             TimePoint now) const;

  /// The provider for the next start of campaign `id`: failover → the first usable one;
  /// round_robin → the next usable one after the campaign's previous choice, in list order.
  /// nullopt when none is usable (the caller reports blocked_by provider_unavailable).
  std::optional<Provider> choose(CampaignId id, std::span<const Provider> campaign_providers,
                                 ProviderStrategy strategy, TimePoint now);

  /// Drops a stopped campaign's round-robin position.
  void forget(CampaignId id) { next_.erase(id); }

 private:
  [[nodiscard]] bool is_usable(Provider p, TimePoint now) const;

  static constexpr std::size_t kCount = EnumNames<Provider>::names.size();

  Millis cooldown_;
  bool known_ = false;
  std::array<bool, kCount> allowed_{};
  std::array<bool, kCount> configured_{};
  std::array<std::optional<TimePoint>, kCount> cooling_until_{};
  std::unordered_map<CampaignId, std::size_t> next_;
};

/// `name` lower-cased and matched against the provider names; nullopt when unknown.
std::optional<Provider> provider_from_any_case(std::string_view name);

}  // namespace dialer::scheduler
