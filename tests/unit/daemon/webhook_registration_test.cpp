// The webhook endpoint dialerd registered: secrets kept 0600, rotation overlap and retirement.
#include "daemon/webhook_registration.hpp"

#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace dialer::daemon {
namespace {

using namespace std::chrono_literals;

TimePoint at(std::int64_t s) {
  return TimePoint{} + std::chrono::seconds{1'800'000'000 + s};
}

TEST(WebhookRegistration, RotationKeepsTheOldSecretUntilTheNewOneIsUsed) {
  WebhookRegistration r{"wh_1", "https://x.example/hook", {}};
  r.add("whsec_one", at(0), Millis{3'600'000});
  EXPECT_EQ(r.accepted(), (std::vector<std::string>{"whsec_one"}));
  EXPECT_FALSE(r.next_retirement());
  r.add("whsec_two", at(10), Millis{3'600'000});
  EXPECT_EQ(r.accepted(), (std::vector<std::string>{"whsec_two", "whsec_one"}));
  EXPECT_EQ(r.next_retirement(), at(10) + 3600s);
  EXPECT_FALSE(r.expire(at(100)));
  EXPECT_TRUE(r.newest_used());
  EXPECT_EQ(r.accepted(), (std::vector<std::string>{"whsec_two"}));
  EXPECT_FALSE(r.newest_used());
}

TEST(WebhookRegistration, TheOverlapEndsTheOldSecret) {
  WebhookRegistration r{"wh_1", "u", {}};
  r.add("whsec_one", at(0), Millis{60'000});
  r.add("whsec_two", at(0), Millis{60'000});
  EXPECT_FALSE(r.expire(at(59)));
  EXPECT_TRUE(r.expire(at(60)));
  EXPECT_EQ(r.accepted(), (std::vector<std::string>{"whsec_two"}));
}

TEST(WebhookRegistration, SavedWhole0600AndReadBack) {
  testkit::TempDir dir;
  const auto path = registration_path(dir.path());
  auto none = load_registration(path);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  WebhookRegistration r{"wh_3", "https://x.example/hook", {}};
  r.add("whsec_one", at(0), Millis{60'000});
  r.add("whsec_two", at(5), Millis{60'000});
  ASSERT_TRUE(save_registration(path, r));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = load_registration(path);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(*back);
  EXPECT_EQ(**back, r);

  dir.write("webhook-endpoint.json",
            "{\"endpoint_id\": \"wh_3\", \"url\": \"u\", \"secrets\": [{}]}");
  auto broken = load_registration(path);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message, path.string() + ": secrets[0].secret is missing");
}

}  // namespace
}  // namespace dialer::daemon
