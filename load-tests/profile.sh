#!/usr/bin/env bash
# Profiles dstunnel under the benchmark's load (64 connections, tunnel calls to a demo server) with
# async-profiler (tools.profiler:async-profiler from Maven Central carries the native library):
# one run per event (cpu, alloc, lock), and one with Java Flight Recorder ("jfr": GC pauses,
# monitor contention, parking, hot methods from the JDK's own sampler). Writes flame graphs, the
# recording and the top frames to target/profile/.
#   load-tests/profile.sh [seconds per run, default 15] [events, default "cpu alloc lock jfr"]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-15}
events=${2:-cpu alloc lock jfr}
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
  if [[ $event == jfr ]]; then
    agent=-XX:StartFlightRecording=settings=profile,name=bench
  else
    agent=-agentpath:"$lib"=start,event=$event,$format,file="$out/$event.$format"
  fi
  java "$agent" -XX:+UseParallelGC -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/dstunnel.json" > "$work/proxy.log" 2>&1 &
  pid=$!; pids+=($pid)
  wait_for "$work/proxy.log" "dstunnel listening on" 60
  echo "$event ($format): $(java "$here/bench/Bench.java" tunnel "$proxy" 64 "$seconds" "$pid")"
  # dstunnel ends with Runtime.halt after its drain, which skips JFR's own dump at exit.
  [[ $event == jfr ]] && jcmd "$pid" JFR.dump name=bench filename="$out/dstunnel.jfr" > /dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true   # the profile is written as the process ends
}
jfr_summary() {
  local f=$out/dstunnel.jfr
  jfr summary "$f" | awk '/jdk\.(GarbageCollection|JavaMonitorEnter|ThreadPark|ExecutionSample|ObjectAllocationSample|SocketRead|SocketWrite) / { print "    " $1 ": " $2 " events" }'
  jfr print --events jdk.GarbageCollection "$f" | python3 -c '
import re, sys
p = [float(m.group(1)) * (1000 if m.group(2) == "s" else 1 if m.group(2) == "ms" else 0.001)
     for m in re.finditer(r"sumOfPauses = ([0-9.]+) (s|ms|us)", sys.stdin.read())]
print("    GC: %d collections, pauses %.1f ms in all, longest %.2f ms" % (len(p), sum(p), max(p) if p else 0))'
  jfr print --events jdk.ExecutionSample --stack-depth 1 "$f" | python3 -c '
import collections, re, sys
c = collections.Counter(m.group(1) for m in re.finditer(r"^\s+(\S+)\s+line:", sys.stdin.read(), re.M))
t = sum(c.values()) or 1
print("    hot methods (JFR execution samples, top frame, %d samples):" % t)
for f, n in c.most_common(10):
    print("      %5.1f%%  %s" % (100.0 * n / t, f[:140]))'
}
for event in $events; do
  if [[ $event == jfr ]]; then
    run jfr jfr
    echo "  jfr: target/profile/dstunnel.jfr"; jfr_summary
    continue
  fi
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
