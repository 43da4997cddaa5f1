#pragma once
/// Small text helpers shared by the simulator's flag, YAML and query parsing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::sim {

/// Drops leading and trailing ASCII whitespace.
std::string_view trim(std::string_view s) noexcept;
/// Splits "a, b,c" on commas, trimming each item and skipping empty ones.
std::vector<std::string_view> split_list(std::string_view s);
/// The whole text as a finite double, else nullopt.
std::optional<double> parse_double(std::string_view s) noexcept;
/// The whole text as a decimal integer, else nullopt.
std::optional<std::int64_t> parse_int(std::string_view s) noexcept;
/// ASCII lower case.
std::string to_lower(std::string_view s);
/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace dialer::sim
