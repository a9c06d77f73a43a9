#!/usr/bin/env bash
# Callers that open a connection for every request (scripts, health checkers, clients without a pool): what each
# proxy costs when it must accept, set up and close a client connection per request. The upstream side stays pooled.
# Rounds; each measures every row once, in turn:
#   FRESH_RATE rps (default 500), each request on a new connection opened at its intended send time (the load
#   generator's --fresh), for FRESH_SECONDS (default 4): p50 and p99 added over direct's in the round (µs; the
#   connection's opening included);
#   saturation (wrk -c16 with "Connection: close", the same length): rps, and CPU µs per request of the row's processes.
# Prints per round, then medians with FedMesh's ratios to nginx and HAProxy doing the same hop.
# Needs a held run with the rows:
#   BENCH_ONLY="fedmesh fedmesh-x nginx-mtls nginx-x haproxy-mtls haproxy-x" BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &
#   BENCH_OUT=/tmp/b bench/dataplane/fresh.sh [ROUNDS] [ROW...]   # default 4 rounds of those six rows; ~1.5 min a round
#   (then rm /tmp/b/hold)
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
. "$(dirname "${BASH_SOURCE[0]}")/held.sh"
rounds=${1:-4}
shift || true
seconds=${FRESH_SECONDS:-4}
rate=${FRESH_RATE:-500}
in_range ROUNDS "$rounds"
in_range FRESH_SECONDS "$seconds"
[[ "$rate" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "$script: FRESH_RATE must be 1 to 9999 requests a second, not '$rate'" >&2; exit 2; }
need_targets
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(fedmesh nginx-mtls haproxy-mtls fedmesh-x nginx-x haproxy-x)
declare -A target host pids
held_rows direct "${rows[@]}"
results="$work/fresh.$(date +%H%M%S)"
: >"$results.latency"; : >"$results.saturation"

lg() { nice -n "$NICE" taskset -c $LG_CPU "$loadgen" --target "${target[$1]}" --host "${host[$1]}" --path /1k --fresh "${@:2}"; }
for round in $(seq 1 "$rounds"); do
  for r in direct "${rows[@]}"; do
    lg "$r" --rate "$rate" --connections 16 --seconds "$seconds" --warmup 1 \
      | jq -c --arg row "$r" --argjson round "$round" '{row:$row, round:$round, p50:.P50Us, p99:.P99Us, errors:.Errors}' >>"$results.latency"
  done
  for r in "${rows[@]}"; do
    measure_row "$results.saturation" "$round" "$seconds" "$r" "${pids[$r]}" wrk_load -H "Host: ${host[$r]}" -H "Connection: close" \
      "http://${target[$r]}/1k"
  done
  echo "$script: round $round/$rounds done" >&2
done

python3 - "$results" "$(dirname "${BASH_SOURCE[0]}")" <<'PY'
import json, sys, collections
from statistics import median
sys.path.insert(0, sys.argv[2])
from report import added as over_direct  # run.sh's rule: a round where direct's percentile is the larger is left out
base = sys.argv[1]
lat = [json.loads(l) for l in open(base + ".latency") if l.strip()]
direct = {l["round"]: l for l in lat if l["row"] == "direct"}
added = collections.defaultdict(lambda: ([], []))
for l in lat:
    if l["row"] != "direct":
        for i, k in enumerate(("p50", "p99")):
            if (v := over_direct(l[k], direct[l["round"]][k])) is not None:
                added[l["row"]][i].append(v)
sat = collections.defaultdict(lambda: ([], []))
for line in open(base + ".saturation"):
    f = line.split()
    sat[f[0]][0].append(float(f[3])); sat[f[0]][1].append(float(f[5]))
errors = sum(l["errors"] for l in lat)
peers = {"fedmesh": ("nginx-mtls", "haproxy-mtls"), "fedmesh-x": ("nginx-x", "haproxy-x")}
med = lambda v: median(v) if v else float("nan")
print(f"a new client connection per request; medians over {len(direct)} rounds (direct's p50 / p99 at the fixed rate "
      f"{med([d['p50'] for d in direct.values()]):.0f} / {med([d['p99'] for d in direct.values()]):.0f} µs)")
print("| row | added p50 µs | added p99 µs | max rps | CPU µs/req | ÷ nginx: p50, CPU | ÷ HAProxy: p50, CPU |")
print("|---|---|---|---|---|---|---|")
for row in dict.fromkeys(l["row"] for l in lat if l["row"] != "direct"):
    a50, a99 = med(added[row][0]), med(added[row][1])
    rps, cpu = med(sat[row][0]), med(sat[row][1])
    cells = []
    for peer in peers.get(row, ("", "")):
        cells.append(f"{a50 / med(added[peer][0]):.2f}, {cpu / med(sat[peer][1]):.2f}" if peer in added else "–")
    print(f"| {row} | {a50:.0f} | {a99:.0f} | {rps:,.0f} | {cpu:.1f} | " + " | ".join(cells) + " |")
if errors:
    print(f"{errors} requests failed")
PY
echo "($results.latency, $results.saturation)"
