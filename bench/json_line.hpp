#pragma once
// The one JSON line each benchmark scenario prints on stdout (BENCHMARKS.md).

#include <boost/json.hpp>

#include <cmath>
#include <cstdio>
#include <string>

namespace dialer::bench {

/// One flat JSON object, keys in the order given, numbers in plain decimals.
class JsonLine {
 public:
  void text(const char* key, const std::string& value) {
    add(key, boost::json::serialize(boost::json::value(value)));
  }
  void number(const char* key, double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, std::isfinite(value) ? value : 0.0);
    add(key, buf);
  }
  void boolean(const char* key, bool value) { add(key, value ? "true" : "false"); }
  void raw(const char* key, const std::string& json) { add(key, json); }
  [[nodiscard]] std::string finish() const { return "{" + body_ + "}"; }

 private:
  void add(const char* key, const std::string& value) {
    if (!body_.empty()) body_ += ",";
    body_ += "\"" + std::string(key) + "\":" + value;
  }
  std::string body_;
};

}  // namespace dialer::bench
