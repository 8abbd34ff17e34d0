#!/usr/bin/env bash
# Runs one benchmark and prints its table. Never part of `mvn verify`.
#   bench/run.sh fetch             kgnode vs nginx with wrk (bench/fetch-vs-nginx.sh)
#   bench/run.sh PropagationBench  publish -> served by every node, 3/5/8 nodes, vs etcd put -> watch
#   bench/run.sh ColdStartBench    process start -> first 200 from disk, vs etcd start -> healthy
#   bench/run.sh FootprintBench    RSS and idle CPU with 1,000 and 10,000 bundles
#                                  (as in docs/benchmarks.md: KGNODE_HEAP=384m ... -Dchaos.node.launcher=true,
#                                  which starts the node through bin/kgnode with the shipped flags)
#   bench/run.sh BootStormBench    5,000 simulated VMs against one node
#   bench/run.sh GrowthBench       join and broadcast cost with 50/100/200 members in one JVM
#   bench/run.sh HealBench         heal convergence over 20 partition cycles (needs root: iptables)
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: bench/run.sh NAME (see the header of this script)}
shift
if [ "$name" = fetch ]; then exec bench/fetch-vs-nginx.sh "$@"; fi
for t in etcd nginx wrk; do command -v $t >/dev/null || echo "note: $t not installed (apt-get install -y etcd-server nginx wrk); its rows are skipped" >&2; done
mvn -q -B -ntp -DskipTests install >&2
mvn -B -ntp -pl chaos-tests verify -Pbench -Dtest="$name" -Dsurefire.failIfNoSpecifiedTests=false "$@" \
  | sed -n -e '/^# /,/^$/{p;d}' -e '/^|/p;/Tests run:/p;/ERROR/p'
