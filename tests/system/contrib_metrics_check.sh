#!/usr/bin/env bash
# Every dialer_* / process_* metric the Grafana dashboard and the Prometheus rules name is one
# dialerd serves (names read from a live /metrics scrape passed as $2); promtool checks the
# rules when it is installed.
set -euo pipefail
src=$1 scrape=$2
served=$(sed -n 's/^\(# TYPE \)\{0,1\}\([a-z_:][a-z0-9_:]*\).*/\2/p' "$scrape" | sort -u)
named=$(grep -ohE '\b(dialer|process)_[a-z0-9_]+' \
          "$src/contrib/grafana/dialerd.json" "$src/contrib/prometheus/dialerd.rules.yml" | sort -u)
missing=0
for m in $named; do
  base=$m
  for suffix in _bucket _sum _count; do base=${base%"$suffix"}; done
  if ! grep -qx "$m" <<<"$served" && ! grep -qx "$base" <<<"$served"; then
    echo "named but not served: $m"; missing=1
  fi
done
[ $missing -eq 0 ] || exit 1
echo "$(wc -w <<<"$named") metric names, all served"
if command -v promtool >/dev/null; then
  promtool check rules "$src/contrib/prometheus/dialerd.rules.yml"
else
  echo "promtool not installed: rules syntax not checked"
fi
