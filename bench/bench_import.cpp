// The `import` scenario of BENCHMARKS.md: a seeded 1,000,000-row contact list (national and
// international formats, 2 % invalid, 1 % duplicates, 3 variable columns) imported into a
// campaign by ContactImporter, against the reference measured in the same run: the sqlite3 CLI
// doing `.import` into a temp table, then INSERT OR IGNORE into a table with a unique phone
// column, from the same file. Each side runs as its own process (timed from spawn to exit,
// peak RSS from wait4), so neither pays for the generator or the other.
//
// Usage: bench_import [--rows N] [--seed S] [--helpers N] [--cache-kib N] [--dir DIR] [--keep]
// Prints one JSON line on stdout and a human summary on stderr.

#include "core/time.hpp"
#include "store/phone.hpp"
#include "store/sql/campaigns.hpp"
#include "store/sql/database.hpp"
#include "store/sqlite/contact_import.hpp"
#include "store/zones.hpp"

#include <boost/json.hpp>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace dialer;

constexpr double kTargetRatio = 2.0;       // × the sqlite3 CLI (BENCHMARKS.md)
constexpr double kTargetFloorRatio = 1.1;  // × the validator's floor
constexpr double kTargetRssMib = 64;

struct Args {
  std::uint64_t rows = 1'000'000;
  std::uint64_t seed = 20260101;
  unsigned helpers = store::default_helper_threads();  ///< as the daemon
  int cache_kib = 0;  ///< SQLite page cache of the import connection; 0 = the daemon's default
  fs::path dir;
  bool keep = false;
};

struct GenStats {
  std::uint64_t invalid = 0;
  std::uint64_t duplicates = 0;
  std::uintmax_t bytes = 0;
};

/// Writes the seeded list. Numbers are unique by construction (a bijection of a counter), so
/// duplicates are exactly the rows that repeat an earlier number, in another format.
GenStats generate(const fs::path& path, std::uint64_t rows, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  auto pick = [&](std::uint64_t n) { return rng() % n; };
  GenStats stats;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path.string());
  std::vector<char> buffer(1 << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  std::fputs("phone,name,plan,due_amount,city\n", f);

  constexpr std::array<const char*, 3> kPlans{"gold", "silver", "basic"};
  constexpr std::array<const char*, 6> kCities{"Pune",      "Mumbai",    "\"Delhi, NCR\"",
                                               "Bengaluru", "Hyderabad", "Chennai"};
  constexpr std::array<const char*, 7> kInvalid{
      "12345", "abc-not-a-number", "+999 1234567", "9.19876E+11", "", "+91 98765", "0000"};
  constexpr std::array<int, 8> kUsAreas{212, 415, 312, 617, 206, 305, 713, 602};
  std::vector<std::string> recent;  // E.164 of recent numbers, for duplicates
  std::uint64_t unique = 0;
  char phone[64];
  for (std::uint64_t i = 0; i < rows; ++i) {
    std::uint64_t kind = pick(1000);
    if (kind < 20) {
      std::snprintf(phone, sizeof phone, "%s", kInvalid[pick(kInvalid.size())]);
      ++stats.invalid;
    } else if (kind < 30 && !recent.empty()) {
      std::snprintf(phone, sizeof phone, "%s", recent[pick(recent.size())].c_str());
      ++stats.duplicates;
    } else {
      std::uint64_t u = unique++;
      std::uint64_t region = pick(100);
      std::string e164;
      if (region < 85) {
        // 6xxxxxxxxx-9xxxxxxxxx: a bijection of [0, 4e9) (odd multiplier coprime to 2 and 5).
        std::uint64_t n = 6'000'000'000ULL + (u * 2'654'435'761ULL) % 4'000'000'000ULL;
        std::string d = std::to_string(n);
        e164 = "+91" + d;
        switch (pick(8)) {
          case 0:
            std::snprintf(phone, sizeof phone, "+91 %.5s %.5s", d.c_str(), d.c_str() + 5);
            break;
          case 1:
            std::snprintf(phone, sizeof phone, "+91%s", d.c_str());
            break;
          case 2:
            std::snprintf(phone, sizeof phone, "0%.5s %.5s", d.c_str(), d.c_str() + 5);
            break;
          case 3:
            std::snprintf(phone, sizeof phone, "%s", d.c_str());
            break;
          case 4:
            std::snprintf(phone, sizeof phone, "0091 %.5s %.5s", d.c_str(), d.c_str() + 5);
            break;
          case 5:
            std::snprintf(phone, sizeof phone, "%.5s-%.5s", d.c_str(), d.c_str() + 5);
            break;
          case 6:
            std::snprintf(phone, sizeof phone, "'+91%s", d.c_str());
            break;
          default:
            std::snprintf(phone, sizeof phone, "9.1%sE+11", d.c_str());
            break;
        }
      } else if (region < 95) {
        int area = kUsAreas[u % kUsAreas.size()];
        std::uint64_t v = u / kUsAreas.size();
        unsigned exchange = 200 + static_cast<unsigned>((v / 10'000) % 800);
        unsigned line = static_cast<unsigned>(v % 10'000);
        char d[16];
        std::snprintf(d, sizeof d, "%d%03u%04u", area, exchange, line);
        e164 = std::string{"+1"} + d;
        if (pick(2) == 0) {
          std::snprintf(phone, sizeof phone, "+1 (%d) %03u-%04u", area, exchange, line);
        } else {
          std::snprintf(phone, sizeof phone, "+1 %d %03u %04u", area, exchange, line);
        }
      } else {
        std::uint64_t n = 7'400'000'000ULL + u % 600'000'000ULL;
        std::string d = std::to_string(n);
        e164 = "+44" + d;
        std::snprintf(phone, sizeof phone, "+44 %.4s %s", d.c_str(), d.c_str() + 4);
      }
      if (recent.size() < 4096) {
        recent.push_back(e164);
      } else {
        recent[pick(recent.size())] = e164;
      }
    }
    const char* name_format = pick(20) == 0 ? "\"Rao, Customer %llu\"" : "Customer %llu";
    char name[64];
    std::snprintf(name, sizeof name, name_format, static_cast<unsigned long long>(i));
    std::fprintf(f, "%s,%s,%s,%llu,%s\n", phone, name, kPlans[pick(kPlans.size())],
                 static_cast<unsigned long long>(pick(100'000)), kCities[pick(kCities.size())]);
  }
  if (std::fclose(f) != 0) throw std::runtime_error("cannot write " + path.string());
  stats.bytes = fs::file_size(path);
  return stats;
}

struct RunResult {
  double seconds = 0;
  double cpu_seconds = 0;  ///< user + system, all threads
  double peak_rss_mib = 0;
  int status = 0;
  std::string out;
};

/// Spawns argv (stdin from `stdin_path` when given), collects stdout, times it from spawn to
/// exit, and reads its peak RSS from wait4.
RunResult run_process(const std::vector<std::string>& argv, const fs::path& stdin_path = {}) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  if (!stdin_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  RunResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    r.out.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  struct rusage usage {};
  int status = 0;
  ::wait4(pid, &status, 0, &usage);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  r.cpu_seconds = secs(usage.ru_utime) + secs(usage.ru_stime);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

/// The measured side: one import into campaign 1 of an existing database, report on stdout.
int child_import(const std::string& db_path, const std::string& csv, unsigned helpers,
                 int cache_kib) {
  store::OpenOptions open_options;
  if (cache_kib > 0) open_options.cache_size_kib = cache_kib;
  auto db = store::Database::open(db_path, open_options);
  if (!db) {
    std::cerr << "bench_import: " << db.error().what() << "\n";
    return 1;
  }
  auto zones = store::ZoneTable::load();
  if (!zones) {
    std::cerr << "bench_import: " << zones.error().what() << "\n";
    return 1;
  }
  SystemClock clock;
  store::ContactImporter importer{*zones, clock};
  store::ImportOptions options;
  options.default_region = "IN";
  options.helper_threads = helpers;
  auto report = importer.run_file(*db, 1, csv, options);
  if (!report) {
    std::cerr << "bench_import: " << report.error().what() << "\n";
    return 1;
  }
  auto json = store::to_json(*report);
  json.erase("errors");
  std::cout << boost::json::serialize(json) << std::endl;
  return 0;
}

/// The validator's floor: the list's phone column, read into memory first, through
/// libphonenumber alone — parse, validate, type, each asked separately as a caller without
/// the importer's care would — on `threads` threads. Prints the seconds of that work.
int child_floor(const std::string& csv, unsigned threads) {
  std::ifstream in{csv};
  std::string line;
  std::vector<std::string> phones;
  std::getline(in, line);  // header
  while (std::getline(in, line)) phones.push_back(line.substr(0, line.find(',')));
  const auto* util = i18n::phonenumbers::PhoneNumberUtil::GetInstance();
  std::atomic<std::uint64_t> valid{0};
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> pool;
    const std::size_t per = (phones.size() + threads - 1) / threads;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::uint64_t mine = 0;
        const std::size_t end = std::min(phones.size(), (t + 1) * per);
        for (std::size_t i = t * per; i < end; ++i) {
          auto text = store::prepare_phone_text(phones[i]);
          if (!text) continue;
          i18n::phonenumbers::PhoneNumber number;
          if (util->Parse(*text, "IN", &number) !=
              i18n::phonenumbers::PhoneNumberUtil::NO_PARSING_ERROR) {
            continue;
          }
          if (util->IsValidNumber(number) &&
              util->GetNumberType(number) != i18n::phonenumbers::PhoneNumberUtil::UNKNOWN) {
            ++mine;
          }
        }
        valid += mine;
      });
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "{\"floor_s\":" << seconds << ",\"valid\":" << valid.load() << "}" << std::endl;
  return 0;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(k + " needs a value");
      return argv[++i];
    };
    if (k == "--rows") {
      a.rows = std::stoull(value());
    } else if (k == "--seed") {
      a.seed = std::stoull(value());
    } else if (k == "--helpers") {
      a.helpers = static_cast<unsigned>(std::stoul(value()));
    } else if (k == "--cache-kib") {
      a.cache_kib = std::stoi(value());
    } else if (k == "--dir") {
      a.dir = value();
    } else if (k == "--keep") {
      a.keep = true;
    } else {
      throw std::runtime_error("unknown argument " + k +
                               " (usage: bench_import [--rows N] [--seed S] [--helpers N] "
                               "[--cache-kib N] [--dir DIR] [--keep])");
    }
  }
  return a;
}

int run(const Args& args, const std::string& self) {
  fs::path dir = args.dir;
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::string tmpl = (fs::temp_directory_path() / "dialer-bench-import-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
  }
  fs::create_directories(dir);
  const fs::path csv = dir / "contacts.csv";
  const fs::path db_path = dir / "dialer.db";
  const fs::path ref_path = dir / "reference.db";
  const fs::path script = dir / "reference.sql";
  for (const auto& p : {db_path, ref_path}) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(p.string() + suffix);
  }

  std::cerr << "import: generating " << args.rows << " rows (seed " << args.seed << ")…\n";
  GenStats gen = generate(csv, args.rows, args.seed);

  {
    auto db = store::Database::open(db_path.string());
    if (!db) throw std::runtime_error(db.error().what());
    CampaignSpec spec;
    spec.name = "bench";
    spec.agent_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    spec.providers = {Provider::twilio};
    auto id = store::SqlCampaigns{*db}.create(spec, SystemClock{}.now());
    if (!id || *id != 1) throw std::runtime_error("cannot create the campaign");
  }
  {
    std::ofstream s{script};
    s << "PRAGMA journal_mode=WAL;\n"
         "PRAGMA synchronous=FULL;\n"
         "CREATE TABLE contacts_ref(phone TEXT UNIQUE, name TEXT, plan TEXT, due_amount TEXT,"
         " city TEXT);\n"
         "CREATE TEMP TABLE import_tmp(phone TEXT, name TEXT, plan TEXT, due_amount TEXT,"
         " city TEXT);\n"
         ".import --csv --skip 1 --schema temp "
      << csv.string()
      << " import_tmp\n"
         "INSERT OR IGNORE INTO contacts_ref SELECT * FROM import_tmp;\n"
         "SELECT count(*) FROM contacts_ref;\n";
  }

  std::cerr << "import: dialerd import (" << args.helpers << " helper thread(s))…\n";
  RunResult ours = run_process({self, "--child-import", db_path.string(), csv.string(),
                                std::to_string(args.helpers), std::to_string(args.cache_kib)});
  if (ours.status != 0) throw std::runtime_error("the dialerd import failed");
  auto report = boost::json::parse(ours.out).as_object();

  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  std::cerr << "import: the validator's floor (libphonenumber alone, " << cores << " threads)…\n";
  RunResult floor_run = run_process({self, "--child-floor", csv.string(), std::to_string(cores)});
  if (floor_run.status != 0) throw std::runtime_error("the floor run failed");
  const double floor_s =
      boost::json::parse(floor_run.out).as_object().at("floor_s").to_number<double>();

  std::cerr << "import: sqlite3 reference…\n";
  RunResult ref = run_process({"sqlite3", "-batch", "-bail", ref_path.string()}, script);
  if (ref.status != 0) throw std::runtime_error("the sqlite3 reference failed");
  std::string ref_rows = ref.out.substr(ref.out.find_last_of('\n', ref.out.size() - 2) + 1);
  while (!ref_rows.empty() && (ref_rows.back() == '\n' || ref_rows.back() == '\r'))
    ref_rows.pop_back();

  double ratio = ours.seconds / ref.seconds;
  const double floor_ratio = ours.seconds / floor_s;
  bool met = ratio <= kTargetRatio && floor_ratio <= kTargetFloorRatio &&
             ours.peak_rss_mib <= kTargetRssMib;
  // Written by hand: Boost.JSON prints doubles in exponent form (1.5E0), unkind to readers.
  std::string line = "{\"scenario\":\"import\"";
  auto field = [&](const char* key, const std::string& value) {
    line += ",\"";
    line += key;
    line += "\":";
    line += value;
  };
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", v);
    return std::string{b};
  };
  auto count = [&](const char* key) { return boost::json::serialize(report.at(key)); };
  field("rows", std::to_string(args.rows));
  field("seed", std::to_string(args.seed));
  field("file_mb", num(static_cast<double>(gen.bytes) / 1e6));
  field("helper_threads", std::to_string(args.helpers));
  field("dialerd_s", num(ours.seconds));
  field("sqlite3_s", num(ref.seconds));
  field("ratio", num(ratio));
  field("target_ratio", num(kTargetRatio));
  field("floor_s", num(floor_s));
  field("floor_threads", std::to_string(cores));
  field("floor_ratio", num(floor_ratio));
  field("target_floor_ratio", num(kTargetFloorRatio));
  field("peak_rss_mb", num(ours.peak_rss_mib));
  field("target_rss_mb", num(kTargetRssMib));
  field("met", met ? "true" : "false");
  field("dialerd_cpu_s", num(ours.cpu_seconds));
  field("sqlite3_cpu_s", num(ref.cpu_seconds));
  field("cpu_ratio", num(ours.cpu_seconds / ref.cpu_seconds));
  field("imported", count("imported"));
  field("duplicates", count("duplicates"));
  field("invalid", count("invalid"));
  field("unverified", count("unverified"));
  field("import_elapsed_ms", count("elapsed_ms"));
  field("sqlite3_rows", ref_rows);
  field("sqlite3_peak_rss_mb", num(ref.peak_rss_mib));
  field("generated_invalid", std::to_string(gen.invalid));
  field("generated_duplicates", std::to_string(gen.duplicates));
  line += "}";
  std::cout << line << std::endl;
  std::cerr << "import: " << args.rows << " rows, dialerd " << num(ours.seconds) << " s vs sqlite3 "
            << num(ref.seconds) << " s: ratio " << num(ratio) << " (target <= " << kTargetRatio
            << "), vs the validator's floor " << num(floor_s) << " s: ratio " << num(floor_ratio)
            << " (target <= " << kTargetFloorRatio << "), peak RSS " << num(ours.peak_rss_mib)
            << " MiB (target <= " << kTargetRssMib << ") -> " << (met ? "met" : "NOT met") << "\n"
            << "import: CPU time dialerd " << num(ours.cpu_seconds) << " s vs sqlite3 "
            << num(ref.cpu_seconds) << " s\n"
            << "import: imported " << report.at("imported") << ", duplicates "
            << report.at("duplicates") << ", invalid " << report.at("invalid") << ", unverified "
            << report.at("unverified") << " (generated: " << gen.invalid << " invalid, "
            << gen.duplicates << " duplicates)\n";
  if (args.keep) {
    std::cerr << "import: files kept in " << dir << "\n";
  } else if (own_dir) {
    fs::remove_all(dir);
  } else {
    for (const auto& p : {csv, script, db_path, ref_path}) {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(p.string() + suffix);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 4 && std::string{argv[1]} == "--child-floor") {
      return child_floor(argv[2], static_cast<unsigned>(std::stoul(argv[3])));
    }
    if (argc == 6 && std::string{argv[1]} == "--child-import") {
      return child_import(argv[2], argv[3], static_cast<unsigned>(std::stoul(argv[4])),
                          std::stoi(argv[5]));
    }
    return run(parse_args(argc, argv), fs::read_symlink("/proc/self/exe").string());
  } catch (const std::exception& e) {
    std::cerr << "bench_import: " << e.what() << "\n";
    return 1;
  }
}
