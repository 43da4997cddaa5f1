// dialerctl end to end in-process: parsed command line → real admin server → printed output
// and exit status, with files passed as descriptors.

#include "api/admin/progress.hpp"
#include "daemon/ctl_run.hpp"
#include "tests/support/admin_test_support.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <future>
#include <sstream>

namespace dialer::admin::test {
namespace {

namespace json = boost::json;
namespace ctl = daemon::ctl;

std::string read_fd(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CtlRunTest : public AdminServerTest {
 protected:
  /// Parses and runs a dialerctl command line against the test socket.
  int run(std::vector<std::string> args, bool progress = false) {
    args.insert(args.begin(), {"--socket", socket_path().string()});
    auto parsed = ctl::parse_command_line(args);
    EXPECT_TRUE(parsed.invocation) << parsed.err;
    if (!parsed.invocation) return -1;
    out_.str("");
    err_.str("");
    ctl::Console console{out_, err_, progress, 100};
    return ctl::run(*parsed.invocation, console);
  }

  std::ostringstream out_;
  std::ostringstream err_;
};

// import passes the CSV and the reject file as descriptors, sends the options, prints the
// report (with the reject file's path) and exits 0.
TEST_F(CtlRunTest, ImportPassesFilesAndPrintsReport) {
  const auto csv = dir_.path() / "contacts.csv";
  const auto rejects = dir_.path() / "rejects.csv";
  { std::ofstream(csv) << "phone\n+919876543210\n12\n"; }
  json::object seen;
  ASSERT_TRUE(
      registry_.add_sync("contacts-import", "fake import", Effect::changes_state, [&](Request& q) {
        seen = q.arguments;
        if (q.fds.size() != 2) return Response::error("want two fds");
        const std::string content = read_fd(q.fds[0].get());
        const std::string rejected = "line,reason\n3,not a possible number\n";
        if (::write(q.fds[1].get(), rejected.data(), rejected.size()) < 0) {
          return Response::error("cannot write rejects");
        }
        json::object report{
            {"rows", 2},       {"imported", 1}, {"duplicates", 0},  {"invalid", 1},
            {"unverified", 0}, {"dnc", 0},      {"elapsed_ms", 15}, {"bytes_seen", content.size()}};
        report["errors"] = json::array{{{"line", 3},
                                        {"column", "phone"},
                                        {"value", "12"},
                                        {"reason", "not a possible number"}}};
        return Response::success("imported 1 of 2 rows into spring", std::move(report));
      }));
  start();
  EXPECT_EQ(run({"import", "spring", csv.string(), "--default-region", "IN", "--reject-file",
                 rejects.string()}),
            0)
      << err_.str();
  EXPECT_EQ(seen.at("campaign"), "spring");
  EXPECT_EQ(seen.at("default_region"), "IN");
  EXPECT_EQ(seen.at("reject_file").as_string(), rejects.string());
  EXPECT_FALSE(seen.contains("progress_id"));  // no terminal, no progress polling
  EXPECT_EQ(slurp(rejects), "line,reason\n3,not a possible number\n");
  const std::string out = out_.str();
  EXPECT_NE(out.find("imported 1 of 2 rows into spring"), std::string::npos) << out;
  EXPECT_NE(out.find("imported    1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("3  phone   12     not a possible number"), std::string::npos) << out;
  EXPECT_NE(out.find("rejected rows written to " + rejects.string()), std::string::npos) << out;
}

// On a terminal, import polls import-progress on a second connection while the import request
// is outstanding and draws the bar on stderr, then clears it.
TEST_F(CtlRunTest, ImportShowsProgressWhileRunning) {
  const auto csv = dir_.path() / "contacts.csv";
  { std::ofstream(csv) << "phone\n+919876543210\n"; }
  ProgressTable progress;
  boost::asio::thread_pool pool(1);
  std::promise<void> polled;
  auto polled_future = polled.get_future().share();
  bool polled_once = false;
  ASSERT_TRUE(registry_.add_sync("import-progress", "progress", Effect::read_only, [&](Request& q) {
    const auto snap = progress.snapshot(q.arguments.at("id").as_string());
    if (!snap) return Response::empty("not running");
    if (!polled_once) {
      polled_once = true;
      polled.set_value();
    }
    return Response::success("", to_json(*snap));
  }));
  ASSERT_TRUE(registry_.add(
      "contacts-import", "slow fake import", Effect::changes_state,
      [&](Request q) -> boost::asio::awaitable<Response> {
        auto ticket = progress.begin(std::string(q.arguments.at("progress_id").as_string()),
                                     "contacts-import", 2048);
        if (!ticket) co_return Response::from_error(ticket.error());
        auto work = [t = std::move(*ticket), polled_future]() mutable {
          t.update(1024, 500);
          // Finish only after dialerctl has seen the half-way mark.
          polled_future.wait_for(std::chrono::seconds(30));
          t.update(2048, 1000);
        };
        co_await run_on(pool.get_executor(), std::move(work));
        co_return Response::success("done", {{"rows", 1000}, {"imported", 1000}});
      }));
  start();
  EXPECT_EQ(run({"import", "spring", csv.string()}, /*progress=*/true), 0) << err_.str();
  const std::string err = err_.str();
  EXPECT_NE(err.find("importing ["), std::string::npos) << err;
  EXPECT_NE(err.find("1.0 KiB / 2.0 KiB"), std::string::npos) << err;
  EXPECT_NE(err.find("500 rows"), std::string::npos) << err;
  EXPECT_EQ(err.substr(err.size() - 4), "\r\x1b[K");  // the bar is cleared at the end
  pool.join();
}

// A failed import names no reject file: dialerctl removed the one it created, so a path in
// the answer would point at nothing.
TEST_F(CtlRunTest, FailedImportNamesNoRejectFile) {
  const auto csv = dir_.path() / "contacts.csv";
  const auto rejects = dir_.path() / "rejects.csv";
  { std::ofstream(csv) << "phone\n+919876543210\n"; }
  ASSERT_TRUE(registry_.add_sync(
      "contacts-import", "fake import", Effect::changes_state,
      [](Request&) { return Response::error("contacts.csv:2: no phone column"); }));
  start();
  EXPECT_EQ(run({"--json", "import", "spring", csv.string(), "--reject-file", rejects.string()}),
            1);
  EXPECT_EQ(out_.str().find(rejects.string()), std::string::npos) << out_.str();
  EXPECT_FALSE(std::filesystem::exists(rejects));
  EXPECT_EQ(run({"import", "spring", csv.string(), "--reject-file", rejects.string()}), 1);
  EXPECT_EQ(out_.str().find(rejects.string()), std::string::npos) << out_.str();
  EXPECT_EQ(err_.str().find(rejects.string()), std::string::npos) << err_.str();
}

// --json on a result other than 0 or 3 prints the whole response {result, text, arguments}
// (scripts see why), on 0 or 3 the arguments; raw prints the response as JSON whatever it is.
TEST_F(CtlRunTest, JsonErrorsAndRawPrintTheWholeResponse) {
  ASSERT_TRUE(registry_.add_sync("campaign-pause", "pause", Effect::changes_state, [](Request&) {
    auto r = Response::conflict("campaign spring is a draft");
    r.arguments = {{"state", "draft"}};
    return r;
  }));
  ASSERT_TRUE(registry_.add_sync("campaign-get", "get", Effect::read_only, [](Request&) {
    return Response::empty("no campaign named spring");
  }));
  start();
  EXPECT_EQ(run({"--json", "campaign", "pause", "spring"}), 4);
  auto pause = boost::json::parse(out_.str()).as_object();
  EXPECT_EQ(pause.at("result").as_int64(), 4);
  EXPECT_EQ(pause.at("text").as_string(), "campaign spring is a draft");
  EXPECT_EQ(pause.at("arguments").at("state").as_string(), "draft");
  EXPECT_EQ(run({"--json", "campaign", "get", "spring"}), 3);
  EXPECT_EQ(boost::json::parse(out_.str()).as_object(), boost::json::object{});
  EXPECT_EQ(run({"raw", R"({"command": "campaign-pause", "arguments": {"campaign": "spring"}})"}),
            4);
  auto raw = boost::json::parse(out_.str()).as_object();
  EXPECT_EQ(raw.at("result").as_int64(), 4);
  EXPECT_EQ(raw.at("text").as_string(), "campaign spring is a draft");
}

// The exit status is the result code; a non-zero result's text goes to stderr.
TEST_F(CtlRunTest, ExitStatusIsResultCode) {
  ASSERT_TRUE(registry_.add_sync("campaign-pause", "pause", Effect::changes_state, [](Request&) {
    return Response::conflict("campaign spring is a draft");
  }));
  ASSERT_TRUE(registry_.add_sync("campaign-get", "get", Effect::read_only, [](Request&) {
    return Response::empty("no campaign named spring");
  }));
  start();
  EXPECT_EQ(run({"campaign", "pause", "spring"}), 4);
  EXPECT_EQ(err_.str(), "campaign spring is a draft\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(run({"campaign", "get", "spring"}), 3);
  EXPECT_EQ(err_.str(), "no campaign named spring\n");
  EXPECT_EQ(run({"campaign", "start", "spring"}), 2);  // not registered
  EXPECT_NE(err_.str().find("unknown command 'campaign-start'"), std::string::npos);
}

// --json prints exactly the answer's arguments as JSON; without it, status is a screen.
TEST_F(CtlRunTest, JsonPrintsArguments) {
  ASSERT_TRUE(registry_.add_sync("status-get", "status", Effect::read_only, [](Request&) {
    return Response::success("ok", {{"version", "0.1.0"}, {"slots", {{"used", 1}, {"limit", 5}}}});
  }));
  start();
  EXPECT_EQ(run({"--json", "status"}), 0);
  EXPECT_EQ(json::parse(out_.str()),
            json::parse(R"({"version": "0.1.0", "slots": {"used": 1, "limit": 5}})"));
  EXPECT_EQ(run({"status"}), 0);
  EXPECT_EQ(out_.str().substr(0, 75),
            "ok\ndialerd 0.1.0   up 0m00s   webhook -\nslots 1/5 (-)   rate -/- per min   ");
}

// export opens the output file itself and the daemon writes through the descriptor; when the
// command fails, a file this run created is removed again.
TEST_F(CtlRunTest, ExportWritesThroughPassedFd) {
  ASSERT_TRUE(registry_.add_sync("campaign-export", "export", Effect::read_only, [](Request& q) {
    if (q.arguments.at("campaign") != "spring") return Response::empty("no campaign");
    const std::string csv = "phone,name,state\n+919876543210,Asha,done\n";
    if (q.fds.size() != 1 || ::write(q.fds[0].get(), csv.data(), csv.size()) < 0) {
      return Response::error("no output descriptor");
    }
    return Response::success("exported 1 contact");
  }));
  start();
  const auto out = dir_.path() / "results.csv";
  EXPECT_EQ(run({"export", "spring", "-o", out.string()}), 0) << err_.str();
  EXPECT_EQ(slurp(out), "phone,name,state\n+919876543210,Asha,done\n");
  const auto missing = dir_.path() / "missing.csv";
  EXPECT_EQ(run({"export", "autumn", "-o", missing.string()}), 3);
  EXPECT_FALSE(std::filesystem::exists(missing));
}

// campaign create -f sends the file's YAML text and name; the daemon validates it.
TEST_F(CtlRunTest, CampaignCreateFromYamlSendsText) {
  json::object seen;
  ASSERT_TRUE(
      registry_.add_sync("campaign-create", "create", Effect::changes_state, [&](Request& q) {
        seen = q.arguments;
        return Response::success("campaign spring created");
      }));
  start();
  const auto yaml = dir_.path() / "spring.yaml";
  const std::string text = "name: spring\nagent_id: 3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\n";
  { std::ofstream(yaml) << text; }
  EXPECT_EQ(run({"campaign", "create", "-f", yaml.string()}), 0) << err_.str();
  EXPECT_EQ(seen, (json::object{{"spec_yaml", text}, {"spec_file", yaml.string()}}));
  EXPECT_EQ(out_.str(), "campaign spring created\n");
}

// raw sends the text verbatim: garbage gets result 1 from the server.
TEST_F(CtlRunTest, RawSendsVerbatim) {
  start();
  EXPECT_EQ(run({"raw", R"({"command": "list-commands"})"}), 0);
  EXPECT_NE(out_.str().find("list-commands"), std::string::npos);
  EXPECT_EQ(run({"raw", "{nope"}), 1);
  EXPECT_NE(err_.str().find("not valid JSON"), std::string::npos) << err_.str();
}

// No daemon: exit 69 with the socket path and the errno text on stderr.
TEST_F(CtlRunTest, ConnectionFailureIs69) {
  EXPECT_EQ(run({"status"}), ctl::kExitUnavailable);
  EXPECT_NE(err_.str().find(socket_path().string()), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("No such file or directory"), std::string::npos) << err_.str();
}

// An unreadable input file is exit 66 before anything is sent.
TEST_F(CtlRunTest, MissingInputIs66) {
  bool called = false;
  ASSERT_TRUE(registry_.add_sync("contacts-import", "import", Effect::changes_state, [&](Request&) {
    called = true;
    return Response::success("");
  }));
  start();
  EXPECT_EQ(run({"import", "spring", (dir_.path() / "nope.csv").string()}), ctl::kExitNoInput);
  EXPECT_NE(err_.str().find("nope.csv: No such file or directory"), std::string::npos);
  EXPECT_EQ(run({"import", "spring", dir_.path().string()}), ctl::kExitNoInput);
  EXPECT_NE(err_.str().find("is a directory"), std::string::npos);
  stop_loop();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace dialer::admin::test
