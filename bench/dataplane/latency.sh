#!/usr/bin/env bash
# Latency at a fixed 1,000 rps, many rounds, on a held run: does a FedMesh row add less than nginx and HAProxy doing
# the same hop? run.sh gives the median of 3 rounds, and a round's p99 on a shared host moves by a factor of two or
# more; here every round measures direct and the rows back to back (order rotated each round), then the stall probe
# on the proxy core says how noisy the host was meanwhile. Prints per round the added p50 / p99 (µs, over direct's in
# that round) of every row and the probe's stalls, then per FedMesh row: the median added p50 and p99, the median of
# its per-round ratios to each peer, and in how many rounds it added no more than the peer.
# Each figure is given on two clocks: the load generator's (from each request's intended send time to its answer
# read, as run.sh measures) and the kernel's (kclock.py: from the connection thread's send to the kernel's wake-up of
# that thread by the answer, or the return of its receive if it did not sleep; recorded with perf), which leaves out
# the client core's own delays. Both time the same requests, so here the load generator's figures include perf's cost
# of recording each wake-up (run.sh's do not). On the kernel's clock the script also splits each row's requests into
# segments per hop (where the added time is spent), and gives two more tables: the requests that no other program's
# run overlapped (the host's share of the tail left out), and the proxies' own segments alone (the origin's, on the
# client's core, left out), then how many requests other programs disturbed. Last, the load generator's clock once
# more with every round's requests of a row pooled (p50 / p99 of all of them, less direct's pooled figures), steadier
# than per-round medians when a busy moment of the host decides a round's p99; the latencies are kept in
# $BENCH_OUT/latency.HHMMSS.d/ROW.ROUND.
# LATENCY_INTERLEAVE=1 measures a round's rows in turns instead of one after another: one run of the load generator
# (--interleave) gives the whole rate to one row for a slice of 250 ms (LATENCY_SLICE_MS), the first 50 ms of it
# unmeasured, then to the next, order rotated each cycle, until every row (direct included) has had LATENCY_SECONDS
# measured; a busy moment of the host then falls on all rows alike instead of on the one being measured. Load
# generator's clock only (the kernel's record needs a row to itself).
# LATENCY_KERNEL=0 leaves the kernel's clock out (no perf record: the load generator's figures without its cost, and
# more rounds in the same time); its tables are then empty.
# LATENCY_SLOW_MS=MS lists every measured request slower than MS (its row, round, intended send time in UTC, latency
# and client port) in $BENCH_OUT/slow.HHMMSS.log, to find it in a packet or scheduler record of the same time.
# Needs a held run with the rows to compare, e.g.
#   BENCH_ONLY="fedmesh fedmesh-x nginx-mtls nginx-x haproxy-mtls haproxy-x" BENCH_HOLD=3000 BENCH_OUT=/tmp/b bench/dataplane/run.sh &
#   BENCH_OUT=/tmp/b bench/dataplane/latency.sh [ROUNDS] [ROW...]   # default 8 rounds of every row held; ~1 min a round
# and perf (Debian's linux-perf, installed if missing) and root for the kernel's clock.
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
. "$(dirname "${BASH_SOURCE[0]}")/held.sh"
rounds=${1:-8}
in_range ROUNDS "$rounds"
shift || true
seconds=${LATENCY_SECONDS:-5}
in_range LATENCY_SECONDS "$seconds"
kernel=${LATENCY_KERNEL:-1}
[[ "$kernel" =~ ^[01]$ ]] || { echo "$script: LATENCY_KERNEL must be 0 or 1, not '$kernel'" >&2; exit 2; }
interleave=${LATENCY_INTERLEAVE:-0}
[[ "$interleave" =~ ^[01]$ ]] || { echo "$script: LATENCY_INTERLEAVE must be 0 or 1, not '$interleave'" >&2; exit 2; }
slice_ms=${LATENCY_SLICE_MS:-250}
[[ "$slice_ms" =~ ^[1-9][0-9]{1,4}$ && "$slice_ms" -gt 50 ]] || { echo "$script: LATENCY_SLICE_MS must be 51 to 99999, not '$slice_ms'" >&2; exit 2; }
[ "$interleave" = 0 ] || kernel=0
need_targets
[ "$kernel" = 0 ] || command -v perf >/dev/null || { echo "$script: installing linux-perf" >&2; apt-get install -y -qq linux-perf >/dev/null; }
origin=$(pgrep -P "$(cat "$work/origin/master.pid")")   # the origin's worker
rows=("$@")
[ ${#rows[@]} -gt 0 ] || mapfile -t rows < <(awk '$1 != "direct" {print $1}' "$work/targets")
declare -A target host pids
held_rows direct "${rows[@]}"
stamp=$(date +%H%M%S); out="$work/latency.$stamp.jsonl"; : >"$out"
pooled="$work/latency.$stamp.d"; mkdir -p "$pooled"   # every measured request's latency, per row and round
slow_ms=${LATENCY_SLOW_MS:-0}
[[ "$slow_ms" =~ ^[0-9]+$ ]] || { echo "$script: LATENCY_SLOW_MS must be a whole number of milliseconds, not '$slow_ms'" >&2; exit 2; }
slow_log="$work/slow.$stamp.log"

measure() {   # row round: a 2 s warm-up, then the measured run on both clocks; one JSON line
  lg --target "${target[$1]}" --host "${host[$1]}" --path /1k --rate 1000 --connections 16 --seconds 2 >/dev/null
  [ "$kernel" = 0 ] || kclock_start "$work/latency.perf" "$1" ${pids[$1]:-}
  local loadgen_clock kernel_clock=null
  loadgen_clock=$(lg --target "${target[$1]}" --host "${host[$1]}" --path /1k --rate 1000 --connections 16 --seconds "$seconds" \
    --slow-ms "$slow_ms" --latencies "$pooled/$1.$2" 2> >(slow_lines "$1 round $2: "))
  [ "$kernel" = 0 ] || kernel_clock=$(kclock_stop $origin)
  jq -c --arg row "$1" --argjson round "$2" --argjson kernel "$kernel_clock" \
    '{row:$row, round:$round, p50:.P50Us, p99:.P99Us, errors:.Errors} + $kernel' <<<"$loadgen_clock" >>"$out"
}
lg() { nice -n "$NICE" taskset -c $LG_CPU "$loadgen" "$@"; }   # as run.sh runs it: the client core, the rows' priority
# The load generator's stderr: its slow requests' lines (none with LATENCY_SLOW_MS=0, and then no list file) to the
# list, each after PREFIX; anything else it says to stderr.
slow_lines() { awk -v prefix="$1" -v list="$slow_log" '/^slow / {print prefix $0 >>list; next} {print >"/dev/stderr"}'; }

# LATENCY_INTERLEAVE=1: round N measures direct and every row in one interleaved run; one JSON line per row, as measure's.
measure_interleaved() {   # round
  local r spec=() each="$pooled/round.$1"
  for r in direct "${rows[@]}"; do spec+=(--row "$r,${target[$r]},${host[$r]}"); done
  mkdir -p "$each"
  [ "$1" != 1 ] || lg --interleave "${spec[@]}" --path /1k --rate 1000 --connections 16 --seconds 2 --slice-ms "$slice_ms" >/dev/null
  lg --interleave "${spec[@]}" --path /1k --rate 1000 --connections 16 --seconds "$seconds" --slice-ms "$slice_ms" \
    --slow-ms "$slow_ms" --latencies "$each" 2> >(slow_lines "round $1: ") \
    | jq -c --argjson round "$1" '{row:.Row, round:$round, p50:.Figures.P50Us, p99:.Figures.P99Us, errors:.Figures.Errors}' >>"$out"
  for r in direct "${rows[@]}"; do mv "$each/$r" "$pooled/$r.$1"; done
  rmdir "$each"
}

for round in $(seq 1 "$rounds"); do
  if [ "$interleave" = 1 ]; then
    measure_interleaved "$round"   # (the load generator rotates the rows' turns itself)
  else
    # Rotate the rows' order so that none is always measured right after direct.
    shift_by=$(( (round - 1) % ${#rows[@]} ))
    order=("${rows[@]:$shift_by}" "${rows[@]:0:$shift_by}")
    measure direct "$round"
    for r in "${order[@]}"; do measure "$r" "$round"; done
  fi
  nice -n "$NICE" taskset -c $PX_CPU "$loadgen" --stall-probe 1 \
    | jq -c --argjson round "$round" '{row:"stalls", round:$round, over200:.Over200UsPerSec, over1ms:.Over1MsPerSec, max:.MaxUs}' >>"$out"
  echo "$script: round $round/$rounds done" >&2
done

python3 - "$out" "$(dirname "${BASH_SOURCE[0]}")" "$pooled" <<'PY'
import json, os, sys
from statistics import median
sys.path.insert(0, sys.argv[2])
from report import added  # run.sh's rule for latency added over direct's, so both summaries leave out the same rounds
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rounds = sorted({l["round"] for l in lines})
direct = {l["round"]: l for l in lines if l["row"] == "direct"}
rows = list(dict.fromkeys(l["row"] for l in lines if l["row"] not in ("direct", "stalls")))
stalls = {l["round"]: l for l in lines if l["row"] == "stalls"}
errors = sum(l["errors"] for l in lines if l["row"] != "stalls")
PEERS = {"fedmesh": ("nginx-mtls", "haproxy-mtls"), "fedmesh-x": ("nginx-x", "haproxy-x")}
# The stall probe's column goes with the first table only (one probe per round).
# The last table's figures are the proxies' own time (kclock.py's "own50"/"own99"), added by themselves: not over
# direct's, which has none.
for clock, p50, p99, how, with_stalls, over_direct in (
        ("load generator's clock", "p50", "p99", "from each request's intended send time to its answer read", True, True),
        ("kernel's clock", "kp50", "kp99", "from each request's send to the kernel's wake-up of its thread by the answer", False, True),
        ("kernel's clock, undisturbed requests only", "kp50u", "kp99u", "the same, of the requests during which no other program ran 50 µs or more on either core", False, True),
        ("kernel's clock, the proxies' own segments", "own50", "own99", "each request's time less the origin's segment, of the requests whose every hop woke once, in order; not over direct's", False, False)):
    if p50 != "p50" and not any(l.get(p50) is not None for l in lines):
        continue  # no kernel figures at all (LATENCY_KERNEL=0, LATENCY_INTERLEAVE=1): no empty tables
    # A measurement whose kernel record failed (kclock.py printed null) has no kernel figures: "–", and left out. So
    # does a percentile below direct's in its round (report.added: direct hit by a stall longer than anything the row
    # met, so the time a proxy added cannot be told from it).
    over = {(l["row"], l["round"]): ((added(l[p50], direct[l["round"]][p50]), added(l[p99], direct[l["round"]][p99]))
                                     if over_direct else (l[p50], l[p99]))
            for l in lines if l["row"] in rows and l.get(p50) is not None and (not over_direct or direct[l["round"]].get(p50) is not None)}
    cell = lambda v: "–" if v is None else f"{v:.0f}"
    print(f"added latency at 1,000 rps over 16 connections on the {clock} ({how}), µs ("
          + ("p50 / p99 over direct's in the same round" if over_direct else "p50 / p99") + ")"
          + ("; proxy core's stalls after the round" if with_stalls else ""))
    print("| round | direct p50 / p99 | " + " | ".join(rows) + (" | stalls ≥ 200 µs/s, ≥ 1 ms/s, longest µs |" if with_stalls else " |"))
    print("|---|---|" + "---|" * len(rows) + ("---|" if with_stalls else ""))
    for r in rounds:
        d = direct[r]
        s = stalls.get(r)
        print(f"| {r} | " + (f"{d[p50]:.0f} / {d[p99]:.0f}" if d.get(p50) is not None else "–") + " | "
              + " | ".join(f"{cell(over[(w, r)][0])} / {cell(over[(w, r)][1])}" if (w, r) in over else "–" for w in rows)
              + ((f" | {s['over200']:.0f}, {s['over1ms']:.0f}, {s['max']:,.0f} |" if s else " | – |") if with_stalls else " |"))
    print()
    for row in rows:
        known = lambda w, i: [r for r in rounds if (w, r) in over and over[(w, r)][i] is not None]
        if not known(row, 0):
            continue
        text = f"{row}: median added " + ", ".join(
            f"{name} {median(over[(row, r)][i] for r in known(row, i)):.0f} µs" if known(row, i) else f"{name} –"
            for i, name in ((0, "p50"), (1, "p99")))
        for peer in PEERS.get(row, ()):
            if peer not in rows:
                continue
            parts = []
            for i, name in ((0, "p50"), (1, "p99")):
                both = [r for r in known(row, i) if r in known(peer, i)]
                ratios = [over[(row, r)][i] / over[(peer, r)][i] for r in both if over[(peer, r)][i] > 0]
                wins = sum(1 for r in both if over[(row, r)][i] <= over[(peer, r)][i])
                parts.append(f"{name} ratio median {median(ratios):.2f}, ≤ in {wins} of {len(both)} rounds" if ratios else f"{name} –")
            text += f"; ÷ {peer}: " + ", ".join(parts)
        print(text)
    print()
# Where the time goes, on the kernel's clock: each segment's median over the rounds of its per-round median.
if any("segments" in l for l in lines):
    print("segments on the kernel's clock, µs (median over rounds; requests whose every hop woke once, in order); each hop's own\n"
          "work per step (from a receive returning data to its next send, request and answer steps together):")
for row in rows:
    split = [l for l in lines if l["row"] == row and "segments" in l]
    if split:
        names = list(split[0]["segments"])
        share = sum(l["cycles"] for l in split) / sum(l["n"] for l in split)
        work = [l["work"] for l in split if "work" in l]
        own = ("; own work per step: " + ", ".join(f"{hop} {median(w[hop] for w in work if hop in w):.2f}" for hop in work[0])) if work else ""
        tail = [l["own_tail"] for l in split if l.get("own_tail") is not None]
        held = f", {median(tail):.0%} of the slowest 1 %" if tail else ""
        print(f"  {row}: " + ", ".join(f"{n} {median(l['segments'][n] for l in split):.0f}" for n in names) + f" ({share:.0%} of requests{held}){own}")
# How much of each row's tail the host made: requests during which another program ran (kclock.py's "disturbed").
if any(l.get("disturbed") is not None for l in lines):
    print("\nother programs' runs of 50 µs or more (kernel's clock): share of requests they overlapped, of the slowest 1 %,"
          " and what ran longest (ms in the round; the round with most):")
for row in ["direct"] + rows:
    marked = [l for l in lines if l["row"] == row and l.get("disturbed") is not None]
    if marked:
        worst = max(marked, key=lambda l: sum(l["foreign"].values()))
        print(f"  {row}: {median(l['disturbed'] for l in marked):.1%} of requests, {median(l['tail'] for l in marked):.0%} of the"
              " slowest 1 % (medians over rounds); " + ", ".join(f"{c} {ms}" for c, ms in worst["foreign"].items()))
# Every round's requests of a row in one distribution (the load generator's clock): a round's p99 is its 50
# slowest requests, which a busy moment of the host decides by falling on one row or another; the p99 of all rounds
# together (500 of 50,000 over 10 rounds) is steadier. Added = the row's pooled percentile less direct's.
def pooled(row):
    values = []
    for r in rounds:
        path = os.path.join(sys.argv[3], f"{row}.{r}")
        if os.path.exists(path):
            values += [float(v) for v in open(path) if v.strip()]
    values.sort()
    if not values:
        return None
    figures = {p: values[min(len(values) - 1, max(0, -(-p * len(values) // 100) - 1))] for p in (50, 99)}
    figures["over1ms"] = sum(1 for v in values if v > 1000) / len(values)
    return figures
base = pooled("direct")
if base:
    print(f"\nall rounds together, load generator's clock (each row's requests of every round in one distribution, less"
          f" direct's: p50 {base[50]:.0f}, p99 {base[99]:.0f} µs): added p50 / p99 µs, and ratios to the peers doing the same hop")
    each = {row: pooled(row) for row in rows}
    for row in rows:
        if not each[row]:
            continue
        mine = {p: each[row][p] - base[p] for p in (50, 99)}
        # A row's p99 sits where the host's stalls of a millisecond or more begin to count (about 1 % of requests on
        # this host): the share of requests above 1 ms says how many stalls the row's turns met.
        text = f"  {row}: {mine[50]:.0f} / {mine[99]:.0f} (over 1 ms: {each[row]['over1ms']:.2%} of requests)"
        for peer in PEERS.get(row, ()):
            if each.get(peer):
                theirs = {p: each[peer][p] - base[p] for p in (50, 99)}
                text += f"; ÷ {peer}: p50 {mine[50] / theirs[50]:.2f}, p99 {mine[99] / theirs[99]:.2f}" if min(theirs.values()) > 0 else ""
        print(text)
if errors:
    print(f"{errors} requests failed")
PY
echo "($out)"
