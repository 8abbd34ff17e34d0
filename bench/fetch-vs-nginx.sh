#!/usr/bin/env bash
# VM fetch throughput: kgnode vs nginx serving the same bytes, wrk at 8 and 64 connections,
# alternating runs, median ratio. Prints a markdown table. Needs nginx and wrk (apt-get install -y nginx wrk).
# Besides req/s and latency it prints each server's CPU (user + system, from /proc, and the user part
# alone) per request: on a shared machine the req/s ratio follows whatever else runs, the CPU per
# request much less.
#   bench/fetch-vs-nginx.sh [SECONDS_PER_RUN] [ROUNDS]
# Environment: KGNODE_BENCH_FLAGS (kgnode flags; default --max-connections-per-client 1000, as wrk's connections all
#   come from one address and the node's default cap of 32 would close half of them at 64),
#   KGNODE_C1_ONLY / KGNODE_JAVA_OPTS (see bin/kgnode),
#   BENCH_FILES (default "f16k f1m"), BENCH_CONNS (default "8 64") to run a subset.
#   BENCH_WARMUP (seconds, default 10): before the counted rounds every server answers each file for
#   this long at each of BENCH_WARMUP_CONNS (default "64 8") connections, uncounted, so the table
#   compares servers in their steady state (a JVM compiles its hot path in its first seconds, and again
#   when the load's shape changes: warmed at 64 connections only, the JIT was still compiling in the
#   first rounds at 8; nginx gets the same warm-up). 0: none.
#   BENCH_SPIKES="netty undertow jdknio" (issue 18) also runs the ServerSpike program's minimal
#   servers (bench/: pre-built answers, no hardening, the node's shipped JVM flags) in every round, each
#   in its own table: netty is what the VM endpoint could cost on Netty, undertow the same on Undertow
#   (kgnode's CPU minus that is the node's own per-request work), jdknio a server written by hand on
#   the JDK's NIO with no library and no hardening (the floor for any Java server here).
#   SPIKE_JAVA_OPTS: more JVM options for the spikes only (e.g. -Dspike.heapBody=true, the body a heap
#   array as the node holds it; -Dspike.transport=epoll or io_uring, Netty's native transports instead
#   of NIO).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
ROUNDS=${2:-3}
for t in nginx wrk curl; do command -v $t >/dev/null || { echo "needs $t: apt-get install -y nginx wrk curl" >&2; exit 2; }; done
[ -f node/target/kgnode.jar ] && [ -f ops-cli/target/kgctl.jar ] || mvn -q -B -ntp -DskipTests package >&2

W=$(mktemp -d /tmp/kg-bench-fetch.XXXXXX)
chmod 755 "$W"
NGINX_IP=127.0.0.31; KG_IP=127.0.0.32
read -ra SPIKES <<< "${BENCH_SPIKES:-}"
declare -A SPIKE_PID SPIKE_IP
if [ ${#SPIKES[@]} -gt 0 ] && [ ! -f bench/target/classpath.txt ]; then mvn -q -B -ntp -DskipTests -pl bench -am package >&2; fi
cleanup() {
  [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null; [ -n "${KGPID:-}" ] && kill "$KGPID" 2>/dev/null
  for p in "${SPIKE_PID[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/src/bench" "$W/www/files"
head -c 16384 /dev/urandom > "$W/src/bench/f16k"
head -c 1048576 /dev/urandom > "$W/src/bench/f1m"
cp "$W/src/bench/f16k" "$W/src/bench/f1m" "$W/www/files/"
chmod -R a+rX "$W/www"

cat > "$W/nginx.conf" <<NGX
worker_processes 2;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile off;
  output_buffers 2 256k;
  open_file_cache max=100 inactive=60s;
  keepalive_requests 1000000;
  server {
    listen $NGINX_IP:18080 reuseport;
    root $W/www;
  }
}
NGX
nginx -c "$W/nginx.conf" -p "$W"

bin/kgctl keys generate --out "$W" --name bench >/dev/null
bin/kgctl bundle pack "$W/src/bench" --name bench --version 1 --key "$W/bench.key" --out "$W/bench.tar" >/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/token"
# shellcheck disable=SC2086 # the flags are words
KGNODE_HEAP=${KGNODE_HEAP:-256m} bin/kgnode run --node-id bench --data-dir "$W/data" --cluster-bind $KG_IP:17900 \
  --vm-bind $KG_IP:18080 --admin-bind $KG_IP:18081 --admin-token-file "$W/token" --trust-key "$W/bench.pub" \
  ${KGNODE_BENCH_FLAGS---max-connections-per-client 1000} > "$W/kgnode.log" 2>&1 &
KGPID=$!
# up once both endpoints answer: the admin endpoint opens after the VM endpoint
for i in $(seq 1 100); do curl -sf http://$KG_IP:18080/v1/health >/dev/null && curl -s -o /dev/null http://$KG_IP:18081/v1/cluster && break; sleep 0.2; done
curl -sf -X PUT -H "Authorization: Bearer $(cat "$W/token")" --data-binary @"$W/bench.tar" \
  http://$KG_IP:18081/v1/bundles/bench >/dev/null
curl -sf http://$KG_IP:18080/v1/bundles/bench/files/f16k | cmp - "$W/www/files/f16k"
curl -sf http://$NGINX_IP:18080/files/f16k | cmp - "$W/www/files/f16k"
n=33
for sp in "${SPIKES[@]}"; do
  ip=127.0.0.$n; n=$((n + 1))
  # the node's shipped flags (bin/kgnode: heap, full JIT with thresholds x20, serial GC, 2 malloc arenas), no CDS archive
  # shellcheck disable=SC2086
  MALLOC_ARENA_MAX=2 java -Xms40m -Xmx"${KGNODE_HEAP:-256m}" -XX:MaxNewSize=4m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=10 \
    -Xss512k -XX:+UseSerialGC -XX:CompileThresholdScaling=20 ${KGNODE_JAVA_OPTS:-} ${SPIKE_JAVA_OPTS:-} \
    -cp "bench/target/classes:$(cat bench/target/classpath.txt)" io.knowngood.bench.ServerSpike "$sp" $ip 18080 "$W/www/files" > "$W/$sp.log" 2>&1 &
  SPIKE_PID[$sp]=$!; SPIKE_IP[$sp]=$ip
  for _ in $(seq 1 100); do curl -sf http://$ip:18080/v1/bundles/bench/files/f16k -o /dev/null && break; sleep 0.2; done
  curl -sf http://$ip:18080/v1/bundles/bench/files/f16k | cmp - "$W/www/files/f16k"
done
read -ra NPIDS <<< "$(cat "$W/nginx.pid") $(pgrep -d' ' -P "$(cat "$W/nginx.pid")")"   # master and workers

# CPU ticks (1/100 s) of the given processes, "utime+stime utime": the server's CPU per request does not
# depend on what else runs on the machine, so it compares the two servers even on a shared machine. The
# user part alone shows where they differ: the kernel's work per answer is the same for both.
ticks() { for p in "$@"; do awk '{print $14 + $15, $14}' "/proc/$p/stat" 2>/dev/null || echo 0 0; done | awk '{s += $1; u += $2} END {print s + 0, u + 0}'; }
run() { # url conns pids... -> "rps p50ms p99ms cpu-us-per-request user-cpu-us-per-request"
  local url=$1 conns=$2; shift 2
  local t0 u0 t1 u1; read -r t0 u0 <<< "$(ticks "$@")"
  wrk -t2 -c"$conns" -d"${DUR}s" --latency "$url" > "$W/wrk.out"
  read -r t1 u1 <<< "$(ticks "$@")"
  # a closed or refused connection makes wrk reconnect: the round then measures that, not answers
  grep -E 'Socket errors|Non-2xx' "$W/wrk.out" | sed "s|^ *|$url, $conns connections: |" >> "$W/wrk-errors"
  awk -v dt=$((t1 - t0)) -v du=$((u1 - u0)) -v dur="$DUR" '
    /Requests\/sec/ {rps=$2}
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    $1=="50%" {p50=ms($2)} $1=="99%" {p99=ms($2)}
    END {printf "%.0f %.2f %.2f %.1f %.1f\n", rps, p50, p99, (rps > 0 ? dt * 10000.0 / (rps * dur) : 0), (rps > 0 ? du * 10000.0 / (rps * dur) : 0)}' "$W/wrk.out"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

WARMUP=${BENCH_WARMUP:-10}
if [ "$WARMUP" -gt 0 ]; then
  for f in ${BENCH_FILES:-f16k f1m}; do
    for c in ${BENCH_WARMUP_CONNS:-64 8}; do
      wrk -t2 -c"$c" -d"${WARMUP}s" http://$NGINX_IP:18080/files/$f > /dev/null
      wrk -t2 -c"$c" -d"${WARMUP}s" http://$KG_IP:18080/v1/bundles/bench/files/$f > /dev/null
      for sp in "${SPIKES[@]}"; do wrk -t2 -c"$c" -d"${WARMUP}s" "http://${SPIKE_IP[$sp]}:18080/v1/bundles/bench/files/$f" > /dev/null; done
    done
  done
fi
echo "# fetch vs nginx, $(date -u +%FT%TZ), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg), $(java -version 2>&1 | head -1), wrk -t2 -d${DUR}s, $ROUNDS alternating rounds after ${WARMUP} s of warm-up per file, server and connection count (${BENCH_WARMUP_CONNS:-64 8}), kgnode JVM: $(tr '\0' ' ' < /proc/$KGPID/cmdline | grep -oE -- '-XX:[-+]?(TieredStopAtLevel|TieredCompilation|CompileThresholdScaling|MaxNewSize)[^ ]*' | tr '\n' ' ')${KGNODE_JAVA_OPTS:-} MALLOC_ARENA_MAX=$(tr '\0' '\n' < /proc/$KGPID/environ | sed -n 's/^MALLOC_ARENA_MAX=//p')"
echo "| file | conns | nginx req/s | kgnode req/s | ratio (median) | nginx p50/p99 ms | kgnode p50/p99 ms | kgnode/nginx p99 | server CPU us/req nginx / kgnode | CPU ratio | of which user, us/req nginx / kgnode |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for f in ${BENCH_FILES:-f16k f1m}; do
  for c in ${BENCH_CONNS:-8 64}; do
    : > "$W/ratios"; : > "$W/n"; : > "$W/k"
    for sp in "${SPIKES[@]}"; do : > "$W/s-$sp"; done
    for r in $(seq 1 "$ROUNDS"); do
      if [ $((r % 2)) = 1 ]; then
        n=$(run http://$NGINX_IP:18080/files/$f $c "${NPIDS[@]}"); k=$(run http://$KG_IP:18080/v1/bundles/bench/files/$f $c $KGPID)
      else
        k=$(run http://$KG_IP:18080/v1/bundles/bench/files/$f $c $KGPID); n=$(run http://$NGINX_IP:18080/files/$f $c "${NPIDS[@]}")
      fi
      echo "$n" >> "$W/n"; echo "$k" >> "$W/k"
      for sp in "${SPIKES[@]}"; do run "http://${SPIKE_IP[$sp]}:18080/v1/bundles/bench/files/$f" "$c" "${SPIKE_PID[$sp]}" >> "$W/s-$sp"; done
      awk -v a="${n%% *}" -v b="${k%% *}" 'BEGIN {printf "%.3f\n", b/a}' >> "$W/ratios"
    done
    nr=$(cut -d' ' -f1 "$W/n" | median); kr=$(cut -d' ' -f1 "$W/k" | median)
    n50=$(cut -d' ' -f2 "$W/n" | median); n99=$(cut -d' ' -f3 "$W/n" | median)
    k50=$(cut -d' ' -f2 "$W/k" | median); k99=$(cut -d' ' -f3 "$W/k" | median)
    ratio=$(median < "$W/ratios")
    ncpu=$(cut -d' ' -f4 "$W/n" | median); kcpu=$(cut -d' ' -f4 "$W/k" | median)
    nuser=$(cut -d' ' -f5 "$W/n" | median); kuser=$(cut -d' ' -f5 "$W/k" | median)
    cpur=$(awk -v a="$ncpu" -v b="$kcpu" 'BEGIN {printf "%.2f", (a>0? b/a : 0)}')
    p99r=$(awk -v a="$n99" -v b="$k99" 'BEGIN {printf "%.2f", (a>0? b/a : 0)}')
    echo "| $f | $c | $nr | $kr | $ratio | $n50 / $n99 | $k50 / $k99 | $p99r | $ncpu / $kcpu | $cpur | $nuser / $kuser |"
    for sp in "${SPIKES[@]}"; do
      sr=$(cut -d' ' -f1 "$W/s-$sp" | median); s99=$(cut -d' ' -f3 "$W/s-$sp" | median); scpu=$(cut -d' ' -f4 "$W/s-$sp" | median)
      awk -v f="$f" -v c="$c" -v sr="$sr" -v nr="$nr" -v kr="$kr" -v s99="$s99" -v n99="$n99" -v scpu="$scpu" -v ncpu="$ncpu" -v kcpu="$kcpu" \
        'BEGIN {printf "| %s | %s | %s | %.2f | %.2f | %s | %.2f | %s | %.2f | %.2f |\n", f, c, sr, sr/nr, sr/kr, s99, s99/n99, scpu, scpu/ncpu, scpu/kcpu}' >> "$W/t-$sp"
    done
  done
done
for sp in "${SPIKES[@]}"; do
  echo
  echo "ServerSpike $sp ${SPIKE_JAVA_OPTS:-} (same rounds, run after kgnode in each; medians):"
  echo "| file | conns | spike req/s | vs nginx | vs kgnode | spike p99 ms | p99 vs nginx | spike CPU us/req | vs nginx | vs kgnode |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  cat "$W/t-$sp"
  echo "ServerSpike $sp RSS after the run: $(ps -o rss= -p "${SPIKE_PID[$sp]}" | awk '{printf "%.0f MiB", $1/1024}')"
done
echo "kgnode RSS after the run: $(ps -o rss= -p $KGPID | awk '{printf "%.0f MiB", $1/1024}')"
if [ -s "$W/wrk-errors" ]; then
  echo "WARNING: wrk saw errors; those rounds measured reconnects, not answers (a connection cap?):"
  sed 's/^/  /' "$W/wrk-errors"
fi
