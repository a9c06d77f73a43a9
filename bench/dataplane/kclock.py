"""Latency on the kernel's clock, for latency.sh: reads a `perf record -a` of the events below (EVENTS) over one measured
run of the load generator and prints one JSON object.

Each request is timed from its connection thread's send (the load generator's threads are named conn-N) to the first
wake-up of that thread after it: the moment the kernel delivers the first bytes of the answer; or, when the answer
came before the thread went to sleep in its receive (no wake-up then), to the return of that receive. Unlike the load
generator's own clock, this leaves out the client core's delays (a timer that fires late, a woken thread that waits
for its core), which on a shared host are the larger part of every row's tail. Gives p50, p99, p99.9 in µs.

Given the hops' processes, it also splits the requests whose every hop was woken exactly once, in order (client →
front → [gateway →] origin → [gateway →] front → client), into segments, each from one wake-up to the next:
  in:  from the client's wake-up of the front to the front's of the next hop (the front's receive, parse, send);
  gw-in, origin, gw-out: likewise; out: from the wake-up of the front by the answer to its wake-up of the client.
The front and the gateway share a core, so a segment also holds the previous process's work after its send until it
sleeps. Median per segment in µs, and "proxies": a whole request's time less the origin's segment.

And each hop's own work on the way: the time from one of its receives returning data to its next send (a write,
writev or sendto), which is the proxy's parsing, routing and encryption between the two system calls; median per
hop in µs ("work", with two decimals: the request's and the answer's step together in one distribution).

usage: kclock.py PERF_DATA ORIGIN_TIDS [FRONT_TIDS [GATEWAY_TIDS]]   (comma-separated thread ids; none: direct)
       kclock.py --record PERF_DATA   (becomes `perf record -a` of those events, until interrupted)
"""
import json
import os
import re
import subprocess
import sys
from statistics import median

WAKE = re.compile(r"^\s*(.*?)\s+(\d+)\s+([\d.]+):\s+sched:sched_waking:\s+comm=(.*?) pid=(\d+)")
# Any thread's receive returning (its value in hex) or send starting: a client's request lies between its send and its
# receive's return, a hop's own work between one of its receives returning data and its next send.
SYSCALL = re.compile(r"^\s*(.*?)\s+(\d+)\s+([\d.]+):\s+syscalls:sys_(exit_(?:recvfrom|recvmsg|read)|enter_(?:sendto|write|writev)):\s*(0x[0-9a-f]+)?")
EVENTS = ["sched:sched_waking"] + [f"syscalls:sys_{e}" for e in
                                   ("enter_sendto", "enter_write", "enter_writev", "exit_recvfrom", "exit_recvmsg", "exit_read")]


def ids(arg):
    return set(arg.split(",")) if arg else set()


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else None


def main():
    if sys.argv[1] == "--record":
        # perf becomes this process, so its own writes of the record can be left out of it (else every write it makes
        # is an event it must write down: a loop); the other system-call events likewise, the wake-ups are wanted.
        mine = f"common_pid != {os.getpid()}"
        events = []
        for event in EVENTS:
            events += ["-e", event] + (["--filter", mine] if event.startswith("syscalls:") else [])
        os.execvp("perf", ["perf", "record", "-q", "-a", *events, "-o", sys.argv[2]])
    data, origin = sys.argv[1], ids(sys.argv[2])
    front = ids(sys.argv[3]) if len(sys.argv) > 3 else set()
    gateway = ids(sys.argv[4]) if len(sys.argv) > 4 else set()
    script = subprocess.run(["perf", "script", "-i", data, "--ns", "-F", "comm,tid,time,event,trace"],
                            capture_output=True, text=True, check=True).stdout

    def role(tid, comm):
        if comm.startswith("conn-"):
            return "c"
        return "f" if tid in front else "g" if tid in gateway else "o" if tid in origin else None

    hops = "c" + ("f" if front else "") + ("g" if gateway else "") + "o"
    order = [hops[i] + hops[i + 1] for i in range(len(hops) - 1)]
    order += [step[::-1] for step in reversed(order)]          # e.g. cf fg go og gf fc
    sent = {}          # conn thread -> time of its last send still unanswered
    totals = []
    cycles, current = [], None
    received, work = {}, {"front": [], "gateway": []}     # hop thread -> when its last receive returned data
    for line in script.splitlines():
        m = SYSCALL.match(line)
        if m:
            comm, tid, at, call, value = m.groups()
            at = float(at) * 1e6
            if comm.startswith("conn-"):
                if call == "enter_sendto":
                    sent[tid] = at
                elif call == "exit_recvmsg" and tid in sent:
                    totals.append(at - sent.pop(tid))
            elif tid in front or tid in gateway:
                if call.startswith("exit_"):
                    if value and 0 < int(value, 16) < 1 << 40:     # data, not an error (a negative value in hex)
                        received[tid] = at
                elif tid in received:
                    work["front" if tid in front else "gateway"].append(at - received.pop(tid))
            continue
        m = WAKE.match(line)
        if not m:
            continue
        comm, tid, at, target_comm, target = m.groups()
        at = float(at) * 1e6
        if target_comm.startswith("conn-") and target in sent and tid != target:
            totals.append(at - sent.pop(target))
        a, b = role(tid, comm), role(target, target_comm)
        if not front or a is None or b is None or a == b:
            continue
        step = a + b
        if step == "cf":
            current = [at]
        elif current is not None and step == order[len(current)]:
            current.append(at)
            if len(current) == len(order):
                cycles.append(current)
                current = None
        else:
            current = None
    out = {"n": len(totals), "kp50": quantile(totals, .5), "kp99": quantile(totals, .99), "kp999": quantile(totals, .999)}
    if front and cycles:
        names = ["in"] + (["gw-in"] if gateway else []) + ["origin"] + (["gw-out"] if gateway else []) + ["out"]
        origin_at = order.index("o" + ("g" if gateway else "f"))    # the cycle's index of the origin's answer
        out["cycles"] = len(cycles)
        out["segments"] = {name: median(c[i + 1] - c[i] for c in cycles) for i, name in enumerate(names)}
        out["segments"]["proxies"] = median((c[-1] - c[0]) - (c[origin_at] - c[origin_at - 1]) for c in cycles)
    for hop, steps in work.items():
        if steps:
            out.setdefault("work", {})[hop] = round(median(steps), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
