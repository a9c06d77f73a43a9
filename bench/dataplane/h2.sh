#!/usr/bin/env bash
# HTTP/2 callers on the cross-cluster path (the gRPC case): what the fedmesh-x row gives a caller that speaks h2c, set
# beside the same row's HTTP/1.1 callers, beside nginx-x with an h2c front, and beside nginx's and HAProxy's chains
# with HTTP/2 on every leg. Rounds; each measures every row once at saturation with h2load (16 connections; -m1: one
# stream at a time per connection, as wrk -c16; -m10: ten) for H2_SECONDS (default 4): rps and CPU µs per request of
# the row's processes (scheduler run time of all their threads).
# FedMesh keeps the caller's HTTP/2 on every hop (so gRPC and trailers pass; Kestrel and SocketsHttpHandler carry it).
# nginx-x-h2's proxy_pass turns it into HTTP/1.1 upstream (which gRPC cannot cross) and keeps at most 64 idle upstream
# connections per worker (more concurrent requests open new mTLS connections). The h2h2 rows do what FedMesh does:
# nginx with grpc_pass (its HTTP/2 upstream: one request at a time per upstream connection, pooled) and HAProxy with
# ALPN h2 to its servers (streams multiplexed on its server connections), each a front and a gateway of its own made
# from the held row's configuration (h2_chains.py), on to the origin's TLS listener in HTTP/2.
# Needs a held run with the cross-cluster rows:
#   BENCH_ONLY="fedmesh-x nginx-x haproxy-x" BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &   # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/h2.sh [ROUNDS]                                          # default 4; then rm /tmp/b/hold
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
rounds=${1:-4}
seconds=${H2_SECONDS:-4}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/held.sh"
in_range ROUNDS "$rounds"
in_range H2_SECONDS "$seconds"
need_targets
declare -A target host pids
held_rows fedmesh-x nginx-x haproxy-x
fm_target=${target[fedmesh-x]}; fm_host=${host[fedmesh-x]}; fm_pids=${pids[fedmesh-x]}; ngx_pids=${pids[nginx-x]}

# The peers, written from the held rows' configurations (h2_chains.py): nginx-x's front with an h2c listener (HTTP/1.1
# on to the held run's nginx-x gateway), and nginx's and HAProxy's chains with HTTP/2 on every leg. Each process pinned
# as run.sh pins the proxies; gateways first.
read -r port ngx_a ngx_b ha_a ha_b < <(free_ports 5)
python3 "$here/h2_chains.py" "$work" "$port" "$ngx_a" "$ngx_b" "$ha_a" "$ha_b"
started=()
trap 'kill ${started[*]} 2>/dev/null || true' EXIT
start_nginx() { taskset -c $PX_CPU nice -n "$NICE" nginx -p "$work/$1" -c "$work/$1/nginx.conf" -g 'daemon off;' 2>"$work/$1/stderr.log" & started+=($!); }
start_haproxy() { taskset -c $PX_CPU nice -n "$NICE" haproxy -db -f "$work/$1/haproxy.cfg" >"$work/$1/stderr.log" 2>&1 & started+=($!); }
start_nginx nginx-h2; start_nginx nginx-h2b; start_nginx nginx-h2a; start_haproxy haproxy-h2b; start_haproxy haproxy-h2a
wait_ok "the h2c nginx (log: $work/nginx-h2/stderr.log)" "http://127.0.0.1:$port/1k" bench --http2-prior-knowledge
wait_ok "nginx's HTTP/2 chain (logs: $work/nginx-h2[ab]/stderr.log)" "http://127.0.0.1:$ngx_a/1k" bench --http2-prior-knowledge
wait_ok "HAProxy's HTTP/2 chain (logs: $work/haproxy-h2[ab]/stderr.log)" "http://127.0.0.1:$ha_a/1k" bench --http2-prior-knowledge
front_pids=$(children "${started[0]}")
gateway_pids=$(echo "$ngx_pids" | awk '{print $3, $4}')   # nginx-x lists the front's master and worker, then the gateway's
ngx_h2_pids="$(children "${started[2]}") $(children "${started[1]}")"   # the front's master and worker, then the gateway's
ha_h2_pids="${started[4]} ${started[3]}"

results="$work/h2.$(date +%H%M%S).txt"; : >"$results"
for round in $(seq 1 "$rounds"); do
  measure_row "$results" "r$round" "$seconds" fedmesh-x-h1 "$fm_pids" wrk_load -H "Host: $fm_host" "http://$fm_target/1k"
  for m in 1 10; do
    measure_row "$results" "r$round" "$seconds" "fedmesh-x-h2-m$m" "$fm_pids" h2_load -m "$m" -H ":authority: $fm_host" "http://$fm_target/1k"
    measure_row "$results" "r$round" "$seconds" "nginx-x-h2-m$m" "$front_pids $gateway_pids" h2_load -m "$m" "http://127.0.0.1:$port/1k"
    measure_row "$results" "r$round" "$seconds" "nginx-x-h2h2-m$m" "$ngx_h2_pids" h2_load -m "$m" "http://127.0.0.1:$ngx_a/1k"
    measure_row "$results" "r$round" "$seconds" "haproxy-x-h2h2-m$m" "$ha_h2_pids" h2_load -m "$m" "http://127.0.0.1:$ha_a/1k"
  done
done

echo
echo "medians over $rounds rounds at saturation (16 connections, ${seconds}s; every line in $results):"
print_medians "$results"
