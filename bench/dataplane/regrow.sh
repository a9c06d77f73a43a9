#!/usr/bin/env bash
# A pool that grows again after a quiet spell: the one-hop row (proxy ═mTLS═► origin) runs 1,000 rps over 16
# connections for 2 s, then 20 rps for REGROW_QUIET seconds (default 305; its pool shrinks to the one or two
# connections that rate needs, the others closed by the 4-minute idle timeout), then 1,000 rps again for 5 s,
# measured: the pool opens new mTLS connections while the established ones carry the load. After 5 minutes without
# a certificate chain built, .NET reads the system's whole root store again in the next one (50-120 ms here, even
# for a chain with our anchors only), so with REGROW_QUIET past 300 that cost falls in the measured seconds. Prints,
# per binary, the p50 / p99 / max of the measured requests and how many took 5 ms or more.
#   BENCH_ONLY=fedmesh BENCH_HOLD=3000 BENCH_OUT=/tmp/b bench/dataplane/run.sh &     # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/regrow.sh BINARY...    # ~5.5 min per binary; then rm /tmp/b/hold
# Each BINARY (a `dotnet publish deploy/dataplane -c Release -o DIR` of a tree) is installed in turn (install.sh).
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
. "$(dirname "${BASH_SOURCE[0]}")/held.sh"
[ $# -ge 1 ] || { echo "usage: BENCH_OUT=DIR $0 BINARY..." >&2; exit 2; }
quiet=${REGROW_QUIET:-305}
[[ "$quiet" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "$script: REGROW_QUIET must be 1 to 999 seconds, not '$quiet'" >&2; exit 2; }
need_targets
declare -A target host pids
lg() { nice -n "$NICE" taskset -c $LG_CPU "$loadgen" --target "${target[fedmesh]}" --host "${host[fedmesh]}" --path /1k --connections 16 "$@"; }

for binary in "$@"; do
  install_dataplane "$binary"
  held_rows fedmesh
  lg --rate 1000 --seconds 2 >/dev/null
  lg --rate 20 --seconds "$quiet" >/dev/null
  slow=$(mktemp)
  result=$(lg --rate 1000 --seconds 5 --slow-ms 5 2>"$slow")
  jq -r --arg b "$binary" --argjson n "$(grep -c '^slow ' "$slow" || true)" \
    '"\($b): p50 \(.P50Us|floor) µs, p99 \(.P99Us|floor) µs, max \(.MaxUs|floor) µs, \($n) of \(.Requests) requests took 5 ms or more, errors \(.Errors)"' <<<"$result"
  rm -f "$slow"
done
