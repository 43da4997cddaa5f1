#include "scheduler/lifecycle.hpp"

#include "store/audit_repo.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

namespace dialer::scheduler {
namespace {

std::string transition_detail(std::string_view from, std::string_view event, std::string_view to) {
  std::string s;
  s.reserve(64);
  s += R"({"from":")";
  s += from;
  s += R"(","event":")";
  s += event;
  s += R"(","to":")";
  s += to;
  s += R"("})";
  return s;
}

}  // namespace

Lifecycle::Lifecycle(store::Store& store, std::string actor)
    : store_(store), writes_(store.state_writes()), actor_(std::move(actor)) {}

void Lifecycle::audit(std::string subject, std::string detail_json, TimePoint now,
                      std::string_view action) {
  store::AuditEntry e{now, actor_, std::string(action), std::move(subject), std::move(detail_json),
                      ""};
  if (auto r = store_.audit().append(e); !r) {
    spdlog::error("audit log: {}", r.error().what());
  }
}

Result<bool> Lifecycle::contact(std::int64_t contact_id, ContactState from, ContactEvent event,
                                const store::ContactChange& change, TimePoint now) {
  auto to = transition(from, event);
  if (!to) return to.error();
  if (auto f = store_.check_fence(); !f) return f.error();
  auto w = writes_.contact(contact_id, from, *to, change, now);
  if (!w || !*w) return w;
  spdlog::debug("contact {}: {} -({})-> {}", contact_id, to_string(from), to_string(event),
                to_string(*to));
  audit("contact:" + std::to_string(contact_id),
        transition_detail(to_string(from), to_string(event), to_string(*to)), now);
  return true;
}

Result<bool> Lifecycle::attempt(std::int64_t attempt_id, AttemptState from, AttemptEvent event,
                                const store::AttemptChange& change, TimePoint now) {
  auto to = transition(from, event);
  if (!to) return to.error();
  if (auto f = store_.check_fence(); !f) return f.error();
  auto w = writes_.attempt(attempt_id, from, *to, change);
  if (!w || !*w) return w;
  spdlog::debug("attempt {}: {} -({})-> {}", attempt_id, to_string(from), to_string(event),
                to_string(*to));
  audit("attempt:" + std::to_string(attempt_id),
        transition_detail(to_string(from), to_string(event), to_string(*to)), now);
  return true;
}

Result<Lifecycle::Reservation> Lifecycle::reserve(std::int64_t campaign_id,
                                                  const store::ContactRow& contact,
                                                  Provider provider, std::string_view agent_id,
                                                  TimePoint now) {
  const auto from = ContactState::queued;
  auto to = transition(from, ContactEvent::claimed);
  if (!to) return to.error();
  // A node that lost the lease (another took over) reserves nothing, hence sends nothing (and,
  // as for every move, writes nothing).
  if (auto f = store_.check_fence(); !f) return f.error();
  auto w = writes_.contact(contact.id, from, *to, {}, now, store::NumberGuard::no_open_attempt);
  if (!w) return w.error();
  if (!*w) {
    auto state = store_.contacts().state_of(contact.id);
    if (!state) return state.error();
    return Reservation{*state == from ? store::Claim::number_busy : store::Claim::not_queued, 0};
  }
  const AttemptState initial = attempt_machine().initial;
  auto id = writes_.insert_attempt(initial, campaign_id, contact.id, provider, contact.phone,
                                   agent_id, now);
  if (!id) return id.error();
  spdlog::debug("contact {}: {} -({})-> {}", contact.id, to_string(from),
                to_string(ContactEvent::claimed), to_string(*to));
  audit("contact:" + std::to_string(contact.id),
        transition_detail(to_string(from), to_string(ContactEvent::claimed), to_string(*to)), now);
  audit("attempt:" + std::to_string(*id),
        R"({"event":"reserve","to":")" + std::string(to_string(initial)) + R"(","contact":)" +
            std::to_string(contact.id) + R"(,"provider":")" + std::string(to_string(provider)) +
            "\"}",
        now);
  return Reservation{store::Claim::claimed, *id};
}

Result<std::int64_t> Lifecycle::skip_queued(std::int64_t campaign_id,
                                            std::string_view campaign_name, std::string_view reason,
                                            TimePoint now) {
  const auto event = ContactEvent::campaign_stopped;
  const auto from = ContactState::queued;
  auto to = transition(from, event);
  if (!to) return to.error();
  if (auto f = store_.check_fence(); !f) return f.error();
  auto n = writes_.contacts_of_campaign(campaign_id, from, *to, reason, now);
  if (!n || *n == 0) return n;
  audit("campaign:" + std::string(campaign_name),
        boost::json::serialize(boost::json::object{{"contacts", *n},
                                                   {"from", to_string(from)},
                                                   {"event", to_string(event)},
                                                   {"to", to_string(*to)}}),
        now);
  return n;
}

Result<std::int64_t> Lifecycle::skip_queued_number(std::string_view phone, std::string_view reason,
                                                   TimePoint now) {
  const auto from = ContactState::queued;
  auto to = transition(from, ContactEvent::dnc_added);
  if (!to) return to.error();
  if (auto f = store_.check_fence(); !f) return f.error();
  auto n = writes_.contacts_with_phone(phone, from, *to, reason, now);
  if (!n || *n == 0) return n;
  audit("dnc",
        boost::json::serialize(boost::json::object{{"contacts", *n},
                                                   {"from", to_string(from)},
                                                   {"event", to_string(ContactEvent::dnc_added)},
                                                   {"to", to_string(*to)}}),
        now);
  return n;
}

Result<bool> Lifecycle::repair(std::int64_t contact_id, ContactState from, TimePoint now) {
  if (from != ContactState::dialing && from != ContactState::in_call) {
    return Error{errc::invalid_argument, "contact " + std::to_string(contact_id) +
                                             ": no repair from " + std::string(to_string(from))};
  }
  if (auto f = store_.check_fence(); !f) return f.error();
  auto w = writes_.contact(contact_id, from, ContactState::queued, {}, now);
  if (!w || !*w) return w;
  audit("contact:" + std::to_string(contact_id),
        R"({"from":")" + std::string(to_string(from)) + R"(","to":"queued"})", now, "repair");
  return true;
}

}  // namespace dialer::scheduler
