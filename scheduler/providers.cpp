#include "scheduler/providers.hpp"

#include <algorithm>

namespace dialer::scheduler {
namespace {

constexpr Provider kApiDefault = Provider::mcube;

std::size_t idx(Provider p) {
  return static_cast<std::size_t>(p);
}

}  // namespace

std::optional<Provider> provider_from_any_case(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return from_string<Provider>(lower);
}

void ProviderSelector::set_account(const AccountProviders& account) {
  allowed_ = {};
  configured_ = {};
  for (const auto& n : account.allowed) {
    if (auto p = provider_from_any_case(n)) allowed_[idx(*p)] = true;
  }
  for (const auto& n : account.configured) {
    if (auto p = provider_from_any_case(n)) configured_[idx(*p)] = true;
  }
  known_ = true;
}

void ProviderSelector::cool_down(Provider p, TimePoint now) {
  cooling_until_[idx(p)] = now + cooldown_;
}

std::optional<TimePoint> ProviderSelector::cooldown_until(Provider p, TimePoint now) const {
  const auto& until = cooling_until_[idx(p)];
  if (until && now < *until) return until;
  return std::nullopt;
}

bool ProviderSelector::is_usable(Provider p, TimePoint now) const {
  return known_ && allowed_[idx(p)] && configured_[idx(p)] && !cooldown_until(p, now);
}

std::vector<Provider> ProviderSelector::usable(std::span<const Provider> campaign_providers,
                                               TimePoint now) const {
  std::vector<Provider> out;
  if (campaign_providers.empty()) {
    if (is_usable(kApiDefault, now)) out.push_back(kApiDefault);
    return out;
  }
  for (Provider p : campaign_providers) {
    if (is_usable(p, now) && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

std::optional<Provider> ProviderSelector::choose(CampaignId id,
                                                 std::span<const Provider> campaign_providers,
                                                 ProviderStrategy strategy, TimePoint now) {
  const std::array<Provider, 1> fallback{kApiDefault};
  const auto list =
      campaign_providers.empty() ? std::span<const Provider>{fallback} : campaign_providers;
  if (strategy == ProviderStrategy::failover) {
    for (Provider p : list) {
      if (is_usable(p, now)) return p;
    }
    return std::nullopt;
  }
  // Round robin over the campaign's own list, not the usable subset, so a provider coming back
  // from cooldown takes its usual turn instead of reshuffling the rotation.
  auto& next = next_[id];
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::size_t i = (next + k) % list.size();
    if (is_usable(list[i], now)) {
      next = (i + 1) % list.size();
      return list[i];
    }
  }
  return std::nullopt;
}

}  // namespace dialer::scheduler
