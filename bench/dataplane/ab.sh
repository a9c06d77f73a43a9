#!/usr/bin/env bash
# A/B of two data-plane binaries in one held run: how a change to the proxy or the gateway moves CPU per request,
# throughput and latency, with the host's drift spread over both. Whole runs of run.sh swing by ±10 % on a shared
# machine; swapping the binaries back and forth inside one run, in rotated order, is what tells a 5 % change apart.
# Each round installs each binary in turn as east's proxy and west's gateway (restarted by the supervisor, then
# pinned to the proxy core as run.sh pins them) and measures, per row (fedmesh: one hop; fedmesh-x: cross-cluster):
#   saturation: wrk -t1 -c16 for AB_SECONDS: rps, and CPU µs per request of each FedMesh process of the row;
#   1,000 rps over 16 connections for AB_SECONDS: p50 and p99 (µs, not added), CPU µs per request of the row.
# Then prints the median of each figure per binary and the ratio B / A. The one-hop row's figures also show how much
# the host drifted: a change to the gateway alone should leave them at B/A 1.00 (they moved by ±6 % over 8 rounds).
# Needs a held run of the native data plane with the fedmesh and fedmesh-x rows:
#   BENCH_ONLY="fedmesh fedmesh-x" BENCH_HOLD=3000 BENCH_OUT=/tmp/b bench/dataplane/run.sh &   # wait for /tmp/b/targets
#   dotnet publish deploy/dataplane -c Release -o /tmp/a      # one binary per tree, e.g. before and after a change
#   BENCH_OUT=/tmp/b bench/dataplane/ab.sh /tmp/a/fedmesh-dataplane /tmp/b2/fedmesh-dataplane [ROUNDS]   # default 4
# A binary may be preceded by the environment to start it with, in the same argument (one binary, two settings):
#   BENCH_OUT=/tmp/b bench/dataplane/ab.sh /tmp/a/fedmesh-dataplane "FEDMESH_BUSY_POLL_US=100 /tmp/a/fedmesh-dataplane" 6
# The last binary measured stays installed. The parts it restarts are not the ones the held run measures after its
# hold: use the hold for this only (then rm /tmp/b/hold).
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
[ $# -ge 2 ] || { echo "usage: BENCH_OUT=DIR bench/dataplane/ab.sh BINARY_A BINARY_B [ROUNDS]" >&2; exit 2; }
bins=("$1" "$2")
rounds=${3:-4}
seconds=${AB_SECONDS:-5}
. "$(dirname "${BASH_SOURCE[0]}")/held.sh"
in_range ROUNDS "$rounds"
in_range AB_SECONDS "$seconds"
for b in "${bins[@]}"; do
  binary=${b##* }
  [ -x "$binary" ] || { echo "ab: $binary is not an executable (publish one with dotnet publish deploy/dataplane -c Release -o DIR)" >&2; exit 2; }
done
[ -f "$work/targets" ] || { echo "ab: $work/targets is missing: is a BENCH_HOLD run of the fedmesh rows holding?" >&2; exit 1; }
for row in fedmesh fedmesh-x; do
  grep -q "^$row " "$work/targets" || { echo "ab: no $row row in $work/targets (hold with BENCH_ONLY=\"fedmesh fedmesh-x\")" >&2; exit 1; }
done
results="$work/ab.$(date +%H%M%S).txt"

field() { awk -v r="$1" -v f="$2" '$1==r {print $f}' "$work/targets"; }

measure() {   # tag row pids...: one saturation and one fixed-rate phase; appends lines to $results
  local tag=$1 row=$2; shift 2
  local target host after rps requests o line p
  target=$(field "$row" 2); host=$(field "$row" 3)
  nice -n "$NICE" taskset -c $LG_CPU wrk -t1 -c16 -d2s -H "Host: $host" "http://$target/1k" >/dev/null   # warm
  declare -A before
  for p in "$@"; do before[$p]=$(ticks "$p"); done
  o=$(nice -n "$NICE" taskset -c $LG_CPU wrk -t1 -c16 -d"${seconds}s" -H "Host: $host" "http://$target/1k")
  requests=$(awk '/requests in/ {print $1}' <<<"$o"); rps=$(awk '/Requests\/sec/ {print $2}' <<<"$o")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || { echo "ab: wrk got no answers on the $row row ($target, Host $host):" >&2; echo "$o" >&2; exit 1; }
  line="$tag $row sat_rps=$rps"
  local names=(proxy gateway) i=0 us=()
  for p in "$@"; do
    after=$(ticks "$p")
    us+=("$(python3 -c "print(round(($after - ${before[$p]}) / $hz * 1e6 / $requests, 1))")")
    line+=" sat_${names[$i]}_us=${us[$i]}"
    i=$((i + 1))
  done
  # The proxy shares the gateway's core and runs code a gateway change does not touch: within the row it is the
  # control, and this ratio is steadier than either figure alone.
  [ ${#us[@]} -eq 2 ] && line+=" sat_gateway_per_proxy=$(python3 -c "print(round(${us[1]} / ${us[0]}, 3))")"
  local sum_before=0 sum_after=0
  for p in "$@"; do sum_before=$((sum_before + $(ticks "$p"))); done
  o=$(nice -n "$NICE" taskset -c $LG_CPU "$loadgen" --target "$target" --host "$host" --path /1k --rate 1000 --connections 16 --seconds "$seconds")
  for p in "$@"; do sum_after=$((sum_after + $(ticks "$p"))); done
  line+=" low_p50_us=$(jq .P50Us <<<"$o") low_p99_us=$(jq .P99Us <<<"$o")"
  line+=" low_cpu_us=$(python3 -c "print(round(($sum_after - $sum_before) / $hz * 1e6 / $(jq .Requests <<<"$o"), 1))")"
  echo "$line" | tee -a "$results"
}

for r in $(seq 1 "$rounds"); do
  for k in 0 1; do
    i=$(( (k + r) % 2 ))   # A first in even rounds, B first in odd ones
    tag="$([ $i = 0 ] && echo A || echo B) r$r"
    install_dataplane "${bins[$i]}"   # sets px and gw
    measure "$tag" fedmesh "$px"
    measure "$tag" fedmesh-x "$px" "$gw"
  done
done

echo
echo "medians over $rounds rounds (A = ${bins[0]}, B = ${bins[1]}; every line in $results):"
python3 - "$results" <<'EOF'
import collections, statistics, sys
values = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tag, _, row, *pairs = line.split()
    for pair in pairs:
        name, value = pair.split("=")
        values[(row, name, tag)].append(float(value))
for row in ("fedmesh", "fedmesh-x"):
    for name in sorted({n for (r, n, _) in values if r == row}):
        a, b = statistics.median(values[(row, name, "A")]), statistics.median(values[(row, name, "B")])
        print(f"{row:10} {name:22} A {a:10.3f}   B {b:10.3f}   B/A {b / a:5.3f}" if a else f"{row:10} {name:22} A {a} B {b}")
EOF
