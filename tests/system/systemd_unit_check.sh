#!/usr/bin/env bash
# Proves the shipped unit file is valid (systemd-analyze verify, no messages at all) and that its
# sandboxing scores at most 2.0 on systemd-analyze security. The unit is generated at install
# time with the install prefix; here it is generated pointing at the built binary.
set -euo pipefail
src=$1 bin_dir=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed "s|@DIALERD_BINDIR@|$bin_dir|g; s|@DIALERD_DOCDIR@|/usr/share/doc/dialerd|g" \
  "$src/systemd/dialerd.service.in" >"$tmp/dialerd.service"
# PrivateUsers= would map operators' uids to 65534 for SO_PEERCRED (allowed_uids, the audit log).
if grep -q '^PrivateUsers=' "$tmp/dialerd.service"; then echo "PrivateUsers= is set"; exit 1; fi
out=$(systemd-analyze verify "$tmp/dialerd.service" 2>&1 || true)
if [ -n "$out" ]; then echo "verify is not clean:"; echo "$out"; exit 1; fi
score=$(systemd-analyze security --offline=yes "$tmp/dialerd.service" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "exposure score: $score"
[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
