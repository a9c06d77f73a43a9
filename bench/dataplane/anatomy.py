#!/usr/bin/env python3
"""Where a data-plane process spends its CPU per request: the self time of a perf profile, charged to owners.

Usage: anatomy.py CPU_US_PER_REQUEST < (perf report --no-children -F overhead,dso,sym --stdio)

Each sample goes to the owner of the function it was taken in (its innermost frame): the kernel, OpenSSL, libc, the
program's own code (nginx, HAProxy, or FedMesh's own namespaces), or one of .NET's layers. The shares are turned into
µs per request with the process's measured CPU per request. Prints one "owner µs share" line per owner, largest first,
then the three hottest functions of each.
"""
import collections
import re
import sys

# (owner, test on the shared object and the symbol); the first that matches takes the sample.
OWNERS = [
    ("kernel", lambda dso, sym: dso.startswith("[kernel") or dso == "[unknown]" and sym.startswith("0xffff")),
    ("openssl", lambda dso, sym: "libssl" in dso or "libcrypto" in dso),
    ("libc", lambda dso, sym: dso.startswith("libc.") or dso.startswith("libc-") or dso.startswith("libm.") or dso == "[vdso]"),
    ("own: nginx", lambda dso, sym: dso == "nginx"),
    ("own: haproxy", lambda dso, sym: dso == "haproxy"),
    ("own: FedMesh", lambda dso, sym: sym.startswith("FedMesh_")),
    (".NET TLS (SslStream, its interop)", lambda dso, sym: "System_Net_Security" in sym),
    (".NET sockets", lambda dso, sym: "System_Net_Sockets" in sym or sym.startswith("SystemNative_")),
    (".NET Kestrel, pipes", lambda dso, sym: "Microsoft_AspNetCore" in sym or "System_IO_Pipelines" in sym),
    (".NET HTTP (HttpClient, YARP)", lambda dso, sym: "System_Net_Http" in sym or sym.startswith("Yarp_")),
    (".NET telemetry", lambda dso, sym: "OpenTelemetry" in sym or "System_Diagnostics" in sym),
    (".NET runtime (GC, casts, dispatch)", lambda dso, sym: sym.startswith(("Rh", "WKS::", "SVR::", "GCHeap", "memset", "memcpy"))),
    (".NET core library (async, locks, collections)", lambda dso, sym: sym.startswith("S_P_") or sym.startswith("System_")),
]


def owner_of(dso, sym):
    for name, test in OWNERS:
        if test(dso, sym):
            return name
    return "other: " + dso


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: anatomy.py CPU_US_PER_REQUEST < perf-report-output")
    try:
        cpu_us = float(sys.argv[1])
    except ValueError:
        sys.exit(f"anatomy.py: CPU_US_PER_REQUEST must be a number, not '{sys.argv[1]}'")
    share = collections.Counter()
    hottest = collections.defaultdict(collections.Counter)
    for line in sys.stdin:
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if not m:
            continue
        percent, dso, sym = float(m.group(1)), m.group(2), m.group(3).strip()
        owner = owner_of(dso, sym)
        share[owner] += percent
        hottest[owner][sym[:100]] += percent
    total = sum(share.values())
    if total == 0:
        sys.exit("anatomy.py: the profile has no samples")
    for owner, percent in share.most_common():
        print(f"  {owner:<48} {cpu_us * percent / total:6.2f} µs  {100 * percent / total:5.1f} %")
        for sym, p in hottest[owner].most_common(3):
            print(f"      {100 * p / total:5.1f} %  {sym}")
    # A binary's own code charged to "other" means perf found no symbols for it (a NativeAOT binary keeps them in
    # BINARY.dbg beside it, which must match the binary that runs).
    for owner, percent in share.items():
        if owner.startswith("other: ") and owner != "other: [unknown]" and percent / total > 0.10:
            dso = owner[len("other: "):]
            print(f"  note: {100 * percent / total:.0f} % of the samples fell in {dso} without a function name: are its symbols "
                  f"({dso}.dbg for a NativeAOT binary) beside it, and from the same build?")


if __name__ == "__main__":
    main()
