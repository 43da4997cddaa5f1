#include "store/phone.hpp"

#include <gtest/gtest.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <random>

namespace dialer::store {
namespace {

std::string prepared(std::string_view raw) {
  auto r = prepare_phone_text(raw);
  return r ? *r : "<" + std::string{to_string(r.error())} + ">";
}

// Trimming and Excel's leading apostrophe are undone before parsing.
TEST(PhoneText, TrimsAndDropsApostrophe) {
  EXPECT_EQ(prepared("  +91 98765 43210 \t"), "+91 98765 43210");
  EXPECT_EQ(prepared("'+919876543214"), "+919876543214");
  EXPECT_EQ(prepared(" ' 9876543212"), "9876543212");
  EXPECT_EQ(prepared("   "), "<empty>");
  EXPECT_EQ(prepared("'"), "<empty>");
}

// Excel scientific notation is expanded only when every digit is present.
TEST(PhoneText, ExpandsOnlyExactScientificNotation) {
  EXPECT_EQ(prepared("9.19876543215E+11"), "919876543215");
  EXPECT_EQ(prepared("9.19876543215e11"), "919876543215");
  EXPECT_EQ(prepared("9.198765432150E+11"), "919876543215");  // trailing zero is still exact
  EXPECT_EQ(prepared("9.19876E+11"), "<lossy_scientific>");
  EXPECT_EQ(prepared("9.198765432155E+11"), "<lossy_scientific>");  // not an integer
  EXPECT_EQ(prepared("9.1E-3"), "<lossy_scientific>");
  EXPECT_EQ(prepared("9.1E+123"), "<lossy_scientific>");
  // Not scientific notation at all: left to libphonenumber.
  EXPECT_EQ(prepared("E+11"), "E+11");
  EXPECT_EQ(prepared("+1 415 555 2671 ext 5"), "+1 415 555 2671 ext 5");
}

struct Case {
  const char* raw;
  const char* e164;
  NumberType type;
  const char* region;
};

// National, trunk-0, bare, 00-prefixed, apostrophe and Excel forms all reach the same E.164.
TEST(PhoneNormalizer, NormalisesIndianFormats) {
  PhoneNormalizer n{"IN"};
  for (const Case& c : {
           Case{"+91 98765 43210", "+919876543210", NumberType::mobile, "IN"},
           Case{"098765-43211", "+919876543211", NumberType::mobile, "IN"},
           Case{"9876543212", "+919876543212", NumberType::mobile, "IN"},
           Case{"0091 98765 43213", "+919876543213", NumberType::mobile, "IN"},
           Case{"'+919876543214", "+919876543214", NumberType::mobile, "IN"},
           Case{"9.19876543215E+11", "+919876543215", NumberType::mobile, "IN"},
           Case{"(0) 98765.43216", "+919876543216", NumberType::mobile, "IN"},
           Case{"+1 (415) 555-2671", "+14155552671", NumberType::fixed_line_or_mobile, "US"},
           Case{"+44 20 7946 0958", "+442079460958", NumberType::fixed_line, "GB"},
       }) {
    auto r = n.normalize(c.raw);
    ASSERT_TRUE(r) << c.raw << ": " << to_string(r.error());
    EXPECT_EQ(r->e164, c.e164) << c.raw;
    EXPECT_EQ(r->type, c.type) << c.raw << ": " << to_string(r->type);
    EXPECT_EQ(r->region, c.region) << c.raw;
    EXPECT_TRUE(r->valid) << c.raw;
  }
}

// National German forms resolve with region DE, including the "(0)" trunk in an intl number.
TEST(PhoneNormalizer, NormalisesGermanFormats) {
  PhoneNormalizer n{"de"};
  EXPECT_EQ(n.default_region(), "DE");
  EXPECT_EQ(n.normalize("030 901821")->e164, "+4930901821");
  EXPECT_EQ(n.normalize("+49 (0)30 901822")->e164, "+4930901822");
  EXPECT_EQ(n.normalize("+49 30 901820")->type, NumberType::fixed_line);
}

// Each kind of refusal carries its own reason.
TEST(PhoneNormalizer, RejectsWithReason) {
  PhoneNormalizer n{"IN"};
  auto reason = [&](std::string_view raw) {
    auto r = n.normalize(raw);
    return r ? "accepted " + r->e164 : std::string{to_string(r.error())};
  };
  EXPECT_EQ(reason(""), "empty");
  EXPECT_EQ(reason("  "), "empty");
  EXPECT_EQ(reason("9.19876E+11"), "lossy_scientific");
  EXPECT_EQ(reason("12345"), "too_short");
  EXPECT_EQ(reason("+999 1234567"), "invalid_country_code");
  EXPECT_EQ(reason("abc-not-a-number"), "not_a_number");
  EXPECT_EQ(reason("+91 98765 43210 98765 43210 12"), "too_long");
}

// Without a default region only international forms are accepted; a national number is
// rejected as needing a region (not as a bad country code), an unknown code stays that.
TEST(PhoneNormalizer, NoDefaultRegionNeedsInternationalForm) {
  PhoneNormalizer n{""};
  EXPECT_EQ(n.default_region(), "ZZ");
  EXPECT_EQ(n.normalize("+91 98765 43210")->e164, "+919876543210");
  EXPECT_EQ(n.normalize("9876543210").error(), PhoneReject::needs_region);
  EXPECT_EQ(n.normalize("098765 43210").error(), PhoneReject::needs_region);
  EXPECT_EQ(n.normalize("+999 1234567").error(), PhoneReject::invalid_country_code);
  EXPECT_EQ(to_string(PhoneReject::needs_region), "needs_region");
  PhoneNormalizer in{"IN"};
  EXPECT_EQ(in.normalize("+999 1234567").error(), PhoneReject::invalid_country_code);
}

// A possible number that no numbering plan assigns is imported but marked not valid.
TEST(PhoneNormalizer, PossibleButInvalidIsUnverified) {
  PhoneNormalizer n{"IN"};
  auto r = n.normalize("+91 55555 12345");  // right length, in no Indian range
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_FALSE(r->valid);
  EXPECT_EQ(r->type, NumberType::unknown);
  EXPECT_EQ(r->e164, "+915555512345");
  EXPECT_EQ(r->region, "IN");
}

// Only regions libphonenumber supports are accepted as the default region.
TEST(PhoneNormalizer, MakeValidatesRegion) {
  EXPECT_TRUE(PhoneNormalizer::make("IN"));
  EXPECT_TRUE(PhoneNormalizer::make("us"));
  EXPECT_TRUE(PhoneNormalizer::make(""));
  EXPECT_FALSE(PhoneNormalizer::make("XX"));
  EXPECT_FALSE(PhoneNormalizer::make("India"));
}

// The validity shortcut (type != unknown) agrees with libphonenumber's own IsValidNumber on a
// spread of random numbers across regions with one and with several zones and shared codes.
TEST(PhoneNormalizer, ValidityMatchesIsValidNumber) {
  auto* util = i18n::phonenumbers::PhoneNumberUtil::GetInstance();
  std::mt19937_64 rng{42};
  for (const char* region : {"IN", "US", "CA", "GB", "DE", "BR", "RU", "AU", "FR", "IT"}) {
    PhoneNormalizer n{region};
    for (int i = 0; i < 300; ++i) {
      std::string digits = std::to_string(rng() % 10'000'000'000ULL);
      auto r = n.normalize(digits);
      if (!r) continue;
      i18n::phonenumbers::PhoneNumber number;
      ASSERT_EQ(util->Parse(digits, region, &number), util->NO_PARSING_ERROR);
      EXPECT_EQ(r->valid, util->IsValidNumber(number)) << region << " " << digits;
    }
  }
}

// Mobile-only keeps mobile and fixed-line-or-mobile numbers.
TEST(PhoneNormalizer, MobileTypes) {
  EXPECT_TRUE(is_mobile_type(NumberType::mobile));
  EXPECT_TRUE(is_mobile_type(NumberType::fixed_line_or_mobile));
  EXPECT_FALSE(is_mobile_type(NumberType::fixed_line));
  EXPECT_FALSE(is_mobile_type(NumberType::unknown));
}

}  // namespace
}  // namespace dialer::store
