# Sourced by bench/dataplane/run.sh and held.sh (so by every script that works on a held run): small helpers they share.

# N free TCP ports on 127.0.0.1, distinct: all N are held at once while they are picked. (Picked one at a time, two
# could be the same port, and are, once tens of thousands of closed connections crowd the ephemeral range: one proxy
# then fails to bind and the other answers in its place.)
free_ports() { python3 -c 'import socket, sys; held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"; }
free_port() { free_ports 1; }

# A measured FedMesh process (east's proxy, west's gateway): on the proxy core, an ordinary task (a part the supervisor
# restarted inherits its SCHED_IDLE, run.sh) at the rows' raised priority, every thread (nice is per thread on Linux).
pin_measured() {   # pid
  taskset -a -c -p $PX_CPU "$1" >/dev/null
  chrt -o -a -p 0 "$1" >/dev/null
  local t; for t in /proc/$1/task/*; do renice -n "$NICE" -p "${t##*/}" >/dev/null; done
}

# A process and its children (an nginx master and its workers).
children() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }

# wait_ok NAME URL HOST [CURL_OPTION...]: waits (at most 10 s) until URL answers 200 with that Host; exits otherwise.
wait_ok() {
  for _ in $(seq 1 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $3" "${@:4}" "$2" 2>/dev/null)" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "bench: $1 ($2, Host $3) never answered 200:" >&2
  curl -s -i -H "Host: $3" "${@:4}" "$2" >&2 || true
  exit 1
}

# The kernel's clock (kclock.py) around one run of the load generator at the fixed rate:
#   kclock_start FILE ROW PID...   before the run: starts perf's record of the scheduler's wake-ups and every
#                                  thread's sends and receives (kclock.py --record) into FILE, and notes the row's
#                                  threads (its processes as the targets list them: a cross row's front's, then its
#                                  gateway's; none for direct)
#   kclock_stop ORIGIN_PID...      after it: stops the record and prints kclock.py's JSON object for it
kclock_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kclock_tids() { for p in "$@"; do ls "/proc/$p/task"; done | paste -sd,; }
kclock_start() {
  local file=$1 row=$2 half; shift 2
  local p=("$@")
  half=${#p[@]}
  [[ "$row" == *-x ]] && half=$(( ${#p[@]} / 2 ))
  kclock_front=""; kclock_gateway=""; kclock_file=$file
  [ ${#p[@]} -gt 0 ] && kclock_front=$(kclock_tids "${p[@]:0:$half}")
  [ "$half" -lt ${#p[@]} ] && kclock_gateway=$(kclock_tids "${p[@]:$half}")
  rm -f "$file"
  python3 "$kclock_dir/kclock.py" --record "$file" 2>/dev/null &
  kclock_recorder=$!
  # perf writes its file's header once it has opened its events on every core (at most 5 s; a record that failed
  # to start gives no kernel figures, and the run goes on)
  for _ in $(seq 1 50); do [ -s "$file" ] && break; sleep 0.1; done
  sleep 0.2
}
kclock_stop() {
  kill -INT "$kclock_recorder" 2>/dev/null || true; wait "$kclock_recorder" || true
  python3 "$kclock_dir/kclock.py" "$kclock_file" "$(kclock_tids "$@")" $kclock_front $kclock_gateway || echo null
}
