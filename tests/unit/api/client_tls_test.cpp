#include "api/vocobase/client.hpp"
#include "tests/unit/api/fake_http_server.hpp"
#include "tests/unit/api/test_pki.hpp"

#include <boost/asio/ssl/context.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace dialer::api {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using test::Reply;
using test::Request;

constexpr const char* kHost = "api.dialer.test";
constexpr const char* kConfig =
    R"({"success":true,"data":{"allowed_telephony_providers":["twilio"],"credit_balance":2}})";

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dialer-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Serves GET /config over TLS with a certificate for `cert_name` from a fresh CA; the
  /// client trusts that CA when `trust` and asks for `kHost`. Returns the client's answer.
  ApiResult<AccountConfig> fetch(const std::string& cert_name, bool trust) {
    const test::Pki pki = test::make_pki(cert_name);
    const std::string ca_file = dir_ + "/ca.pem";
    std::ofstream(ca_file) << pki.ca_pem;

    asio::ssl::context server_ctx(asio::ssl::context::tls_server);
    server_ctx.use_certificate_chain(asio::buffer(pki.cert_pem));
    server_ctx.use_private_key(asio::buffer(pki.key_pem), asio::ssl::context::pem);
    test::FakeHttpServer server(ioc, &server_ctx);
    server.handler = [](const Request&) { return Reply::json(200, kConfig); };

    ClientOptions o;
    o.base_url = server.url("https", kHost);
    o.connect_host = "127.0.0.1";  // the name is checked and sent as SNI; the socket stays local
    o.api_key = "rg_live_tls";
    o.use_system_ca = false;  // hermetic: only the throwaway CA can make a chain valid
    if (trust) o.extra_ca_file = ca_file;
    auto client = VocobaseClient::create(ioc.get_executor(), o, clock);
    EXPECT_TRUE(client);
    ApiResult<AccountConfig> out = ApiError{};
    test::run_on(ioc, [&]() -> asio::awaitable<void> { out = co_await (*client)->get_config(); });
    sni = server.sni;
    requests = server.requests.size();
    return out;
  }

  asio::io_context ioc;
  SystemClock clock;
  std::string dir_;
  std::vector<std::string> sni;
  std::size_t requests = 0;
};

// A certificate for the right name from a trusted CA is accepted; the client sent SNI.
TEST_F(TlsTest, AcceptsTrustedCertificateForTheHost) {
  auto r = fetch(kHost, true);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->credit_balance, 2.0);
  EXPECT_EQ(sni, std::vector<std::string>{kHost});
  EXPECT_EQ(requests, 1u);
}

// A certificate from a CA the client does not trust is refused before any request is written.
TEST_F(TlsTest, RefusesUntrustedCa) {
  auto r = fetch(kHost, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::not_sent);
  EXPECT_EQ(r.error().reason, Reason::connect_failed);
  EXPECT_EQ(requests, 0u);
}

// A trusted certificate for another host name is refused (host name check).
TEST_F(TlsTest, RefusesWrongHostName) {
  auto r = fetch("other.dialer.test", true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::not_sent);
  EXPECT_EQ(r.error().reason, Reason::connect_failed);
  EXPECT_NE(r.error().message.find("hostname mismatch"), std::string::npos) << r.error().message;
  EXPECT_EQ(requests, 0u);
}

}  // namespace
}  // namespace dialer::api
