#pragma once
/// Phone numbers from contact lists to E.164, by libphonenumber (CONTRACT.md "CSV contact
/// lists"): what a spreadsheet does to a number is undone first (a leading `'`, exact Excel
/// scientific notation), then libphonenumber parses with the default region, decides whether
/// the number is possible and valid, and gives its type and region.

#include "core/enums.hpp"

#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace i18n::phonenumbers {
class PhoneNumberUtil;
}

namespace dialer::store {

/// CONTRACT.md's phone headers (as the CSV reader normalises headers), in its order of preference:
/// the first of them in a header row names the phone column (contacts and DNC files alike).
inline constexpr std::array<std::string_view, 8> kPhoneHeaders{
    "phone",  "phone_number", "mobile", "mobile_number",
    "number", "to_number",    "msisdn", "contact_number"};

/// Why a phone value was refused. The names are the `reason` of an import report row.
enum class PhoneReject {
  empty,                 ///< nothing left after trimming
  lossy_scientific,      ///< Excel scientific notation that lost digits (9.19876E+11)
  not_a_number,          ///< libphonenumber found no phone number in the text
  invalid_country_code,  ///< no such country calling code (or no default region to assume)
  too_short,             ///< shorter than any number of its country
  too_long,              ///< longer than any number of its country
  invalid_length,        ///< a length its country never uses
  local_only,            ///< only diallable locally (no area code): not callable as E.164
  needs_region,          ///< a national number and no default region to read it in
};

/// "empty", "lossy_scientific", … (the report spelling).
std::string_view to_string(PhoneReject r) noexcept;

/// A number as stored in `contacts`.
struct Phone {
  std::string e164;                       ///< "+919876543210"
  NumberType type = NumberType::unknown;  ///< libphonenumber's type; unknown when not valid
  bool valid = false;                     ///< false: possible but not valid (`unverified`)
  std::string region;                     ///< ISO 3166 region ("IN"); "" when unknown
};

using PhoneResult = boost::system::result<Phone, PhoneReject>;

/// Undoes what spreadsheets do to a phone cell: trims ASCII white space, drops one leading
/// apostrophe (Excel's "text" marker) and expands scientific notation when every digit is
/// present (`9.19876543215E+11` -> `919876543215`). Returns the text to parse, or
/// lossy_scientific when the notation dropped digits, or empty when nothing is left.
boost::system::result<std::string, PhoneReject> prepare_phone_text(std::string_view raw);

/// Normalises phone values for one default region. Thread-safe: libphonenumber's util is
/// immutable after construction, and this class keeps no mutable state.
class PhoneNormalizer {
 public:
  /// `default_region` is an ISO 3166 alpha-2 code (any case) libphonenumber knows, or "" to
  /// accept only international forms (`+`/`00`…). Use make() to validate it first.
  explicit PhoneNormalizer(std::string_view default_region);

  /// nullopt when `default_region` is neither "" nor a region libphonenumber supports.
  static std::optional<PhoneNormalizer> make(std::string_view default_region);

  /// The region national formats are read in ("IN"), or "ZZ" when none.
  [[nodiscard]] const std::string& default_region() const noexcept { return region_; }

  /// prepare_phone_text(), then libphonenumber: refused when it cannot parse the text or calls
  /// the number not possible; imported (valid = false) when possible but not valid.
  [[nodiscard]] PhoneResult normalize(std::string_view raw) const;

 private:
  const i18n::phonenumbers::PhoneNumberUtil* util_;
  std::string region_;
};

/// True for mobile and fixed_line_or_mobile (what `--mobile-only` keeps).
constexpr bool is_mobile_type(NumberType t) noexcept {
  return t == NumberType::mobile || t == NumberType::fixed_line_or_mobile;
}

}  // namespace dialer::store
