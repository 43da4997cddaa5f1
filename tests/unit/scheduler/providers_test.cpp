#include "scheduler/providers.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;
using P = Provider;

const TimePoint kT0 = *parse_iso8601("2026-03-10T06:30:00Z");

ProviderSelector account(std::vector<std::string> allowed, std::vector<std::string> configured,
                         Millis cooldown = 10min) {
  ProviderSelector s(cooldown);
  s.set_account({std::move(allowed), std::move(configured)});
  return s;
}

// Usable = the campaign's list, in its order, ∩ allowed (any letter case) ∩ configured.
TEST(Providers, UsableIsCampaignListAllowedAndConfigured) {
  auto s = account({"Twilio", "PLIVO", "vobiz", "carrier-pigeon"}, {"twilio", "Vobiz", "exotel"});
  const std::vector<P> campaign = {P::vobiz, P::plivo, P::exotel, P::twilio};
  // plivo: allowed, not configured; exotel: configured, not allowed.
  EXPECT_EQ(s.usable(campaign, kT0), (std::vector<P>{P::vobiz, P::twilio}));
}

// Nothing is usable before GET /config has been read.
TEST(Providers, NothingUsableBeforeAccountIsKnown) {
  ProviderSelector s;
  EXPECT_FALSE(s.account_known());
  const std::vector<P> campaign = {P::twilio};
  EXPECT_TRUE(s.usable(campaign, kT0).empty());
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0), std::nullopt);
}

// Failover takes the first usable provider; a provider refused as not enabled cools down, the
// next one is used, and the first comes back exactly when its cooldown expires.
TEST(Providers, FailoverAndCooldownExpiry) {
  auto s = account({"twilio", "plivo"}, {"twilio", "plivo"}, 10min);
  const std::vector<P> campaign = {P::twilio, P::plivo};
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0), P::twilio);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0), P::twilio);

  s.cool_down(P::twilio, kT0);
  EXPECT_EQ(s.cooldown_until(P::twilio, kT0), kT0 + 10min);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0), P::plivo);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0 + 10min - 1ms), P::plivo);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0 + 10min), P::twilio);
  EXPECT_EQ(s.cooldown_until(P::twilio, kT0 + 10min), std::nullopt);
}

// When every provider is cooling down there is no choice (provider_unavailable).
TEST(Providers, NoneLeftIsNullopt) {
  auto s = account({"twilio", "plivo"}, {"twilio", "plivo"});
  const std::vector<P> campaign = {P::twilio, P::plivo};
  s.cool_down(P::twilio, kT0);
  s.cool_down(P::plivo, kT0 + 1min);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0 + 2min), std::nullopt);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::round_robin, kT0 + 2min), std::nullopt);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0 + 10min), P::twilio);
  // A campaign listing only providers the account lacks has none either.
  const std::vector<P> other = {P::exotel, P::sip};
  EXPECT_EQ(s.choose(2, other, ProviderStrategy::failover, kT0), std::nullopt);
}

// Round robin rotates through the campaign's usable providers, skips one in cooldown, and keeps
// a separate rotation per campaign.
TEST(Providers, RoundRobinRotatesPerCampaign) {
  auto s = account({"twilio", "plivo", "vobiz"}, {"twilio", "plivo", "vobiz"});
  const std::vector<P> campaign = {P::twilio, P::plivo, P::vobiz};
  std::vector<P> got;
  for (int i = 0; i < 6; ++i) {
    got.push_back(*s.choose(1, campaign, ProviderStrategy::round_robin, kT0));
  }
  EXPECT_EQ(got, (std::vector<P>{P::twilio, P::plivo, P::vobiz, P::twilio, P::plivo, P::vobiz}));

  // Campaign 2 starts its own rotation.
  EXPECT_EQ(s.choose(2, campaign, ProviderStrategy::round_robin, kT0), P::twilio);

  s.cool_down(P::plivo, kT0);
  got.clear();
  for (int i = 0; i < 4; ++i) {
    got.push_back(*s.choose(1, campaign, ProviderStrategy::round_robin, kT0 + 1min));
  }
  EXPECT_EQ(got, (std::vector<P>{P::twilio, P::vobiz, P::twilio, P::vobiz}));

  // Back from cooldown, plivo takes its usual turn after twilio.
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::round_robin, kT0 + 10min), P::twilio);
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::round_robin, kT0 + 10min), P::plivo);
}

// A fresh GET /config replaces the account's setup: a provider no longer allowed stops being
// chosen.
TEST(Providers, AccountUpdateReplacesSetup) {
  auto s = account({"twilio", "plivo"}, {"twilio", "plivo"});
  const std::vector<P> campaign = {P::twilio, P::plivo};
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0), P::twilio);
  s.set_account({{"plivo"}, {"twilio", "plivo"}});
  EXPECT_EQ(s.choose(1, campaign, ProviderStrategy::failover, kT0), P::plivo);
}

// A campaign without providers uses the API default, mcube, when the account has it.
TEST(Providers, EmptyCampaignListMeansMcube) {
  auto s = account({"MCUBE"}, {"mcube"});
  EXPECT_EQ(s.usable({}, kT0), (std::vector<P>{P::mcube}));
  EXPECT_EQ(s.choose(1, {}, ProviderStrategy::round_robin, kT0), P::mcube);
  EXPECT_EQ(account({"twilio"}, {"twilio"}).choose(1, {}, ProviderStrategy::failover, kT0),
            std::nullopt);
}

// Provider names from the API match whatever their letter case.
TEST(Providers, NamesMatchAnyCase) {
  EXPECT_EQ(provider_from_any_case("TWILIO"), P::twilio);
  EXPECT_EQ(provider_from_any_case("Sip"), P::sip);
  EXPECT_EQ(provider_from_any_case("twilio "), std::nullopt);
  EXPECT_EQ(provider_from_any_case(""), std::nullopt);
}

}  // namespace
}  // namespace dialer::scheduler
