#pragma once
/// The do-not-call list: E.164 numbers never dialled, whatever campaign they are in.

#include "core/errc.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

struct DncEntry {
  std::string phone;   ///< E.164
  std::string reason;  ///< free text ("customer request", "blocked", …)
  std::string source;  ///< admin | blocked | import
  TimePoint added_at;

  bool operator==(const DncEntry&) const = default;
};

class DncRepo {
 public:
  virtual ~DncRepo() = default;

  /// Adds the numbers in one transaction; returns how many were not already listed (a number
  /// already listed keeps its first reason and time). Does not touch contacts: pair it with
  /// scheduler::Lifecycle::skip_queued_number in the caller's transaction.
  virtual Result<std::int64_t> add(std::span<const std::string> phones, std::string_view reason,
                                   std::string_view source, TimePoint now) = 0;
  /// Removes the numbers; returns how many were listed.
  virtual Result<std::int64_t> remove(std::span<const std::string> phones) = 0;
  /// One primary-key lookup (cached statement): cheap enough per imported row.
  virtual Result<bool> contains(std::string_view phone) = 0;
  /// Ordered by phone.
  virtual Result<std::vector<DncEntry>> list(std::int64_t limit, std::int64_t offset = 0) = 0;
  virtual Result<std::int64_t> count() = 0;

 protected:
  DncRepo() = default;
  DncRepo(const DncRepo&) = delete;
  DncRepo& operator=(const DncRepo&) = delete;
};

}  // namespace dialer::store
