#pragma once
/// Deterministic random numbers: every draw depends only on (seed, stream, index), never on
/// wall time or on how many other draws happened, so a run is reproducible from its seed.

#include <cstdint>

namespace dialer::sim {

/// Independent draw streams, so adding draws to one never shifts another.
enum class RngStream : std::uint64_t {
  outcome = 1,  ///< per call: outcome, durations, transcript and extraction details
  ids = 2,      ///< per call: call_id and session_id
  request = 3,  ///< per /api/v2 request: request faults
  webhook = 4,  ///< per (call, endpoint): webhook faults
};

/// SplitMix64 over a state derived from (seed, stream, index). Hand-written rather than
/// std::mt19937 + std distributions because the standard distributions are not specified
/// bit-for-bit; this keeps outcomes identical across standard libraries.
class DetRng {
 public:
  DetRng(std::uint64_t seed, RngStream stream, std::uint64_t index) noexcept;

  /// Next 64 random bits.
  std::uint64_t next() noexcept;
  /// Uniform in [0, 1).
  double uniform() noexcept;
  /// Uniform integer in [lo, hi] (lo <= hi).
  std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept;
  /// Exponential with the given mean.
  double exponential(double mean) noexcept;

 private:
  std::uint64_t state_;
};

}  // namespace dialer::sim
