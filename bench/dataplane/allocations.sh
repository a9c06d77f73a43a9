#!/usr/bin/env bash
# Where the data plane allocates: traces the runtime's allocation ticks in the proxy (or the gateway) while it
# serves a fixed rate, then prints bytes allocated per request and the top types and allocation sites.
# Needs a held bench run with the JIT-compiled data plane (a NativeAOT process has no EventPipe to trace):
#   BENCH_PROXY=jit BENCH_ONLY="fedmesh fedmesh-x" BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &
#   BENCH_OUT=/tmp/b bench/dataplane/allocations.sh [fedmesh|fedmesh-x] [proxy|gateway]   # then rm /tmp/b/hold
# Environment: ALLOC_RATE (requests per second, default 3000), ALLOC_SECONDS (default 5), and ALLOC_FRESH=1 for a new
# client connection per request (the load generator's --fresh), to see what a connection costs; ALLOC_H2=1 for an h2c
# caller instead (h2load, 16 connections, one stream each, ALLOC_RATE × ALLOC_SECONDS requests as fast as they go).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held BENCH_PROXY=jit run of bench/dataplane/run.sh}
row=${1:-fedmesh}
part=${2:-proxy}
rate=${ALLOC_RATE:-3000}
seconds=${ALLOC_SECONDS:-5}
case ${ALLOC_FRESH:-0} in
  0) fresh=() ;;
  1) fresh=(--fresh) ;;
  *) echo "allocations: ALLOC_FRESH must be 0 or 1, not '$ALLOC_FRESH'" >&2; exit 2 ;;
esac
case ${ALLOC_H2:-0} in
  0|1) ;;
  *) echo "allocations: ALLOC_H2 must be 0 or 1, not '$ALLOC_H2'" >&2; exit 2 ;;
esac
[ -f "$work/targets" ] || { echo "allocations: $work/targets is missing: is a BENCH_HOLD run holding?" >&2; exit 1; }
read -r _ target host pids < <(awk -v r="$row" '$1==r' "$work/targets") || { echo "allocations: no row $row in $work/targets" >&2; exit 1; }
case $part in
  proxy) pid=${pids%% *} ;;
  gateway) [ "$row" = fedmesh-x ] || { echo "allocations: only the fedmesh-x row has a gateway" >&2; exit 1; }; pid=${pids##* } ;;
  *) echo "allocations: part is proxy or gateway, not '$part'" >&2; exit 1 ;;
esac
grep -q "fedmesh-dataplane" "/proc/$pid/cmdline" && {
  echo "allocations: $part (pid $pid) is the NativeAOT data plane, which cannot be traced; hold a run with BENCH_PROXY=jit" >&2; exit 1; }

export PATH="$PATH:$HOME/.dotnet/tools"
command -v dotnet-trace >/dev/null || dotnet tool install -g dotnet-trace >/dev/null
dotnet build "$here/allocations/FedMesh.Bench.Allocations.csproj" -c Release -o "$work/allocations" -nologo -v:q >"$work/allocations-build.log" 2>&1 \
  || { tail -20 "$work/allocations-build.log"; exit 1; }
loadgen="$work/loadgen/FedMesh.Bench.LoadGen"
trace="$work/allocations-$row-$part.nettrace"

# One measured load: HTTP/1.1 from the load generator at the rate, or HTTP/2 from h2load (prints the requests served).
load() { # SECONDS
  if [ "${ALLOC_H2:-0}" = 1 ]; then
    taskset -c 0 h2load -c16 -m1 -n $((rate * $1)) -H ":authority: $host" "http://$target/1k" \
      | awk '/^requests:/ {print $8; found=1} END {exit !found}'
  else
    taskset -c 0 "$loadgen" --target "$target" --host "$host" --path /1k --rate "$rate" --connections 16 --seconds "$1" \
      --warmup 0 "${fresh[@]}" | jq .Requests
  fi
}

# Warm up first (JIT tiers, pools), then trace a window that holds the whole measured load.
load 3 >/dev/null
rm -f "$trace"
# GC keyword (0x1) at verbose level (5): one AllocationTick event about every 100 KB allocated, with its stack.
dotnet-trace collect -p "$pid" --providers "Microsoft-Windows-DotNETRuntime:0x1:5" --duration "00:00:00:$((seconds + 2))" \
  -o "$trace" >"$work/allocations-trace.log" 2>&1 &
tracer=$!
sleep 1
requests=$(load "$seconds")
wait "$tracer" || { cat "$work/allocations-trace.log" >&2; exit 1; }
echo "$row, $part (pid $pid), $requests requests in ${seconds}s$([ "${ALLOC_H2:-0}" = 1 ] && echo ' from h2c callers' || echo " at $rate rps"):"
"$work/allocations/FedMesh.Bench.Allocations" "$trace" "$requests"
