#pragma once
namespace dialer {
/// The project version (CMake project version).
const char* version() noexcept;
}  // namespace dialer
