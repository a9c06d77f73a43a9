#!/usr/bin/env bash
# What a request costs each process of a row in calls to the kernel: sends, receives, epoll waits, futex calls (thread
# hand-offs) and context switches per request, counted with perf's tracepoints over a saturation run. Flat CPU profiles
# put half a proxy's time in the kernel (a loopback send runs the receiver's TCP path), so fewer sends per request is
# the lever; this says how many there are.
# Needs a held run (root for perf; Debian's linux-perf installed if missing):
#   BENCH_ONLY="fedmesh-x nginx-x haproxy-x" BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &   # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/syscalls.sh [ROW] [CALLERS]   # ROW default fedmesh-x; CALLERS: h2-m1 (default), h2-m10, h1
# h2-mN: h2load, 16 connections, N streams at a time on each (h2c; the FedMesh rows' outbound port takes it); h1: wrk,
# 16 connections. SYSCALLS_SECONDS (default 4) per run.
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
. "$(dirname "${BASH_SOURCE[0]}")/held.sh"
row=${1:-fedmesh-x}
callers=${2:-h2-m1}
seconds=${SYSCALLS_SECONDS:-4}
in_range SYSCALLS_SECONDS "$seconds"
[[ "$callers" =~ ^(h2-m[1-9][0-9]?|h1)$ ]] || { echo "$script: CALLERS must be h2-m1 … h2-m99 or h1, not '$callers'" >&2; exit 2; }
need_targets
command -v perf >/dev/null || { echo "$script: installing linux-perf" >&2; apt-get install -y -qq linux-perf >/dev/null; }
declare -A target host pids
held_rows "$row"
events=syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_writev,syscalls:sys_enter_recvfrom,syscalls:sys_enter_readv,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,context-switches
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

run_callers() {   # seconds: prints the requests that succeeded
  if [ "$callers" = h1 ]; then
    nice -n "$NICE" taskset -c $LG_CPU wrk -t1 -c16 -d"${1}s" -H "Host: ${host[$row]}" "http://${target[$row]}/1k" | awk '/requests in/ {print $1}'
  else
    nice -n "$NICE" taskset -c $LG_CPU h2load -c16 -m"${callers#h2-m}" -D "$1" -H ":authority: ${host[$row]}" "http://${target[$row]}/1k" \
      | awk '/^requests:/ {print $8}'
  fi
}

run_callers 2 >/dev/null   # warm-up
for p in ${pids[$row]}; do perf stat -x, -o "$tmp/$p" -e "$events" -p "$p" -- sleep "$((seconds + 1))" & done
sleep 0.5
requests=$(run_callers "$seconds")
wait
[ "${requests:-0}" -gt 0 ] || { echo "$script: no request of $row succeeded" >&2; exit 1; }
echo "$row, $callers callers: $requests requests in ${seconds}s; per request, of each process (perf counts over $((seconds + 1)) s, the run inside):"
for p in ${pids[$row]}; do
  printf '%-8s %-22s' "$p" "$(cat "/proc/$p/comm")"
  awk -F, -v r="$requests" '/^[0-9]/ { n=$3; sub(/.*sys_enter_/, "", n); printf " %s %.2f", n, $1 / r }' "$tmp/$p"
  echo
done
