# Sourced by the scripts that work on a held run of bench/dataplane/run.sh (burst.sh, ab.sh): the parts' pids, their
# CPU ticks, and restarting east's proxy and west's gateway. Needs $work (the run's BENCH_OUT) set before sourcing.
export FEDMESH_HOME="$work/federation"
fedmesh="$work/fedmesh/fedmesh"
loadgen="$work/loadgen/FedMesh.Bench.LoadGen"
PX_CPU=1; LG_CPU=0; NICE=${BENCH_NICE:--20}   # where and how run.sh places them
hz=$(getconf CLK_TCK)

pid_of() { "$fedmesh" status -o json | jq -r --arg c "$1" --arg p "$2" '.clusters[] | select(.name==$c) | .parts[] | select(.name==$p) | .pid'; }

# CPU ticks (user + system, CLK_TCK per second) of the given processes together.
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }

# Kills east's proxy and west's gateway, waits (at most 60 s) until the supervisor has restarted both and a request
# to http://TARGET/1k with Host HOST answers, then pins them as run.sh does. Sets px and gw to the new pids.
restart_parts() {   # target host
  local old_px old_gw p t
  old_px=$(pid_of east echo-east-0-proxy); old_gw=$(pid_of west gateway)
  kill "$old_px" "$old_gw"
  for _ in $(seq 1 300); do
    px=$(pid_of east echo-east-0-proxy); gw=$(pid_of west gateway)
    # The status says pid 0 while the supervisor is between a part's exit and its restart.
    if [ "$px" != "$old_px" ] && [ "$gw" != "$old_gw" ] && [ "${px:-0}" != 0 ] && [ "${gw:-0}" != 0 ] && [ "$px" != null ] && [ "$gw" != null ] \
       && curl -sf -o /dev/null -H "Host: $2" "http://$1/1k"; then
      for p in "$px" "$gw"; do   # the proxy core, raised priority
        taskset -a -c -p $PX_CPU "$p" >/dev/null
        for t in /proc/$p/task/*; do renice -n "$NICE" -p "${t##*/}" >/dev/null; done
      done
      return 0
    fi
    sleep 0.2
  done
  echo "the proxy and the gateway did not come back within 60 s of their restart" >&2; exit 1
}
