#pragma once
/// Config and campaign validation report every problem at once, each with its position, the
/// way a compiler does: `dialerd.yaml:12:3: scheduler.reconcile_after: invalid duration "10x"`.

#include <boost/system/result.hpp>

#include <string>
#include <vector>

namespace dialer::config {

/// One validation problem.
struct Diagnostic {
  std::string file;  ///< the file name as given (or a label such as "request")
  int line = 1;      ///< 1-based
  int column = 1;    ///< 1-based
  std::string key;   ///< key path, e.g. "scheduler.reconcile_after"; empty for syntax errors
  std::string message;

  /// "file:line:col: key: message" (or "file:line:col: message" without a key).
  [[nodiscard]] std::string to_string() const;

  bool operator==(const Diagnostic&) const = default;
};

/// Every problem found, in document order.
using Diagnostics = std::vector<Diagnostic>;

/// All diagnostics as lines (one per diagnostic, each ending in '\n').
std::string format_diagnostics(const Diagnostics& diagnostics);

/// Lets `Checked<T>::value()` throw (startup code only): a std::runtime_error with every line.
[[noreturn]] void throw_exception_from_error(const Diagnostics& diagnostics,
                                             const boost::source_location& loc);

/// A validated value, or every reason it is not valid.
template <class T>
using Checked = boost::system::result<T, Diagnostics>;

}  // namespace dialer::config
