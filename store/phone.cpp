#include "store/phone.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <stdexcept>

namespace dialer::store {

namespace pn = i18n::phonenumbers;
using Util = pn::PhoneNumberUtil;

namespace {

constexpr std::string_view kRejectNames[] = {
    "empty",    "lossy_scientific", "not_a_number", "invalid_country_code", "too_short",
    "too_long", "invalid_length",   "local_only",   "needs_region",
};

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Spreadsheets turn a long digit string into a float and show it as `9.19876543215E+11`. This
// is not phone syntax, so no phone library undoes it; the rule is ours: the digits are kept
// only when the mantissa carries every digit of the integer (no padding zeros invented).
// Returns nullopt when `s` is not scientific notation at all.
std::optional<boost::system::result<std::string, PhoneReject>> expand_scientific(
    std::string_view s) {
  auto e = s.find_first_of("eE");
  if (e == std::string_view::npos || e == 0) return std::nullopt;
  std::string_view mantissa = s.substr(0, e);
  std::string_view exponent = s.substr(e + 1);
  auto dot = mantissa.find('.');
  std::string_view int_part = mantissa.substr(0, dot);
  std::string_view frac_part =
      dot == std::string_view::npos ? std::string_view{} : mantissa.substr(dot + 1);
  bool negative = false;
  if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-')) {
    negative = exponent.front() == '-';
    exponent.remove_prefix(1);
  }
  if (int_part.empty() || !all_digits(int_part) || !all_digits(frac_part) || exponent.empty() ||
      !all_digits(exponent)) {
    return std::nullopt;
  }
  if (negative || exponent.size() > 2) return PhoneReject::lossy_scientific;
  std::size_t shift = static_cast<std::size_t>(std::stoi(std::string{exponent}));
  if (frac_part.size() < shift) return PhoneReject::lossy_scientific;
  // Digits past the decimal point after the shift must be zeros, else it was no integer.
  if (!std::all_of(frac_part.begin() + static_cast<std::ptrdiff_t>(shift), frac_part.end(),
                   [](char c) { return c == '0'; })) {
    return PhoneReject::lossy_scientific;
  }
  std::string digits{int_part};
  digits.append(frac_part.substr(0, shift));
  return boost::system::result<std::string, PhoneReject>{std::move(digits)};
}

NumberType to_number_type(Util::PhoneNumberType t) noexcept {
  switch (t) {
    case Util::FIXED_LINE:
      return NumberType::fixed_line;
    case Util::MOBILE:
      return NumberType::mobile;
    case Util::FIXED_LINE_OR_MOBILE:
      return NumberType::fixed_line_or_mobile;
    case Util::TOLL_FREE:
      return NumberType::toll_free;
    case Util::PREMIUM_RATE:
      return NumberType::premium_rate;
    case Util::SHARED_COST:
      return NumberType::shared_cost;
    case Util::VOIP:
      return NumberType::voip;
    case Util::PERSONAL_NUMBER:
      return NumberType::personal_number;
    case Util::PAGER:
      return NumberType::pager;
    case Util::UAN:
      return NumberType::uan;
    case Util::VOICEMAIL:
      return NumberType::voicemail;
    case Util::UNKNOWN:
      break;
  }
  return NumberType::unknown;
}

std::string upper(std::string_view s) {
  std::string out{s};
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

// boost::system::result<T, PhoneReject>::value() throws through this (found by ADL).
[[noreturn]] void throw_exception_from_error(PhoneReject r, const boost::source_location&) {
  throw std::runtime_error("phone rejected: " + std::string{to_string(r)});
}

std::string_view to_string(PhoneReject r) noexcept {
  return kRejectNames[static_cast<std::size_t>(r)];
}

boost::system::result<std::string, PhoneReject> prepare_phone_text(std::string_view raw) {
  std::string_view s = trim(raw);
  if (!s.empty() && s.front() == '\'') s = trim(s.substr(1));
  if (s.empty()) return PhoneReject::empty;
  if (auto expanded = expand_scientific(s)) return std::move(*expanded);
  return std::string{s};
}

PhoneNormalizer::PhoneNormalizer(std::string_view default_region)
    : util_(Util::GetInstance()), region_(default_region.empty() ? "ZZ" : upper(default_region)) {}

std::optional<PhoneNormalizer> PhoneNormalizer::make(std::string_view default_region) {
  PhoneNormalizer n{default_region};
  if (!default_region.empty() && n.util_->GetCountryCodeForRegion(n.region_) == 0) {
    return std::nullopt;
  }
  return n;
}

PhoneResult PhoneNormalizer::normalize(std::string_view raw) const {
  auto text = prepare_phone_text(raw);
  if (!text) return text.error();

  pn::PhoneNumber number;
  switch (util_->Parse(*text, region_, &number)) {
    case Util::NO_PARSING_ERROR:
      break;
    case Util::INVALID_COUNTRY_CODE_ERROR:
      // Without a default region a number that has no + (or 00) cannot name its country.
      if (region_ == "ZZ" && !text->starts_with('+') && !text->starts_with("00")) {
        return PhoneReject::needs_region;
      }
      return PhoneReject::invalid_country_code;
    case Util::NOT_A_NUMBER:
      return PhoneReject::not_a_number;
    case Util::TOO_SHORT_AFTER_IDD:
    case Util::TOO_SHORT_NSN:
      return PhoneReject::too_short;
    case Util::TOO_LONG_NSN:
      return PhoneReject::too_long;
  }
  switch (util_->IsPossibleNumberWithReason(number)) {
    case Util::IS_POSSIBLE:
      break;
    case Util::IS_POSSIBLE_LOCAL_ONLY:
      return PhoneReject::local_only;
    case Util::INVALID_COUNTRY_CODE:
      return PhoneReject::invalid_country_code;
    case Util::TOO_SHORT:
      return PhoneReject::too_short;
    case Util::INVALID_LENGTH:
      return PhoneReject::invalid_length;
    case Util::TOO_LONG:
      return PhoneReject::too_long;
  }

  Phone out;
  util_->Format(number, Util::E164, &out.e164);
  util_->GetRegionCodeForNumber(number, &out.region);
  if (out.region == "ZZ" || out.region == "001") out.region.clear();
  // IsValidNumber() is GetNumberType() != UNKNOWN on the same metadata (both resolve the region
  // and run the same type patterns); asking once halves the regex work of the hottest call.
  out.type = to_number_type(util_->GetNumberType(number));
  out.valid = out.type != NumberType::unknown;
  return out;
}

}  // namespace dialer::store
