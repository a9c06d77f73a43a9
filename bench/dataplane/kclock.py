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
sleeps. Median per segment in µs, and "proxies": a whole request's time less the origin's segment. That last is the
time the proxies themselves added to the request, without what happened on the origin's side (the origin shares its
core with the load generator, and a woken origin that waits there for its turn delays every row's request alike): its
p50 and p99 are given too ("own50", "own99"), the tail a proxy adds of its own, but only over those requests: one
that overlapped another (a hop already awake when it came, so not woken for it) makes no cycle, and those are often
the slow ones; "own_tail" is the share of the slowest 1 % of all requests that the cycles hold.

And each hop's own work on the way: the time from one of its receives returning data to its next send (a write,
writev or sendto), which is the proxy's parsing, routing and encryption between the two system calls; median per
hop in µs ("work", with two decimals: the request's and the answer's step together in one distribution).

And how much of the tail is the host's: the scheduler's switches and runtime updates give, on every core, each run
of a task outside the row (not the load generator, origin, front or gateway, nor the kernel's idle task or its network
softirq threads); a request during which such a run of 50 µs or more (FOREIGN_US) was under way on either core is
"disturbed". Gives the share of requests disturbed, the share of the slowest 1 % disturbed ("tail"), p50 and p99 of
the undisturbed requests (kp50u, kp99u), and the foreign tasks that ran longest ("foreign", ms over the record, top
three). A stall of the virtual machine itself (the hypervisor running something else) is no task and stays in every
figure.

usage: kclock.py PERF_DATA ORIGIN_TIDS [FRONT_TIDS [GATEWAY_TIDS]]   (comma-separated thread ids; none: direct)
       kclock.py --record PERF_DATA   (becomes `perf record -a` of those events, until interrupted)
"""
import bisect
import json
import os
import re
import subprocess
import sys
from statistics import median

# Every line: comm, pid/tid, [cpu], time, then the event's own fields.
LINE = re.compile(r"^\s*(.*?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$")
WAKE = re.compile(r"comm=(.*?) pid=(\d+)")
RUNTIME = re.compile(r"pid=(\d+) runtime=(\d+)")
# Any thread's receive returning (its value in hex) or send starting: a client's request lies between its send and its
# receive's return, a hop's own work between one of its receives returning data and its next send.
SYSCALL = re.compile(r"syscalls:sys_(exit_(?:recvfrom|recvmsg|read)|enter_(?:sendto|write|writev))")
FOREIGN_US = 50
# Tasks that are neither the row's nor another program's: the idle task, and the kernel's threads that carry the
# row's own network work when the softirq that moves loopback bytes is deferred to them.
OWN_COMMS = ("swapper", "ksoftirqd/")
EVENTS = ["sched:sched_waking", "sched:sched_switch", "sched:sched_stat_runtime"] + [f"syscalls:sys_{e}" for e in
                                   ("enter_sendto", "enter_write", "enter_writev", "exit_recvfrom", "exit_recvmsg", "exit_read")]


def ids(arg):
    return set(arg.split(",")) if arg else set()


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else None


def overlapping(spans, runs):
    """For each (start, end) of spans, whether any (from, to, _) of runs overlaps it."""
    runs = sorted(runs)
    reach, latest = [], float("-inf")      # reach[i]: the latest end among runs[:i + 1]
    for _, to, _ in runs:
        latest = max(latest, to)
        reach.append(latest)
    starts = [r[0] for r in runs]
    hits = []
    for start, end in spans:
        i = bisect.bisect_left(starts, end) - 1     # the last run that began before the span ended
        hits.append(i >= 0 and reach[i] > start)
    return hits


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
    done = subprocess.run(["perf", "script", "-i", data, "--ns", "-F", "comm,pid,tid,cpu,time,event,trace"],
                          capture_output=True, text=True)
    if done.returncode != 0:     # a record that failed to start or to end; latency.sh shows the row's figures as "–"
        sys.exit(f"kclock.py: perf script could not read {data}: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    script = done.stdout
    events = [m.groups() for m in map(LINE.match, script.splitlines()) if m]
    # The row's processes: those of its threads (each thread's samples name its process) and the load generator's.
    row = {pid for _, pid, tid, *_ in events if tid in origin or tid in front or tid in gateway} \
        | {pid for comm, pid, *_ in events if comm.startswith("conn-")}

    def role(tid, comm):
        if comm.startswith("conn-"):
            return "c"
        return "f" if tid in front else "g" if tid in gateway else "o" if tid in origin else None

    hops = "c" + ("f" if front else "") + ("g" if gateway else "") + "o"
    order = [hops[i] + hops[i + 1] for i in range(len(hops) - 1)]
    order += [step[::-1] for step in reversed(order)]          # e.g. cf fg go og gf fc
    sent = {}          # conn thread -> time of its last send still unanswered
    requests = []      # (sent, answered)
    cycles, current = [], None
    received, work = {}, {"front": [], "gateway": []}     # hop thread -> when its last receive returned data
    ran = {}           # thread -> µs it has run since it was last switched out
    foreign = []       # (from, to, comm): another program's runs of FOREIGN_US or more, on any core
    for comm, pid, tid, cpu, at, event, trace in events:
        at = float(at) * 1e6
        if event == "sched:sched_switch":
            # The event is the outgoing task's; how long it ran, the scheduler's runtime updates since it was last
            # switched out say. (Not the time since the core's previous switch: this kernel's record lacks the
            # events of its idle task on some cores, so a switch from idle to a task is not always there.)
            length = ran.pop(tid, 0)
            if length >= FOREIGN_US and pid not in row and pid != "0" and not comm.startswith(OWN_COMMS):
                foreign.append((at - length, at, comm))
            continue
        if event == "sched:sched_stat_runtime":
            thread, runtime = RUNTIME.search(trace).groups()     # the task charged, which may run on another core
            ran[thread] = ran.get(thread, 0) + int(runtime) / 1e3
            continue
        m = SYSCALL.match(event)
        if m:
            call = m.group(1)
            if comm.startswith("conn-"):
                if call == "enter_sendto":
                    sent[tid] = at
                elif call == "exit_recvmsg" and tid in sent:
                    requests.append((sent.pop(tid), at))
            elif tid in front or tid in gateway:
                if call.startswith("exit_"):
                    value = trace.rsplit(None, 1)[-1] if trace else ""
                    if value.startswith("0x") and 0 < int(value, 16) < 1 << 40:   # data, not an error (negative, in hex)
                        received[tid] = at
                elif tid in received:
                    work["front" if tid in front else "gateway"].append(at - received.pop(tid))
            continue
        if event != "sched:sched_waking":
            continue
        target_comm, target = WAKE.match(trace).groups()
        if target_comm.startswith("conn-") and target in sent and tid != target:
            requests.append((sent.pop(target), at))
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
    totals = [end - start for start, end in requests]
    disturbed = overlapping(requests, foreign)
    calm = [t for t, hit in zip(totals, disturbed) if not hit]
    p99 = quantile(totals, .99)
    tail = [hit for t, hit in zip(totals, disturbed) if p99 is not None and t >= p99]
    by_comm = {}
    for start, end, comm in foreign:
        by_comm[comm] = by_comm.get(comm, 0) + (end - start) / 1e3
    out = {"n": len(totals), "kp50": quantile(totals, .5), "kp99": p99, "kp999": quantile(totals, .999),
           "kp50u": quantile(calm, .5), "kp99u": quantile(calm, .99),
           "disturbed": round(sum(disturbed) / len(totals), 4) if totals else None,
           "tail": round(sum(tail) / len(tail), 3) if tail else None,
           "foreign": {c: round(ms, 1) for c, ms in sorted(by_comm.items(), key=lambda kv: -kv[1])[:3]}}
    if front and cycles:
        names = ["in"] + (["gw-in"] if gateway else []) + ["origin"] + (["gw-out"] if gateway else []) + ["out"]
        origin_at = order.index("o" + ("g" if gateway else "f"))    # the cycle's index of the origin's answer
        out["cycles"] = len(cycles)
        out["segments"] = {name: median(c[i + 1] - c[i] for c in cycles) for i, name in enumerate(names)}
        own = [(c[-1] - c[0]) - (c[origin_at] - c[origin_at - 1]) for c in cycles]
        out["segments"]["proxies"] = median(own)
        out["own50"], out["own99"] = quantile(own, .5), quantile(own, .99)
        # How far the cycles speak for the tail: a request that overlapped another (a hop already awake when it came)
        # makes no cycle, and those are often the slow ones. A cycle is a request's when its first wake-up came within
        # 50 µs of that request's send.
        sends = sorted(start for start, _ in requests)
        in_cycle = set()
        for c in cycles:
            i = bisect.bisect_right(sends, c[0]) - 1
            if i >= 0 and c[0] - sends[i] < 50:
                in_cycle.add(sends[i])
        slow = [start for start, end in requests if p99 is not None and end - start >= p99]
        out["own_tail"] = round(sum(start in in_cycle for start in slow) / len(slow), 2) if slow else None
    for hop, steps in work.items():
        if steps:
            out.setdefault("work", {})[hop] = round(median(steps), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
