#!/usr/bin/env bash
# Issue 2 figures for the local two-cluster federation, measured on this machine:
#   - wall time of `fedmesh up --detach` (start of every part until all report ready),
#   - time from `fedmesh link` returning to the first successful cross-cluster request,
#   - RSS of every process when idle.
# Uses a throw-away home, stops everything at the end. Loopback only; every wait is bounded.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
fedmesh="$root/fedmesh"
home="$(mktemp -d /tmp/fedmesh-figures-XXXX)"
trap '"$fedmesh" down --home "$home" >/dev/null 2>&1 || true; rm -rf "$home"' EXIT

"$fedmesh" --help >/dev/null   # build once, outside the measurement

ms() { date +%s%3N; }

t0=$(ms)
"$fedmesh" up --detach --home "$home" >/dev/null
t1=$(ms)
echo "up --detach until every part is ready: $((t1 - t0)) ms"

outbound=$("$fedmesh" status -o json --home "$home" | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(next(p["addresses"]["outbound"] for c in d["clusters"] if c["name"]=="east" for p in c["parts"] if p["kind"]=="proxy"))')

"$fedmesh" link east west --home "$home" >/dev/null
t2=$(ms)
for i in $(seq 1 3000); do
  if curl -sf --noproxy '' -x "http://$outbound" --max-time 2 http://echo-west.default/ >/dev/null 2>&1; then break; fi
  sleep 0.005
done
t3=$(ms)
echo "link returned -> first successful east->west request: $((t3 - t2)) ms"

sleep 5
echo
echo "RSS when idle (5 s after the last request):"
"$fedmesh" status -o json --home "$home" | python3 -c '
import json,sys
d=json.load(sys.stdin)
for c in d["clusters"]:
    for p in c["parts"]:
        pid = p["pid"]
        try:
            kib = int([l.split()[1] for l in open("/proc/%d/status" % pid) if l.startswith("VmRSS")][0])
        except Exception:
            kib = 0
        print("  %-6s %-20s %-10s %7.1f MiB" % (c["name"], p["name"], p["kind"], kib / 1024))'
