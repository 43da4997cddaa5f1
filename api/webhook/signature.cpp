#include "api/webhook/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <memory>
#include <optional>

namespace dialer::api {
namespace {

using Mac = std::array<unsigned char, 32>;

/// The HMAC algorithm object, fetched once (fetching is the costly part of EVP_MAC).
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

/// HMAC-SHA256 over the three parts without concatenating them (the body can be 1 MiB).
std::optional<Mac> hmac(std::string_view key, std::string_view timestamp, std::string_view body) {
  EVP_MAC* alg = hmac_algorithm();
  if (alg == nullptr) return std::nullopt;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(alg),
                                                                &EVP_MAC_CTX_free);
  if (!ctx) return std::nullopt;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char empty = 0;
  const auto* k = key.empty() ? &empty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx.get(), k, key.size(), params) != 1) return std::nullopt;
  const auto update = [&](std::string_view part) {
    return EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()),
                          part.size()) == 1;
  };
  if (!update(timestamp) || !update(".") || !update(body)) return std::nullopt;
  Mac out{};
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return std::nullopt;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view to_string(SignatureCheck c) noexcept {
  switch (c) {
    case SignatureCheck::ok:
      return "ok";
    case SignatureCheck::missing_signature:
      return "missing_signature";
    case SignatureCheck::missing_timestamp:
      return "missing_timestamp";
    case SignatureCheck::malformed_signature:
      return "malformed_signature";
    case SignatureCheck::bad_timestamp:
      return "bad_timestamp";
    case SignatureCheck::stale_timestamp:
      return "stale_timestamp";
    case SignatureCheck::mismatch:
      return "mismatch";
  }
  return "unknown";
}

std::string sign_webhook(std::string_view secret, std::string_view timestamp,
                         std::string_view body) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto mac = hmac(secret, timestamp, body);
  std::string out = "sha256=";
  if (!mac) return out;
  for (unsigned char b : *mac) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

SignatureCheck verify_webhook(std::span<const std::string> secrets,
                              std::string_view signature_header, std::string_view timestamp_header,
                              std::string_view body, TimePoint now, Millis tolerance) {
  std::size_t ignored = 0;
  return verify_webhook(secrets, signature_header, timestamp_header, body, now, tolerance, ignored);
}

SignatureCheck verify_webhook(std::span<const std::string> secrets,
                              std::string_view signature_header, std::string_view timestamp_header,
                              std::string_view body, TimePoint now, Millis tolerance,
                              std::size_t& matched_index) {
  signature_header = trim(signature_header);
  timestamp_header = trim(timestamp_header);
  if (signature_header.empty()) return SignatureCheck::missing_signature;
  if (timestamp_header.empty()) return SignatureCheck::missing_timestamp;

  constexpr std::string_view prefix = "sha256=";
  if (signature_header.size() != prefix.size() + 64 ||
      signature_header.substr(0, prefix.size()) != prefix) {
    return SignatureCheck::malformed_signature;
  }
  Mac given{};
  for (std::size_t i = 0; i < given.size(); ++i) {
    const int hi = hex_value(signature_header[prefix.size() + 2 * i]);
    const int lo = hex_value(signature_header[prefix.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) return SignatureCheck::malformed_signature;
    given[i] = static_cast<unsigned char>(hi << 4 | lo);
  }

  if (tolerance > Millis{0}) {
    const auto ts = parse_iso8601(timestamp_header);
    if (!ts) return SignatureCheck::bad_timestamp;
    const Millis skew = *ts > now ? *ts - now : now - *ts;
    if (skew > tolerance) return SignatureCheck::stale_timestamp;
  }

  // Every secret is computed and compared, matched or not, so timing says nothing about which
  // secret (if any) matched.
  bool matched = false;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    const auto mac = hmac(secrets[i], timestamp_header, body);
    if (mac && CRYPTO_memcmp(mac->data(), given.data(), given.size()) == 0 && !matched) {
      matched = true;
      matched_index = i;
    }
  }
  return matched ? SignatureCheck::ok : SignatureCheck::mismatch;
}

}  // namespace dialer::api
