#include "daemon/webhook_registration.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dialer::daemon {
namespace json = boost::json;

namespace {

/// The file is small; anything bigger is not ours.
constexpr std::size_t kMaxFileBytes = 64 * 1024;
constexpr std::size_t kMaxSecrets = 16;

Error bad_file(const std::filesystem::path& path, std::string_view what) {
  return Error(errc::parse_error, path.string() + ": " + std::string(what));
}

}  // namespace

std::vector<std::string> WebhookRegistration::accepted() const {
  std::vector<std::string> out;
  out.reserve(secrets.size());
  for (const auto& s : secrets) out.push_back(s.secret);
  return out;
}

void WebhookRegistration::add(std::string secret, TimePoint now, Millis overlap) {
  for (auto& s : secrets) {
    if (!s.retire_at || *s.retire_at > now + overlap) s.retire_at = now + overlap;
  }
  secrets.insert(secrets.begin(), RegisteredSecret{std::move(secret), now, std::nullopt});
  if (secrets.size() > kMaxSecrets) secrets.resize(kMaxSecrets);
}

bool WebhookRegistration::newest_used() {
  if (secrets.size() <= 1) return false;
  secrets.resize(1);
  return true;
}

bool WebhookRegistration::expire(TimePoint now) {
  const auto before = secrets.size();
  std::erase_if(secrets,
                [now](const RegisteredSecret& s) { return s.retire_at && *s.retire_at <= now; });
  return secrets.size() != before;
}

std::optional<TimePoint> WebhookRegistration::next_retirement() const {
  std::optional<TimePoint> out;
  for (const auto& s : secrets) {
    if (s.retire_at && (!out || *s.retire_at < *out)) out = s.retire_at;
  }
  return out;
}

std::filesystem::path registration_path(const std::filesystem::path& state_dir) {
  return state_dir / "webhook-endpoint.json";
}

Result<std::optional<WebhookRegistration>> load_registration(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<WebhookRegistration>{};
    return Error(errc::io_error, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Error(errc::io_error, "cannot read " + path.string() + ": " + std::strerror(e));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileBytes) {
      ::close(fd);
      return bad_file(path, "larger than 64 KiB: not a webhook endpoint file");
    }
  }
  ::close(fd);
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return bad_file(path, "not a JSON object");
  const auto& o = doc.get_object();
  WebhookRegistration r;
  auto str = [&](std::string_view key, std::string& out) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return false;
    out = std::string(v->get_string());
    return true;
  };
  if (!str("endpoint_id", r.endpoint_id) || !str("url", r.url)) {
    return bad_file(path, "missing 'endpoint_id' or 'url'");
  }
  const auto* list = o.if_contains("secrets");
  if (list == nullptr || !list->is_array()) return bad_file(path, "missing 'secrets'");
  std::size_t index = 0;
  for (const auto& v : list->get_array()) {
    const std::string where = "secrets[" + std::to_string(index++) + "]";
    if (!v.is_object()) return bad_file(path, where + " is not an object");
    const auto& so = v.get_object();
    RegisteredSecret s;
    const auto* sec = so.if_contains("secret");
    const auto* added = so.if_contains("added_at");
    if (sec == nullptr || !sec->is_string() || sec->get_string().empty()) {
      return bad_file(path, where + ".secret is missing");
    }
    s.secret = std::string(sec->get_string());
    if (added == nullptr || !added->is_string())
      return bad_file(path, where + ".added_at is missing");
    auto at = parse_iso8601(added->get_string());
    if (!at) return bad_file(path, where + ".added_at is not an ISO 8601 time");
    s.added_at = *at;
    if (const auto* ret = so.if_contains("retire_at"); ret && !ret->is_null()) {
      auto t = ret->is_string() ? parse_iso8601(ret->get_string()) : std::nullopt;
      if (!t) return bad_file(path, where + ".retire_at is not an ISO 8601 time");
      s.retire_at = *t;
    }
    r.secrets.push_back(std::move(s));
    if (r.secrets.size() > kMaxSecrets) return bad_file(path, "more than 16 secrets");
  }
  return std::optional<WebhookRegistration>(std::move(r));
}

Result<void> save_registration(const std::filesystem::path& path, const WebhookRegistration& r) {
  json::array secrets;
  for (const auto& s : r.secrets) {
    secrets.push_back(
        json::object{{"secret", s.secret},
                     {"added_at", format_iso8601(s.added_at)},
                     {"retire_at", s.retire_at ? json::value(format_iso8601(*s.retire_at))
                                               : json::value(nullptr)}});
  }
  const std::string text =
      json::serialize(json::object{
          {"endpoint_id", r.endpoint_id}, {"url", r.url}, {"secrets", std::move(secrets)}}) +
      "\n";
  const std::filesystem::path temp = path.string() + ".tmp";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Error(errc::io_error, "cannot create " + temp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Error(errc::io_error, "cannot write " + temp.string() + ": " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    ::unlink(temp.c_str());
    return Error(errc::io_error, "cannot sync " + temp.string() + ": " + std::strerror(e));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(temp.c_str());
    return Error(errc::io_error, "cannot rename " + temp.string() + ": " + std::strerror(e));
  }
  // The rename is durable once the directory is synced.
  const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

}  // namespace dialer::daemon
