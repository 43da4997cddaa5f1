#pragma once
/// Small daemon state that must survive restarts (last known credit balance, …).

#include "core/errc.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace dialer::store {

class KvRepo {
 public:
  virtual ~KvRepo() = default;

  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  /// Inserts or replaces.
  virtual Result<void> set(std::string_view key, std::string_view value) = 0;
  /// True when the key existed.
  virtual Result<bool> erase(std::string_view key) = 0;

 protected:
  KvRepo() = default;
  KvRepo(const KvRepo&) = delete;
  KvRepo& operator=(const KvRepo&) = delete;
};

}  // namespace dialer::store
