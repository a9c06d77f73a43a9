#!/usr/bin/env python3
"""Turns bench/dataplane results (one JSON object per row and round, one per row for memory) into one side-by-side
markdown table of medians."""
import json
import os
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")
LOADGEN_CONNECTIONS = 16
RATE = 1000
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


def added(mine, theirs):
    """Latency added over direct's, or None (left out of the median) when either is missing or direct's is the larger:
    direct hit by a stall longer than anything the row met, so what the proxy added cannot be told from that round."""
    return mine - theirs if mine is not None and theirs is not None and mine >= theirs else None


def added_on_kernel_clock(r, direct, key):
    """Latency added over direct's on the kernel's clock (kclock.py), when both runs have it."""
    mine, theirs = r.get("kernel") or {}, direct.get("kernel") or {}
    return added(mine.get(key), theirs.get(key))


def round_figures(r, direct, turns=None, direct_turns=None):
    """The figures of one row in one round; latency is added over direct's (its whole record) in the same round, and
    so is the latency measured with the rows in turns (turns, direct_turns: the two rows' figures of that run)."""
    f = r["fixed"]
    n = max(f["Requests"], 1)
    alloc = r.get("satAllocatedBytes")
    turn = lambda key: added(turns[key], direct_turns[key]) if turns and direct_turns else None
    return {
        "p50": added(f["P50Us"], direct["fixed"]["P50Us"]),
        "p99": added(f["P99Us"], direct["fixed"]["P99Us"]),
        "p999": added(f["P999Us"], direct["fixed"]["P999Us"]),
        "ip50": turn("P50Us"), "ip99": turn("P99Us"), "ip999": turn("P999Us"),
        "kp50": added_on_kernel_clock(r, direct, "kp50"),
        "kp99": added_on_kernel_clock(r, direct, "kp99"),
        "rps": r["satRps"],
        "cpu": r["cpuTicks"] / CLK_TCK / n * 1000 * 1000,  # ms of CPU per 1,000 requests
        "satcpu": r["satCpuTicks"] / CLK_TCK / max(r["satRequests"], 1) * 1000 * 1000,
        "alloc": None if alloc is None else alloc / max(r["satRequests"], 1),
        # connections the origin accepted from the last hop (the load generator's own excluded for direct)
        "conns": max(r["originAccepts"] - (LOADGEN_CONNECTIONS if r["row"] == "direct" else 0), 0) / n * 1000,
    }


def memory_figures(m):
    return {
        "idle": m["rssIdleKiB"] / 1024,
        "load": m["rssLoadKiB"] / 1024,
        "anon": m["anonIdleKiB"] / 1024,
        "anonload": m["anonLoadKiB"] / 1024,
    }


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


COLUMNS = [
    ("p50", "added p50 µs", "{:.0f}", False), ("p99", "added p99 µs", "{:.0f}", False),
    ("p999", "added p99.9 µs", "{:.0f}", False),
    ("ip50", "added p50 µs, rows in turns", "{:.0f}", False), ("ip99", "added p99 µs, rows in turns", "{:.0f}", False),
    ("ip999", "added p99.9 µs, rows in turns", "{:.0f}", False),
    ("kp50", "added p50 µs, kernel's clock", "{:.0f}", False), ("kp99", "added p99 µs, kernel's clock", "{:.0f}", False),
    ("rps", "max rps", "{:,.0f}", True),
    ("cpu", "CPU ms/1k req at 1k rps", "{:.1f}", False), ("satcpu", "CPU ms/1k req at max", "{:.1f}", False),
    ("alloc", "bytes allocated/req at max", "{:,.0f}", False), ("idle", "RSS idle MiB", "{:.1f}", False),
    ("load", "RSS 100 conns MiB", "{:.1f}", False),
    ("anon", "private (anon) RSS idle MiB", "{:.1f}", False), ("anonload", "private RSS 100 conns MiB", "{:.1f}", False), ("conns", "origin conns opened/1k req", "{:.2f}", False),
]


def ratio(a, b):
    if b is None:
        return "–"
    if abs(b) < 1e-9:
        return "–" if abs(a) < 1e-9 else "∞"
    return f"{a / b:.2f}"


def noise_line(noise_path):
    """The host's noise on each core, from the stall probe run before and after the rounds."""
    probes = [json.loads(line) for line in open(noise_path) if line.strip()]
    if not probes:
        return None
    cells = []
    for core in sorted({p["core"] for p in probes}):
        runs = [p for p in probes if p["core"] == core]
        cells.append(f"core {core} " + ", ".join(
            f"{p['phase']}: {p['Over200UsPerSec']:.1f}/s ≥ 200 µs, {p['Over1MsPerSec']:.1f}/s ≥ 1 ms, "
            f"{p['LostPct']:.2f} % lost, longest {p['MaxUs']:,.0f} µs" for p in runs))
    return ("Host noise (a thread spinning alone on each core for 2 s, at the rows' priority, before and after the rounds; "
            "a stall delays every request in flight on that core by its length, whatever the proxy): "
            + "; ".join(cells) + ".")


def main(results_path, memory_path, noise_path=None, turns_path=None):
    rounds = [json.loads(line) for line in open(results_path) if line.strip()]
    memory = {m["row"]: m for m in (json.loads(line) for line in open(memory_path) if line.strip())}
    # The rows measured in turns, once per round (run.sh; none in an older run's directory).
    turns = {(t["row"], t["round"]): t["interleaved"] for t in
             (json.loads(line) for line in (open(turns_path) if turns_path and os.path.exists(turns_path) else []) if line.strip())}
    directs = {r["round"]: r for r in rounds if r["row"] == "direct"}
    rows = list(dict.fromkeys(r["row"] for r in rounds))
    per_round = {name: [round_figures(r, directs[r["round"]], turns.get((name, r["round"])), turns.get(("direct", r["round"])))
                        for r in rounds if r["row"] == name] for name in rows}
    figs = {}
    for name in rows:
        figs[name] = {key: median(f[key] for f in per_round[name]) for key in per_round[name][0]}
        figs[name].update(memory_figures(memory[name]))
    direct_sat = median(r["satRps"] for r in rounds if r["row"] == "direct")
    d50, d99, d999 = (median(d["fixed"][k] for d in directs.values()) for k in ("P50Us", "P99Us", "P999Us"))
    k50, k99 = (median((d.get("kernel") or {}).get(k) for d in directs.values()) for k in ("kp50", "kp99"))
    kernel = f"; on the kernel's clock p50 {k50:.0f} µs, p99 {k99:.0f} µs" if k50 is not None and k99 is not None else ""
    print(f"{len(directs)} rounds, rows interleaved; every figure is the median over the rounds. Fixed "
          f"{RATE} rps over {LOADGEN_CONNECTIONS} connections (latency from intended send time to the answer read; on the "
          f"kernel's clock, from the send to the kernel's wake-up of the client by the answer: see latency.sh); direct: "
          f"p50 {d50:.0f} µs, p99 {d99:.0f} µs, p99.9 {d999:.0f} µs{kernel}; direct max rps {direct_sat:,.0f}.")
    print("Each cell: value (÷HAProxy / ÷nginx doing the same hop). Latency is added over direct in the same round; "
          "\"rows in turns\": the same fixed rate, measured once more with every row in turns of 250 ms (see latency.sh).\n")
    print("| row | path | " + " | ".join(c[1] for c in COLUMNS) + " | proxy core busy at max |")
    print("|---|---|" + "---|" * len(COLUMNS) + "---|")
    for name in rows:
        f = figs[name]
        ha, ngx = PEERS.get(name, (None, None))
        cells = []
        for key, _, fmt, _ in COLUMNS:
            if f[key] is None:
                cells.append("–")
                continue
            cell = fmt.format(f[key])
            peers = [figs[p][key] if p in figs else None for p in (ha, ngx)]
            if name != "direct" and any(v is not None for v in peers):
                cell += f" ({ratio(f[key], peers[0])} / {ratio(f[key], peers[1])})"
            cells.append(cell)
        mine = [r for r in rounds if r["row"] == name]
        errors = sum(r["fixed"]["Errors"] for r in mine) + memory[name]["load100"]["Errors"]
        busy = median(r["proxyCoreBusyAtSat"] for r in mine)
        note = f"{busy:.0f}%" + (f", {errors} errors" if errors else "")
        print(f"| {name} | {PATHS.get(name, '')} | " + " | ".join(cells) + f" | {note} |")
    print("\nMax rps in each round (the spread behind the medians): " + "; ".join(
        f"{name} " + " / ".join(f"{f['rps']:,.0f}" for f in per_round[name]) for name in rows))
    line = noise_line(noise_path) if noise_path else None
    if line:
        print("\n" + line)
    print("\nLatency at 1,000 rps over 100 connections (µs, not added): " + ", ".join(
        f"{n} p50 {memory[n]['load100']['P50Us']:.0f} / p99 {memory[n]['load100']['P99Us']:.0f}" for n in rows))


if __name__ == "__main__":
    main(*sys.argv[1:5])
