#!/usr/bin/env bash
# REST latency figure (a benchmark, not a test): what dstunnel adds to a DataSnap REST call. One
# demo server with its REST side; the same generator (rest_latency.py, one connection per call as
# a PHP client makes them) calls EchoString in one session, straight to the demo server and through
# dstunnel, in alternating rounds of the same run.
#   load-tests/rest-latency.sh [calls per round (default 2000)] [rounds (default 3)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
calls=${1:-2000}
rounds=${2:-3}
(cd "$here/.." && mvn -B -q package -DskipTests)
jar=$here/../target/dstunnel.jar
source "$here/lib.sh"
demo=$(free_port); rest=$(free_port); proxy=$(free_port)
java -jar "$jar" server -port "$demo" -http "$rest" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "rest listening on"
cat > "$work/dstunnel.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": $proxy }, "admin": { "enabled": false },
  "backends": [ { "name": "demo", "port": $demo, "httpPort": $rest } ],
  "auth": { "users": [ { "name": "admin", "password": "admin" } ] } }
JSON
java -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/dstunnel.json" > "$work/proxy.log" 2>&1 & pids+=($!)
wait_for "$work/proxy.log" "dstunnel listening on" 60
echo "machine: $(nproc) cores, $(java -version 2>&1 | sed -n 1p)"
python3 "$here/rest_latency.py" "$rest" "$proxy" "$calls" "$rounds"
