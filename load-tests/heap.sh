#!/usr/bin/env bash
# P4: N concurrent tunnel sessions (default 10,000), each with its own backend connection, held by
# a proxy started with -Xmx256m; prints the proxy's heap after a full GC (jcmd GC.run, then the
# JVM's own jvm_memory_used_bytes from /metrics).
#   load-tests/heap.sh [sessions=10000]
#   JAR=path measures that jar instead of this tree's (two builds compared in turn)
#   HISTO=file also writes the proxy's class histogram with the sessions open (jcmd GC.class_histogram)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-10000}
(cd "$here/.." && mvn -B -q package -DskipTests && mvn -B -q test-compile)
root=$here/..
jar=${JAR:-$root/target/dstunnel.jar}
source "$here/lib.sh"
metric() { python3 - "$1" "$2" <<'PY'
import sys, urllib.request, base64
req = urllib.request.Request("http://127.0.0.1:%s/metrics" % sys.argv[1],
                             headers={"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()})
text = urllib.request.urlopen(req).read().decode()
print(sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith(sys.argv[2])))
PY
}
demo=$(free_port); proxy=$(free_port); admin=$(free_port)
java -Xmx1g -jar "$jar" server -port "$demo" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "server listening on"
cat > "$work/dstunnel.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": $proxy }, "admin": { "port": $admin },
  "backends": [ { "name": "demo", "port": $demo } ],
  "auth": { "users": [ { "name": "admin", "password": "admin", "roles": ["tunnel", "admin"] } ] },
  "session": { "idleTimeoutMs": 3600000 } }
JSON
java -Xmx256m -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/dstunnel.json" > "$work/proxy.log" 2>&1 &
proxy_pid=$!; pids+=($proxy_pid)
wait_for "$work/proxy.log" "dstunnel listening on"
# The proxy's own heap with no session, after a full GC: subtracted from the figure below.
jcmd "$proxy_pid" GC.run > /dev/null
sleep 2
baseline=$(metric "$admin" 'jvm_memory_used_bytes{area="heap"')
mkfifo "$work/hold"
java -cp "$root/target/test-classes:$jar" io.dstunnel.bench.OpenSessions "$proxy" "$n" < "$work/hold" > "$work/open.log" 2>&1 &
pids+=($!)
exec 7>"$work/hold"
wait_for "$work/open.log" "opened" 300
cat "$work/open.log" | grep opened
before=$(metric "$admin" 'jvm_memory_used_bytes{area="heap"')
jcmd "$proxy_pid" GC.run > /dev/null
sleep 2
heap=$(metric "$admin" 'jvm_memory_used_bytes{area="heap"')
[[ -n "${HISTO:-}" ]] && jcmd "$proxy_pid" GC.class_histogram > "$HISTO"
open=$(metric "$admin" 'dstunnel_sessions_open ')
python3 -c "print('sessions open: %d; heap with no session %.1f MiB; before GC %.1f MiB, after GC %.1f MiB (-Xmx256m); %.1f KiB per session (after GC, less the baseline)' % ($open, $baseline/1048576, $before/1048576, $heap/1048576, ($heap-$baseline)/1024/max($open,1)))"
