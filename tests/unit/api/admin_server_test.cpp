// The admin socket server over a real io_context and a socket in a mkdtemp directory.

#include "tests/support/admin_test_support.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <sys/stat.h>
#include <sys/wait.h>

namespace dialer::admin::test {
namespace {

namespace json = boost::json;

void add_result_handlers(Registry& r) {
  ASSERT_TRUE(r.add_sync("test-ok", "echoes its arguments", Effect::read_only, [](Request& q) {
    json::object args = q.arguments;
    args["peer_uid"] = q.peer.uid;
    return Response::success("done", std::move(args));
  }));
  ASSERT_TRUE(r.add_sync("test-empty", "finds nothing", Effect::read_only,
                         [](Request&) { return Response::empty("nothing found"); }));
  ASSERT_TRUE(r.add_sync("test-conflict", "refuses", Effect::read_only,
                         [](Request&) { return Response::conflict("campaign is a draft"); }));
}

// A handler's success comes back as result 0 with its text and arguments, and carries the peer.
TEST_F(AdminServerTest, SuccessRoundTrip) {
  add_result_handlers(registry_);
  start();
  const auto r = must_call("test-ok", {{"campaign", "spring"}});
  EXPECT_EQ(r.result, ResultCode::success);
  EXPECT_EQ(r.text, "done");
  EXPECT_EQ(r.arguments.at("campaign"), "spring");
  EXPECT_EQ(r.arguments.at("peer_uid").to_number<std::int64_t>(), ::getuid());
}

// Result codes 3 and 4 from handlers reach the client unchanged.
TEST_F(AdminServerTest, EmptyAndConflictCodes) {
  add_result_handlers(registry_);
  start();
  const auto empty = must_call("test-empty");
  EXPECT_EQ(empty.result, ResultCode::empty);
  EXPECT_EQ(empty.text, "nothing found");
  const auto conflict = must_call("test-conflict");
  EXPECT_EQ(conflict.result, ResultCode::conflict);
  EXPECT_EQ(conflict.text, "campaign is a draft");
}

// An unregistered command is result 2 naming the command.
TEST_F(AdminServerTest, UnknownCommandIsTwo) {
  start();
  const auto r = must_call("no-such-thing");
  EXPECT_EQ(r.result, ResultCode::unknown_command);
  EXPECT_NE(r.text.find("no-such-thing"), std::string::npos);
}

// Every kind of malformed request is answered with result 1 and a text that says what is wrong.
TEST_F(AdminServerTest, GarbageIsResultOneWithReason) {
  start();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"this is not json", "must be a JSON object"},
      {"{\"command\": tru}", "not valid JSON"},
      {"[1, 2, 3]", "must be a JSON object"},
      {"\"list-commands\"", "must be a JSON object"},
      {"{\"arguments\": {}}", "no \"command\""},
      {"{\"command\": 7}", "\"command\" must be a string"},
      {"{\"command\": \"list-commands\", \"arguments\": [1]}", "\"arguments\" must be an object"},
      {"{\"command\": \"list-commands\", \"argument\": {}}", "unknown request member \"argument\""},
      {"{\"command\": \"list-commands\"", "incomplete request"},
      {"", "empty request"},
  };
  for (const auto& [text, expected] : cases) {
    const auto r = must_call_raw(text);
    EXPECT_EQ(r.result, ResultCode::error) << text;
    EXPECT_NE(r.text.find(expected), std::string::npos) << text << " -> " << r.text;
  }
  // The server is still serving after all that.
  EXPECT_EQ(must_call("list-commands").result, ResultCode::success);
}

// A request over the size limit is refused with result 1 naming the limit, not dropped.
TEST_F(AdminServerTest, OversizeRequestIsResultOne) {
  auto o = default_options();
  o.max_request_bytes = 1024;
  start(o);
  json::object args;
  args["blob"] = std::string(256 * 1024, 'x');
  const auto r = call(socket_path(), "list-commands", args);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->result, ResultCode::error);
  EXPECT_NE(r->text.find("larger than 1024 bytes"), std::string::npos) << r->text;
}

// A malformed request that is still arriving when the server refuses it (100 kB of "[") gets
// its answer, not a connection reset: the server drains what is left before closing.
TEST_F(AdminServerTest, RefusedRequestStillArrivingIsAnsweredNotReset) {
  auto o = default_options();
  o.max_request_bytes = 1024;  // refused after the first KiB, the rest still arriving
  start(o);
  const int fd = raw_connect(socket_path());
  ASSERT_GE(fd, 0);
  const std::string req(100 * 1024, '[');
  std::size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  const std::string reply = read_to_eof(fd);
  ::close(fd);
  ASSERT_FALSE(reply.empty()) << "no answer (reset?) after " << sent << " bytes sent";
  const auto v = json::parse(reply);
  EXPECT_EQ(v.at("result").as_int64(), 1);
  EXPECT_FALSE(v.at("text").as_string().empty());
}

// `arguments: null` is the same as no arguments.
TEST_F(AdminServerTest, NullArgumentsAccepted) {
  add_result_handlers(registry_);
  start();
  EXPECT_EQ(must_call_raw(R"({"command": "test-ok", "arguments": null})").result,
            ResultCode::success);
}

// A socat-style client that never half-closes still gets its answer (newline-terminated) and
// then end-of-file.
TEST_F(AdminServerTest, AnswersWithoutHalfClose) {
  start();
  const int fd = raw_connect(socket_path());
  ASSERT_GE(fd, 0);
  const std::string req = "{\"command\": \"list-commands\"}\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  const std::string reply = read_to_eof(fd);
  ::close(fd);
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply.back(), '\n');
  const auto v = json::parse(reply);
  EXPECT_EQ(v.at("result").as_int64(), 0);
  const auto& names = v.at("arguments").at("commands").as_array();
  EXPECT_NE(std::find(names.begin(), names.end(), json::value("list-commands")), names.end());
}

// A client that stops sending mid-request gets result 1 after the idle timeout.
TEST_F(AdminServerTest, IdleTimeoutAnswersResultOne) {
  auto o = default_options();
  o.idle_timeout = std::chrono::milliseconds(200);
  start(o);
  const int fd = raw_connect(socket_path());
  ASSERT_GE(fd, 0);
  const std::string part = "{\"command\": ";
  ASSERT_EQ(::send(fd, part.data(), part.size(), MSG_NOSIGNAL), static_cast<ssize_t>(part.size()));
  const std::string reply = read_to_eof(fd);
  ::close(fd);
  const auto v = json::parse(reply);
  EXPECT_EQ(v.at("result").as_int64(), 1);
  EXPECT_NE(std::string(v.at("text").as_string()).find("timed out"), std::string::npos);
}

// list-commands names every registered command with its help.
TEST_F(AdminServerTest, ListCommandsNamesRegisteredCommands) {
  add_result_handlers(registry_);
  start();
  const auto r = must_call("list-commands");
  ASSERT_EQ(r.result, ResultCode::success);
  std::vector<std::string> names;
  for (const auto& n : r.arguments.at("commands").as_array()) names.emplace_back(n.as_string());
  EXPECT_EQ(names,
            (std::vector<std::string>{"list-commands", "test-conflict", "test-empty", "test-ok"}));
  EXPECT_EQ(r.arguments.at("help").at("test-ok"), "echoes its arguments");
}

// A handler that throws is answered with result 1 carrying the exception text.
TEST_F(AdminServerTest, HandlerExceptionIsResultOne) {
  ASSERT_TRUE(
      registry_.add_sync("test-throw", "throws", Effect::read_only,
                         [](Request&) -> Response { throw std::runtime_error("disk on fire"); }));
  start();
  const auto r = must_call("test-throw");
  EXPECT_EQ(r.result, ResultCode::error);
  EXPECT_NE(r.text.find("disk on fire"), std::string::npos) << r.text;
}

// A coroutine handler can do its work on a worker thread and answer when done.
TEST_F(AdminServerTest, CoroutineHandlerRunsOnWorker) {
  boost::asio::thread_pool pool(1);
  ASSERT_TRUE(registry_.add("test-worker", "computes on a worker", Effect::read_only,
                            [&pool](Request) -> boost::asio::awaitable<Response> {
                              const auto loop_thread = std::this_thread::get_id();
                              const auto worker_thread = co_await run_on(
                                  pool.get_executor(), [] { return std::this_thread::get_id(); });
                              json::object args;
                              args["other_thread"] = worker_thread != loop_thread;
                              args["back_on_loop"] = std::this_thread::get_id() == loop_thread;
                              co_return Response::success("ok", std::move(args));
                            }));
  start();
  const auto r = must_call("test-worker");
  ASSERT_EQ(r.result, ResultCode::success) << r.text;
  EXPECT_TRUE(r.arguments.at("other_thread").as_bool());
  EXPECT_TRUE(r.arguments.at("back_on_loop").as_bool());
  pool.join();
}

// An exception thrown on the worker reaches the client as result 1.
TEST_F(AdminServerTest, WorkerExceptionIsResultOne) {
  boost::asio::thread_pool pool(1);
  ASSERT_TRUE(registry_.add("test-worker-throw", "fails on a worker", Effect::read_only,
                            [&pool](Request) -> boost::asio::awaitable<Response> {
                              co_await run_on(pool.get_executor(), []() -> void {
                                throw std::runtime_error("worker broke");
                              });
                              co_return Response::success("unreachable");
                            }));
  start();
  const auto r = must_call("test-worker-throw");
  EXPECT_EQ(r.result, ResultCode::error);
  EXPECT_NE(r.text.find("worker broke"), std::string::npos) << r.text;
  pool.join();
}

// A second server on the same path fails with the lock error (errc::conflict) while the first
// lives, does not disturb it, and succeeds once the first is gone.
TEST_F(AdminServerTest, SecondInstanceGetsLockError) {
  start();
  Registry other;
  auto second = Server::listen(io_.get_executor(), other, default_options());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, make_error_code(errc::conflict));
  EXPECT_NE(second.error().message.find("admin.sock.lock"), std::string::npos);
  // The first instance's socket is untouched.
  EXPECT_EQ(must_call("list-commands").result, ResultCode::success);

  stop_loop();  // destroys the first server: socket removed, lock released
  EXPECT_FALSE(std::filesystem::exists(socket_path()));
  boost::asio::io_context io2;
  auto third = Server::listen(io2.get_executor(), other, default_options());
  ASSERT_TRUE(third) << third.error().what();
}

// A stale socket file left by a dead instance (no lock held) is replaced.
TEST_F(AdminServerTest, ReplacesStaleSocketFile) {
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string s = socket_path().string();
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // the file stays behind, nobody listens
  }
  ASSERT_TRUE(std::filesystem::is_socket(socket_path()));
  ASSERT_FALSE(call(socket_path(), "list-commands"));  // refused: it is stale
  start();
  EXPECT_EQ(must_call("list-commands").result, ResultCode::success);
}

// An instance killed with SIGKILL leaves its socket file behind but the kernel drops its lock:
// the next instance takes over the path.
TEST_F(AdminServerTest, TakesOverAfterKilledInstance) {
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    boost::asio::io_context io;
    Registry r;
    auto s = Server::listen(io.get_executor(), r, default_options());
    const char c = s ? '1' : '0';
    (void)!::write(ready[1], &c, 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, '1');
  // While the child lives, its lock holds.
  Registry other;
  auto refused = Server::listen(io_.get_executor(), other, default_options());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(errc::conflict));
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(std::filesystem::is_socket(socket_path()));  // left behind
  start();
  EXPECT_EQ(must_call("list-commands").result, ResultCode::success);
}

// A regular file at the socket path is not deleted; setting up fails instead.
TEST_F(AdminServerTest, RefusesToReplaceRegularFile) {
  { std::ofstream(socket_path()) << "precious"; }
  auto s = Server::listen(io_.get_executor(), registry_, default_options());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not a socket"), std::string::npos);
  std::ifstream in(socket_path());
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

// The configured mode is applied to the socket file, whatever the umask.
TEST_F(AdminServerTest, SocketModeApplied) {
  const mode_t old = ::umask(0);
  auto o = default_options();
  o.socket_mode = 0600;
  start(o);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// Mode 0660 (the default) is applied too.
TEST_F(AdminServerTest, DefaultSocketModeIs0660) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
}

// Missing parent directories are created with mode 0750 even under a permissive umask.
TEST_F(AdminServerTest, ParentDirectoryCreated0750) {
  auto o = default_options();
  o.socket_path = dir_.path() / "run" / "dialerd" / "admin.sock";
  const mode_t old = ::umask(0);
  start(o);
  ::umask(old);
  for (const auto& d : {dir_.path() / "run", dir_.path() / "run" / "dialerd"}) {
    struct stat st {};
    ASSERT_EQ(::stat(d.c_str(), &st), 0) << d;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0750u) << d;
  }
  EXPECT_EQ(call(o.socket_path, "list-commands")->result, ResultCode::success);
}

// A path that does not fit a sockaddr_un is refused with a clear message.
TEST_F(AdminServerTest, OverlongPathRefused) {
  auto o = default_options();
  o.socket_path = dir_.path() / (std::string(120, 'a') + ".sock");
  auto s = Server::listen(io_.get_executor(), registry_, o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, make_error_code(errc::invalid_argument));
  EXPECT_NE(s.error().message.find("too long"), std::string::npos);
}

// A descriptor passed with the request reaches the handler as an owned fd it can read.
TEST_F(AdminServerTest, FdPassingRoundTrip) {
  const auto file = dir_.path() / "contacts.csv";
  { std::ofstream(file) << "phone,name\n+919876543210,Asha\n"; }
  ASSERT_TRUE(registry_.add_sync(
      "test-read-fd", "reads the passed file", Effect::read_only, [](Request& q) {
        if (q.fds.size() != 1) return Response::error("want one fd");
        UniqueFd fd = std::move(q.fds[0]);
        std::string content(4096, '\0');
        const ssize_t n = ::pread(fd.get(), content.data(), content.size(), 0);
        content.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        const int flags = ::fcntl(fd.get(), F_GETFD);
        json::object args;
        args["content"] = content;
        args["cloexec"] = (flags & FD_CLOEXEC) != 0;
        return Response::success("read", std::move(args));
      }));
  start();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const int fds[] = {fd};
  const auto r = must_call("test-read-fd", {}, fds);
  ::close(fd);
  ASSERT_EQ(r.result, ResultCode::success) << r.text;
  EXPECT_EQ(r.arguments.at("content"), "phone,name\n+919876543210,Asha\n");
  EXPECT_TRUE(r.arguments.at("cloexec").as_bool());
}

// Descriptors a handler does not take are closed by the server once the request is done.
TEST_F(AdminServerTest, UnusedFdsAreClosed) {
  add_result_handlers(registry_);
  start();
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const int fds[] = {p[1]};
  EXPECT_EQ(must_call("test-ok", {}, fds).result, ResultCode::success);
  ::close(p[1]);
  // EOF on the read end proves no copy of the write end is left open in the server.
  pollfd pf{p[0], POLLIN, 0};
  ASSERT_EQ(::poll(&pf, 1, 20'000), 1);
  char c;
  EXPECT_EQ(::read(p[0], &c, 1), 0);
  ::close(p[0]);
}

// More descriptors than allowed: result 1, and all of them are closed.
TEST_F(AdminServerTest, TooManyFdsRefused) {
  add_result_handlers(registry_);
  auto o = default_options();
  o.max_fds = 2;
  start(o);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const int fds[] = {p[1], p[1], p[1]};
  const auto r = must_call("test-ok", {}, fds);
  EXPECT_EQ(r.result, ResultCode::error);
  EXPECT_NE(r.text.find("too many file descriptors"), std::string::npos) << r.text;
  ::close(p[1]);
  pollfd pf{p[0], POLLIN, 0};
  ASSERT_EQ(::poll(&pf, 1, 20'000), 1);
  char c;
  EXPECT_EQ(::read(p[0], &c, 1), 0);
  ::close(p[0]);
}

// A peer outside the allowed uid/gid lists gets "permission denied" (result 1), the handler
// does not run, and the refusal is audited with the command it tried.
TEST_F(AdminServerTest, PeerCheckRefuses) {
  bool ran = false;
  ASSERT_TRUE(
      registry_.add_sync("test-start", "changes state", Effect::changes_state, [&ran](Request&) {
        ran = true;
        return Response::success("started");
      }));
  auto o = default_options();
  o.allowed_uids = {::getuid() + 4242};
  o.allowed_gids = {::getgid() + 4242};
  start(o);
  const auto r = must_call("test-start", {{"campaign", "spring"}, {"api_key", "rg_live_x"}});
  EXPECT_EQ(r.result, ResultCode::error);
  EXPECT_EQ(r.text, "permission denied");
  stop_loop();
  EXPECT_FALSE(ran);
  const auto events = audits();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].command, "test-start");
  EXPECT_EQ(events[0].result, ResultCode::error);
  EXPECT_EQ(events[0].peer.uid, ::getuid());
  EXPECT_FALSE(events[0].arguments.contains("api_key"));
}

// A peer whose uid is listed is let in.
TEST_F(AdminServerTest, PeerCheckAdmitsListedUid) {
  add_result_handlers(registry_);
  auto o = default_options();
  o.allowed_uids = {::getuid()};
  start(o);
  EXPECT_EQ(must_call("test-ok").result, ResultCode::success);
}

// The peer rule: empty lists admit all; a listed uid, primary gid or supplementary gid admits.
TEST(AdminPeerCheck, Rules) {
  PeerCredentials p;
  p.uid = 1000;
  p.gid = 1000;
  p.groups = {1000, 27, 998};
  EXPECT_TRUE(is_peer_allowed(p, {}, {}));
  EXPECT_TRUE(is_peer_allowed(p, {1000}, {}));
  EXPECT_TRUE(is_peer_allowed(p, {}, {1000}));
  EXPECT_TRUE(is_peer_allowed(p, {0}, {998}));
  EXPECT_FALSE(is_peer_allowed(p, {0}, {}));
  EXPECT_FALSE(is_peer_allowed(p, {}, {5}));
}

// State-changing commands are audited with secrets stripped and their result; read-only and
// unknown commands are not.
TEST_F(AdminServerTest, AuditsStateChangesOnlyWithoutSecrets) {
  add_result_handlers(registry_);
  ASSERT_TRUE(registry_.add_sync("test-pause", "changes state", Effect::changes_state,
                                 [](Request&) { return Response::conflict("already paused"); }));
  start();
  const json::object args{
      {"campaign", "spring"},
      {"api_key", "rg_live_secret"},
      {"webhook", json::object{{"secrets", json::array{"whsec_1"}}, {"path", "/hook"}}},
      {"Password", "hunter2"}};
  EXPECT_EQ(must_call("test-ok", args).result, ResultCode::success);
  EXPECT_EQ(must_call("test-pause", args).result, ResultCode::conflict);
  EXPECT_EQ(must_call("no-such-command", args).result, ResultCode::unknown_command);
  stop_loop();
  const auto events = audits();
  ASSERT_EQ(events.size(), 1u);
  const auto& e = events[0];
  EXPECT_EQ(e.command, "test-pause");
  EXPECT_EQ(e.result, ResultCode::conflict);
  EXPECT_EQ(e.text, "already paused");
  EXPECT_EQ(e.peer.uid, ::getuid());
  EXPECT_EQ(e.arguments,
            (json::object{{"campaign", "spring"}, {"webhook", json::object{{"path", "/hook"}}}}));
  const std::string dumped = json::serialize(e.arguments);
  EXPECT_EQ(dumped.find("rg_live"), std::string::npos);
  EXPECT_EQ(dumped.find("whsec"), std::string::npos);
  EXPECT_EQ(dumped.find("hunter2"), std::string::npos);
}

// Connections over the limit are answered "busy" (result 1) while earlier ones are served.
TEST_F(AdminServerTest, ConnectionLimitAnswersBusy) {
  boost::asio::thread_pool pool(1);
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  ASSERT_TRUE(registry_.add("test-block", "waits for the test", Effect::read_only,
                            [&](Request) -> boost::asio::awaitable<Response> {
                              co_await run_on(pool.get_executor(), [&] {
                                entered.set_value();
                                released.wait();
                              });
                              co_return Response::success("released");
                            }));
  auto o = default_options();
  o.max_connections = 1;
  start(o);
  auto first = std::async(std::launch::async, [&] { return call(socket_path(), "test-block"); });
  entered.get_future().wait();
  const auto busy = must_call("list-commands");
  EXPECT_EQ(busy.result, ResultCode::error);
  EXPECT_NE(busy.text.find("busy"), std::string::npos) << busy.text;
  release.set_value();
  const auto r = first.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "released");
  pool.join();
}

// The client reports a missing socket with the path and the errno text.
TEST(AdminClient, ConnectFailureNamesPathAndReason) {
  TempDir dir;
  const auto r = call(dir.path() / "nobody.sock", "status-get");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::io_error));
  EXPECT_NE(r.error().message.find("nobody.sock"), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos);
}

}  // namespace
}  // namespace dialer::admin::test
