#pragma once
/// The text of an errno value for messages ("No such file or directory"): one spelling for the
/// whole project, and thread-safe (strerror's static buffer is not).

#include <string>

namespace dialer {

std::string errno_text(int err);

}  // namespace dialer
