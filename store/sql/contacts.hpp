#pragma once
/// SQLite implementation of store/contact_repo.hpp.

#include "store/contact_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlContacts final : public ContactRepo {
 public:
  explicit SqlContacts(Database& db) : db_(db) {}

  Result<bool> insert(std::int64_t campaign_id, const NewContact& contact, TimePoint now) override;
  Result<std::optional<ContactRow>> get(std::int64_t contact_id) override;
  Result<std::optional<ContactRow>> find(std::int64_t campaign_id, std::string_view phone) override;
  Result<std::vector<ContactRow>> next_due(std::int64_t campaign_id, TimePoint now,
                                           int limit) override;
  Result<std::optional<TimePoint>> next_due_time(std::int64_t campaign_id) override;
  Result<std::int64_t> count_due(std::int64_t campaign_id, TimePoint now,
                                 std::int64_t cap) override;
  Result<std::optional<ContactRow>> next_due_contact(std::int64_t campaign_id) override;
  Result<std::optional<ContactState>> state_of(std::int64_t contact_id) override;
  Result<bool> defer(std::int64_t contact_id, TimePoint next_attempt_at, TimePoint now) override;
  Result<std::map<ContactState, std::int64_t>> counts_by_state(std::int64_t campaign_id) override;
  Result<std::vector<CampaignContactCounts>> counts_of_all(TimePoint now) override;
  Result<bool> exists_in_state(std::int64_t campaign_id, ContactState state) override;
  Result<bool> any_active(std::int64_t campaign_id) override;
  Result<std::vector<ContactRow>> list(std::int64_t campaign_id, std::optional<ContactState> state,
                                       std::int64_t limit, std::int64_t offset = 0) override;
  Result<void> for_each(std::int64_t campaign_id,
                        const std::function<bool(const ContactRow&)>& callback) override;
  Result<std::vector<OrphanContact>> orphan_claimed() override;

 private:
  Database& db_;
};

/// Reads a contact from a statement whose columns start at `first` in the order of
/// contact_columns(). For repositories that join contacts.
Result<ContactRow> read_contact_row(const Statement& st, int first = 0);
/// "id, campaign_id, phone, …" qualified with `alias.` when given.
std::string contact_columns(std::string_view alias = {});

}  // namespace dialer::store
