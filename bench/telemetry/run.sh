#!/usr/bin/env bash
# Cost of telemetry on the proxy hot path: the same local federation twice (Release build), once with metrics and
# tracing on (Prometheus /metrics plus spans exported over OTLP to a local sink) and once with FEDMESH_TELEMETRY=off.
# wrk drives east's proxy outbound (app -> proxy -> mTLS -> proxy -> echo), alternating off/on ROUNDS times, and the
# script prints requests/s and latency per mode with the on/off ratio. Loopback only.
#   bench/telemetry/run.sh [DURATION_SECONDS=10] [ROUNDS=2] [CONNECTIONS=16]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}; rounds=${2:-2}; connections=${3:-16}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

dotnet build linker/FedMesh.Linker.csproj -c Release -nologo -v q >/dev/null
fedmesh=(dotnet linker/bin/Release/net10.0/fedmesh.dll)
work=$(mktemp -d /tmp/fedmesh-bench-telemetry.XXXX)
sink_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# An OTLP/HTTP sink that accepts and drops every export, so span export costs what it costs in production.
python3 - "$sink_port" >"$work/sink.log" 2>&1 <<'PY' &
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
sink_pid=$!

cleanup() {
  "${fedmesh[@]}" down --home "$work/on" >/dev/null 2>&1 || true
  "${fedmesh[@]}" down --home "$work/off" >/dev/null 2>&1 || true
  kill "$sink_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

FEDMESH_TELEMETRY=off "${fedmesh[@]}" up --detach --home "$work/off" >/dev/null
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
  "${fedmesh[@]}" up --detach --home "$work/on" >/dev/null

outbound() {
  "${fedmesh[@]}" status -o json --home "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next(p["addresses"]["outbound"] for c in d["clusters"] if c["name"] == "east" for p in c["parts"] if p["kind"] == "proxy"))'
}
declare -A target=([off]=$(outbound "$work/off") [on]=$(outbound "$work/on"))

# Warm up both (JIT, connection pools), and check the route answers.
for mode in off on; do
  curl -sf -o /dev/null -H "Host: echo.default" "http://${target[$mode]}/" || { echo "echo.default does not answer through ${target[$mode]} ($mode)" >&2; exit 1; }
  wrk -t1 -c"$connections" -d3s -H "Host: echo.default" "http://${target[$mode]}/" >/dev/null
done

declare -A rps_sum=([off]=0 [on]=0) p50=() p99=()
for round in $(seq "$rounds"); do
  for mode in off on; do
    out=$(wrk -t1 -c"$connections" -d"${duration}s" --latency -H "Host: echo.default" "http://${target[$mode]}/")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
    [ -n "$errors" ] && echo "round $round $mode: $errors" >&2
    rps_sum[$mode]=$(python3 -c "print(${rps_sum[$mode]} + $rps)")
    p50[$mode]+="$(awk '$1=="50%" {print $2}' <<<"$out") "
    p99[$mode]+="$(awk '$1=="99%" {print $2}' <<<"$out") "
    printf 'round %d  %-3s  %8.0f req/s  p50 %s  p99 %s\n' "$round" "$mode" "$rps" "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
  done
done

off=$(python3 -c "print(${rps_sum[off]} / $rounds)"); on=$(python3 -c "print(${rps_sum[on]} / $rounds)")
echo
printf '%-34s %12s %22s %22s\n' "mode (wrk -t1 -c$connections, ${duration}s x $rounds)" "req/s" "p50 per round" "p99 per round"
printf '%-34s %12.0f %22s %22s\n' "telemetry off (FEDMESH_TELEMETRY=off)" "$off" "${p50[off]}" "${p99[off]}"
printf '%-34s %12.0f %22s %22s\n' "metrics + tracing on (OTLP sink)" "$on" "${p50[on]}" "${p99[on]}"
python3 -c "print(f'ratio on/off: {$on / $off:.3f}')"
