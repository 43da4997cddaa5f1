#pragma once
// What the benchmark programs that drive the real dialerd share: progress lines on stderr and
// the wait for the daemon's first GET /config (a start needs its providers).

#include "sim/options.hpp"

#include <boost/json/object.hpp>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>

namespace dialer::bench {

/// printf-style progress on stderr, one line, prefixed with the program's name.
class Say {
 public:
  explicit constexpr Say(const char* program) : program_(program) {}
  __attribute__((format(printf, 2, 3))) void operator()(const char* fmt, ...) const {
    std::va_list args;
    va_start(args, fmt);
    std::fprintf(stderr, "%s: ", program_);
    std::vfprintf(stderr, fmt, args);
    std::fputc('\n', stderr);
    va_end(args);
  }

 private:
  const char* program_;
};

/// Whether a status-get answer's arguments say GET /config has answered once.
inline bool config_polled(const boost::json::object& status_args) {
  const auto* c = status_args.if_contains("credits");
  return c != nullptr && c->is_object() && c->as_object().contains("polled_at") &&
         !c->as_object().at("polled_at").is_null();
}

/// vocobase-sim on 127.0.0.1:0 for a dialerd child: one key, webhooks signed with `secret` to
/// the daemon's listener on `webhook_port`, the account's concurrency `limit`, rate limits and
/// credits out of the way, time `time_scale` × faster.
inline sim::SimOptions loopback_sim(std::string_view key, std::string_view secret, int webhook_port,
                                    int limit, double time_scale) {
  sim::SimOptions so;
  so.listen_host = "127.0.0.1";
  so.listen_port = 0;
  so.api_keys = {std::string(key)};
  so.webhooks = {{"http://127.0.0.1:" + std::to_string(webhook_port) + "/webhooks/vocobase",
                  std::string(secret)}};
  so.concurrency_limit = limit;
  so.calls_per_minute = 100'000;
  so.general_per_minute = 100'000;
  so.credits = 1e12;
  so.time_scale = time_scale;
  return so;
}

}  // namespace dialer::bench
