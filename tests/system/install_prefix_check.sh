#!/usr/bin/env bash
# The installed unit names the binary where `cmake --install` put it: under the prefix given
# (/usr/local by default), and /usr/bin for a package staged with DESTDIR and prefix /usr.
set -euo pipefail
build=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/local" >/dev/null
unit="$tmp/local/lib/systemd/system/dialerd.service"
grep -qx "ExecStart=$tmp/local/bin/dialerd --config /etc/dialerd/dialerd.yaml" "$unit" ||
  { echo "prefix install: wrong ExecStart in $unit:"; grep Exec "$unit"; exit 1; }
[ -x "$tmp/local/bin/dialerd" ] || { echo "no $tmp/local/bin/dialerd"; exit 1; }
DESTDIR="$tmp/stage" cmake --install "$build" --prefix /usr >/dev/null
staged="$tmp/stage/usr/lib/systemd/system/dialerd.service"
grep -qx "ExecStart=/usr/bin/dialerd --config /etc/dialerd/dialerd.yaml" "$staged" ||
  { echo "staged install: wrong ExecStart in $staged:"; grep Exec "$staged"; exit 1; }
[ -x "$tmp/stage/usr/bin/dialerd" ] || { echo "no staged /usr/bin/dialerd"; exit 1; }
if grep -q "@DIALERD" "$unit" "$staged"; then echo "unsubstituted placeholder"; exit 1; fi
echo "unit follows the prefix: $tmp/local/bin/dialerd and /usr/bin/dialerd"
