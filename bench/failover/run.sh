#!/usr/bin/env bash
# Failover benchmark: three local clusters, east's echo steered to [west, north], 500 GETs/s through east's proxy.
# West's gateway is killed (connection refused) in one phase and frozen with SIGSTOP (a black hole) in the other;
# for each: failed requests, time from the gateway's death to the last failed request, when traffic had moved to
# north, and the slowest answer. Targets: <= 1 s refused, <= 3 s black hole, 0 failed idempotent requests.
# Usage: bench/failover/run.sh      BENCH_RATE=500  BENCH_SECONDS=12 (per phase; the gateway dies at 4 s)
#        BENCH_OUT=DIR keeps the per-request logs (default: a fresh /tmp/fedmesh-failover.* directory)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
RATE=${BENCH_RATE:-500}
SECONDS_PER_PHASE=${BENCH_SECONDS:-12}
BREAK_AT=4
work=${BENCH_OUT:-$(mktemp -d /tmp/fedmesh-failover.XXXXXX)}
mkdir -p "$work"
export FEDMESH_HOME="$work/federation"
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
for t in jq python3; do command -v $t >/dev/null || { echo "bench: needs $t" >&2; exit 1; }; done

log "building fedmesh and the load generator"
dotnet build "$root/linker" -c Release -nologo -v:q >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
dotnet build "$here/loadgen" -c Release -o "$work/loadgen" -nologo -v:q >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
fedmesh() { timeout 120 dotnet "$root/linker/bin/Release/net10.0/fedmesh.dll" "$@"; }
LOADGEN="$work/loadgen/FedMesh.Bench.FailoverLoad"

frozen_pid=""
cleanup() {
  set +e
  [ -n "$frozen_pid" ] && kill -CONT "$frozen_pid" 2>/dev/null
  fedmesh down >/dev/null 2>&1
}
trap cleanup EXIT

log "starting examples/local/three-clusters.yaml in $FEDMESH_HOME"
fedmesh up -f "$root/examples/local/three-clusters.yaml" --detach >"$work/up.log" 2>&1 || { tail -30 "$work/up.log"; exit 1; }
fedmesh link east west >/dev/null
fedmesh link east north >/dev/null
cat >"$work/policy.yaml" <<'YAML'
apiVersion: fedmesh.io/v1alpha1
kind: FailoverPolicy
metadata: { name: echo, namespace: default }
spec:
  service: echo
  targets: [{ cluster: west }, { cluster: north }]
  failback: { after: 2s }
YAML
fedmesh failover apply -f "$work/policy.yaml" --cluster east >/dev/null
outbound=$(fedmesh status -o json | jq -r '.clusters[] | select(.name=="east") | .parts[] | select(.kind=="proxy") | .addresses.outbound')

# Bounded wait until east's echo traffic is on west with west's link alive.
on_west() {
  for _ in $(seq 1 100); do
    alive=$(fedmesh get links --cluster east -o json | jq -r '.items[] | select(.spec.targetCluster=="west") | .status.alive')
    ok=0
    if [ "$alive" = "true" ]; then
      ok=1
      for _ in 1 2 3 4 5; do
        c=$(curl -sS --noproxy '' -x "http://$outbound" -D - -o /dev/null --max-time 5 http://echo.default/ | tr -d '\r' | awk -F': ' 'tolower($1)=="x-fedmesh-upstream-cluster"{print $2}')
        [ "$c" = "west" ] || ok=0
      done
    fi
    [ $ok = 1 ] && return 0
    sleep 0.3
  done
  echo "bench: traffic did not settle on west" >&2; exit 1
}

phase() { # name, break command, restore command
  local name=$1 breaker=$2 restorer=$3
  on_west
  log "$name: ${RATE} GETs/s for ${SECONDS_PER_PHASE}s, west's gateway breaks at ${BREAK_AT}s"
  "$LOADGEN" --proxy "$outbound" --url http://echo.default/ --rate "$RATE" --seconds "$SECONDS_PER_PHASE" --timeout 10 >"$work/$name.requests" &
  local lg=$!
  sleep "$BREAK_AT"
  date +%s%3N >"$work/$name.break"
  eval "$breaker"
  wait $lg
  eval "$restorer"
}

gw_pid() { fedmesh status -o json | jq -r '.clusters[] | select(.name=="west") | .parts[] | select(.kind=="gateway") | .pid'; }
phase refused "fedmesh stop-part west/gateway >/dev/null" "fedmesh start-part west/gateway >/dev/null"
phase blackhole 'frozen_pid=$(gw_pid); kill -STOP $frozen_pid' 'kill -CONT $frozen_pid; frozen_pid=""'
on_west

python3 - "$work" "$RATE" <<'PY'
import sys
work, rate = sys.argv[1], sys.argv[2]
targets = {"refused": 1.0, "blackhole": 3.0}
rows = []
for name in ("refused", "blackhole"):
    brk = int(open(f"{work}/{name}.break").read()) / 1000
    reqs = [l.split() for l in open(f"{work}/{name}.requests")]
    reqs = [(int(t) / 1000, int(s), float(ms), c) for t, s, ms, c in reqs]
    failed = [r for r in reqs if r[1] != 200]
    after = [r for r in reqs if r[0] >= brk]
    last_failed = max((r[0] + r[2] / 1000 - brk for r in failed), default=None)  # when its failure was seen
    last_west = max((r[0] - brk for r in after if r[3] != "north"), default=0.0)
    slowest = max((r[2] for r in reqs if r[0] >= brk - 1), default=0.0)
    ok = len(failed) == 0 and (last_failed is None or last_failed <= targets[name])
    rows.append((name, len(reqs), len(failed), "-" if last_failed is None else f"{last_failed:.2f}", f"{last_west:.2f}", f"{slowest/1000:.2f}", f"{targets[name]:.0f} s, 0 failed", "yes" if ok else "NO"))
head = ("gateway", "requests", "failed", "death→last failed (s)", "death→last non-north send (s)", "slowest answer (s)", "target", "met")
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
print(f"bench/failover: {rate} GETs/s through east's proxy, targets [west, north]; per-request logs in {work}")
for r in [head] + rows:
    print("  ".join(str(v).ljust(w[i]) for i, v in enumerate(r)))
PY
