#!/usr/bin/env bash
# The anatomy of a request: for each busy process of the given rows of a held run, at saturation (wrk -t1 -c16 for
# ANATOMY_SECONDS, default 4, in each of three passes), what one request costs and where it goes:
#   1. CPU µs per request (scheduler run time of all its threads) and context switches per request (voluntary: it
#      slept waiting for I/O; involuntary: it was preempted), with nothing attached to the process;
#   2. system calls per request by name (perf stat on the syscall tracepoints; a recv that finds nothing counts too);
#   3. that CPU per request split by owner (perf record at 2,999 Hz, each sample charged to the function it was taken
#      in: kernel, OpenSSL, libc, the program's own code, or one of .NET's layers; anatomy.py), with the hottest
#      functions of each.
# The rows side by side show which part of a FedMesh process costs more than nginx's or HAProxy's doing the same hop:
# the kernel's and OpenSSL's shares should match, and the rest is each program's own.
#   BENCH_ONLY="fedmesh-x nginx-x" BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &   # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/anatomy.sh fedmesh-x nginx-x                             # ~1 minute; then rm /tmp/b/hold
# ANATOMY_CLOSE=1 sends every request with "Connection: close": the cost of a connection per request (fresh.sh's callers).
# ANATOMY_RATE=RPS loads at that fixed rate (the load generator, 16 connections) instead of saturating with wrk: the
# cost of a request that wakes an idle proxy, as at run.sh's 1,000 rps, where caches are cold and every hop wakes a core.
# Needs perf (Debian's linux-perf, installed if missing) and root.
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
seconds=${ANATOMY_SECONDS:-4}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/held.sh"
in_range ANATOMY_SECONDS "$seconds"
case ${ANATOMY_CLOSE:-0} in
  0) close=""; fresh="" ;;
  1) close="-H 'Connection: close'"; fresh="--fresh" ;;
  *) echo "$script: ANATOMY_CLOSE must be 0 or 1, not '$ANATOMY_CLOSE'" >&2; exit 2 ;;
esac
rate=${ANATOMY_RATE:-}
[ -z "$rate" ] || [[ "$rate" =~ ^[1-9][0-9]{0,5}$ ]] || { echo "$script: ANATOMY_RATE must be requests per second (1 to 999999), not '$rate'" >&2; exit 2; }
[ $# -ge 1 ] || { echo "usage: BENCH_OUT=DIR bench/dataplane/anatomy.sh ROW... (rows of DIR/targets, e.g. fedmesh-x nginx-x)" >&2; exit 2; }
need_targets
command -v perf >/dev/null || { echo "installing linux-perf" >&2; apt-get install -y -qq linux-perf >/dev/null; }
declare -A target host pids
held_rows "$@"
out="$work/anatomy.$(date +%H%M%S)"
mkdir -p "$out"
calls=(recvfrom recvmsg read readv sendto sendmsg write writev epoll_wait futex)
events=$(printf 'syscalls:sys_enter_%s,' "${calls[@]}")

# load_command ROW SECONDS: the command that loads the row (wrk, or the load generator at ANATOMY_RATE) and prints the
# requests served; a string, so that perf can run it too.
load_command() {
  if [ -n "$rate" ]; then
    echo "nice -n $NICE taskset -c $LG_CPU '$loadgen' --target '${target[$1]}' --host '${host[$1]}' --path /1k --rate $rate --connections 16 --seconds $2 $fresh | jq .Requests"
  else
    echo "$(declare -f wrk_load); NICE=$NICE LG_CPU=$LG_CPU; wrk_load $2 -H 'Host: ${host[$1]}' $close 'http://${target[$1]}/1k'"
  fi
}
load() { bash -c "$(load_command "$1" "$2")"; }
switches() { awk '/^voluntary/ {v += $2} /^nonvoluntary/ {n += $2} END {print v + 0, n + 0}' /proc/"$1"/task/*/status; }
per() { awk -v a="$1" -v n="$2" -v d="${3:-2}" 'BEGIN {printf "%.*f", d, a / n}'; }

for row in "$@"; do
  # The processes that do the work: an nginx master sleeps through the load, and is left out.
  busy=()
  load "$row" 1 >/dev/null
  declare -A t0=()
  for p in ${pids[$row]}; do t0[$p]=$(thread_times "$p"); done
  load "$row" 1 >/dev/null
  for p in ${pids[$row]}; do [ "$(runtime_since "${t0[$p]}" "$p")" -gt 10000000 ] && busy+=("$p"); done
  [ ${#busy[@]} -gt 0 ] || { echo "$script: no process of $row was busy under load" >&2; exit 1; }

  # Pass 1: CPU and switches, with nothing attached (counting system calls slows every call down).
  declare -A cpu0=() vol0=() inv0=() cpu=()
  for p in "${busy[@]}"; do cpu0[$p]=$(thread_times "$p"); read -r vol0[$p] inv0[$p] < <(switches "$p"); done
  requests=$(load "$row" "$seconds")
  [ "${requests:-0}" -gt 0 ] || { echo "$script: $row answered no request" >&2; exit 1; }
  for p in "${busy[@]}"; do
    read -r vol inv < <(switches "$p")
    cpu[$p]=$(per "$(runtime_since "${cpu0[$p]}" "$p")" $((requests * 1000)) 1)
    echo "$row $p ($(cat /proc/"$p"/comm)): $((requests / seconds)) rps, CPU ${cpu[$p]} µs per request," \
      "switches per request $(per $((vol - vol0[$p])) "$requests") voluntary, $(per $((inv - inv0[$p])) "$requests") involuntary"
  done

  # Pass 2: system calls, counted per thread and summed per process.
  declare -A tids=()
  for p in "${busy[@]}"; do for t in /proc/"$p"/task/*; do tids[${t##*/}]=$p; done; done
  requests=$(perf stat --per-thread -x, -o "$out/$row.stat" -e "${events%,}" -p "$(IFS=,; echo "${busy[*]}")" -- \
    bash -c "$(load_command "$row" "$seconds")")
  [ "${requests:-0}" -gt 0 ] || { echo "$script: $row answered no request" >&2; exit 1; }
  for p in "${busy[@]}"; do
    # perf's per-thread lines: "comm-tid,count,unit,event,...".
    awk -F, -v p="$p" -v n="$requests" -v tidmap="$(for t in "${!tids[@]}"; do echo "$t=${tids[$t]}"; done)" '
      BEGIN { split(tidmap, lines, "\n"); for (i in lines) { split(lines[i], kv, "="); owner[kv[1]] = kv[2] } }
      $2 ~ /^[0-9]+$/ { tid = $1; sub(/.*-/, "", tid); if (owner[tid] == p) { e = $4; sub("syscalls:sys_enter_", "", e); c[e] += $2; all += $2 } }
      END { printf "%s: system calls per request %.2f", p, all / n; for (e in c) if (c[e] / n >= 0.01) printf ", %s %.2f", e, c[e] / n; print "" }' "$out/$row.stat"
  done

  # Pass 3: where the CPU goes.
  perf record -q -F 2999 -o "$out/$row.data" -p "$(IFS=,; echo "${busy[*]}")" -- \
    bash -c "$(load_command "$row" "$seconds")" >/dev/null 2>&1
  for p in "${busy[@]}"; do
    echo "$row $p: CPU per request by owner"
    perf report -q -i "$out/$row.data" --pid "$p" --no-children -F overhead,dso,sym --stdio 2>/dev/null | python3 "$here/anatomy.py" "${cpu[$p]}"
  done
done 2>&1 | tee "$out/anatomy.txt"
echo "(profiles and counts in $out)" >&2
