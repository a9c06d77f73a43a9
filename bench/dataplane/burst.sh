#!/usr/bin/env bash
# Cold connections on the cross-cluster path: 1,000 rps over new client connections while the mesh connections
# behind them must be opened again. Prints the latency of those requests and the CPU the proxy and gateway spent.
#   BURST_AFTER=restart (default): right after east's proxy and west's gateway restart; every mesh connection is new,
#                                  and the first ones are full handshakes (no TLS session survives a restart).
#   BURST_AFTER=lull:               after the cross-cluster path, warmed for 3 s, idles 250 s (past the pools' 4-minute
#                                  idle timeout, so every mesh connection is closed); the processes keep their TLS
#                                  sessions, so the new connections resume them.
#   BURST_CONNECTIONS (default 100) and BURST_SECONDS (default 3) shape the load.
# Needs a held bench run of the fedmesh-x row:
#   BENCH_ONLY=fedmesh-x BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &     # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/burst.sh [ROUNDS]                                  # then rm /tmp/b/hold
# The parts it restarts are not the ones the held run measures after its hold: use the hold for this only.
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
rounds=${1:-3}
after=${BURST_AFTER:-restart}
connections=${BURST_CONNECTIONS:-100}
seconds=${BURST_SECONDS:-3}
case "$after" in restart|lull) ;; *) echo "burst: BURST_AFTER must be restart or lull, not '$after'" >&2; exit 2;; esac
. "$(dirname "${BASH_SOURCE[0]}")/held.sh"
[ -f "$work/targets" ] || { echo "burst: $work/targets is missing: is a BENCH_HOLD run of the fedmesh-x row holding?" >&2; exit 1; }
target=$(awk '$1=="fedmesh-x" {print $2}' "$work/targets")
host=$(awk '$1=="fedmesh-x" {print $3}' "$work/targets")
[ -n "$target" ] || { echo "burst: no fedmesh-x row in $work/targets" >&2; exit 1; }

for round in $(seq 1 "$rounds"); do
  if [ "$after" = restart ]; then restart_parts "$target" "$host"; else
    px=$(pid_of east echo-east-0-proxy); gw=$(pid_of west gateway)
    taskset -c 0 nice -n -20 "$loadgen" --target "$target" --host "$host" --path /1k --rate 1000 --connections 16 --seconds 3 >/dev/null
    sleep 250
  fi
  before=$(ticks "$px" "$gw")
  result=$(taskset -c 0 nice -n -20 "$loadgen" --target "$target" --host "$host" --path /1k --rate 1000 --connections "$connections" --seconds "$seconds" --warmup 0)
  after_ticks=$(ticks "$px" "$gw")
  jq -r --arg r "$round" --arg s "$seconds" --arg cpu "$(( (after_ticks - before) * 1000 / hz ))" \
    '"round \($r): p50 \((.P50Us/100|floor)/10) ms, p90 \((.P90Us/100|floor)/10) ms, p99 \((.P99Us/100|floor)/10) ms, max \(.MaxUs/1000|floor) ms, errors \(.Errors); proxy + gateway CPU \($cpu) ms in \($s) s"' <<<"$result"
  sleep 5
done
