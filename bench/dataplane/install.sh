#!/usr/bin/env bash
# Makes a data-plane binary, with an environment of its own if given, east's proxy and west's gateway of a held run, so
# that latency.sh, idle.sh, anatomy.sh and the others measure it (they read the new pids from the targets file):
#   BENCH_OUT=/tmp/b bench/dataplane/install.sh "FEDMESH_BUSY_POLL_US=100 /tmp/b/fedmesh/fedmesh-dataplane"
#   BENCH_OUT=/tmp/b bench/dataplane/latency.sh 8 fedmesh fedmesh-x nginx-mtls nginx-x haproxy-mtls haproxy-x
#   BENCH_OUT=/tmp/b bench/dataplane/install.sh /tmp/b/fedmesh/with-env/fedmesh-dataplane    # back, no environment
# The held run's own binary is BENCH_OUT/fedmesh/fedmesh-dataplane; once installed with an environment, the binary
# itself is BENCH_OUT/fedmesh/with-env/fedmesh-dataplane (the first path is then the script that sets it). Another
# tree's: dotnet publish deploy/dataplane -c Release -o DIR, then DIR/fedmesh-dataplane.
set -euo pipefail
work=${BENCH_OUT:?set BENCH_OUT to the directory of a held run of bench/dataplane/run.sh}
[ $# -eq 1 ] || { echo 'usage: BENCH_OUT=DIR bench/dataplane/install.sh "[VAR=VALUE...] BINARY"' >&2; exit 2; }
. "$(dirname "${BASH_SOURCE[0]}")/held.sh"
need_targets
install_dataplane "$1"
echo "installed: $1 (proxy $px, gateway $gw)"
