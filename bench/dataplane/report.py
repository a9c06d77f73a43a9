#!/usr/bin/env python3
"""Turns bench/dataplane results (one JSON object per row) into one side-by-side markdown table."""
import json
import os
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")
LOADGEN_CONNECTIONS = 16
# Each FedMesh row is compared with the nginx and HAProxy rows doing the same work.
PEERS = {
    "nginx": ("haproxy", "nginx"), "haproxy": ("haproxy", "nginx"),
    "nginx-mtls": ("haproxy-mtls", "nginx-mtls"), "haproxy-mtls": ("haproxy-mtls", "nginx-mtls"),
    "fedmesh": ("haproxy-mtls", "nginx-mtls"),
    "nginx-x": ("haproxy-x", "nginx-x"), "haproxy-x": ("haproxy-x", "nginx-x"), "fedmesh-x": ("haproxy-x", "nginx-x"),
}
PATHS = {
    "direct": "client → origin (no proxy)",
    "nginx": "→ nginx → origin",
    "haproxy": "→ HAProxy → origin",
    "nginx-mtls": "→ nginx ═mTLS h1═► origin",
    "haproxy-mtls": "→ HAProxy ═mTLS h1═► origin",
    "fedmesh": "→ FedMesh proxy ═mTLS h1═► origin (local endpoint)",
    "nginx-x": "→ nginx ═mTLS h1═► nginx ═mTLS═► origin",
    "haproxy-x": "→ HAProxy ═mTLS h1═► HAProxy ═mTLS h1═► origin",
    "fedmesh-x": "→ FedMesh proxy ═mTLS h1═► gateway ═mTLS h1═► origin",
}


def figures(r, direct):
    f = r["fixed"]
    n = max(f["Requests"], 1)
    return {
        "p50": f["P50Us"] - direct["P50Us"],
        "p99": f["P99Us"] - direct["P99Us"],
        "p999": f["P999Us"] - direct["P999Us"],
        "rps": r["satRps"],
        "cpu": r["cpuTicks"] / CLK_TCK / n * 1000 * 1000,  # ms of CPU per 1,000 requests
        "satcpu": r["satCpuTicks"] / CLK_TCK / max(r["satRequests"], 1) * 1000 * 1000,
        "idle": r["rssIdleKiB"] / 1024,
        "load": r["rssLoadKiB"] / 1024,
        "anon": r.get("anonIdleKiB", 0) / 1024,
        "anonload": r.get("anonLoadKiB", 0) / 1024,
        # connections the origin accepted from the last hop (the load generator's own excluded for direct)
        "conns": max(r["originAccepts"] - (LOADGEN_CONNECTIONS if r["row"] == "direct" else 0), 0) / n * 1000,
    }


COLUMNS = [
    ("p50", "added p50 µs", "{:.0f}", False), ("p99", "added p99 µs", "{:.0f}", False),
    ("p999", "added p99.9 µs", "{:.0f}", False), ("rps", "max rps", "{:,.0f}", True),
    ("cpu", "CPU ms/1k req at 1k rps", "{:.1f}", False), ("satcpu", "CPU ms/1k req at max", "{:.1f}", False), ("idle", "RSS idle MiB", "{:.1f}", False),
    ("load", "RSS 100 conns MiB", "{:.1f}", False),
    ("anon", "private (anon) RSS idle MiB", "{:.1f}", False), ("anonload", "private RSS 100 conns MiB", "{:.1f}", False), ("conns", "origin conns opened/1k req", "{:.2f}", False),
]


def ratio(a, b):
    if b is None:
        return "–"
    if abs(b) < 1e-9:
        return "–" if abs(a) < 1e-9 else "∞"
    return f"{a / b:.2f}"


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by = {r["row"]: r for r in rows}
    direct = by["direct"]["fixed"]
    figs = {name: figures(r, direct) for name, r in by.items()}
    print(f"Fixed {direct['Rps']:.0f} rps over 16 connections (latency from intended send time); direct: "
          f"p50 {direct['P50Us']:.0f} µs, p99 {direct['P99Us']:.0f} µs, p99.9 {direct['P999Us']:.0f} µs; "
          f"direct max rps {by['direct']['satRps']:,.0f}.")
    print("Each cell: value (÷HAProxy / ÷nginx doing the same hop). Latency is added over direct.\n")
    print("| row | path | " + " | ".join(c[1] for c in COLUMNS) + " | proxy core busy at max |")
    print("|---|---|" + "---|" * len(COLUMNS) + "---|")
    for name, r in by.items():
        f = figs[name]
        ha, ngx = PEERS.get(name, (None, None))
        cells = []
        for key, _, fmt, _ in COLUMNS:
            cell = fmt.format(f[key])
            if name != "direct" and (ha in figs or ngx in figs):
                cell += f" ({ratio(f[key], figs[ha][key] if ha in figs else None)} / {ratio(f[key], figs[ngx][key] if ngx in figs else None)})"
            cells.append(cell)
        errors = r["fixed"]["Errors"] + r["load100"]["Errors"]
        note = f"{r['proxyCoreBusyAtSat']}%" + (f", {errors} errors" if errors else "")
        print(f"| {name} | {PATHS.get(name, '')} | " + " | ".join(cells) + f" | {note} |")
    print("\nLatency at 1,000 rps over 100 connections (µs, not added): " + ", ".join(
        f"{n} p50 {r['load100']['P50Us']:.0f} / p99 {r['load100']['P99Us']:.0f}" for n, r in by.items()))


if __name__ == "__main__":
    main(sys.argv[1])
