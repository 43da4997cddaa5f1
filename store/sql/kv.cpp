#include "store/sql/kv.hpp"

namespace dialer::store {

Result<std::optional<std::string>> SqlKv::get(std::string_view key) {
  auto st = db_.prepare("SELECT value FROM kv WHERE key = ?");
  if (!st) return st.error();
  st->bind(1, key);
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::done) return std::optional<std::string>{};
  return std::optional<std::string>{st->column_text(0)};
}

Result<void> SqlKv::set(std::string_view key, std::string_view value) {
  auto n = db_.execute(
      "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
      "excluded.value",
      key, value);
  if (!n) return n.error();
  return {};
}

Result<bool> SqlKv::erase(std::string_view key) {
  auto n = db_.execute("DELETE FROM kv WHERE key = ?", key);
  if (!n) return n.error();
  return *n == 1;
}

}  // namespace dialer::store
