#!/usr/bin/env bash
# Cluster soak: three dstunnel nodes behind HAProxy (L7, GETs retried on another node), sessions
# calling Increment continuously, while nodes are killed (SIGKILL) and restarted at random and
# rolled (SIGTERM, restart) one at a time. Counts lost, duplicated and client-visible errors (all
# must be 0) and, apart, writes in flight on a killed node.
#   load-tests/cluster-soak.sh [seconds (default 300)] [sessions (default 32)]
# SOAK_ACTIONS="kill roll" (default) picks among both; "roll" or "kill" for one kind only.
# KEEP_LOGS=DIR keeps the nodes' logs.
# Loopback only, bounded in time. Needs haproxy (Debian's package).
set -euo pipefail
command -v haproxy > /dev/null || { echo "cluster-soak.sh needs haproxy (Debian: apt-get install haproxy)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-300}
sessions=${2:-32}
(cd "$here/.." && mvn -B -q package -DskipTests)
jar=$here/../target/dstunnel.jar
source "$here/lib.sh"

demo=$(free_port)
java -jar "$jar" server -port "$demo" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "server listening on"

members=() http=() admin=() member=()
for i in 0 1 2; do member[$i]=$(free_port); http[$i]=$(free_port); admin[$i]=$(free_port); members+=("\"127.0.0.1:${member[$i]}\""); done
list=$(IFS=,; echo "${members[*]}")
node_pid=()
# The cluster's key (cluster.secret): one per run, the same for every node.
key=${DSTUNNEL_CLUSTER_SECRET:-$(head -c 32 /dev/urandom | base64)}
start_node() {
  local i=$1
  cat > "$work/node$i.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": ${http[$i]} }, "admin": { "port": ${admin[$i]} },
  "backends": [ { "name": "demo", "port": $demo } ],
  "auth": { "users": [ { "name": "admin", "password": "admin", "roles": ["tunnel", "admin"] } ] },
  "session": { "drainTimeoutMs": 15000 },
  "cluster": { "enabled": true, "name": "soak-$$", "host": "127.0.0.1", "port": ${member[$i]},
               "members": [ $list ], "backups": 1, "secret": "$key" } }
JSON
  [[ -f "$work/node$i.log" ]] && mv "$work/node$i.log" "$work/node$i-until-$SECONDS.log"
  : > "$work/node$i.log"
  java -Xmx512m -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/node$i.json" >> "$work/node$i.log" 2>&1 &
  node_pid[$i]=$!; pids+=($!)
}
for i in 0 1 2; do start_node "$i"; done
for i in 0 1 2; do wait_for "$work/node$i.log" "dstunnel listening on" 90; done

front=$(free_port)
cat > "$work/haproxy.cfg" <<CFG
global
  log stdout format raw local0
defaults
  log global
  option httplog
  mode http
  timeout connect 2s
  timeout client 90s
  timeout server 60s
  # A readiness check slower than its interval on a loaded machine is not a node going down (all
  # three marked down at once made HAProxy answer 503 itself); a dead node refuses at once.
  timeout check 2s
  retries 3
  option redispatch
  retry-on conn-failure empty-response response-timeout
frontend tunnel
  bind 127.0.0.1:$front
  # Only reads are sent again: a write (PUT) that reached a node that then died may have been
  # applied, and sending it again would apply it twice.
  http-request disable-l7-retry if !METH_GET
  default_backend nodes
backend nodes
  balance roundrobin
  # A leaving node's readiness goes down first: it is taken out before its listener closes.
  option httpchk GET /health/ready
  server n0 127.0.0.1:${http[0]} check port ${admin[0]} inter 500 fall 1 rise 2
  server n1 127.0.0.1:${http[1]} check port ${admin[1]} inter 500 fall 1 rise 2
  server n2 127.0.0.1:${http[2]} check port ${admin[2]} inter 500 fall 1 rise 2
CFG
haproxy -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 & pids+=($!)
wait_port "$front"

python3 "$here/cluster_soak_client.py" "$front" "$seconds" "$sessions" > "$work/client.log" 2>&1 &
client=$!
end=$((SECONDS + seconds - 20))
kills=0 rolls=0
while ((SECONDS < end)); do
  sleep $((8 + RANDOM % 8))
  i=$((RANDOM % 3))
  read -r -a actions <<< "${SOAK_ACTIONS:-kill roll}"
  if [[ ${actions[RANDOM % ${#actions[@]}]} == kill ]]; then
    kill -9 "${node_pid[$i]}" 2>/dev/null || true; kills=$((kills + 1)); echo "killed node $i"
  else
    kill -TERM "${node_pid[$i]}" 2>/dev/null || true; wait "${node_pid[$i]}" 2>/dev/null || true
    rolls=$((rolls + 1)); echo "rolled node $i (SIGTERM)"
  fi
  start_node "$i"
  wait_for "$work/node$i.log" "dstunnel listening on" 90
done
wait "$client" && status=0 || status=$?
echo "nodes killed: $kills, rolled: $rolls"
cat "$work/client.log"
exit $status
