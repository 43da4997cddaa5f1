#include "core/version.hpp"

#ifndef DIALER_VERSION
#define DIALER_VERSION "0.0.0"
#endif

namespace dialer {
const char* version() noexcept {
  return DIALER_VERSION;
}
}  // namespace dialer
