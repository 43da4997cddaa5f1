#include "core/campaign_spec.hpp"

namespace dialer {

RetryPolicy default_retry_policy() {
  using std::chrono::hours;
  using std::chrono::minutes;
  return {
      {Outcome::voicemail, {hours{4}, 2}},    {Outcome::user_hangup_no_speech, {hours{1}, 2}},
      {Outcome::no_answer, {minutes{30}, 3}}, {Outcome::busy, {minutes{10}, 3}},
      {Outcome::failed, {minutes{5}, 2}},     {Outcome::lost, {minutes{5}, 2}},
      {Outcome::canceled, {minutes{10}, 1}},
  };
}

namespace {
bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
}  // namespace

bool is_valid_campaign_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || !lower_alnum(name[0])) return false;
  for (char c : name.substr(1)) {
    if (!lower_alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !hex(s[i])) return false;
  }
  return true;
}

bool is_e164_syntax(std::string_view s) noexcept {
  if (s.size() < 9 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_variable_name(std::string_view s) noexcept {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace dialer
