#!/usr/bin/env bash
# Data-plane benchmark: direct, nginx, HAProxy and FedMesh side by side, in one run, on loopback.
# See bench/README.md for what is measured and how. Usage: bench/dataplane/run.sh
#   BENCH_ROUNDS=3     rounds: every row is measured once per round, rows interleaved; the table gives medians
#   BENCH_SECONDS=5    length of each fixed-rate phase     BENCH_SAT_SECONDS=5  length of each wrk phase
#   BENCH_ONLY="direct fedmesh fedmesh-x"  run only these rows (direct is always run: it is the baseline)
#   BENCH_PROXY=native|jit  proxy and gateway as the native data plane (default, as shipped) or inside fedmesh (JIT)
#   BENCH_HOLD=SECONDS  hold every path up that long before measuring (for profiling; see $BENCH_OUT/targets)
#   BENCH_OUT=DIR      keep results there (default: a fresh /tmp/fedmesh-bench.* directory)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/common.sh"
root="$(cd "$here/../.." && pwd)"
ROUNDS=${BENCH_ROUNDS:-3}
FIXED=${BENCH_SECONDS:-5}
SAT=${BENCH_SAT_SECONDS:-5}
ONLY=${BENCH_ONLY:-all}
RATE=1000
LG_CPU=0   # load generator (and the origin backend): the "client" core
PX_CPU=1   # every proxy under test: the "sidecar" core
# The machine may be shared (other builds and tests): everything measured runs at a raised CFS
# priority so it keeps most of its core, without the starvation real-time scheduling would cause.
NICE=${BENCH_NICE:--20}
work=${BENCH_OUT:-$(mktemp -d /tmp/fedmesh-bench.XXXXXX)}
mkdir -p "$work"
export FEDMESH_HOME="$work/federation"
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

# ---------------------------------------------------------------- tools
need=()
for t in nginx:nginx haproxy:haproxy wrk:wrk h2load:nghttp2-client openssl:openssl jq:jq python3:python3 curl:curl perf:linux-perf; do
  command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t#*:}")
done
if [ "${BENCH_PROXY:-native}" = native ]; then   # NativeAOT links with them
  command -v clang >/dev/null 2>&1 || need+=(clang)
  dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >"$work/apt.log"
fi
[ "$(nproc)" -ge 2 ] || { echo "bench: needs 2 cores (load generator on one, proxy on the other)" >&2; exit 1; }

# Autogroups (kernel.sched_autogroup_enabled, on by default in Debian's kernels) put each session's processes in a
# scheduling group of their own, and groups share a core equally whatever their tasks' nice. The federation's parts run
# in the session `fedmesh up` starts, nginx and HAProxy in this script's: the FedMesh rows would compete with everything
# else on their core as one group against another (nice -20 holding only inside a group), and a chain with a process
# in each session (inbound.sh's sidecar) would wake across groups on every request. Off for the run, restored after, so
# every process competes by its own priority; the setting applies to processes started after it changes.
autogroup=/proc/sys/kernel/sched_autogroup_enabled
autogroup_was=$(cat "$autogroup" 2>/dev/null || echo "")
if [ "$autogroup_was" = 1 ]; then
  echo 0 >"$autogroup" 2>/dev/null || log "could not turn scheduler autogroups off: FedMesh rows compete as a group of their own"
fi

pids_to_stop=()
cleanup() {
  set +e
  for p in "${pids_to_stop[@]}"; do kill "$p" 2>/dev/null; done
  fedmesh down >/dev/null 2>&1
  wait 2>/dev/null
  [ "$autogroup_was" = 1 ] && echo 1 >"$autogroup" 2>/dev/null
  log "results in $work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP # a stopped run (kill, Ctrl-C) still stops its parts and gives the autogroups back

# ---------------------------------------------------------------- build
# fedmesh is built into the output directory, so editing the sources while a run goes on changes
# nothing under it (./fedmesh would rebuild when a source changes).
log "building fedmesh (Release) and the load generator"
dotnet build "$root/linker/FedMesh.Linker.csproj" -c Release -o "$work/fedmesh" -nologo -v:q >"$work/fedmesh-build.log" 2>&1 \
  || { tail -20 "$work/fedmesh-build.log"; exit 1; }
if [ "${BENCH_PROXY:-native}" = native ]; then
  # The data plane as shipped (deploy/dataplane, compiled ahead of time); the supervisor runs it when it is there.
  log "publishing the native data plane (fedmesh-dataplane)"
  dotnet publish "$root/deploy/dataplane/FedMesh.DataPlane.csproj" -c Release -o "$work/fedmesh" -nologo -v:q >"$work/dataplane-build.log" 2>&1 \
    || { tail -20 "$work/dataplane-build.log"; exit 1; }
fi
fedmesh() { "$work/fedmesh/fedmesh" "$@"; }
# The load generator is native (NativeAOT, as the data plane): no compiling while it measures.
dotnet publish "$here/loadgen/FedMesh.Bench.LoadGen.csproj" -c Release -o "$work/loadgen" -nologo -v:q >"$work/loadgen-build.log" 2>&1 \
  || { tail -20 "$work/loadgen-build.log"; exit 1; }
LOADGEN="$work/loadgen/FedMesh.Bench.LoadGen"

# ---------------------------------------------------------------- ports
read -r P_DIRECT P_STATUS P_TLS_E P_TLS_W P_NGX P_NGX_TLS P_NGX_X P_NGX_B P_HA P_HA_TLS P_HA_X P_HA_B < <(free_ports 12)

# ---------------------------------------------------------------- federation (also our CA)
log "starting the FedMesh local federation (east: proxy; west: gateway)"
# Started on the proxy core, so the runtime sizes itself for one core (ProcessorCount 1), as it
# does for a sidecar under a one-CPU limit; the parts that are not measured move to core 0 below.
(taskset -c $PX_CPU "$work/fedmesh/fedmesh" up --detach -f "$here/federation.yaml" >"$work/up.log" 2>&1) || { cat "$work/up.log"; exit 1; }
status_json=$(fedmesh status -o json)
part() { jq -r --arg c "$1" --arg p "$2" --arg k "$3" '.clusters[] | select(.name==$c) | .parts[] | select(.name==$p) | '"$3" <<<"$status_json"; }
FM_PROXY_PID=$(part east echo-east-0-proxy .pid)
FM_GATEWAY_PID=$(part west gateway .pid)
FM_OUTBOUND=$(part east echo-east-0-proxy .addresses.outbound)
FM_PROXY_ADMIN=$(part east echo-east-0-proxy .addresses.admin)
FM_GATEWAY_ADMIN=$(part west gateway .addresses.admin)

# Certificates, issued with openssl by the clusters' own issuers, so FedMesh, nginx and HAProxy all
# do ECDSA P-256 mTLS with the same chains: leaf + cluster issuer, anchored at the federation root.
certs="$work/certs"; mkdir -p "$certs"
anchor="$FEDMESH_HOME/anchor/ca.crt"
issue() { # name cluster sa
  local name=$1 cluster=$2 sa=$3 issuer="$FEDMESH_HOME/clusters/$2/issuer"
  openssl ecparam -name prime256v1 -genkey -noout -out "$certs/$name.key" 2>/dev/null
  openssl req -new -key "$certs/$name.key" -subj "/O=fedmesh-bench/CN=$name" -out "$certs/$name.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=URI:spiffe://fedmesh.local/cluster/%s/ns/default/sa/%s,DNS:%s.bench\n' \
    "$cluster" "$sa" "$name" >"$certs/$name.ext"
  openssl x509 -in "$issuer/ca.crt" >"$certs/$name.issuer.crt"   # the first certificate: the issuer itself
  openssl x509 -req -in "$certs/$name.csr" -CA "$certs/$name.issuer.crt" -CAkey "$issuer/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 2 -sha256 -extfile "$certs/$name.ext" -out "$certs/$name.crt" 2>"$certs/$name.log" || { cat "$certs/$name.log" >&2; exit 1; }
  cat "$certs/$name.crt" "$certs/$name.issuer.crt" >"$certs/$name.chain.crt"
  cat "$certs/$name.chain.crt" "$certs/$name.key" >"$certs/$name.pem"  # HAProxy's crt format
}
issue backend-east east bench      # the origin's mTLS listener as a local endpoint of east
issue backend-west west bench      # the origin's mTLS listener as an endpoint of west
issue client east client           # nginx/HAProxy first hop's client certificate
issue gateway-west west gateway    # nginx/HAProxy second hop ("gateway") certificate

# ---------------------------------------------------------------- origin backend (nginx, 1 KiB)
www="$work/www"; mkdir -p "$www"; head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 >"$www/1k"
nginx_common() { # prefix
  cat <<EOF
pid $1/nginx.pid;
error_log $1/error.log warn;
worker_processes 1;
events { worker_connections 8192; multi_accept on; }
EOF
}
nginx_http_common() { # prefix
  cat <<EOF
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path $1/tmp; proxy_temp_path $1/tmp; fastcgi_temp_path $1/tmp; uwsgi_temp_path $1/tmp; scgi_temp_path $1/tmp;
  default_type application/octet-stream;
EOF
}
start_nginx() { # name cpu conf-body
  local dir="$work/$1"; mkdir -p "$dir/tmp"
  { nginx_common "$dir"; echo "http {"; nginx_http_common "$dir"; echo "$3"; echo "}"; } >"$dir/nginx.conf"
  nice -n "$NICE" taskset -c "$2" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>"$dir/stderr.log" &
  pids_to_stop+=($!)
  echo $! >"$dir/master.pid"
}
tls_server() { # port cert
  cat <<EOF
    listen 127.0.0.1:$1 ssl http2;
    ssl_certificate $certs/$2.chain.crt; ssl_certificate_key $certs/$2.key;
    ssl_client_certificate $anchor; ssl_verify_client on; ssl_verify_depth 3;
    ssl_protocols TLSv1.2 TLSv1.3;
EOF
}
start_nginx origin $LG_CPU "
  server { listen 127.0.0.1:$P_DIRECT; root $www; }
  server { listen 127.0.0.1:$P_STATUS; location / { stub_status; } }
  server { $(tls_server $P_TLS_E backend-east) root $www; }
  server { $(tls_server $P_TLS_W backend-west) root $www; }"

# ---------------------------------------------------------------- nginx under test
upstream_tls() { # cert
  cat <<EOF
      proxy_ssl_certificate $certs/$1.chain.crt; proxy_ssl_certificate_key $certs/$1.key;
      proxy_ssl_trusted_certificate $anchor; proxy_ssl_verify on; proxy_ssl_verify_depth 3;
      proxy_ssl_session_reuse on; proxy_ssl_protocols TLSv1.2 TLSv1.3;
EOF
}
proxy_loc() { # upstream-url [extra]
  echo "location / { proxy_pass $1; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering on; ${2:-} }"
}
start_nginx nginx-a $PX_CPU "
  upstream origin { server 127.0.0.1:$P_DIRECT; keepalive 64; keepalive_requests 10000000; }
  upstream origin_tls { server 127.0.0.1:$P_TLS_E; keepalive 64; keepalive_requests 10000000; }
  upstream hop_b { server 127.0.0.1:$P_NGX_B; keepalive 64; keepalive_requests 10000000; }
  server { listen 127.0.0.1:$P_NGX; $(proxy_loc http://origin) }
  server { listen 127.0.0.1:$P_NGX_TLS; $(proxy_loc https://origin_tls "proxy_ssl_name backend-east.bench; $(upstream_tls client)") }
  server { listen 127.0.0.1:$P_NGX_X; $(proxy_loc https://hop_b "proxy_ssl_name gateway-west.bench; $(upstream_tls client)") }"
# nginx cannot speak HTTP/2 upstream, so its mTLS hop is HTTP/1.1 over pooled keep-alive connections.
start_nginx nginx-b $PX_CPU "
  upstream origin_tls { server 127.0.0.1:$P_TLS_W; keepalive 64; keepalive_requests 10000000; }
  server { $(tls_server $P_NGX_B gateway-west | sed 's/ http2//') $(proxy_loc https://origin_tls "proxy_ssl_name backend-west.bench; $(upstream_tls gateway-west)") }"

# ---------------------------------------------------------------- HAProxy under test (one thread each)
start_haproxy() { # name body
  local dir="$work/$1"; mkdir -p "$dir"
  cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
  tune.ssl.default-dh-param 2048
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 300s
$2
EOF
  nice -n "$NICE" taskset -c $PX_CPU haproxy -db -f "$dir/haproxy.cfg" >"$dir/stderr.log" 2>&1 &
  pids_to_stop+=($!)
  echo $! >"$dir/master.pid"
}
# HTTP/1.1 over mTLS on pooled server connections, as FedMesh forwards an HTTP/1.1 request (it keeps the
# caller's protocol) and as nginx does: every row of a group does the same hop.
ha_tls="ssl verify required ca-file $anchor alpn http/1.1"
start_haproxy haproxy-a "
frontend plain
  bind 127.0.0.1:$P_HA
  default_backend origin
backend origin
  server o 127.0.0.1:$P_DIRECT
frontend tls1
  bind 127.0.0.1:$P_HA_TLS
  default_backend origin_tls
backend origin_tls
  server o 127.0.0.1:$P_TLS_E $ha_tls crt $certs/client.pem
frontend cross
  bind 127.0.0.1:$P_HA_X
  default_backend hop_b
backend hop_b
  server b 127.0.0.1:$P_HA_B $ha_tls crt $certs/client.pem"
start_haproxy haproxy-b "
frontend gateway
  bind 127.0.0.1:$P_HA_B ssl crt $certs/gateway-west.pem ca-file $anchor verify required alpn h2,http/1.1
  default_backend origin_tls
backend origin_tls
  server o 127.0.0.1:$P_TLS_W $ha_tls crt $certs/gateway-west.pem"

# ---------------------------------------------------------------- FedMesh under test
# The origin's mTLS listener is registered as an endpoint of service "bench" in east (a local
# endpoint: one hop) and of the exported service "bench" in west (reached from east as
# bench-west through west's gateway), exactly as a workload's proxy registers its inbound listener.
cat >"$work/east.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: { name: bench, namespace: default }
spec: { ports: [ { port: 80 } ] }
---
apiVersion: fedmesh.io/v1alpha1
kind: Endpoints
metadata: { name: bench, namespace: default }
spec:
  endpoints:
    - { address: "127.0.0.1:$P_TLS_E", instance: origin, identity: "spiffe://fedmesh.local/cluster/east/ns/default/sa/bench", cluster: east }
EOF
sed -e 's/east/west/g' -e "s/$P_TLS_E/$P_TLS_W/" -e 's/metadata: { name: bench, namespace: default }/metadata: { name: bench, namespace: default, labels: { fedmesh.io\/exported: "true" } }/' \
  "$work/east.yaml" >"$work/west.yaml"
fedmesh apply -f "$work/east.yaml" --cluster east >/dev/null && fedmesh apply -f "$work/west.yaml" --cluster west >/dev/null
fedmesh link east west --one-way --wait >/dev/null
# Every other part of the federation (controllers, supervisor, the idle echo app) stays off the proxy core, and runs
# as SCHED_IDLE: on no request's path, in a real federation on other machines than the caller's; here they share the
# client core, where a run of theirs (a stats report taken in, a JIT compilation) delayed the load generator or the
# origin for every row, and more for FedMesh's rows, whose traffic makes the controllers work (session 27: with them
# stopped, 2.3 % of requests overlapped another program's run instead of 5 %). SCHED_IDLE yields the core to any
# woken task at once; they still run whenever the core is otherwise idle.
for p in $(jq -r '.supervisorPid, (.clusters[].parts[].pid)' <<<"$status_json"); do
  [ "$p" = "$FM_PROXY_PID" ] || [ "$p" = "$FM_GATEWAY_PID" ] && continue
  taskset -a -c -p $LG_CPU "$p" >/dev/null 2>&1 || true
  chrt -i -a -p 0 "$p" >/dev/null 2>&1 || true
done
for p in $FM_PROXY_PID $FM_GATEWAY_PID; do pin_measured "$p"; done

# ---------------------------------------------------------------- wait for every path
declare -A TARGET HOST PIDS
TARGET[direct]=127.0.0.1:$P_DIRECT;       HOST[direct]=origin;        PIDS[direct]=""
TARGET[nginx]=127.0.0.1:$P_NGX;           HOST[nginx]=origin;         PIDS[nginx]="nginx-a"
TARGET[haproxy]=127.0.0.1:$P_HA;          HOST[haproxy]=origin;       PIDS[haproxy]="haproxy-a"
TARGET[nginx-mtls]=127.0.0.1:$P_NGX_TLS;  HOST[nginx-mtls]=origin;    PIDS[nginx-mtls]="nginx-a"
TARGET[haproxy-mtls]=127.0.0.1:$P_HA_TLS; HOST[haproxy-mtls]=origin;  PIDS[haproxy-mtls]="haproxy-a"
TARGET[fedmesh]=$FM_OUTBOUND;             HOST[fedmesh]=bench;        PIDS[fedmesh]="fm-proxy"
TARGET[nginx-x]=127.0.0.1:$P_NGX_X;       HOST[nginx-x]=origin;       PIDS[nginx-x]="nginx-a nginx-b"
TARGET[haproxy-x]=127.0.0.1:$P_HA_X;      HOST[haproxy-x]=origin;     PIDS[haproxy-x]="haproxy-a haproxy-b"
TARGET[fedmesh-x]=$FM_OUTBOUND;           HOST[fedmesh-x]=bench-west; PIDS[fedmesh-x]="fm-proxy fm-gateway"
ROWS="direct nginx haproxy nginx-mtls haproxy-mtls fedmesh nginx-x haproxy-x fedmesh-x"
pids_of() { # instance names -> pids (masters and workers)
  local out=""
  for i in $1; do
    case $i in
      fm-proxy) out+=" $FM_PROXY_PID" ;;
      fm-gateway) out+=" $FM_GATEWAY_PID" ;;
      *) out+=" $(children "$(cat "$work/$i/master.pid")")" ;;
    esac
  done
  echo $out
}
for r in $ROWS; do wait_ok "$r" "http://${TARGET[$r]}/1k" "${HOST[$r]}"; done
log "every path answers; measuring $ROUNDS rounds (each: fixed ${FIXED}s at $RATE rps, saturation ${SAT}s)"
if [ -n "${BENCH_HOLD:-}" ]; then   # keep everything up for manual profiling, e.g. with dotnet-trace
  for r in $ROWS; do echo "$r ${TARGET[$r]} ${HOST[$r]} $(pids_of "${PIDS[$r]}")"; done >"$work/targets"
  log "holding for ${BENCH_HOLD}s (targets in $work/targets; remove $work/hold to go on)"; touch "$work/hold"
  for _ in $(seq 1 "$BENCH_HOLD"); do [ -e "$work/hold" ] || break; sleep 1; done
  # What ran against the hold may have restarted the proxy and gateway (install.sh, burst.sh): their pids are in the
  # targets file now.
  read -r _ _ _ FM_PROXY_PID FM_GATEWAY_PID < <(awk '$1=="fedmesh-x"' "$work/targets")
fi

# ---------------------------------------------------------------- measurement helpers
cpu_ticks() { local t=0; for p in $1; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
rss_kib() { local t=0; for p in $1; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $t; }
# The private part of RSS: heap, stacks, JIT code; not the shared, file-backed pages of libraries.
anon_kib() { local t=0; for p in $1; do t=$((t + $(awk '/RssAnon/ {print $2}' "/proc/$p/status"))); done; echo $t; }
# Connections the origin accepted (nginx stub_status; the query's own connection is one of them).
origin_accepts() { curl -s "http://127.0.0.1:$P_STATUS/" | awk 'NR==3 {print $1}'; }
cpu_busy() { awk -v c="cpu$1" '$1==c { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8 }' /proc/stat; }
loadgen() { nice -n "$NICE" taskset -c $LG_CPU "$LOADGEN" "$@"; }

# Bytes the row's FedMesh processes have allocated so far (the runtime meter on their /metrics); empty for other rows.
declare -A ADMINS=([fedmesh]="$FM_PROXY_ADMIN" [fedmesh-x]="$FM_PROXY_ADMIN $FM_GATEWAY_ADMIN")
allocated() {
  [ -n "${ADMINS[$1]:-}" ] || { echo null; return; }
  for a in ${ADMINS[$1]}; do curl -s "http://$a/metrics"; done \
    | awk '/^dotnet_gc_heap_total_allocated_bytes_total/ {s += $2; n++} END {if (n) printf "%.0f\n", s; else print "null"}'
}

declare -A IDLE IDLE_ANON
for r in $ROWS; do IDLE[$r]=$(rss_kib "$(pids_of "${PIDS[$r]}")"); IDLE_ANON[$r]=$(anon_kib "$(pids_of "${PIDS[$r]}")"); done   # before any load
measured=()
for r in $ROWS; do
  if [ "$ONLY" = all ] || [ "$r" = direct ] || [[ " $ONLY " == *" $r "* ]]; then measured+=("$r"); fi
done
# Rows are interleaved and every row is measured once per round: a machine that gets busier or quieter
# during the run moves every row, not just the ones measured at that moment. The report takes medians.
# Each measurement starts with a warm-up at the fixed rate: a row waits a minute or more between rounds, long
# enough for idle upstream connections to be closed (nginx keeps an idle upstream connection 60 s, and the origin
# closes idle client connections after 75 s), and the figures are for a proxy in steady use (burst.sh measures cold starts).
# The host's own noise, before and after the rounds: a thread spinning on each core in turn (at the rows' priority)
# counts the stalls it sees (interrupts, other threads, the hypervisor running another machine on this virtual core).
noise="$work/noise.jsonl"; : >"$noise"
stalls() {
  local core
  for core in $LG_CPU $PX_CPU; do
    nice -n "$NICE" taskset -c "$core" "$LOADGEN" --stall-probe 2 | jq -c --arg phase "$1" --argjson core "$core" '{phase:$phase, core:$core} + .' >>"$noise"
  done
}
stalls before
results="$work/results.jsonl"; : >"$results"
interleaved="$work/interleaved.jsonl"; : >"$interleaved"
for round in $(seq 1 "$ROUNDS"); do
  for r in "${measured[@]}"; do
    pids=$(pids_of "${PIDS[$r]}")
    t=${TARGET[$r]}; h=${HOST[$r]}
    log "round $round/$ROUNDS: $r"
    loadgen --target "$t" --host "$h" --path /1k --rate $RATE --connections 16 --seconds 2 >/dev/null
    c0=$(cpu_ticks "$pids"); o0=$(origin_accepts)
    fixed=$(loadgen --target "$t" --host "$h" --path /1k --rate $RATE --connections 16 --seconds "$FIXED" --warmup 0)
    c1=$(cpu_ticks "$pids"); o1=$(origin_accepts)
    # The same again on the kernel's clock (latency.sh describes it), apart so that perf's cost of recording every
    # wake-up stays out of the figures above.
    kclock_start "$work/fixed.perf" "$r" $pids
    loadgen --target "$t" --host "$h" --path /1k --rate $RATE --connections 16 --seconds "$FIXED" --warmup 0 >/dev/null
    kernel=$(kclock_stop $(pgrep -P "$(cat "$work/origin/master.pid")"))
    read -r b0 a0 < <(cpu_busy $PX_CPU); read -r lb0 la0 < <(cpu_busy $LG_CPU)
    s0=$(cpu_ticks "$pids"); m0=$(allocated "$r")
    nice -n "$NICE" taskset -c $LG_CPU wrk -t1 -c16 -d"${SAT}s" -H "Host: $h" "http://$t/1k" >"$work/$r.wrk.$round.txt"
    s1=$(cpu_ticks "$pids"); m1=$(allocated "$r")
    read -r b1 a1 < <(cpu_busy $PX_CPU); read -r lb1 la1 < <(cpu_busy $LG_CPU)
    alloc=null; [ "$m0" != null ] && [ "$m1" != null ] && alloc=$((m1 - m0))
    sat=$(awk '/Requests\/sec/ {print $2}' "$work/$r.wrk.$round.txt"); satn=$(awk '/requests in/ {print $1}' "$work/$r.wrk.$round.txt")
    jq -c --arg row "$r" --argjson round "$round" --argjson cpu $((c1 - c0)) --argjson opens $((o1 - o0 - 1)) \
       --argjson sat "${sat:-0}" --argjson satn "${satn:-0}" --argjson satcpu $((s1 - s0)) \
       --argjson alloc "$alloc" --argjson kernel "$kernel" \
       --argjson pxbusy "$(( (b1 - b0) * 100 / ((a1 - a0) > 0 ? (a1 - a0) : 1) ))" \
       --argjson lgbusy "$(( (lb1 - lb0) * 100 / ((la1 - la0) > 0 ? (la1 - la0) : 1) ))" \
       '{row:$row, round:$round, fixed:., cpuTicks:$cpu, originAccepts:$opens, satRps:$sat, satRequests:$satn, satCpuTicks:$satcpu,
         satAllocatedBytes:$alloc, proxyCoreBusyAtSat:$pxbusy, clientCoreBusyAtSat:$lgbusy, kernel:$kernel}' <<<"$fixed" >>"$results"
  done
  # The rows' latency once more, measured in turns (latency.sh's LATENCY_INTERLEAVE): the fixed rate goes to one row
  # for 250 ms at a time, each with its own 16 connections, until every row has had FIXED seconds; a busy moment of
  # the host then falls on every row alike instead of on the one measured at that moment.
  log "round $round/$ROUNDS: every row in turns"
  spec=(); for r in "${measured[@]}"; do spec+=(--row "$r,${TARGET[$r]},${HOST[$r]}"); done
  loadgen --interleave "${spec[@]}" --path /1k --rate $RATE --connections 16 --seconds "$FIXED" \
    | jq -c --argjson round "$round" '{row:.Row, round:$round, interleaved:.Figures}' >>"$interleaved"
done
# Memory once per row: peak RSS while serving 1,000 rps over 100 connections.
memory="$work/memory.jsonl"; : >"$memory"
for r in "${measured[@]}"; do
  pids=$(pids_of "${PIDS[$r]}")
  log "$r: 100 connections"
  loadgen --target "${TARGET[$r]}" --host "${HOST[$r]}" --path /1k --rate $RATE --connections 100 --seconds "$FIXED" >"$work/$r.load100.json" &
  lg=$!; peak=0; peak_anon=0
  while kill -0 $lg 2>/dev/null; do
    now=$(rss_kib "$pids"); [ "$now" -gt "$peak" ] && peak=$now
    now=$(anon_kib "$pids"); [ "$now" -gt "$peak_anon" ] && peak_anon=$now
    sleep 0.5
  done
  wait $lg
  jq -c --arg row "$r" --argjson idle "${IDLE[$r]}" --argjson load "$peak" --argjson idleanon "${IDLE_ANON[$r]}" --argjson loadanon "$peak_anon" \
     '{row:$row, rssIdleKiB:$idle, rssLoadKiB:$load, anonIdleKiB:$idleanon, anonLoadKiB:$loadanon, load100:.}' \
     "$work/$r.load100.json" >>"$memory"
done
stalls after
python3 "$here/report.py" "$results" "$memory" "$noise" "$interleaved" | tee "$work/table.md"
