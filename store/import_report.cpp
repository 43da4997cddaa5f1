#include "store/import_report.hpp"

#include <boost/json/array.hpp>

namespace dialer::store {

// ---------------------------------------------------------------------------------------------
// Report

std::string needs_region_hint(std::uint64_t rows) {
  return std::to_string(rows) + (rows == 1 ? " row holds" : " rows hold") +
         " a national number (no + and country code): give the region to read them in with "
         "--default-region (argument default_region), e.g. --default-region IN";
}

boost::json::object to_json(const ImportReport& report) {
  boost::json::array errors;
  errors.reserve(report.errors.size());
  for (const auto& e : report.errors) {
    errors.push_back(boost::json::object{
        {"line", e.line}, {"column", e.column}, {"value", e.value}, {"reason", e.reason}});
  }
  boost::json::object o{{"rows", report.rows},
                        {"imported", report.imported},
                        {"duplicates", report.duplicates},
                        {"invalid", report.invalid},
                        {"unverified", report.unverified},
                        {"dnc", report.dnc},
                        {"errors", std::move(errors)},
                        {"elapsed_ms", report.elapsed_ms}};
  if (report.needs_region > 0) o["hint"] = needs_region_hint(report.needs_region);
  return o;
}

std::string normalize_header(std::string_view name) {
  std::string out{trim_csv_field(name)};
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == ' ' || c == '-') c = '_';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Import

}  // namespace dialer::store
