#include "daemon/log_fields.hpp"

#include <charconv>

namespace dialer::daemon {
namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

/// The token after the first "<word> " at a word start whose token satisfies `ok`.
template <class Ok>
std::optional<std::string_view> token_after(std::string_view text, std::string_view word, Ok ok) {
  const std::string lead = std::string(word) + " ";
  for (std::size_t at = text.find(lead); at != std::string_view::npos;
       at = text.find(lead, at + 1)) {
    if (at > 0 && is_word_char(text[at - 1])) continue;
    std::size_t end = at + lead.size();
    while (end < text.size() && is_word_char(text[end])) ++end;
    const auto token = text.substr(at + lead.size(), end - at - lead.size());
    // A trailing '-' or '_' belongs to the sentence, not the token.
    if (!token.empty() && ok(token)) return token;
  }
  return std::nullopt;
}

bool all_digits(std::string_view t) {
  return t.size() <= 18 && t.find_first_not_of("0123456789") == std::string_view::npos;
}

bool has_digit(std::string_view t) {
  return t.find_first_of("0123456789") != std::string_view::npos;
}

/// A campaign name ([a-z0-9][a-z0-9-_]{0,63}) that is not an English word the messages use
/// after "campaign" ("campaign is", "campaign of").
bool campaign_name(std::string_view t) {
  if (t.size() > 64 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= '0' && t[0] <= '9'))) {
    return false;
  }
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  for (std::string_view word : {"is", "of", "not", "was", "has", "names", "name", "that", "with",
                                "fields", "field", "file", "whose", "the", "a"}) {
    if (t == word) return false;
  }
  return true;
}

std::optional<std::int64_t> number(std::optional<std::string_view> t) {
  if (!t) return std::nullopt;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
  if (ec != std::errc{}) return std::nullopt;
  return n;
}

}  // namespace

LogFields log_fields(std::string_view message) {
  LogFields f;
  if (auto c = token_after(message, "campaign", campaign_name)) f.campaign = std::string(*c);
  f.attempt = number(token_after(message, "attempt", all_digits));
  f.contact = number(token_after(message, "contact", all_digits));
  if (auto c = token_after(message, "call", has_digit)) f.call_id = std::string(*c);
  if (auto s = token_after(message, "session", has_digit)) f.session_id = std::string(*s);
  return f;
}

}  // namespace dialer::daemon
