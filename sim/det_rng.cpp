#include "sim/det_rng.hpp"

#include <cmath>

namespace dialer::sim {

namespace {

constexpr std::uint64_t mix(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

DetRng::DetRng(std::uint64_t seed, RngStream stream, std::uint64_t index) noexcept
    : state_(mix(mix(seed + 0x9E3779B97F4A7C15ULL) ^
                 mix(static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL + index))) {}

std::uint64_t DetRng::next() noexcept {
  state_ += 0x9E3779B97F4A7C15ULL;
  return mix(state_);
}

double DetRng::uniform() noexcept {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::int64_t DetRng::between(std::int64_t lo, std::int64_t hi) noexcept {
  auto span = static_cast<std::uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<std::int64_t>(next());
  return lo + static_cast<std::int64_t>(next() % span);
}

double DetRng::exponential(double mean) noexcept {
  return -mean * std::log1p(-uniform());
}

}  // namespace dialer::sim
