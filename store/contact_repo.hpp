#pragma once
/// Contacts of a campaign (STATE-MACHINES.md "Contact"): inserts, reads and due times. Their
/// state changes only through scheduler::Lifecycle (store/state_writes.hpp).
///
/// Rows an import has staged but not yet made visible (state 'staged', store/import_repo.hpp)
/// are not contacts yet: no read here returns or counts them.

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

/// A contact as the importer produces it.
struct NewContact {
  std::string phone;  ///< E.164
  NumberType number_type = NumberType::unknown;
  bool verified = true;  ///< false: possible but not valid per libphonenumber
  std::string region;    ///< ISO 3166 region of the number, "" unknown
  std::string name;
  std::string zones;                  ///< IANA zone(s) joined by ','; "" = the campaign's zone
  std::string variables_json = "{}";  ///< JSON object of pre-call variables
  std::optional<std::int64_t> source_line;    ///< CSV line
  ContactState state = ContactState::queued;  ///< `skipped` for numbers on the DNC list
  std::string reason;                         ///< e.g. "dnc"
};

struct ContactRow {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  std::string phone;
  NumberType number_type = NumberType::unknown;
  bool verified = true;
  std::string region;
  std::string name;
  std::string zones;
  std::string variables_json = "{}";
  ContactState state = ContactState::queued;
  std::string reason;
  int attempts = 0;           ///< attempts that count toward max_attempts
  TimePoint next_attempt_at;  ///< due when <= now (epoch for a fresh contact)
  std::optional<Outcome> last_outcome;
  std::optional<std::int64_t> source_line;
  TimePoint created_at;
  TimePoint updated_at;

  bool operator==(const ContactRow&) const = default;
};

/// What a claim found.
enum class Claim {
  claimed,      ///< the contact is now dialing
  not_queued,   ///< no longer queued (stopped, DNC, claimed) since it was read
  number_busy,  ///< still queued: its number is in an open attempt of some campaign
};

/// One campaign's contacts by state and how many queued ones are due (metrics, watch).
struct CampaignContactCounts {
  std::int64_t campaign_id = 0;
  std::string name;
  std::map<ContactState, std::int64_t> by_state;  ///< every state present
  std::int64_t due_now = 0;                       ///< queued with next_attempt_at <= now
};

/// A contact claimed by the dispatcher (dialing or in_call) that no open attempt holds.
struct OrphanContact {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  ContactState state = ContactState::dialing;
};

class ContactRepo {
 public:
  virtual ~ContactRepo() = default;

  /// Adds a contact; false when the campaign already has this phone (nothing written). One
  /// cached statement and no other query. Fresh contacts are due at once (next_attempt_at =
  /// epoch), in insert order. (The CSV importer stages its rows through ImportRepo::stage.)
  virtual Result<bool> insert(std::int64_t campaign_id, const NewContact& contact,
                              TimePoint now) = 0;

  virtual Result<std::optional<ContactRow>> get(std::int64_t contact_id) = 0;
  virtual Result<std::optional<ContactRow>> find(std::int64_t campaign_id,
                                                 std::string_view phone) = 0;

  /// Queued contacts due at `now`, earliest first (then insert order), at most `limit`. One seek
  /// on the contacts_due partial index: O(log n + limit) whatever the campaign's size.
  virtual Result<std::vector<ContactRow>> next_due(std::int64_t campaign_id, TimePoint now,
                                                   int limit) = 0;
  /// Earliest next_attempt_at among queued contacts (due or not); nullopt when none is queued.
  virtual Result<std::optional<TimePoint>> next_due_time(std::int64_t campaign_id) = 0;
  /// Queued contacts due at `now`, counted up to `cap` (an index range scan of at most `cap`).
  virtual Result<std::int64_t> count_due(std::int64_t campaign_id, TimePoint now,
                                         std::int64_t cap) = 0;
  /// The queued contact due first (ties by id), due or not; nullopt when none is queued.
  virtual Result<std::optional<ContactRow>> next_due_contact(std::int64_t campaign_id) = 0;

  /// The contact's state; nullopt for an unknown id.
  virtual Result<std::optional<ContactState>> state_of(std::int64_t contact_id) = 0;
  /// Moves a queued contact's due time (e.g. to the calling window's next opening). False when
  /// it is no longer queued.
  virtual Result<bool> defer(std::int64_t contact_id, TimePoint next_attempt_at, TimePoint now) = 0;
  /// Count per state; every state is present (0 when none).
  virtual Result<std::map<ContactState, std::int64_t>> counts_by_state(
      std::int64_t campaign_id) = 0;
  /// counts_by_state and the due count of every campaign, in two grouped index scans (costs
  /// in proportion to the contacts: run it off the event loop for large stores).
  virtual Result<std::vector<CampaignContactCounts>> counts_of_all(TimePoint now) = 0;
  virtual Result<bool> exists_in_state(std::int64_t campaign_id, ContactState state) = 0;
  /// True while any contact is queued, dialing or in_call, or a committed import is still
  /// making its contacts visible (the campaign is not drained).
  virtual Result<bool> any_active(std::int64_t campaign_id) = 0;

  /// Page of contacts in id order, optionally of one state.
  virtual Result<std::vector<ContactRow>> list(std::int64_t campaign_id,
                                               std::optional<ContactState> state,
                                               std::int64_t limit, std::int64_t offset = 0) = 0;
  /// Streams every contact of the campaign in id order without holding them all; the callback
  /// returns false to stop early.
  virtual Result<void> for_each(std::int64_t campaign_id,
                                const std::function<bool(const ContactRow&)>& callback) = 0;
  /// Contacts in `dialing` or `in_call` without an attempt in reserved, ambiguous or started.
  /// Claim and reserve share one transaction, so this finds nothing unless the database was
  /// edited by hand; recovery repairs what it finds.
  virtual Result<std::vector<OrphanContact>> orphan_claimed() = 0;

 protected:
  ContactRepo() = default;
  ContactRepo(const ContactRepo&) = delete;
  ContactRepo& operator=(const ContactRepo&) = delete;
};

}  // namespace dialer::store
