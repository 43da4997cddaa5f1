#include "config/config.hpp"

#include "config/codecs.hpp"
#include "config/schema.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dialer::config {
namespace {

namespace fs = std::filesystem;

/// Reads a whole regular file of at most `max_bytes`. Messages name the path, never contents.
Result<std::string> read_small_file(const fs::path& path, std::size_t max_bytes) {
  const std::string shown = path.string();
  auto fail = [&](int err) {
    return Error{errc::io_error, "cannot read " + shown + ": " + std::strerror(err)};
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fail(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(errno);
  if (!S_ISREG(st.st_mode))
    return Error{errc::io_error, "cannot read " + shown + ": not a regular file"};
  std::string data;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      return Error{errc::limit_exceeded,
                   shown + " is larger than " + std::to_string(max_bytes) + " bytes"};
    }
  }
  return data;
}

fs::path resolve(const fs::path& base_dir, const std::string& path) {
  fs::path p(path);
  return p.is_absolute() || base_dir.empty() ? p : base_dir / p;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool has_inner_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

/// An API key file: the key on one line, surrounding whitespace ignored. The error says what is
/// wrong with the file, never what is in it.
Result<Secret> read_key_file(const fs::path& path) {
  auto data = read_small_file(path, kMaxSecretFileBytes);
  if (!data) return data.error();
  std::string_view key = trim(*data);
  if (key.empty()) return Error{errc::invalid_argument, path.string() + " is empty"};
  if (has_inner_space(key)) {
    return Error{errc::invalid_argument,
                 path.string() + " must hold only the key, on one line without spaces"};
  }
  return Secret{std::string(key)};
}

/// A secrets file: one secret per line, blank lines and # comments ignored.
Result<std::vector<Secret>> read_secrets_file(const fs::path& path) {
  auto data = read_small_file(path, kMaxSecretFileBytes);
  if (!data) return data.error();
  std::vector<Secret> out;
  std::string_view rest = *data;
  int line_no = 0;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    if (has_inner_space(line)) {
      return Error{errc::invalid_argument, path.string() + " line " + std::to_string(line_no) +
                                               ": a secret must not contain spaces"};
    }
    out.emplace_back(std::string(line));
  }
  if (out.empty()) return Error{errc::invalid_argument, path.string() + " contains no secret"};
  if (out.size() > kMaxWebhookSecrets) {
    return Error{errc::limit_exceeded, path.string() + " holds more than " +
                                           std::to_string(kMaxWebhookSecrets) + " secrets"};
  }
  return out;
}

YAML::Mark mark_or(const ParseContext& ctx, std::string_view path, std::string_view fallback) {
  if (auto m = ctx.where_set(path)) return *m;
  if (auto m = ctx.where_set(fallback)) return *m;
  return YAML::Mark::null_mark();
}

/// Looks up `name`, treating an empty value as unset.
std::optional<std::string> env_value(const GetEnv& env, const std::string& name) {
  if (!env) return std::nullopt;
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

void resolve_api_key(Config& cfg, ParseContext& ctx, const GetEnv& env, const fs::path& base_dir) {
  VocobaseConfig& v = cfg.vocobase;
  auto inline_at = ctx.where_set("vocobase.api_key");
  auto file_at = ctx.where_set("vocobase.api_key_file");
  const YAML::Mark section = mark_or(ctx, "vocobase", "vocobase");
  if (inline_at && file_at) {
    ctx.error(*file_at, "vocobase.api_key_file",
              "cannot be used together with vocobase.api_key (line " +
                  std::to_string(inline_at->line + 1) + "); keep one of them");
    return;
  }
  if (inline_at) {
    if (!v.api_key.empty()) v.api_key_source = ApiKeySource::inline_value;
    return;  // an empty or malformed inline key was reported by its codec
  }
  if (file_at) {
    if (v.api_key_file.empty()) return;
    auto key = read_key_file(resolve(base_dir, v.api_key_file));
    if (!key) {
      ctx.error(*file_at, "vocobase.api_key_file", key.error().message);
      return;
    }
    v.api_key = std::move(*key);
    v.api_key_source = ApiKeySource::file;
    return;
  }
  if (auto e = env_value(env, "DIALERD_API_KEY")) {
    std::string_view key = trim(*e);
    if (key.empty() || has_inner_space(key)) {
      ctx.error(section, "vocobase.api_key",
                "the environment variable DIALERD_API_KEY must hold only the key, without spaces");
      return;
    }
    v.api_key = Secret{std::string(key)};
    v.api_key_source = ApiKeySource::environment;
    return;
  }
  if (auto dir = env_value(env, "CREDENTIALS_DIRECTORY")) {
    fs::path p = fs::path(*dir) / "api-key";
    auto key = read_key_file(p);
    if (key) {
      v.api_key = std::move(*key);
      v.api_key_source = ApiKeySource::credentials;
      return;
    }
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 || errno != ENOENT) {
      ctx.error(section, "vocobase.api_key",
                "credential $CREDENTIALS_DIRECTORY/api-key: " + key.error().message);
      return;
    }
  }
  ctx.error(section, "vocobase.api_key",
            "no API key: set vocobase.api_key or vocobase.api_key_file, or the environment "
            "variable DIALERD_API_KEY, or provide the systemd credential "
            "$CREDENTIALS_DIRECTORY/api-key");
}

void resolve_webhook_secrets(Config& cfg, ParseContext& ctx, const GetEnv& env,
                             const fs::path& base_dir) {
  WebhookConfig& w = cfg.webhook;
  auto inline_at = ctx.where_set("webhook.secrets");
  auto file_at = ctx.where_set("webhook.secrets_file");
  const YAML::Mark section = mark_or(ctx, "webhook", "webhook");
  if (inline_at && file_at) {
    ctx.error(*file_at, "webhook.secrets_file",
              "cannot be used together with webhook.secrets (line " +
                  std::to_string(inline_at->line + 1) + "); keep one of them");
    return;
  }
  if (inline_at) {
    if (!w.secrets.empty()) w.secrets_source = SecretsSource::inline_value;
    return;
  }
  if (file_at) {
    if (w.secrets_file.empty()) return;
    auto secrets = read_secrets_file(resolve(base_dir, w.secrets_file));
    if (!secrets) {
      ctx.error(*file_at, "webhook.secrets_file", secrets.error().message);
      return;
    }
    w.secrets = std::move(*secrets);
    w.secrets_source = SecretsSource::file;
    return;
  }
  if (auto dir = env_value(env, "CREDENTIALS_DIRECTORY")) {
    fs::path p = fs::path(*dir) / "webhook-secrets";
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 || errno != ENOENT) {
      auto secrets = read_secrets_file(p);
      if (!secrets) {
        ctx.error(section, "webhook.secrets",
                  "credential $CREDENTIALS_DIRECTORY/webhook-secrets: " + secrets.error().message);
        return;
      }
      w.secrets = std::move(*secrets);
      w.secrets_source = SecretsSource::credentials;
      return;
    }
  }
  // No secret configured is not an error: `dialerctl webhook register` stores one in the state
  // directory (the daemon adds it at startup and when registering). Until then every delivery
  // is refused and outcomes are polled; the daemon says so at startup and `dialerctl check`
  // shows it.
}

std::string format_number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, p) : std::to_string(v);
}

/// "resume_credit_balance (1)" or, for a value the document did not write, "… (1, the
/// default)".
std::string quoted(const ParseContext& ctx, std::string_view key, std::string_view name,
                   const std::string& value) {
  return std::string(name) + " (" + value + (ctx.where_set(key) ? "" : ", the default") + ")";
}

/// Rules that tie two keys together, reported at the key the document set. A rule is not
/// checked when either key's own value was refused: the other side would then be compared with
/// a value nobody wrote.
/// store.backend: postgresql needs a conninfo without a password, a plain schema name, and takes
/// its password from store.postgresql.password_file or $CREDENTIALS_DIRECTORY/pg-password.
void resolve_store(Config& cfg, ParseContext& ctx, const GetEnv& env, const fs::path& base_dir) {
  StoreConfig& s = cfg.store;
  if (auto at = ctx.where_set("store.postgresql.schema"); at && !s.pg_schema.empty()) {
    const bool ok =
        std::all_of(
            s.pg_schema.begin(), s.pg_schema.end(),
            [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }) &&
        !(s.pg_schema[0] >= '0' && s.pg_schema[0] <= '9');
    if (!ok) {
      ctx.error(*at, "store.postgresql.schema",
                "must be a plain lower-case name (a-z, 0-9, _; not starting with a digit)");
    }
  }
  if (auto at = ctx.where_set("store.postgresql.conninfo")) {
    std::string lower = s.pg_conninfo;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // The URI form (postgresql://user:password@host/db) carries it as userinfo.
    bool in_uri = false;
    for (std::string_view scheme : {"postgresql://", "postgres://"}) {
      if (lower.rfind(scheme, 0) != 0) continue;
      const std::string_view rest = std::string_view(lower).substr(scheme.size());
      const auto userinfo_end = rest.find('@');
      const auto path = rest.find_first_of("/?");
      in_uri = userinfo_end != std::string_view::npos &&
               (path == std::string_view::npos || userinfo_end < path) &&
               rest.substr(0, userinfo_end).find(':') != std::string_view::npos;
    }
    if (in_uri || lower.find("password") != std::string::npos) {
      ctx.error(*at, "store.postgresql.conninfo",
                "holds a password; put it in store.postgresql.password_file (or the systemd "
                "credential pg-password) so it never sits in the config");
      return;
    }
  }
  if (s.backend != StoreBackend::postgresql) return;
  const YAML::Mark section = mark_or(ctx, "store", "store");
  if (s.pg_conninfo.empty() && !ctx.has_error_at("store.postgresql.conninfo")) {
    ctx.error(section, "store.postgresql.conninfo",
              "store.backend is postgresql: set store.postgresql.conninfo (libpq connection "
              "string, e.g. \"host=db port=5432 dbname=dialer user=dialerd\")");
  }
  if (auto file_at = ctx.where_set("store.postgresql.password_file");
      file_at && !s.pg_password_file.empty()) {
    auto pw = read_key_file(resolve(base_dir, s.pg_password_file));
    if (!pw) {
      ctx.error(*file_at, "store.postgresql.password_file", pw.error().message);
      return;
    }
    s.pg_password = std::move(*pw);
    return;
  }
  if (auto dir = env_value(env, "CREDENTIALS_DIRECTORY")) {
    fs::path p = fs::path(*dir) / "pg-password";
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      auto pw = read_key_file(p);
      if (!pw) {
        ctx.error(section, "store.postgresql.password_file",
                  "credential $CREDENTIALS_DIRECTORY/pg-password: " + pw.error().message);
        return;
      }
      s.pg_password = std::move(*pw);
    }
  }
}

void cross_checks(const Config& cfg, ParseContext& ctx) {
  const auto& v = cfg.vocobase;
  constexpr std::string_view kResume = "vocobase.resume_credit_balance";
  constexpr std::string_view kMin = "vocobase.min_credit_balance";
  if (v.resume_credit_balance < v.min_credit_balance && !ctx.has_error_at(kResume) &&
      !ctx.has_error_at(kMin)) {
    std::string key(ctx.where_set(kResume) ? kResume : kMin);
    ctx.error(
        mark_or(ctx, key, "vocobase"), key,
        quoted(ctx, kResume, "resume_credit_balance", format_number(v.resume_credit_balance)) +
            " must be at least " +
            quoted(ctx, kMin, "min_credit_balance", format_number(v.min_credit_balance)));
  }
  const auto& s = cfg.scheduler;
  constexpr std::string_view kStale = "scheduler.stale_call_timeout";
  constexpr std::string_view kReconcile = "scheduler.reconcile_after";
  if (s.stale_call_timeout <= s.reconcile_after && !ctx.has_error_at(kStale) &&
      !ctx.has_error_at(kReconcile)) {
    std::string key(ctx.where_set(kStale) ? kStale : kReconcile);
    ctx.error(mark_or(ctx, key, "scheduler"), key,
              quoted(ctx, kStale, "stale_call_timeout", format_duration(s.stale_call_timeout)) +
                  " must be longer than " +
                  quoted(ctx, kReconcile, "reconcile_after", format_duration(s.reconcile_after)));
  }
  detail::check_window(cfg.defaults.window, "defaults.window", mark_or(ctx, "defaults", "defaults"),
                       ctx);
}

}  // namespace

CampaignSpec CampaignDefaults::to_spec() const {
  CampaignSpec spec;
  spec.timezone = timezone;
  spec.window = window;
  spec.max_attempts = max_attempts;
  spec.dnc_on_blocked = dnc_on_blocked;
  spec.retry = retry;
  spec.max_concurrency = max_concurrency;
  spec.providers = providers;
  spec.provider_strategy = provider_strategy;
  spec.auto_resume = auto_resume;
  return spec;
}

GetEnv process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

GetEnv env_from_map(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const Config& table_defaults() {
  static const Config defaults = [] {
    Config c;
    detail::apply_table_defaults(config_keys(), c);
    return c;
  }();
  return defaults;
}

Checked<Config> load_text(std::string_view text, std::string_view file_name, const GetEnv& env,
                          const std::filesystem::path& base_dir) {
  ParseContext ctx{std::string(file_name)};
  Config cfg = table_defaults();
  if (text.size() > kMaxConfigBytes) {
    ctx.error(YAML::Mark::null_mark(), "",
              "config is larger than " + std::to_string(kMaxConfigBytes) + " bytes");
    return Checked<Config>(boost::system::in_place_error, ctx.take());
  }
  if (auto root = detail::load_yaml(text, ctx)) {
    if (root->IsMap()) {
      detail::walk(*root, Field{"", root->Mark()}, config_keys(), cfg, ctx);
    } else if (!root->IsNull()) {  // an empty file is an empty mapping
      ctx.error(root->Mark(), "",
                "expected a mapping of sections (vocobase:, webhook:, …), got " +
                    detail::describe(*root));
    }
    ctx.begin_consequences();
    resolve_api_key(cfg, ctx, env, base_dir);
    resolve_webhook_secrets(cfg, ctx, env, base_dir);
    resolve_store(cfg, ctx, env, base_dir);
    cross_checks(cfg, ctx);
  }
  if (ctx.has_errors()) return Checked<Config>(boost::system::in_place_error, ctx.take());
  return cfg;
}

Checked<Config> load_file(const std::string& path, const GetEnv& env) {
  auto text = read_small_file(path, kMaxConfigBytes);
  if (!text) {
    return Checked<Config>(boost::system::in_place_error,
                           Diagnostics{Diagnostic{path, 1, 1, "", text.error().what()}});
  }
  return load_text(*text, path, env, std::filesystem::path(path).parent_path());
}

boost::json::object redacted_json(const Config& config) {
  return detail::to_json_tree(config_keys(), config);
}

Config in_force_after_reload(const Config& running, Config file,
                             std::span<const std::string> keep) {
  for (const auto& k : config_keys()) {
    if (std::find(keep.begin(), keep.end(), k.info.path) != keep.end()) k.copy(running, file);
  }
  return file;
}

std::vector<PendingKey> pending_keys(const Config& in_force, const Config& file) {
  std::vector<PendingKey> out;
  for (const auto& k : config_keys()) {
    if (k.equal(in_force, file)) continue;
    out.push_back({std::string(k.info.path), k.to_json(in_force), k.to_json(file)});
  }
  return out;
}

ReloadDiff reload_diff(const Config& old_config, const Config& new_config) {
  ReloadDiff diff;
  for (const auto& k : config_keys()) {
    if (k.equal(old_config, new_config)) continue;
    diff.changed.emplace_back(k.info.path);
    if (k.info.needs_restart) diff.needs_restart.emplace_back(k.info.path);
  }
  return diff;
}

}  // namespace dialer::config
