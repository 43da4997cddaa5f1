#include "core/errno_text.hpp"

#include <system_error>

namespace dialer {

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

}  // namespace dialer
