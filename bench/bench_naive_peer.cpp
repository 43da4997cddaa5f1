// The naive peer of the `pace` scenario (../shared/design/BENCHMARKS.md): what a dialer without
// token planning does against the same limits — poll GET /calls/concurrency, start the next
// contact when `remaining > 0`, else sleep 1 s — so dialerd's pace is compared with a reference
// measured in the same run. A separate program speaking plain HTTP/1.1 to vocobase-sim; it
// neither waits for outcomes nor keeps state beyond the next contact.
//
//   bench_naive_peer --base-url http://127.0.0.1:PORT/api/v2 --key KEY --agent UUID
//                    --contacts N [--first N] [--sleep-ms 1000]
//
// One JSON line on stdout: starts, /calls/* requests, 429s, real seconds until the last start.

#include "bench/json_line.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct Args {
  std::string base_url;
  std::string key;
  std::string agent;
  int contacts = 40;
  int first = 0;
  int sleep_ms = 1000;
};

/// One keep-alive connection; every request has a 10 s deadline.
class Http {
 public:
  Http(std::string host, std::string port, std::string prefix)
      : host_(std::move(host)), port_(std::move(port)), prefix_(std::move(prefix)) {}

  /// Status and body; nullopt when the connection failed (reconnected on the next request).
  std::optional<std::pair<int, std::string>> request(http::verb verb, const std::string& path,
                                                     const std::string& key, std::string body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!stream_) {
          stream_.emplace(io_);
          stream_->expires_after(std::chrono::seconds{10});
          stream_->connect(tcp::resolver(io_).resolve(host_, port_));
        }
        http::request<http::string_body> req{verb, prefix_ + path, 11};
        req.set(http::field::host, host_);
        req.set(http::field::authorization, "Bearer " + key);
        if (!body.empty()) {
          req.set(http::field::content_type, "application/json");
          req.body() = body;
        }
        req.prepare_payload();
        stream_->expires_after(std::chrono::seconds{10});
        http::write(*stream_, req);
        beast::flat_buffer buf;
        http::response_parser<http::string_body> parser;
        parser.body_limit(1 << 20);
        http::read(*stream_, buf, parser);
        auto res = parser.release();
        if (!res.keep_alive()) stream_.reset();
        return std::make_pair(static_cast<int>(res.result_int()), std::move(res.body()));
      } catch (const std::exception&) {
        stream_.reset();
      }
    }
    return std::nullopt;
  }

 private:
  boost::asio::io_context io_;
  std::optional<beast::tcp_stream> stream_;
  std::string host_, port_, prefix_;
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"naive dialer: poll concurrency, start when remaining > 0, else sleep"};
  app.add_option("--base-url", a.base_url, "API base (http only)")->required();
  app.add_option("--key", a.key, "API key")->required();
  app.add_option("--agent", a.agent, "agent id")->required();
  app.add_option("--contacts", a.contacts, "contacts to start");
  app.add_option("--first", a.first, "number of the first contact (+9198NNNNNNN)");
  app.add_option("--sleep-ms", a.sleep_ms, "sleep when no slot is free (1000; scaled runs less)");
  CLI11_PARSE(app, argc, argv);

  auto url = boost::urls::parse_uri(a.base_url);
  if (!url || url->scheme() != "http") {
    std::fprintf(stderr, "bench_naive_peer: --base-url must be an http:// URL\n");
    return 2;
  }
  Http client(std::string(url->host()), url->has_port() ? std::string(url->port()) : "80",
              std::string(url->path()));

  long starts = 0, requests = 0, refused_429 = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto sleep = std::chrono::milliseconds{a.sleep_ms};
  int next = 0;
  while (next < a.contacts) {
    ++requests;
    auto poll = client.request(http::verb::get, "/calls/concurrency", a.key, {});
    long remaining = 0;
    if (poll && poll->first == 200) {
      boost::system::error_code ec;
      auto doc = boost::json::parse(poll->second, ec);
      if (!ec && doc.is_object()) {
        if (const auto* data = doc.as_object().if_contains("data"); data && data->is_object()) {
          if (const auto* r = data->as_object().if_contains("remaining"); r && r->is_int64()) {
            remaining = r->as_int64();
          }
        }
      }
    } else if (poll && poll->first == 429) {
      ++refused_429;
    } else {
      ++failed;
    }
    if (remaining <= 0) {
      std::this_thread::sleep_for(sleep);
      continue;
    }
    char number[32];
    std::snprintf(number, sizeof number, "+9198%07d", a.first + next);
    boost::json::object body{{"agent_id", a.agent}, {"to_number", number}};
    ++requests;
    auto start =
        client.request(http::verb::post, "/calls/start", a.key, boost::json::serialize(body));
    if (start && (start->first == 200 || start->first == 201)) {
      ++starts;
      ++next;
    } else if (start && start->first == 429) {
      ++refused_429;
      std::this_thread::sleep_for(sleep);
    } else {
      ++failed;
      std::this_thread::sleep_for(sleep);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  dialer::bench::JsonLine line;
  line.text("program", "naive_peer");
  line.number("starts", static_cast<double>(starts), 0);
  line.number("calls_requests", static_cast<double>(requests), 0);
  line.number("refused_429", static_cast<double>(refused_429), 0);
  line.number("failed", static_cast<double>(failed), 0);
  line.number("last_start_s", seconds, 3);
  std::cout << line.finish() << std::endl;
  return 0;
}
