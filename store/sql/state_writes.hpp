#pragma once
/// SQLite implementation of store/state_writes.hpp: the project's only state-writing SQL.

#include "store/sql/database.hpp"
#include "store/state_writes.hpp"

namespace dialer::store {

class SqlStateWrites final : public StateWrites {
 public:
  explicit SqlStateWrites(Database& db) : db_(db) {}

 private:
  Result<bool> contact(std::int64_t contact_id, ContactState from, ContactState to,
                       const ContactChange& change, TimePoint now, NumberGuard guard) override;
  Result<std::int64_t> contacts_of_campaign(std::int64_t campaign_id, ContactState from,
                                            ContactState to, std::string_view reason,
                                            TimePoint now) override;
  Result<std::int64_t> contacts_with_phone(std::string_view phone, ContactState from,
                                           ContactState to, std::string_view reason,
                                           TimePoint now) override;
  Result<bool> attempt(std::int64_t attempt_id, AttemptState from, AttemptState to,
                       const AttemptChange& change) override;
  Result<std::int64_t> insert_attempt(AttemptState state, std::int64_t campaign_id,
                                      std::int64_t contact_id, Provider provider,
                                      std::string_view to_number, std::string_view agent_id,
                                      TimePoint reserved_at) override;

  Database& db_;
};

}  // namespace dialer::store
