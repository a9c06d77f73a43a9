#!/usr/bin/env bash
# The cross-cluster path with the callee's sidecar, as a request takes it in a real federation:
#   east's proxy -> mTLS -> west's gateway -> mTLS -> the west workload's proxy (inbound listener) -> its app.
# The held run's fedmesh-x row ends at the gateway, which talks to the origin's own mTLS listener standing in for
# that sidecar. This script starts the sidecar for real: a FedMesh proxy (fedmesh-dataplane) in west for an exported
# service "benchin", whose app is the origin's plain listener (the direct row's), pinned as run.sh pins the proxies.
# Rounds; each measures every row once, in turn:
#   1,000 rps over 16 connections for INBOUND_SECONDS (default 4; the bench's load generator): p50 and p99 added
#   over the direct row's (µs);
#   saturation (wrk -c16, the same length): rps, and CPU µs per request of the row's processes together.
# Rows: fedmesh-x (proxy, gateway) and nginx-x as in the held run; fedmesh-x-inbound (proxy, gateway, the sidecar) and
# nginx-x-inbound (nginx-x's two hops again and a third nginx in the sidecar's place, nginx_chain.py). Prints medians.
# Needs a held run with the cross-cluster rows:
#   BENCH_ONLY="fedmesh-x nginx-x" BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &   # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/inbound.sh [ROUNDS]                                     # default 4; then rm /tmp/b/hold
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
rounds=${1:-4}
seconds=${INBOUND_SECONDS:-4}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/held.sh"
in_range ROUNDS "$rounds"
in_range INBOUND_SECONDS "$seconds"
need_targets
declare -A target host pids
held_rows direct fedmesh-x nginx-x
dataplane="$work/fedmesh/fedmesh-dataplane"
[ -x "$dataplane" ] || { echo "inbound: $dataplane is missing: the held run must be of the native data plane" >&2; exit 1; }

# The sidecar: its identity from west's controller (the cluster's bootstrap token, as the local federation's own
# parts get theirs), its endpoint registered by itself in west's store, as every workload proxy's.
status=$("$fedmesh" status -o json)
controller=$(jq -r '.clusters[] | select(.name=="west") | .parts[] | select(.name=="controller") | .addresses.grpc' <<<"$status")
store=$(jq -r '.clusters[] | select(.name=="west") | .store' <<<"$status")
[ -n "$controller" ] && [ "$controller" != null ] || { echo "inbound: west's controller is not in '$fedmesh status'" >&2; exit 1; }
cat >"$work/benchin.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: { name: benchin, namespace: default, labels: { fedmesh.io/exported: "true" } }
spec: { ports: [ { port: 80 } ] }
EOF
"$fedmesh" apply -f "$work/benchin.yaml" --cluster west >/dev/null
read -r outbound inbound admin < <(free_ports 3)
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 taskset -c $PX_CPU nice -n "$NICE" "$dataplane" proxy \
  --Cluster west --TrustDomain fedmesh.local --Namespace default --Service benchin --Instance benchin-0 \
  --Outbound "127.0.0.1:$outbound" --Inbound "127.0.0.1:$inbound" --AdminListen "127.0.0.1:$admin" \
  --App "http://${target[direct]}" --Controller "http://$controller" \
  --TokenFile "$FEDMESH_HOME/clusters/west/bootstrap-token" --Store "$store" >"$work/benchin.log" 2>&1 &
sidecar=$!
chain=()
cleanup() {
  kill "$sidecar" 2>/dev/null && wait "$sidecar" 2>/dev/null || true   # it deregisters its endpoint as it stops
  for f in "${chain[@]}"; do kill "$(cat "$f" 2>/dev/null)" 2>/dev/null || true; done
  for k in endpoints services; do "$fedmesh" delete $k benchin -n default --cluster west >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
for t in /proc/$sidecar/task/*; do renice -n "$NICE" -p "${t##*/}" >/dev/null; done
# The mirror (benchin-west in east) appears once east's controller has seen the endpoint through the link.
for _ in $(seq 1 30); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: benchin-west" "http://${target[fedmesh-x]}/1k")" = 200 ] && break
  sleep 1
done
wait_ok "the path through west's sidecar (log: $work/benchin.log)" "http://${target[fedmesh-x]}/1k" benchin-west
target[fedmesh-x-inbound]=${target[fedmesh-x]}; host[fedmesh-x-inbound]=benchin-west; pids[fedmesh-x-inbound]="${pids[fedmesh-x]} $sidecar"

# nginx with the same third hop, so the chains compare process for process (nginx_chain.py): nginx-x's front and
# gateway again (a3, b3), and c in the sidecar's place (mTLS in, plain HTTP/1.1 to the origin). Pinned likewise.
read -r port_a port_b port_c < <(free_ports 3)
python3 "$here/nginx_chain.py" "$work" "${target[direct]}" "$port_a" "$port_b" "$port_c"
for n in c b3 a3; do
  taskset -c $PX_CPU nice -n "$NICE" nginx -p "$work/nginx-$n" -c "$work/nginx-$n/nginx.conf" -g 'daemon off;' 2>"$work/nginx-$n/stderr.log" &
  chain+=("$work/nginx-$n/nginx.pid")
done
wait_ok "the nginx chain (logs: $work/nginx-{a3,b3,c}/stderr.log)" "http://127.0.0.1:$port_a/1k" origin
target[nginx-x-inbound]=127.0.0.1:$port_a; host[nginx-x-inbound]=origin
pids[nginx-x-inbound]=$(for f in "${chain[@]}"; do children "$(cat "$f")"; done | xargs)
rows=(direct fedmesh-x fedmesh-x-inbound nginx-x nginx-x-inbound)

fixed_rate() {   # row -> "p50 p99" in µs at 1,000 rps over 16 connections
  nice -n "$NICE" taskset -c $LG_CPU "$loadgen" --target "${target[$1]}" --host "${host[$1]}" --path /1k --rate 1000 \
    --connections 16 --seconds "$seconds" --warmup 1 | jq -r '"\(.P50Us) \(.P99Us)"'
}
results="$work/inbound.$(date +%H%M%S).txt"; latency="$results.latency"; : >"$results"; : >"$latency"
for round in $(seq 1 "$rounds"); do
  for r in "${rows[@]}"; do
    echo "$r r$round $(fixed_rate "$r")" | tee -a "$latency" >&2
    [ "$r" = direct ] || measure_row "$results" "r$round" "$seconds" "$r" "${pids[$r]}" wrk_load -H "Host: ${host[$r]}" "http://${target[$r]}/1k"
  done
done

echo
echo "medians over $rounds rounds (every line in $results and $latency):"
print_medians "$results" nginx-x nginx-x-inbound
python3 - "$latency" <<'PY'
import sys, statistics, collections
p50, p99 = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    p50[f[0]].append(float(f[2])); p99[f[0]].append(float(f[3]))
base50, base99 = statistics.median(p50['direct']), statistics.median(p99['direct'])
print(f"\n{'row at 1,000 rps':18} {'added p50 us':>13} {'added p99 us':>13}")
for r in p50:
    if r != 'direct':
        print(f"{r:18} {statistics.median(p50[r]) - base50:13.0f} {statistics.median(p99[r]) - base99:13.0f}")
PY
