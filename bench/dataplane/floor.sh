#!/usr/bin/env bash
# The floor of the one-hop row: how much CPU per request a .NET relay needs at the least on this host, beside the
# FedMesh proxy, nginx and HAProxy doing the same hop (plain HTTP/1.1 in, mTLS HTTP/1.1 out to the origin).
# The floor is floor/ (FedMesh.Bench.Floor, NativeAOT): one thread, its own epoll loop, OpenSSL called directly, bytes
# relayed and nothing else (see floor/Program.cs). What FedMesh costs above it is what .NET's I/O layers (socket
# engine, SslStream, pipes, async) and the product's own work (routing, header rewriting, counting, timeouts) add.
# Each round measures every row once, in turn, at saturation (wrk -t1 -c16 for FLOOR_SECONDS, default 3): rps and
# CPU µs per request of the row's processes (scheduler run time of all their threads). Prints the medians and each
# row's ratio to nginx-mtls and haproxy-mtls.
# Needs a held run (the processes the targets file names must be the running ones: after ab.sh, restart the run):
#   BENCH_ONLY=fedmesh BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &     # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/floor.sh [ROUNDS]                               # default 6; then rm /tmp/b/hold
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
rounds=${1:-6}
seconds=${FLOOR_SECONDS:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/held.sh"
in_range ROUNDS "$rounds"
in_range FLOOR_SECONDS "$seconds"
need_targets
conf="$work/nginx-a/nginx.conf"
origin_port=$(sed -n 's/.*upstream origin_tls { server 127\.0\.0\.1:\([0-9]*\);.*/\1/p' "$conf" 2>/dev/null)
[ -n "$origin_port" ] || { echo "floor: no origin_tls upstream in $conf: is $work a held run of bench/dataplane/run.sh?" >&2; exit 1; }

echo "publishing the floor probe (NativeAOT)" >&2
dotnet publish "$here/floor/FedMesh.Bench.Floor.csproj" -c Release -o "$work/floor" -nologo -v:q >"$work/floor-build.log" 2>&1 \
  || { tail -20 "$work/floor-build.log"; exit 1; }
port=$(free_port)
nice -n "$NICE" taskset -c $PX_CPU "$work/floor/FedMesh.Bench.Floor" "$port" "$origin_port" backend-east.bench \
  "$work/certs/client.chain.crt" "$work/certs/client.key" "$work/federation/anchor/ca.crt" >"$work/floor.log" 2>&1 &
probe=$!
trap 'kill $probe 2>/dev/null || true' EXIT
wait_ok "the floor probe (log: $work/floor.log)" "http://127.0.0.1:$port/1k" bench

declare -A target host pids
target[floor]=127.0.0.1:$port; host[floor]=bench; pids[floor]=$probe
rows=(floor)
held_rows nginx-mtls haproxy-mtls fedmesh
rows+=(nginx-mtls haproxy-mtls fedmesh)

results="$work/floor.$(date +%H%M%S).txt"; : >"$results"
for round in $(seq 1 "$rounds"); do
  for r in "${rows[@]}"; do
    measure_row "$results" "r$round" "$seconds" "$r" "${pids[$r]}" wrk_load -H "Host: ${host[$r]}" "http://${target[$r]}/1k"
  done
done

echo
echo "medians over $rounds rounds at saturation (wrk -c16 ${seconds}s; every line in $results):"
print_medians "$results" nginx-mtls haproxy-mtls
