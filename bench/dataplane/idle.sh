#!/usr/bin/env bash
# What an idle data-plane process costs: wake-ups a second (every thread's voluntary context switches: each is a sleep
# that something ended) and CPU ms a second (the scheduler's run time of all its threads), over IDLE_SECONDS (default
# 30) with no request anywhere, for FedMesh's proxy (the fedmesh row) and gateway (fedmesh-x's second process) beside
# the nginx and HAProxy processes of the held run. A sidecar runs beside every workload, mostly idle: what it does
# when nothing happens is paid once per pod. Per thread name too, so the figure says which part wakes.
#   BENCH_ONLY="fedmesh fedmesh-x nginx-mtls nginx-x" BENCH_HOLD=900 BENCH_OUT=/tmp/b bench/dataplane/run.sh &   # wait for /tmp/b/targets
#   BENCH_OUT=/tmp/b bench/dataplane/idle.sh [SECONDS]                                                          # then rm /tmp/b/hold
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
seconds=${1:-${IDLE_SECONDS:-30}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/held.sh"
in_range SECONDS "$seconds"
need_targets
declare -A target host pids
held_rows fedmesh fedmesh-x
read -r -a x <<< "${pids[fedmesh-x]}"
procs=("fedmesh proxy:${pids[fedmesh]}" "fedmesh gateway:${x[1]}")
for r in nginx-mtls haproxy-mtls; do
  if awk -v r="$r" '$1==r {f=1} END {exit !f}' "$work/targets"; then
    held_rows "$r"
    for p in ${pids[$r]}; do procs+=("$r:$p"); done
  fi
done

# One line per thread: process label, pid, thread id, thread name, voluntary switches, run time in ns.
snapshot() {
  local entry label pid t
  for entry in "${procs[@]}"; do
    label=${entry%%:*}; pid=${entry##*:}
    for t in /proc/"$pid"/task/*; do
      [ -r "$t/status" ] || continue
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$pid" "${t##*/}" "$(cat "$t/comm" 2>/dev/null)" \
        "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null || echo 0)" \
        "$(awk '{print $1}' "$t/schedstat" 2>/dev/null || echo 0)"
    done
  done
}

echo "idle.sh: no load for ${seconds} s; measuring every process of the held run" >&2
sleep 2
before=$(snapshot)
sleep "$seconds"
after=$(snapshot)
python3 - "$seconds" <(echo "$before") <(echo "$after") <<'EOF'
import sys, collections
seconds = float(sys.argv[1])
def read(path):
    rows = {}
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 6:
            label, pid, tid, name, vol, ns = parts
            rows.setdefault((label, pid), {})[tid] = (name, int(vol or 0), int(ns or 0))
    return rows
before, after = read(sys.argv[2]), read(sys.argv[3])
per_process = collections.OrderedDict()
per_thread = collections.defaultdict(collections.Counter)
for key, threads in after.items():
    # A thread born during the run counts from zero; one that ended during it is not counted (threads of these
    # processes live as long as the process, but for an idle thread-pool worker retired after 20 s).
    was = before.get(key, {})
    wakes = cpu = 0
    for tid, (name, vol, ns) in threads.items():
        _, v0, n0 = was.get(tid, (name, 0, 0))
        wakes += vol - v0; cpu += ns - n0
        per_thread[key][name] += vol - v0
    per_process[key] = (wakes / seconds, cpu / 1e6 / seconds)
print(f"Idle for {seconds:.0f} s (no request anywhere):\n")
print("| process | pid | wake-ups / s | CPU ms / s | who wakes (thread name: wake-ups / s) |")
print("|---|---|---|---|---|")
for (label, pid), (w, c) in per_process.items():
    top = ", ".join(f"{n}: {v / seconds:.1f}" for n, v in per_thread[(label, pid)].most_common(6) if v > 0)
    print(f"| {label} | {pid} | {w:.1f} | {c:.2f} | {top} |")
EOF
