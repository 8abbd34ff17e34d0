#!/usr/bin/env bash
# Runs one benchmark program and prints its tables; writes them as JSON to
# bench/target/results/NAME.json (or --json PATH). Never part of `mvn verify` (the build only
# compiles bench/, so the programs cannot rot). -Dkey=value and -X... arguments go to the
# benchmark's JVM, everything else to the program. Node data dirs and logs: bench/target/work/.
#   bench/run.sh fetch [SECONDS] [RUNS]  kgnode vs nginx with wrk (bench/fetch-vs-nginx.sh)
#   bench/run.sh PropagationBench   publish -> served by every node, 3/5/8 nodes, vs etcd put -> watch
#                                   [-Dbench.rounds=200] [-Dbench.warmup=3] [-Dbench.sizes=3,5,8] [-Dchaos.ipBase=51] [-Dbench.portBase=18400]
#   bench/run.sh ColdStartBench     process start -> first 200 from disk, vs etcd start -> healthy [-Dbench.rounds=10]
#   bench/run.sh KgctlBench         one kgctl call through bin/kgctl, without, writing and mapping its AppCDS archive,
#                                   vs etcd --version [-Dbench.rounds=10] [-Dkgctl.launcher=bin/kgctl] [-Dkgctl.jar=JAR]
#   bench/run.sh FootprintBench     RSS and idle CPU with 1,000 and 10,000 bundles [-Dbench.bundles.max=10000]
#                                   (as in docs/benchmarks.md: KGNODE_HEAP=384m ... -Dkgnode.launcher=bin/kgnode,
#                                   which starts the node through bin/kgnode with the shipped flags)
#   bench/run.sh BootStormBench     5,000 simulated VMs against one node [-Dbench.vms=5000]
#   bench/run.sh GrowthBench        join and broadcast cost with 50/100/200 members in one JVM [-Dbench.sizes=50,100,200]
#   bench/run.sh HealBench          heal convergence over 20 partition cycles (needs root: iptables)
#                                   [-Dbench.cycles=20] [-Dbench.heal.kinds=isolate-one,split-in-two,one-way-drop,bridge]
#                                   [-Dbench.heal.modes=noticed,early] [-Dchaos.ipBase=101]
#   bench/run.sh MeshTrafficBench   idle CPU per node and mesh bytes/s, 3 nodes holding 10,000 names (root: iptables counters)
#                                   [-Dbench.mesh.names=10000] [-Dbench.mesh.seconds=60] [-Dchaos.ipBase=111]
#   bench/run.sh RestartBench       kill -9 and restart one node N times in a row: time to rejoined and refilled
#                                   [-Dbench.restarts=15] [-Dbench.restart.node=3] [-Dbench.restart.victimJvm="-D..."] [-Dchaos.ipBase=121]
#   bench/run.sh RevertBench        F-th failure report -> every canary host serves the previous good version [-Dbench.cycles=20] [-Dchaos.ipBase=131]
#   bench/run.sh SitesBench         two sites of 2 nodes: publish -> served in the other site; WAN heal -> all on the
#                                   highest version (needs root: iptables) [-Dbench.rounds=20] [-Dbench.cycles=10]
#                                   [-Dbench.sites.holdMs=5000] [-Dchaos.ipBase=201]
#   bench/run.sh ConvergenceBench   in-process heal convergence and publish latency, 5 members [-Dbench.cycles=20]
#   bench/run.sh VerifyBenchmark    JMH: bundle verify cost vs its floor [JMH options, default -f 1 -wi 3 -i 5 -w 1s -r 1s]
# Node JVM flags: -Dkgnode.jvm="..." (default -Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
name=${1:?usage: bench/run.sh NAME [-Dkey=value ...] [args] (see the header of this script)}
shift
if [ "$name" = fetch ]; then exec bench/fetch-vs-nginx.sh "$@"; fi
if [ ! -f "bench/src/main/java/io/knowngood/bench/$name.java" ]; then
  echo "bench/run.sh: no benchmark $name (see the header of this script)" >&2
  exit 2
fi
for t in etcd nginx wrk; do
  command -v $t >/dev/null || echo "note: $t not installed (apt-get install -y etcd-server nginx wrk); benchmarks skip its reference rows" >&2
done
# builds the daemon, the harness and the programs; bench's package phase copies the node artifact to
# bench/target/kgnode.jar and writes the runtime classpath to bench/target/classpath.txt
mvn -q -B -ntp -DskipTests -pl bench -am package >&2
jvm=()
args=()
for a in "$@"; do
  case "$a" in
    -D*|-X*) jvm+=("$a") ;;
    *) args+=("$a") ;;
  esac
done
exec java -Dkgnode.jar="$root/bench/target/kgnode.jar" \
  -Dbench.results="$root/bench/target/results" -Dbench.work="$root/bench/target/work" \
  -Dorg.jboss.logging.provider=slf4j -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  ${jvm[@]+"${jvm[@]}"} -cp "$root/bench/target/classes:$(cat bench/target/classpath.txt)" \
  "io.knowngood.bench.$name" ${args[@]+"${args[@]}"}
