// libFuzzer target: arbitrary bytes through every Partner API model parser (the shared session
// data parser included), the error envelope reader and the Retry-After parser. None may crash,
// hang or leak, whatever the input.

#include "api/vocobase/classification.hpp"
#include "api/vocobase/models.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dialer::api;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_session_event(text);
  (void)parse_session(text);
  (void)parse_account_config(text, "/data/credit_balance");
  (void)parse_account_config(text, "/data/billing/0/credits");
  (void)parse_concurrency(text);
  (void)parse_started_call(text);
  (void)parse_call_page(text);
  (void)parse_call(text);
  std::string code, message;
  parse_error_envelope(text, code, message);
  (void)classify_http_error(429, code, message, std::nullopt);
  (void)classify_http_error(403, code, message, std::nullopt);
  (void)parse_retry_after(text, dialer::from_unix_ms(1'770'000'000'000));
  return 0;
}
