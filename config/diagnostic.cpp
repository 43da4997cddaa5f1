#include "config/diagnostic.hpp"

#include <boost/throw_exception.hpp>

#include <stdexcept>

namespace dialer::config {

std::string Diagnostic::to_string() const {
  std::string out = file;
  out += ':';
  out += std::to_string(line);
  out += ':';
  out += std::to_string(column);
  out += ": ";
  if (!key.empty()) {
    out += key;
    out += ": ";
  }
  out += message;
  return out;
}

std::string format_diagnostics(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    out += d.to_string();
    out += '\n';
  }
  return out;
}

void throw_exception_from_error(const Diagnostics& diagnostics, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(format_diagnostics(diagnostics)), loc);
}

}  // namespace dialer::config
