#!/usr/bin/env bash
# scripts/check-seams must refuse what it names: a contact/attempt state written outside
# store/<backend>/state_writes.cpp (a statement split over literals included), StateWrites used outside the
# lifecycle, an include or a link of a module above, the engine naming a store backend, an unformatted file — and pass a clean tree.
# Each case is a small git tree in a temp dir holding a copy of the script.
set -euo pipefail
src=${1:?usage: check_seams_test.sh PROJECT_SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

tree() {  # a fresh tree with the script, the repo's .clang-format and a clean store file
  rm -rf "$tmp/t"
  mkdir -p "$tmp/t/scripts" "$tmp/t/store" "$tmp/t/scheduler"
  cp "$src/scripts/check-seams" "$tmp/t/scripts/"
  cp "$src/.clang-format" "$tmp/t/"
  printf 'int f();\n' >"$tmp/t/store/ok.cpp"
  printf 'dialer_module(dialer_store DEPS dialer_core)\n' >"$tmp/t/store/CMakeLists.txt"
}
run() {  # NAME EXPECTED_EXIT [PATTERN the output must hold]
  (cd "$tmp/t" && git init -q . && git add -A) >/dev/null
  local rc=0
  "$tmp/t/scripts/check-seams" >"$tmp/out" 2>&1 || rc=$?
  if [[ $rc != "$2" ]] || { [[ -n ${3:-} ]] && ! grep -q -- "$3" "$tmp/out"; }; then
    echo "FAIL $1: exit $rc, expected $2${3:+ and \"$3\"}"
    cat "$tmp/out"
    failures=$((failures + 1))
  else
    echo "ok   $1"
  fi
}

tree
run "a clean tree passes" 0

tree
printf 'const char* q =\n    "UPDATE contacts SET"\n    " state = ?";\n' >"$tmp/t/scheduler/bad.cpp"
run "a contact state written in scheduler/, split over literals" 1 \
  "scheduler/bad.cpp:2: UPDATE contacts SET state = ?"

tree
printf 'const char* q = "UPDATE attempts SET error = ?, state = ?";\n' >"$tmp/t/store/bad.cpp"
run "an attempt state among other columns" 1 "store/bad.cpp:1: UPDATE attempts SET error"

tree
printf 'const char* q = "UPDATE attempts SET sent_at = ? WHERE state = 1";\n' >"$tmp/t/store/ok2.cpp"
run "state in a WHERE clause is no write" 0

tree
printf 'const char* q = "INSERT INTO attempts (state) VALUES (1)";\n' >"$tmp/t/store/bad.cpp"
run "an attempt inserted outside state_writes" 1 "store/bad.cpp:1: INSERT INTO attempts"

tree
printf 'struct StateWrites;\nStateWrites* w = nullptr;\n' >"$tmp/t/scheduler/bad.cpp"
run "StateWrites named outside the lifecycle" 1 "StateWrites used outside"

tree
printf '#include "scheduler/x.hpp"\n' >"$tmp/t/store/bad.cpp"
run "store includes scheduler" 1 "store/bad.cpp:1: store includes scheduler/"

tree
printf '#include "store/sqlite/database.hpp"\n' >"$tmp/t/scheduler/bad.cpp"
run "the engine names a store backend" 1 "scheduler/bad.cpp:1: includes a store backend"

tree
mkdir -p "$tmp/t/store/sqlite"
printf 'const char* q = "UPDATE contacts SET state = ?";\n' >"$tmp/t/store/sqlite/state_writes.cpp"
run "a backend's state_writes.cpp may write states" 0

tree
printf 'dialer_module(dialer_store DEPS dialer_core dialer_api_webhook)\n' >"$tmp/t/store/CMakeLists.txt"
run "store links api" 1 "store links dialer_api_webhook"

tree
printf 'int   g( ) {return 2;}\n' >"$tmp/t/store/ugly.cpp"
if command -v clang-format >/dev/null; then
  run "an unformatted file" 1 "not clang-formatted: store/ugly.cpp"
else
  echo "skip an unformatted file: clang-format not installed"
fi

((failures == 0))
