// The admin protocol's pure parts: request/response shapes, the incremental reader, secrets.

#include "api/admin/protocol.hpp"
#include "api/admin/registry.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace dialer::admin {
namespace {

namespace json = boost::json;
using Status = JsonObjectReader::Status;

// An object split across many feeds is assembled; bytes after it are ignored.
TEST(AdminReader, AssemblesSplitObjectAndIgnoresTrailing) {
  JsonObjectReader r(1024);
  const std::string text = R"({"command": "status-get", "arguments": {"a": [1, 2]}})";
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    ASSERT_EQ(r.feed(text.substr(i, 1)), Status::need_more) << i;
  }
  EXPECT_EQ(r.feed("}\n{\"more\": 1}"), Status::complete);
  EXPECT_EQ(r.release(), json::parse(text));
}

// Leading whitespace is fine; a first non-blank byte other than '{' fails at once.
TEST(AdminReader, RejectsNonObjectAtFirstByte) {
  JsonObjectReader ws(1024);
  EXPECT_EQ(ws.feed("  \n\t"), Status::need_more);
  EXPECT_EQ(ws.feed("{}"), Status::complete);
  JsonObjectReader num(1024);
  EXPECT_EQ(num.feed("  42"), Status::failed);
  EXPECT_EQ(num.error(), "request must be a JSON object");
}

// A syntax error names the byte where it happened.
TEST(AdminReader, SyntaxErrorNamesByte) {
  JsonObjectReader r(1024);
  EXPECT_EQ(r.feed(R"({"a" 1})"), Status::failed);
  EXPECT_NE(r.error().find("not valid JSON"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("at byte 6"), std::string::npos) << r.error();
}

// The size limit counts bytes across feeds; an object of exactly the limit is accepted.
TEST(AdminReader, SizeLimit) {
  const std::string fits = R"({"k": "12345"})";
  JsonObjectReader exact(fits.size());
  EXPECT_EQ(exact.feed(fits), Status::complete);
  JsonObjectReader over(fits.size() - 1, "response");
  EXPECT_EQ(over.feed(fits.substr(0, 5)), Status::need_more);
  EXPECT_EQ(over.feed(fits.substr(5)), Status::failed);
  EXPECT_EQ(over.error(), "response larger than 13 bytes");
}

// End of input before anything, or mid-object, fails with a specific text.
TEST(AdminReader, FinishEmptyOrIncomplete) {
  JsonObjectReader empty(64);
  EXPECT_EQ(empty.finish(), Status::failed);
  EXPECT_EQ(empty.error(), "empty request");
  JsonObjectReader half(64);
  EXPECT_EQ(half.feed("{\"a\":"), Status::need_more);
  EXPECT_EQ(half.finish(), Status::failed);
  EXPECT_NE(half.error().find("incomplete request"), std::string::npos);
}

// Valid requests yield command and arguments; arguments default to {}.
TEST(AdminProtocol, ValidateRequest) {
  auto r = validate_request(
      json::parse(R"({"command": "campaign-get", "arguments": {"campaign": "x"}})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command, "campaign-get");
  EXPECT_EQ(r->arguments.at("campaign"), "x");
  auto bare = validate_request(json::parse(R"({"command": "status-get"})"));
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->arguments.empty());
  EXPECT_FALSE(validate_request(json::parse(R"({"command": ""})")));
}

// Responses serialise with all three members and parse back.
TEST(AdminProtocol, ResponseRoundTrip) {
  const auto r = Response::success("campaign spring started", {{"id", 7}});
  const auto text = serialize(r);
  EXPECT_EQ(
      json::parse(text),
      json::parse(R"({"result": 0, "text": "campaign spring started", "arguments": {"id": 7}})"));
  auto back = validate_response(json::parse(text));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->result, ResultCode::success);
  EXPECT_EQ(back->text, "campaign spring started");
  EXPECT_EQ(back->arguments.at("id"), 7);
  EXPECT_FALSE(validate_response(json::parse(R"({"text": "x"})")));
  EXPECT_FALSE(validate_response(json::parse(R"({"result": "0"})")));
  EXPECT_FALSE(validate_response(json::parse(R"({"result": 0, "arguments": []})")));
}

// Serialised requests have exactly the documented shape.
TEST(AdminProtocol, SerializeRequest) {
  EXPECT_EQ(json::parse(serialize_request("campaign-start", {{"campaign", "spring"}})),
            json::parse(R"({"command": "campaign-start", "arguments": {"campaign": "spring"}})"));
}

// Project errors map to result codes: not_found 3, conflict/invalid_transition 4, else 1.
TEST(AdminProtocol, FromError) {
  EXPECT_EQ(Response::from_error(Error(errc::not_found, "no campaign x")).result,
            ResultCode::empty);
  EXPECT_EQ(Response::from_error(Error(errc::conflict, "draft")).result, ResultCode::conflict);
  EXPECT_EQ(Response::from_error(Error(errc::invalid_transition, "t")).result,
            ResultCode::conflict);
  const auto e = Response::from_error(Error(errc::invalid_argument, "bad window"));
  EXPECT_EQ(e.result, ResultCode::error);
  EXPECT_EQ(e.text, "bad window");
}

// Secret-looking keys are recognised case-insensitively; ordinary ones are not.
TEST(AdminProtocol, SecretKeys) {
  for (const char* k :
       {"api_key", "API_KEY", "apiKey", "secret", "secrets", "webhook_secret", "password", "token",
        "access_token", "credentials", "Authorization", "key", "private_key"}) {
    EXPECT_TRUE(is_secret_key(k)) << k;
  }
  for (const char* k : {"campaign", "phone_column", "numbers", "path", "progress_id",
                        "default_region", "keyboard", "monkey"}) {
    EXPECT_FALSE(is_secret_key(k)) << k;
  }
}

// strip_secrets removes secret members at any depth, inside arrays too, and keeps the rest.
TEST(AdminProtocol, StripSecretsDeep) {
  const auto in = json::parse(R"({"a": 1, "token": "t",
      "list": [{"secret": "s", "b": 2}, 3], "o": {"password": "p", "c": {"api_key": "k", "d": 4}}})")
                      .as_object();
  EXPECT_EQ(strip_secrets(in),
            json::parse(R"({"a": 1, "list": [{"b": 2}, 3], "o": {"c": {"d": 4}}})").as_object());
}

// Registration rejects duplicates, bad names and empty handlers; remove works.
TEST(AdminRegistry, AddAndRemove) {
  Registry r;
  const auto ok = [](Request&) { return Response::success(""); };
  EXPECT_TRUE(r.add_sync("campaign-start", "start", Effect::changes_state, ok));
  auto dup = r.add_sync("campaign-start", "again", Effect::read_only, ok);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, make_error_code(errc::duplicate));
  EXPECT_FALSE(r.add_sync("list-commands", "shadow", Effect::read_only, ok));
  EXPECT_FALSE(r.add_sync("Campaign", "caps", Effect::read_only, ok));
  EXPECT_FALSE(r.add_sync("a b", "space", Effect::read_only, ok));
  EXPECT_FALSE(r.add_sync("x", "empty", Effect::read_only, SyncHandler{}));
  EXPECT_EQ(r.effect_of("campaign-start"), Effect::changes_state);
  EXPECT_EQ(r.effect_of("list-commands"), Effect::read_only);
  EXPECT_FALSE(r.effect_of("nope"));
  EXPECT_TRUE(r.remove("campaign-start"));
  EXPECT_FALSE(r.remove("campaign-start"));
  ASSERT_EQ(r.commands().size(), 1u);
  EXPECT_EQ(r.commands()[0].name, "list-commands");
}

Response run(Registry& r, std::string command) {
  boost::asio::io_context ioc;
  std::optional<Response> out;
  boost::asio::co_spawn(ioc, r.dispatch(Request{std::move(command), {}, {}, {}}),
                        [&](std::exception_ptr, Response resp) { out = std::move(resp); });
  ioc.run();
  return out.value_or(Response::error("no answer"));
}

TEST(AdminRegistry, GateRefusesBeforeTheHandlerRuns) {
  Registry r;
  int ran = 0;
  const auto count = [&](Request&) {
    ++ran;
    return Response::success("ran");
  };
  ASSERT_TRUE(r.add_sync("campaign-start", "start", Effect::changes_state, count));
  ASSERT_TRUE(r.add_sync("status-get", "status", Effect::read_only, count));
  std::vector<std::pair<std::string, Effect>> asked;
  r.set_gate([&](std::string_view command, Effect effect) -> std::optional<Response> {
    asked.emplace_back(std::string(command), effect);
    if (effect == Effect::changes_state) return Response::conflict("standby: ask the leader");
    return std::nullopt;
  });

  const Response refused = run(r, "campaign-start");
  EXPECT_EQ(refused.result, ResultCode::conflict);
  EXPECT_EQ(refused.text, "standby: ask the leader");
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(run(r, "status-get").text, "ran");
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(run(r, "list-commands").result, ResultCode::success);  // never gated
  EXPECT_EQ(run(r, "nope").result, ResultCode::unknown_command);
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0], std::make_pair(std::string("campaign-start"), Effect::changes_state));
  EXPECT_EQ(asked[1], std::make_pair(std::string("status-get"), Effect::read_only));

  r.set_gate({});
  EXPECT_EQ(run(r, "campaign-start").text, "ran");
}

}  // namespace
}  // namespace dialer::admin
