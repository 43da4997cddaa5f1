#pragma once
/// The shared vocabulary: every state, status and outcome name, with to_string / from_string.
/// The names are the wire and storage spellings (CONTRACT.md, STATE-MACHINES.md,
/// VOCOBASE-API.md); never change one without a migration.

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace dialer {

enum class CampaignState { draft, running, paused, credit_exhausted, completed, cancelled };
enum class ContactState { queued, dialing, in_call, done, exhausted, skipped };
enum class AttemptState { reserved, started, ambiguous, finished, rejected, void_, lost };
/// Vocobase call status (GET /calls, webhook call.status).
enum class CallStatus {
  pending,
  ringing,
  in_progress,
  completed,
  failed,
  no_answer,
  busy,
  canceled
};
/// Vocobase call disposition (final outcome, may be absent).
enum class Disposition {
  completed,
  voicemail,
  user_hangup_no_speech,
  no_answer,
  busy,
  canceled,
  blocked,
  failed
};
/// What the retry policy branches on: disposition when present, else status, plus local `lost`.
enum class Outcome {
  completed,
  voicemail,
  user_hangup_no_speech,
  no_answer,
  busy,
  failed,
  canceled,
  blocked,
  lost
};
enum class AnsweredBy { human, machine, unknown, not_answered };
enum class Provider { mcube, twilio, exotel, plivo, vobiz, sip, voicelink };
enum class ProviderStrategy { failover, round_robin };
enum class PauseReason { none, manual, budget, errors };
/// libphonenumber's number types, stored per contact.
enum class NumberType {
  fixed_line,
  mobile,
  fixed_line_or_mobile,
  toll_free,
  premium_rate,
  shared_cost,
  voip,
  personal_number,
  pager,
  uan,
  voicemail,
  unknown
};

/// Names of an enum's values, in declaration order. Specialised below for each enum.
template <class E>
struct EnumNames;

#define DIALER_ENUM_NAMES(E, ...)                                                 \
  template <>                                                                     \
  struct EnumNames<E> {                                                           \
    static constexpr auto names = std::to_array<std::string_view>({__VA_ARGS__}); \
  }

DIALER_ENUM_NAMES(CampaignState, "draft", "running", "paused", "credit_exhausted", "completed",
                  "cancelled");
DIALER_ENUM_NAMES(ContactState, "queued", "dialing", "in_call", "done", "exhausted", "skipped");
DIALER_ENUM_NAMES(AttemptState, "reserved", "started", "ambiguous", "finished", "rejected", "void",
                  "lost");
DIALER_ENUM_NAMES(CallStatus, "pending", "ringing", "in_progress", "completed", "failed",
                  "no_answer", "busy", "canceled");
DIALER_ENUM_NAMES(Disposition, "completed", "voicemail", "user_hangup_no_speech", "no_answer",
                  "busy", "canceled", "blocked", "failed");
DIALER_ENUM_NAMES(Outcome, "completed", "voicemail", "user_hangup_no_speech", "no_answer", "busy",
                  "failed", "canceled", "blocked", "lost");
DIALER_ENUM_NAMES(AnsweredBy, "human", "machine", "unknown", "not_answered");
DIALER_ENUM_NAMES(Provider, "mcube", "twilio", "exotel", "plivo", "vobiz", "sip", "voicelink");
DIALER_ENUM_NAMES(ProviderStrategy, "failover", "round_robin");
DIALER_ENUM_NAMES(PauseReason, "", "manual", "budget", "errors");
DIALER_ENUM_NAMES(NumberType, "fixed_line", "mobile", "fixed_line_or_mobile", "toll_free",
                  "premium_rate", "shared_cost", "voip", "personal_number", "pager", "uan",
                  "voicemail", "unknown");

#undef DIALER_ENUM_NAMES

template <class E>
constexpr std::string_view to_string(E e) noexcept {
  return EnumNames<E>::names[static_cast<std::size_t>(e)];
}

/// Exact, case-sensitive match on the canonical spelling.
template <class E>
constexpr std::optional<E> from_string(std::string_view s) noexcept {
  const auto& names = EnumNames<E>::names;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

/// Every value of an enum, in declaration order.
template <class E>
constexpr auto all_values() noexcept {
  std::array<E, EnumNames<E>::names.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<E>(i);
  return out;
}

/// Outcome of a finished call: the disposition when present, else the status (STATE-MACHINES.md).
/// A non-terminal status without disposition has no outcome yet.
std::optional<Outcome> outcome_of(std::optional<Disposition> disposition,
                                  CallStatus status) noexcept;

constexpr bool is_terminal(CallStatus s) noexcept {
  return s != CallStatus::pending && s != CallStatus::ringing && s != CallStatus::in_progress;
}
constexpr bool is_terminal(CampaignState s) noexcept {
  return s == CampaignState::completed || s == CampaignState::cancelled;
}
constexpr bool is_terminal(ContactState s) noexcept {
  return s == ContactState::done || s == ContactState::exhausted || s == ContactState::skipped;
}

}  // namespace dialer
