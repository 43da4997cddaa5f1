#include "config/secret.hpp"

namespace dialer::config {

bool operator==(const Secret& a, const Secret& b) noexcept {
  const std::string& x = a.value_;
  const std::string& y = b.value_;
  // Length is not hidden (it is not secret in practice); the contents are compared without an
  // early exit. OpenSSL's CRYPTO_memcmp would do the same, but config does not link OpenSSL.
  if (x.size() != y.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    diff |= static_cast<unsigned char>(x[i] ^ y[i]);
  }
  return diff == 0;
}

}  // namespace dialer::config
