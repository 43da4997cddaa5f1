// The campaign field table and the campaign validator.

#include "config/campaign.hpp"

#include "config/codecs.hpp"
#include "config/schema.hpp"

#include <array>
#include <charconv>

namespace dialer::config {
namespace {

using namespace std::chrono_literals;
using detail::make_key;

constexpr double ms(Millis d) {
  return static_cast<double>(d.count());
}
constexpr std::optional<double> kNone = std::nullopt;

template <class Codec, class Acc>
constexpr KeyDef<CampaignSpec> field(std::string_view path, std::optional<double> min,
                                     std::optional<double> max, std::string_view help, Acc acc,
                                     bool min_exclusive = false) {
  return make_key<Codec, CampaignSpec>(KeyInfo{.path = path,
                                               .type = {},
                                               .default_text = {},
                                               .min = min,
                                               .max = max,
                                               .min_exclusive = min_exclusive,
                                               .needs_restart = false,
                                               .help = help},
                                       acc);
}

// Defaults are not in this table: a campaign starts from the config's `defaults:` section (or,
// for an update, from its current fields).
// clang-format off
constexpr auto kCampaignKeys = std::to_array<KeyDef<CampaignSpec>>({
  field<detail::CampaignNameCodec>("name", kNone, kNone,
      "Unique name, [a-z0-9][a-z0-9-_]{0,63}. Required to create.",
      [](auto& s) -> auto& { return s.name; }),
  field<detail::UuidCodec>("agent_id", kNone, kNone,
      "Vocobase agent uuid. Required to create.",
      [](auto& s) -> auto& { return s.agent_id; }),
  field<detail::ProvidersCodec>("providers", kNone, kNone,
      "Ordered list of mcube, twilio, exotel, plivo, vobiz, sip, voicelink (default "
      "defaults.providers).",
      [](auto& s) -> auto& { return s.providers; }),
  field<detail::EnumCodec<ProviderStrategy>>("provider_strategy", kNone, kNone,
      "failover or round_robin (default defaults.provider_strategy).",
      [](auto& s) -> auto& { return s.provider_strategy; }),
  field<detail::IntCodec>("max_concurrency", 1, 10000,
      "Most calls in flight for this campaign (default defaults.max_concurrency).",
      [](auto& s) -> auto& { return s.max_concurrency; }),
  field<detail::IntCodec>("priority", -1000000, 1000000,
      "Higher goes first (default 0).",
      [](auto& s) -> auto& { return s.priority; }),
  field<detail::IntCodec>("weight", 1, 1000,
      "Share of slots among campaigns of the same priority (default 1).",
      [](auto& s) -> auto& { return s.weight; }),
  field<detail::ZoneCodec>("timezone", kNone, kNone,
      "IANA zone for contacts whose zone is unknown (default defaults.timezone).",
      [](auto& s) -> auto& { return s.timezone; }),
  field<detail::DaysCodec>("window.days", kNone, kNone,
      "[mon, tue, …] or \"mon-sat\".",
      [](auto& s) -> auto& { return s.window.days; }),
  field<detail::TimeOfDayCodec>("window.start", kNone, kNone,
      "\"HH:MM\", local time the window opens.",
      [](auto& s) -> auto& { return s.window.start; }),
  field<detail::TimeOfDayCodec>("window.end", kNone, kNone,
      "\"HH:MM\", local time it closes; after start.",
      [](auto& s) -> auto& { return s.window.end; }),
  field<detail::DurationCodec>("window.end_margin", 0, ms(12h),
      "No call starts this close to the end.",
      [](auto& s) -> auto& { return s.window.end_margin; }),
  field<detail::HolidaysCodec>("window.holidays", kNone, 1000,
      "Dates \"YYYY-MM-DD\" with no calling.",
      [](auto& s) -> auto& { return s.window.holidays; }),
  field<detail::IntCodec>("max_attempts", 1, 100,
      "Cap on all attempts of one contact (default defaults.max_attempts).",
      [](auto& s) -> auto& { return s.max_attempts; }),
  field<detail::RetryCodec>("retry", kNone, kNone,
      "{outcome: {delay: 30m, max: 3}}, merged over defaults.retry.",
      [](auto& s) -> auto& { return s.retry; }),
  field<detail::BoolCodec>("dnc_on_blocked", kNone, kNone,
      "A blocked outcome puts the number on the DNC list (default defaults.dnc_on_blocked).",
      [](auto& s) -> auto& { return s.dnc_on_blocked; }),
  field<detail::OptionalNumberCodec>("budget_credits", 0, 1e12,
      "Credits this campaign may spend before it pauses (pause_reason budget); null = no budget.",
      [](auto& s) -> auto& { return s.budget_credits; }, true),
  field<detail::BoolCodec>("auto_resume", kNone, kNone,
      "Resume by itself when credits are back (default defaults.auto_resume).",
      [](auto& s) -> auto& { return s.auto_resume; }),
  field<detail::StringCodec>("description", kNone, 1000,
      "Free text.",
      [](auto& s) -> auto& { return s.description; }),
  field<detail::StringCodec>("callback.field", kNone, 64,
      "Extraction key holding a time the callee asked to be called back at (ISO 8601, or local "
      "\"YYYY-MM-DD HH:MM\" in the contact's zone); \"\" = off.",
      [](auto& s) -> auto& { return s.callback_field; }),
  field<detail::OptionalTimeCodec>("start_at", kNone, kNone,
      "A draft starts itself then (ISO 8601 with an offset); null = started by hand.",
      [](auto& s) -> auto& { return s.start_at; }),
  field<detail::OptionalTimeCodec>("end_at", kNone, kNone,
      "No call is placed from then on: queued contacts are skipped (campaign_ended) and the "
      "campaign completes; null = no end.",
      [](auto& s) -> auto& { return s.end_at; }),
});
// clang-format on

Error invalid(std::string message) {
  return Error{errc::invalid_argument, std::move(message)};
}

}  // namespace

std::span<const KeyDef<CampaignSpec>> campaign_keys() {
  return kCampaignKeys;
}

Checked<CampaignSpec> parse_campaign(const YAML::Node& node, const CampaignSpec& base,
                                     const CampaignParseOptions& options) {
  ParseContext ctx{options.source};
  CampaignSpec spec = base;
  if (node.IsMap()) {
    detail::walk(node, Field{"", node.Mark()}, campaign_keys(), spec, ctx, options.ignored_keys);
  } else {
    ctx.error(node.Mark(), "",
              "expected a mapping of campaign fields, got " + detail::describe(node));
  }
  if (node.IsMap() && options.require_identity) {
    for (std::string_view required : {"name", "agent_id"}) {
      if (!ctx.where_set(required)) ctx.error(node.Mark(), std::string(required), "required");
    }
  }
  detail::check_window(spec.window, "window", node.Mark(), ctx);
  if (spec.start_at && spec.end_at && *spec.end_at <= *spec.start_at &&
      !ctx.has_error_at("start_at") && !ctx.has_error_at("end_at")) {
    const std::string key = ctx.where_set("end_at") ? "end_at" : "start_at";
    ctx.error(ctx.where_set(key).value_or(node.Mark()), key,
              "end_at (" + format_iso8601(*spec.end_at) + ") must be after start_at (" +
                  format_iso8601(*spec.start_at) + ")");
  }
  if (ctx.has_errors()) return Checked<CampaignSpec>(boost::system::in_place_error, ctx.take());
  return spec;
}

Checked<CampaignSpec> parse_campaign_text(std::string_view text, const CampaignSpec& base,
                                          const CampaignParseOptions& options) {
  ParseContext ctx{options.source};
  auto root = detail::load_yaml(text, ctx);
  if (!root) return Checked<CampaignSpec>(boost::system::in_place_error, ctx.take());
  return parse_campaign(*root, base, options);
}

Window CompactWindow::apply_to(Window base) const {
  if (days) base.days = *days;
  if (start) base.start = *start;
  if (end) base.end = *end;
  return base;
}

boost::json::object CompactWindow::to_json() const {
  boost::json::object o;
  if (days) o["days"] = detail::DaysCodec::to_json(*days);
  if (start) o["start"] = format_time_of_day(*start);
  if (end) o["end"] = format_time_of_day(*end);
  return o;
}

Result<CompactWindow> parse_window_compact(std::string_view text) {
  CompactWindow out;
  if (text.empty()) {
    return invalid("empty window (expected e.g. mon-sat,09:00-21:00)");
  }
  WeekDays days{};
  bool any_day = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.find(':') != std::string_view::npos) {  // the time range, HH:MM-HH:MM
      if (out.start)
        return invalid("more than one time range in window \"" + std::string(text) + "\"");
      std::size_t dash = item.find('-');
      if (dash == std::string_view::npos) {
        return invalid("invalid time range \"" + std::string(item) + "\" (expected HH:MM-HH:MM)");
      }
      auto from = parse_time_of_day(item.substr(0, dash));
      if (!from) return from.error();
      auto to = parse_time_of_day(item.substr(dash + 1));
      if (!to) return to.error();
      if (*from >= *to) {
        return invalid("window end " + format_time_of_day(*to) + " must be after start " +
                       format_time_of_day(*from));
      }
      out.start = *from;
      out.end = *to;
    } else {
      auto r = add_days(item, days);
      if (!r) return r.error();
      days = *r;
      any_day = true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (any_day) out.days = days;
  return out;
}

Result<std::pair<Outcome, RetryRule>> parse_retry_compact(std::string_view text) {
  const std::string hint = " (expected outcome=delay/max, e.g. no_answer=30m/3)";
  std::size_t eq = text.find('=');
  std::size_t slash = text.find('/', eq == std::string_view::npos ? 0 : eq);
  if (eq == std::string_view::npos || slash == std::string_view::npos) {
    return invalid("invalid retry rule \"" + std::string(text) + "\"" + hint);
  }
  std::string_view name = text.substr(0, eq);
  auto outcome = from_string<Outcome>(name);
  if (!outcome) return invalid("unknown outcome \"" + std::string(name) + "\"" + hint);
  if (*outcome == Outcome::completed || *outcome == Outcome::blocked) {
    return invalid("outcome " + std::string(name) + " is never retried");
  }
  std::string_view delay_text = text.substr(eq + 1, slash - eq - 1);
  auto delay = parse_duration(delay_text);
  if (!delay) return invalid("invalid duration \"" + std::string(delay_text) + "\"" + hint);
  if (*delay > std::chrono::days{30}) return invalid("retry delay must be at most 30d");
  std::string_view max_text = text.substr(slash + 1);
  int max = -1;
  auto [p, ec] = std::from_chars(max_text.data(), max_text.data() + max_text.size(), max);
  if (ec != std::errc{} || p != max_text.data() + max_text.size() || max < 0 || max > 100) {
    return invalid("invalid retry count \"" + std::string(max_text) + "\" (expected 0 to 100)");
  }
  return std::pair{*outcome, RetryRule{*delay, max}};
}

}  // namespace dialer::config
