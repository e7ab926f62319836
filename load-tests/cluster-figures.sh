#!/usr/bin/env bash
# Cluster figures (benchmarks, not tests): the latency a forwarded call adds at one connection,
# and the time to adopt the sessions of a node killed with SIGKILL. Three nodes on loopback, one
# demo server; each figure on a cluster of its own.
#   load-tests/cluster-figures.sh [sessions for the adoption figure (default 200)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sessions=${1:-200}
(cd "$here/.." && mvn -B -q package -DskipTests)
jar=$here/../target/dstunnel.jar
source "$here/lib.sh"
demo=$(free_port)
java -jar "$jar" server -port "$demo" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "server listening on"

cluster() {
  local tag=$1 list="" i
  for i in 0 1 2; do member[$i]=$(free_port); http[$i]=$(free_port); list+="\"127.0.0.1:${member[$i]}\","; done
  for i in 0 1 2; do
    cat > "$work/$tag$i.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": ${http[$i]} }, "admin": { "port": 0 },
  "backends": [ { "name": "demo", "port": $demo } ],
  "auth": { "users": [ { "name": "admin", "password": "admin", "roles": ["tunnel", "admin"] } ] },
  "cluster": { "enabled": true, "name": "fig-$tag-$$", "host": "127.0.0.1", "port": ${member[$i]},
               "members": [ ${list%,} ] } }
JSON
    java -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/$tag$i.json" > "$work/$tag$i.log" 2>&1 &
    node[$i]=$!; pids+=($!)
  done
  for i in 0 1 2; do wait_for "$work/$tag$i.log" "dstunnel listening on" 90; done
  for i in 0 1 2; do wait_for "$work/$tag$i.log" "members: 3\|joined (3 members)" 60; done
}
declare -a member http node
cluster lat
python3 "$here/cluster_figures.py" latency "${http[0]}" "${http[1]}"
cluster adopt
python3 "$here/cluster_figures.py" adoption "${http[0]}" "${http[1]}" "${http[2]}" "${node[0]}" "$sessions"
