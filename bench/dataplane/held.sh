# Sourced by the scripts that work on a held run of bench/dataplane/run.sh (ab.sh, burst.sh, floor.sh, h2.sh,
# inbound.sh): their argument checks, the held run's rows, the parts' pids, their CPU ticks, and restarting east's proxy
# and west's gateway. Needs $work (the run's BENCH_OUT) set before sourcing.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
export FEDMESH_HOME="$work/federation"
fedmesh="$work/fedmesh/fedmesh"
loadgen="$work/loadgen/FedMesh.Bench.LoadGen"
PX_CPU=1; LG_CPU=0; NICE=${BENCH_NICE:--20}   # where and how run.sh places them
hz=$(getconf CLK_TCK)
script=$(basename "$0" .sh)   # names the script in its messages

# in_range NAME VALUE: exits (2) unless VALUE is a whole number from 1 to 99 (a count of rounds or seconds).
in_range() { [[ "$2" =~ ^[1-9][0-9]?$ ]] || { echo "$script: $1 must be 1 to 99, not '$2'" >&2; exit 2; }; }

# need_targets: exits unless the held run has written its targets file (one line per row: name, address, Host, pids).
need_targets() { [ -f "$work/targets" ] || { echo "$script: $work/targets is missing: is a BENCH_HOLD run holding?" >&2; exit 1; }; }

# held_rows ROW...: reads each row of the targets file into target[ROW], host[ROW] and pids[ROW] (associative arrays the
# caller declares); exits if a row is missing or one of its processes is gone.
held_rows() {
  local r t h p pid
  for r in "$@"; do
    read -r _ t h p < <(awk -v r="$r" '$1==r' "$work/targets") || { echo "$script: no $r row in $work/targets" >&2; exit 1; }
    for pid in $p; do [ -d "/proc/$pid" ] || { echo "$script: process $pid of $r is gone: restart the held run" >&2; exit 1; }; done
    target[$r]=$t; host[$r]=$h; pids[$r]=$p
  done
}

pid_of() { "$fedmesh" status -o json | jq -r --arg c "$1" --arg p "$2" '.clusters[] | select(.name==$c) | .parts[] | select(.name==$p) | .pid'; }

# CPU ticks (user + system, CLK_TCK per second) of the given processes together.
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }

# Kills east's proxy and west's gateway, waits (at most 60 s) until the supervisor has restarted both and a request
# to http://TARGET/1k with Host HOST answers, then pins them as run.sh does. Sets px and gw to the new pids and writes
# them into the targets file.
restart_parts() {   # target host
  local old_px old_gw p
  old_px=$(pid_of east echo-east-0-proxy); old_gw=$(pid_of west gateway)
  # (A stopped part's pid reads as 0 or null, and "kill 0" would signal this script's own process group.)
  [[ "$old_px" =~ ^[1-9][0-9]*$ && "$old_gw" =~ ^[1-9][0-9]*$ ]] \
    || { echo "$script: east's proxy or west's gateway is not running (pids '$old_px', '$old_gw'): has the held run ended?" >&2; exit 1; }
  kill "$old_px" "$old_gw"
  for _ in $(seq 1 300); do
    px=$(pid_of east echo-east-0-proxy); gw=$(pid_of west gateway)
    # The status says pid 0 while the supervisor is between a part's exit and its restart.
    if [ "$px" != "$old_px" ] && [ "$gw" != "$old_gw" ] && [ "${px:-0}" != 0 ] && [ "${gw:-0}" != 0 ] && [ "$px" != null ] && [ "$gw" != null ] \
       && curl -sf -o /dev/null -H "Host: $2" "http://$1/1k"; then
      for p in "$px" "$gw"; do pin_measured "$p"; done
      # The targets file names the new pids, so that every script after this one measures the restarted parts.
      awk -v px="$px" -v gw="$gw" '$1=="fedmesh" {$4=px} $1=="fedmesh-x" {$4=px; $5=gw} {print}' "$work/targets" >"$work/targets.new" \
        && mv "$work/targets.new" "$work/targets"
      return 0
    fi
    sleep 0.2
  done
  echo "the proxy and the gateway did not come back within 60 s of their restart" >&2; exit 1
}

# install_dataplane "[VAR=VALUE...] BINARY": makes BINARY the held run's data plane, started with the given environment
# (e.g. FEDMESH_BUSY_POLL_US=100), restarts east's proxy and west's gateway on it (restart_parts), and writes their new
# pids into the targets file, so that every script measures them. With an environment the installed file is a script
# that sets it and runs the binary, kept under the same name beside it (the supervisor recognises the name).
install_dataplane() {
  local words=($1) installed="$work/fedmesh/fedmesh-dataplane" binary env=() w
  binary=${words[-1]}
  for w in "${words[@]:0:${#words[@]}-1}"; do
    [[ "$w" =~ ^[A-Z_][A-Z0-9_]*=[^\ \'\"]*$ ]] || { echo "$script: '$w' is not VAR=VALUE (in '$1')" >&2; exit 2; }
    env+=("$w")
  done
  [ -x "$binary" ] && [ -f "$binary" ] || { echo "$script: $binary is not an executable (publish one with dotnet publish deploy/dataplane -c Release -o DIR)" >&2; exit 2; }
  [ -f "$installed" ] || { echo "$script: $installed is missing: the held run must be of the native data plane (BENCH_PROXY=native)" >&2; exit 1; }
  # (An earlier install's script in its place would run itself: once an environment was given, the binary is with-env/.)
  [ "$(head -c 4 "$binary" | od -An -c | tr -d ' ')" = '177ELF' ] \
    || { echo "$script: $binary is not a native binary (the script an earlier install left? then give $work/fedmesh/with-env/fedmesh-dataplane)" >&2; exit 2; }
  local real="$installed"
  if [ ${#env[@]} -gt 0 ]; then
    mkdir -p "$work/fedmesh/with-env"; real="$work/fedmesh/with-env/fedmesh-dataplane"
  fi
  cp "$binary" "$real.new" && mv "$real.new" "$real"
  # Its symbols too (StripSymbols leaves them beside the binary), so that a profile of the held run names functions.
  if [ "$binary.dbg" -ef "$real.dbg" ]; then :; elif [ -f "$binary.dbg" ]; then cp "$binary.dbg" "$real.dbg"; else rm -f "$real.dbg"; fi
  if [ ${#env[@]} -gt 0 ]; then
    printf '#!/bin/sh\nexec env %s "%s" "$@"\n' "${env[*]}" "$real" >"$installed.new" && chmod +x "$installed.new" && mv "$installed.new" "$installed"
  fi
  local t h
  read -r _ t h _ < <(awk '$1=="fedmesh-x"' "$work/targets") || { echo "$script: no fedmesh-x row in $work/targets" >&2; exit 1; }
  restart_parts "$t" "$h"
}

# CPU per request from the scheduler's run time (ns) of each thread, finer than ticks:
#   t0=$(thread_times PIDS); ...load...; runtime_since "$t0" PIDS   -> ns the processes ran since t0.
# Counted per thread: one that exits meanwhile (an idle thread-pool worker retiring) must not take its whole past run
# time out of the sum, as a difference of totals would; a thread that starts meanwhile counts from zero.
thread_times() { for p in "$@"; do for t in /proc/"$p"/task/*; do echo "${t##*/} $(awk '{print $1}' "$t/schedstat" 2>/dev/null)"; done; done | tr '\n' ' '; }
runtime_since() {
  local before=$1; shift
  awk -v before="$before" '
    BEGIN { n = split(before, b, " "); for (i = 1; i < n; i += 2) t0[b[i]] = b[i + 1] }
    { sum += $2 - ($1 in t0 ? t0[$1] : 0) }
    END { printf "%.0f", sum }' < <(for p in "$@"; do for t in /proc/"$p"/task/*; do echo "${t##*/} $(awk '{print $1}' "$t/schedstat" 2>/dev/null)"; done; done)
}

# Load generators for measure_row: SECONDS ARGS... -> prints the requests served. wrk and h2load with 16 connections.
wrk_load() { nice -n "$NICE" taskset -c $LG_CPU wrk -t1 -c16 -d"$1s" "${@:2}" | awk '/requests in/ {print $1}'; }
h2_load() { nice -n "$NICE" taskset -c $LG_CPU h2load -D "$1" -c 16 "${@:2}" 2>&1 | awk '/^requests:/ {print $8}'; }

# measure_row RESULTS ROUND SECONDS NAME "PIDS" LOAD ARGS...: warms up with LOAD for 1 s, then loads for SECONDS and appends
# "NAME ROUND rps N cpu_us X" to RESULTS (X: CPU µs per request of PIDS together).
measure_row() {
  local results=$1 round=$2 secs=$3 name=$4 pids=$5 load=$6 t0 c n; shift 6
  "$load" 1 "$@" >/dev/null
  t0=$(thread_times $pids)
  n=$("$load" "$secs" "$@")
  c=$(runtime_since "$t0" $pids)
  [ "${n:-0}" -gt 0 ] || { echo "$name answered no request" >&2; exit 1; }
  echo "$name $round rps $((n / secs)) cpu_us $(awk -v c="$c" -v n="$n" 'BEGIN {printf "%.1f", c / 1000 / n}')" | tee -a "$results" >&2
}

# print_medians RESULTS [REFERENCE_ROW...]: each row's median rps and CPU µs per request, and its CPU as a ratio to
# each reference row's.
print_medians() {
  python3 - "$@" <<'PY'
import sys, statistics, collections
rps, cpu = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    rps[f[0]].append(float(f[3])); cpu[f[0]].append(float(f[5]))
refs = sys.argv[2:]
med = {r: (statistics.median(rps[r]), statistics.median(cpu[r])) for r in rps}
print(f"{'row':18} {'max rps':>9} {'CPU us/req':>11}" + "".join(f" {'CPU / ' + r:>18}" for r in refs))
for r, (x, c) in med.items():
    print(f"{r:18} {x:9.0f} {c:11.1f}" + "".join(f" {c / med[ref][1]:18.2f}" for ref in refs))
PY
}
