#pragma once
/// A credential (API key, webhook secret) that cannot be printed by accident: streaming it,
/// formatting it with fmt/spdlog or putting it in a gtest failure message all show
/// "<redacted>". Code that really needs the value (the HTTP client, the HMAC check) calls
/// `reveal()`, which is easy to find in review.

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace dialer::config {

/// What every printed secret looks like.
inline constexpr std::string_view kRedacted = "<redacted>";

/// A secret string. Comparison is by value (reload_diff needs it) and constant-time, so the
/// comparison cannot become a timing oracle if it is ever used on untrusted input.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  /// The secret itself. Never log, print or put it into an error message.
  [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  friend bool operator==(const Secret& a, const Secret& b) noexcept;
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << kRedacted; }

 private:
  std::string value_;
};

}  // namespace dialer::config

/// fmt (and so spdlog) prints a Secret as "<redacted>".
template <>
struct fmt::formatter<dialer::config::Secret> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const dialer::config::Secret&, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(dialer::config::kRedacted, ctx);
  }
};
