#!/usr/bin/env bash
# scripts/bench forecast: how good is campaign-forecast? vocobase-sim (60x time, 120 /calls/* a
# minute, concurrency 8, seeded outcome mix) and dialerd in a temp dir; a campaign of N contacts
# (default 400) is started, forecast once 10 % of its contacts are finished, then run to the end.
# Prints one JSON line: predicted vs actual time left and credits from the forecast on, and
# their relative errors (goal <= 0.10 each).
#
#   bench_forecast.sh BIN_DIR [--contacts N] [--at FRACTION] [--seed N]
set -euo pipefail
bin=$1
shift
contacts=400
at=0.10
seed=11
while [ $# -gt 0 ]; do
  case "$1" in
    --contacts) contacts=$2; shift 2 ;;
    --at) at=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "bench_forecast: unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }
webhook_port=$(port)
"$bin/vocobase-sim" --listen 127.0.0.1:0 --api-key k_bench --time-scale 60 \
  --calls-per-minute 120 --concurrency-limit 8 --duration-mean 90s --seed "$seed" \
  --outcomes completed=0.55,no_answer=0.2,busy=0.1,voicemail=0.1,failed=0.05 \
  --webhook "http://127.0.0.1:$webhook_port/webhooks/vocobase=whsec_bench" \
  >"$work/sim.out" 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
sim=$(sed -n 's/^listening on //p' "$work/sim.out" | head -n 1)
[ -n "$sim" ] || { echo "bench_forecast: vocobase-sim did not start" >&2; exit 1; }

cat >"$work/dialerd.yaml" <<YAML
vocobase:
  base_url: http://$sim/api/v2
  api_key: k_bench
  calls_per_minute: 120
webhook:
  listen: 127.0.0.1:$webhook_port
  secrets: [whsec_bench]
admin:
  socket: $work/admin.sock
store:
  path: $work/dialerd.db
  synchronous: normal
metrics:
  listen: ""
scheduler:
  credit_poll_interval: 10s
defaults:
  window: { days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00", end_margin: 0s }
  max_concurrency: 8
  retry: { no_answer: {delay: 15s, max: 2}, busy: {delay: 10s, max: 3}, voicemail: {delay: 20s, max: 2}, failed: {delay: 10s, max: 2} }
logging:
  level: warn
YAML
"$bin/dialerd" --config "$work/dialerd.yaml" 2>"$work/dialerd.log" &
pids+=($!)
ctl() { "$bin/dialerctl" --socket "$work/admin.sock" "$@"; }
for _ in $(seq 1 100); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done

{
  echo phone
  for i in $(seq 1 "$contacts"); do printf '+9198%08d\n' "$i"; done
} >"$work/contacts.csv"
ctl campaign create fc --agent 11111111-2222-3333-4444-555555555555 >/dev/null
ctl import fc "$work/contacts.csv" >/dev/null
ctl campaign start fc >/dev/null

# A member of campaign-get's JSON: numbers and strings, flat keys only.
field() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -n 1; }
finished() { ctl --json campaign stats fc | field contacts_finished; }
target=$(awk -v n="$contacts" -v a="$at" 'BEGIN { printf "%d", n * a + 0.5 }')
while :; do
  f=$(finished || true)
  [[ "$f" =~ ^[0-9]+$ ]] && [ "$f" -ge "$target" ] && break
  sleep 0.2
done

forecast_at=$(date +%s.%N)
credits_at=$(ctl --json campaign get fc | field credits_used)
attempts_at=$(ctl --json campaign get fc | field attempts)
ctl --json campaign forecast fc --max-seconds 120 >"$work/forecast.json"
finish_at=$(field finish_at <"$work/forecast.json")
pred_credits=$(field credits <"$work/forecast.json")
pred_calls=$(field calls <"$work/forecast.json")
wall_ms=$(field wall_ms <"$work/forecast.json")
[ -n "$finish_at" ] || { echo "bench_forecast: no finish_at:" >&2; cat "$work/forecast.json" >&2; exit 1; }

while [ "$(ctl --json campaign get fc | field state || true)" != completed ]; do sleep 0.5; done
actual_finish=$(ctl --json campaign get fc | field completed_at)
credits_end=$(ctl --json campaign get fc | field credits_used)
attempts_end=$(ctl --json campaign get fc | field attempts)

awk -v fa="$forecast_at" -v pf="$(date -d "$finish_at" +%s.%N)" -v af="$(date -d "$actual_finish" +%s.%N)" \
  -v pc="$pred_credits" -v c0="$credits_at" -v c1="$credits_end" -v pcalls="$pred_calls" \
  -v a0="$attempts_at" -v a1="$attempts_end" -v n="$contacts" -v at="$at" -v wall="$wall_ms" 'BEGIN {
  pl = pf - fa; al = af - fa; ac = c1 - c0; acalls = a1 - a0
  te = (al > 0) ? (pl - al) / al : 0; ce = (ac > 0) ? (pc - ac) / ac : 0
  met = (te <= 0.10 && te >= -0.10 && ce <= 0.10 && ce >= -0.10) ? "true" : "false"
  printf "{\"scenario\":\"forecast\",\"contacts\":%d,\"forecast_at_finished\":%.2f,\"predicted_left_s\":%.1f,\"actual_left_s\":%.1f,\"finish_error\":%.3f,\"predicted_credits\":%.2f,\"actual_credits\":%.2f,\"credits_error\":%.3f,\"predicted_calls\":%d,\"actual_calls\":%d,\"forecast_wall_ms\":%d,\"goal\":0.10,\"met\":%s}\n", n, at, pl, al, te, pc, ac, ce, pcalls, acalls, wall, met
  printf "bench_forecast: at %d%% finished: time left predicted %.0f s, actual %.0f s (error %+.1f%%); credits predicted %.2f, actual %.2f (error %+.1f%%); calls %d vs %d; forecast took %d ms — %s\n", at * 100, pl, al, te * 100, pc, ac, ce * 100, pcalls, acalls, wall, (met == "true" ? "met" : "NOT met") > "/dev/stderr"
}'
