#!/usr/bin/env bash
# Profiles dstunnel under the benchmark's load (64 connections, tunnel calls to a demo server) with
# async-profiler (tools.profiler:async-profiler from Maven Central carries the native library):
# one run per event (cpu, alloc, lock). Writes flame graphs and the top frames to target/profile/.
#   load-tests/profile.sh [seconds per run, default 15] [events, default "cpu alloc lock"]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-15}
events=${2:-cpu alloc lock}
version=4.2
(cd "$here/.." && mvn -B -q package -DskipTests && mvn -B -q dependency:get -Dartifact=tools.profiler:async-profiler:$version)
jar=$here/../target/dstunnel.jar
out=$here/../target/profile
mkdir -p "$out"
source "$here/lib.sh"
unzip -o -q "$HOME/.m2/repository/tools/profiler/async-profiler/$version/async-profiler-$version.jar" \
  "linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')/*" -d "$work/ap"
lib=$(find "$work/ap" -name libasyncProfiler.so)
demo=$(free_port)
java -jar "$jar" server -port "$demo" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "server listening on"
run() { # event format
  local event=$1 format=$2 proxy pid
  proxy=$(free_port)
  cat > "$work/dstunnel.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": $proxy }, "admin": { "enabled": false },
  "backends": [ { "name": "demo", "port": $demo } ],
  "auth": { "users": [ { "name": "admin", "password": "admin" } ] } }
JSON
  java -agentpath:"$lib"=start,event=$event,$format,file="$out/$event.$format" -Ddstunnel.events.level=WARN \
    -jar "$jar" -conf "$work/dstunnel.json" > "$work/proxy.log" 2>&1 &
  pid=$!; pids+=($pid)
  wait_for "$work/proxy.log" "dstunnel listening on" 60
  echo "$event ($format): $(java "$here/bench/Bench.java" tunnel "$proxy" 64 "$seconds" "$pid")"
  kill "$pid"; wait "$pid" 2>/dev/null || true   # the profile is written as the process ends
}
for event in $events; do
  run "$event" flamegraph
  mv "$out/$event.flamegraph" "$out/$event.html"
  run "$event" collapsed
  python3 - "$out/$event.collapsed" "$event" <<'PY'
import collections, sys
self_, incl, total = collections.Counter(), collections.Counter(), 0
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    n = int(n); total += n
    frames = stack.split(";")
    self_[frames[-1]] += n
    for f in set(frames):
        if f.startswith("io/dstunnel/") or f.startswith("io.dstunnel."):
            incl[f] += n
print("  %s: %d samples; top frames (self):" % (sys.argv[2], total))
for f, n in self_.most_common(12):
    print("    %5.1f%%  %s" % (100.0 * n / total, f[:150]))
print("  dstunnel's own frames (inclusive):")
for f, n in incl.most_common(10):
    print("    %5.1f%%  %s" % (100.0 * n / total, f[:150]))
PY
  echo "  flame graph: target/profile/$event.html, stacks: target/profile/$event.collapsed"
done
