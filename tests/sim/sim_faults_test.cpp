// Request faults as a client meets them (5xx, reset, response lost after the call was created,
// held connection, slow answer), and the referee: with every fault on, GET /_sim/stats matches
// what the client and the webhook receiver observed.
#include "sim_test_support.hpp"

namespace dialer::sim::test {
namespace {

SimOptions with_fault(Fault f, double p = 1.0) {
  auto o = base_options();
  o.time_scale = 1e-6;
  o.calls_per_minute = 1'000'000;
  o.faults.set(f, p);
  return o;
}

void faults_off(TestClient& c) {
  json::object all;
  for (auto f : all_faults()) all[fault_name(f)] = 0;
  c.control("/_sim/faults", all);
}

// error_5xx: starts are answered 500, 502 (a proxy's HTML page) or 503, and no call exists.
TEST(SimFaults, Error5xxCreatesNothing) {
  auto sim = start_sim(with_fault(Fault::error_5xx));
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  std::set<int> statuses;
  for (int i = 0; i < 12; ++i) {
    auto r = c.start("+919800000001");
    ASSERT_EQ(r.ending, Ending::answered);
    EXPECT_TRUE(r.status == 500 || r.status == 502 || r.status == 503) << r;
    if (r.status == 502) {
      EXPECT_EQ(r.content_type, "text/html");
    } else {
      EXPECT_EQ(r.error_code(), "INTERNAL_ERROR");
    }
    statuses.insert(r.status);
  }
  EXPECT_GE(statuses.size(), 2u);
  faults_off(c);
  EXPECT_EQ(c.get("/api/v2/calls").data().at("total"), 0);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/faults/error_5xx"), 12u);
  EXPECT_EQ(u(st, "/calls_started"), 0u);
}

// reset: the request is read, then the connection is reset; no call exists.
TEST(SimFaults, ResetCreatesNothing) {
  auto sim = start_sim(with_fault(Fault::reset));
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto r = c.start("+919800000001");
  EXPECT_EQ(r.ending, Ending::reset) << r;
  faults_off(c);
  EXPECT_EQ(c.get("/api/v2/calls").data().at("total"), 0);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/faults/reset"), 1u);
  EXPECT_EQ(u(st, "/calls_started"), 0u);
  EXPECT_EQ(u(st, "/requests/calls"), 2u);
}

// lost_response: the call is created but the connection closes without an answer; GET /calls
// shows the call the client could not know about.
TEST(SimFaults, LostResponseCreatesTheCall) {
  auto sim = start_sim(with_fault(Fault::lost_response));
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  EXPECT_EQ(c.get("/api/v2/config").ending, Ending::answered);  // applies to starts only
  auto r = c.start("+919800000001");
  EXPECT_EQ(r.ending, Ending::closed) << r;
  faults_off(c);
  auto list = c.get("/api/v2/calls").data();
  EXPECT_EQ(list.at("total"), 1);
  EXPECT_EQ(s(list, "/calls/0/to_number"), "+919800000001");
  EXPECT_EQ(s(list, "/calls/0/agent_id"), kAgent);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/faults/lost_response"), 1u);
  EXPECT_EQ(u(st, "/calls_started"), 1u);
}

// lost_response_hold: the call is created and the connection stays silent past the client's
// deadline.
TEST(SimFaults, HeldResponseOutlastsTheClientDeadline) {
  auto o = with_fault(Fault::lost_response_hold);
  o.hold_time = Millis{120'000};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  c.set_deadline(std::chrono::milliseconds(1500));
  auto r = c.start("+919800000001");
  EXPECT_EQ(r.ending, Ending::timeout) << r;
  c.set_deadline(std::chrono::milliseconds(30'000));
  faults_off(c);
  EXPECT_EQ(c.get("/api/v2/calls").data().at("total"), 1);
  EXPECT_EQ(u(c.stats(), "/faults/lost_response_hold"), 1u);
}

// slow: the right answer arrives, no sooner than --slow-delay.
TEST(SimFaults, SlowResponseArrivesLate) {
  auto o = with_fault(Fault::slow);
  o.slow_delay = Millis{300};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto r = c.start("+919800000001");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_GE(r.elapsed, std::chrono::milliseconds(300));
  faults_off(c);
  EXPECT_EQ(c.get("/api/v2/calls").data().at("total"), 1);
  EXPECT_EQ(u(c.stats(), "/faults/slow"), 1u);
}

// slow_start: the call exists at once, its answer comes after the client gave up; only starts
// are slowed.
TEST(SimFaults, SlowStartCreatesTheCallBeforeItAnswers) {
  auto o = with_fault(Fault::slow_start);
  o.slow_delay = Millis{60'000};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  c.set_deadline(std::chrono::milliseconds(1500));
  EXPECT_EQ(c.get("/api/v2/calls/concurrency").ending, Ending::answered);
  auto r = c.start("+919800000001");
  EXPECT_EQ(r.ending, Ending::timeout) << r;
  auto list = c.get("/api/v2/calls").data();  // the fault is still on: reads are not slowed
  EXPECT_EQ(list.at("total"), 1);
  EXPECT_EQ(s(list, "/calls/0/to_number"), "+919800000001");
  auto st = c.stats();
  EXPECT_EQ(u(st, "/faults/slow_start"), 1u);
  EXPECT_EQ(u(st, "/faults/slow"), 0u);
  EXPECT_EQ(u(st, "/calls_started"), 1u);
}

// list_no_total and list_short_page: a listing that cannot prove the end of the list.
TEST(SimFaults, ListingsWithoutTotalAndShortPages) {
  auto o = with_fault(Fault::list_no_total, 0.0);
  o.concurrency_limit = 20;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(c.start("+9198000000" + std::to_string(10 + i)).status, 200);
  }

  c.control("/_sim/faults", json::object{{"list_no_total", 1}});
  auto page = c.get("/api/v2/calls?limit=10").data();
  EXPECT_FALSE(page.as_object().contains("total")) << page;
  EXPECT_EQ(page.at("calls").as_array().size(), 10u);

  c.control("/_sim/faults", json::object{{"list_no_total", 0}, {"list_short_page", 1}});
  page = c.get("/api/v2/calls?limit=10&offset=2").data();
  EXPECT_EQ(page.at("total"), 10);
  ASSERT_EQ(page.at("calls").as_array().size(), 4u) << "half of the 8 records from offset 2";
  EXPECT_EQ(s(page, "/calls/0/to_number"), "+919800000017");  // newest first, from offset 2

  auto st = c.stats();
  EXPECT_EQ(u(st, "/faults/list_no_total"), 1u);
  EXPECT_EQ(u(st, "/faults/list_short_page"), 1u);
}

// With every fault on at once, a client mixing starts, reads and polls against live calls, and a
// receiver that fails some attempts: every counter of GET /_sim/stats equals what the two
// observed.
TEST(SimFaults, StatsMatchObservationsWithEveryFaultOn) {
  std::atomic<int> arrivals{0};
  WebhookReceiver receiver(
      [&](const Arrival&, std::size_t) { return Answer{arrivals++ % 5 == 0 ? 500 : 200}; });
  auto o = base_options();
  o.seed = 2026;
  o.time_scale = 200;
  o.duration_mean = Millis{20'000};
  o.concurrency_limit = 6;
  o.calls_per_minute = 60;
  o.general_per_minute = 1000;
  o.scale_rate_window = true;  // a 300 ms window: some 429s come and go
  o.slow_delay = Millis{400};
  o.hold_time = Millis{10'000};
  o.webhook_delay = Millis{2'000};
  o.webhook_timeout = Millis{1'000'000};  // 5 s real: only the receiver decides failures
  o.webhooks = {{receiver.url(), "whsec_referee"}};
  auto faults = parse_fault_list(
      "error_5xx=0.1,lost_response=0.1,lost_response_hold=0.1,reset=0.1,slow=0.1,"
      "slow_start=0.1,list_no_total=0.3,list_short_page=0.3,"
      "webhook_drop=0.15,webhook_duplicate=0.15,webhook_delay=0.15,webhook_reorder=0.15");
  ASSERT_TRUE(faults);
  o.faults = *faults;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);

  TestClient c(sim->port());
  c.set_deadline(std::chrono::milliseconds(2000));
  std::uint64_t sent_calls = 0, sent_general = 0;
  std::uint64_t ok_starts = 0, closed = 0, held = 0, resets = 0, errors_5xx = 0;
  std::uint64_t rate_429 = 0, conc_429 = 0, slow_seen = 0, other = 0;
  std::map<std::string, std::uint64_t> per_number;
  std::set<std::string> started_ids;
  std::string last_session = "00000000-0000-4000-8000-000000000000";

  auto observe = [&](const HttpResult& r, bool is_start, const std::string& number) {
    if (r.elapsed >= std::chrono::milliseconds(400)) ++slow_seen;
    switch (r.ending) {
      case Ending::reset:
        ++resets;
        return;
      case Ending::closed:
        ++closed;
        if (is_start) ++per_number[number];
        return;
      case Ending::timeout:
        ++held;
        if (is_start) ++per_number[number];
        return;
      case Ending::error:
        ADD_FAILURE() << "unexpected transport error: " << r;
        return;
      case Ending::answered:
        break;
    }
    if (r.status >= 500) {
      ++errors_5xx;
    } else if (r.status == 429) {
      ++(r.error_message().find("oncurren") != std::string::npos ? conc_429 : rate_429);
    } else if (is_start && r.status == 200) {
      ++ok_starts;
      ++per_number[number];
      started_ids.insert(s(r.data(), "/call_id"));
      last_session = s(r.data(), "/session_id");
    } else if (!is_start && (r.status == 200 || r.status == 404)) {
      // reads answered
    } else {
      ++other;
    }
  };

  for (int i = 0; i < 150; ++i) {
    std::string number = "+9198700000" + std::to_string(10 + i % 12);
    ++sent_calls;
    observe(c.start(number), true, number);
    if (i % 3 == 0) {
      ++sent_calls;
      observe(c.get("/api/v2/calls/concurrency"), false, "");
      ++sent_general;
      observe(c.get("/api/v2/sessions/" + last_session), false, "");
    }
    if (i % 10 == 0) {
      ++sent_general;
      observe(c.get("/api/v2/config"), false, "");
    }
    if (i % 4 == 0) {
      ++sent_calls;
      observe(c.get("/api/v2/calls?limit=4"), false, "");
    }
  }
  c.set_deadline(std::chrono::milliseconds(30'000));
  faults_off(c);
  ASSERT_TRUE(wait_until([&] {
    auto st = c.stats();
    return u(st, "/active") == 0 && u(st, "/webhooks/pending") == 0;
  }));
  auto st = c.stats();

  EXPECT_EQ(other, 0u);
  EXPECT_EQ(u(st, "/requests/calls"), sent_calls);
  EXPECT_EQ(u(st, "/requests/general"), sent_general);
  EXPECT_EQ(u(st, "/calls_started"), ok_starts + closed + held);
  EXPECT_EQ(u(st, "/faults/error_5xx"), errors_5xx);
  EXPECT_EQ(u(st, "/faults/reset"), resets);
  EXPECT_EQ(u(st, "/faults/lost_response"), closed);
  EXPECT_EQ(u(st, "/faults/lost_response_hold"), held);
  // every slow answer took >= the delay
  EXPECT_LE(u(st, "/faults/slow") + u(st, "/faults/slow_start"), slow_seen);
  EXPECT_EQ(u(st, "/refused/rate_calls") + u(st, "/refused/rate_general"), rate_429);
  EXPECT_EQ(u(st, "/refused/concurrency"), conc_429);
  EXPECT_EQ(u(st, "/refused/auth") + u(st, "/refused/validation") + u(st, "/refused/credits") +
                u(st, "/refused/provider") + u(st, "/refused/not_found"),
            0u);
  EXPECT_LE(u(st, "/max_concurrent"), 6u);
  EXPECT_EQ(u(st, "/limit_violations"), 0u);
  for (const auto& [number, n] : per_number) {
    EXPECT_EQ(u(st, "/numbers/" + number + "/calls"), n) << number;
  }
  EXPECT_EQ(st.at("numbers").as_object().size(), per_number.size());
  // Every fault actually happened in this run.
  for (auto f : all_faults())
    EXPECT_GT(u(st, "/faults/" + std::string(fault_name(f))), 0u) << fault_name(f);

  // Webhooks: the receiver's view.
  auto got = receiver.arrivals();
  std::uint64_t non2xx = 0, acked = 0;
  for (const auto& a : got) (a.answered >= 200 && a.answered < 300 ? acked : non2xx)++;
  EXPECT_EQ(u(st, "/webhooks/sent"), got.size());
  EXPECT_EQ(u(st, "/webhooks/failed"), non2xx);
  EXPECT_EQ(u(st, "/webhooks/delivered"), acked);
  EXPECT_EQ(u(st, "/calls_ended") + u(st, "/webhooks/duplicated"),
            u(st, "/webhooks/delivered") + u(st, "/webhooks/dropped"));
  EXPECT_EQ(u(st, "/webhooks/dropped"), u(st, "/webhooks/dropped_by_fault") +
                                            u(st, "/webhooks/exhausted") +
                                            u(st, "/webhooks/overflow"));
  EXPECT_EQ(u(st, "/webhooks/sent"), u(st, "/webhooks/delivered") + u(st, "/webhooks/failed"));
  EXPECT_EQ(u(st, "/webhooks/retried"), u(st, "/webhooks/failed") - u(st, "/webhooks/exhausted"));

  // Per-call records: every call the sim counted is listed, every 200 start among them, and
  // the credits spent are the listed talk seconds / 60.
  std::set<std::string> listed;
  std::int64_t seconds = 0;
  for (std::int64_t offset = 0;; offset += 100) {
    HttpResult page;
    ASSERT_TRUE(wait_until([&] {
      page = c.get("/api/v2/calls?limit=100&offset=" + std::to_string(offset));
      return page.status == 200;  // the 300 ms window may refuse a poll or two
    }));
    auto data = page.data();
    for (const auto& call : data.at("calls").as_array()) {
      listed.insert(s(call, "/call_id"));
      seconds += call.at("duration_seconds").to_number<std::int64_t>();
    }
    if (offset + 100 >= data.at("total").to_number<std::int64_t>()) break;
  }
  EXPECT_EQ(listed.size(), u(st, "/calls_started"));
  for (const auto& id : started_ids) EXPECT_TRUE(listed.contains(id)) << id;
  EXPECT_DOUBLE_EQ(d(json::value(st), "/credits_spent"), static_cast<double>(seconds) / 60.0);
}

}  // namespace
}  // namespace dialer::sim::test
