#!/usr/bin/env bash
# Cluster figures (benchmarks, not tests): the latency a forwarded call adds at one connection;
# throughput and CPU per request of three nodes (backups 1) against one single-node dstunnel, same
# generator (bench/Bench.java, 64 connections spread over the nodes), same run; the heap a session
# copy costs its holder; the time to adopt the sessions of a node killed with SIGKILL. Three nodes
# on loopback, one demo server; each figure on a cluster of its own.
#   load-tests/cluster-figures.sh [sessions for the adoption figure (default 1000)] [bench seconds (default 60)]
# (15 s was too short: three JVMs on two cores were still compiling, and the ratio came out low.)
# FIGURES="latency throughput adoption" (default: all three) picks some.
# FRONT=haproxy sends the three-node throughput run through HAProxy round-robin (each request to the
# next node, as a front without stickiness does), FRONT=sticky through HAProxy routing each session
# to its owner (the stick table cluster.md shows); without FRONT each connection keeps to one node,
# where it opened its session. NODE0_OPTS="..." adds JVM options to node 0 (a profiler's agent).
# SINGLE=0 skips the one-node run of the throughput figure. BACKUPS=N sets cluster.backups (default 1;
# 0 measures three nodes that copy nothing, what the cluster costs without its copies).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sessions=${1:-1000}
seconds=${2:-60}
figures=" ${FIGURES:-latency throughput adoption} "
# JAR=path runs that jar instead of building this tree (two builds compared in turn).
if [[ -n "${JAR:-}" ]]; then jar=$JAR; else (cd "$here/.." && mvn -B -q package -DskipTests); jar=$here/../target/dstunnel.jar; fi
source "$here/lib.sh"
demo=$(free_port)
java -jar "$jar" server -port "$demo" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "server listening on"

# The cluster's key (cluster.secret), one per run; CLUSTER_TRUSTED=1 runs the same figures on
# cluster.trustedNetwork instead (no TLS between nodes), to compare what the transport's security costs.
key=${DSTUNNEL_CLUSTER_SECRET:-$(head -c 32 /dev/urandom | base64)}
if [[ "${CLUSTER_TRUSTED:-0}" == 1 ]]; then keyed='"trustedNetwork": true'; else keyed="\"secret\": \"$key\""; fi
cluster() {
  local tag=$1 list="" i
  for i in 0 1 2; do
    member[$i]=$(free_port); http[$i]=$(free_port); admin[$i]=$(free_port); list+="\"127.0.0.1:${member[$i]}\","
  done
  for i in 0 1 2; do
    cat > "$work/$tag$i.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": ${http[$i]} }, "admin": { "port": ${admin[$i]} },
  "backends": [ { "name": "demo", "port": $demo } ],
  "auth": { "users": [ { "name": "admin", "password": "admin", "roles": ["tunnel", "admin"] } ] },
  "cluster": { "enabled": true, "name": "fig-$tag-$$", "host": "127.0.0.1", "port": ${member[$i]},
               "members": [ ${list%,} ], "backups": ${BACKUPS:-1}, $keyed } }
JSON
    local opts=""; ((i == 0)) && opts=${NODE0_OPTS:-}
    # shellcheck disable=SC2086
    java -Xmx1g $opts -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/$tag$i.json" > "$work/$tag$i.log" 2>&1 &
    node[$i]=$!; pids+=($!)
  done
  for i in 0 1 2; do wait_for "$work/$tag$i.log" "dstunnel listening on" 90; done
  for i in 0 1 2; do wait_for "$work/$tag$i.log" "members: 3\|joined (3 members)" 60; done
}
# admin_get PORT PATH: GET an admin path with the admin's credentials.
admin_get() { curl -sf -u admin:admin "http://127.0.0.1:$1$2"; }
copies_held() { admin_get "$1" /admin/cluster | python3 -c 'import json, sys; print(json.load(sys.stdin)["copiesHeld"])'; }
# heap_after_gc PID: the bytes of every live object (jcmd's class histogram runs a full GC first).
heap_after_gc() { jcmd "$1" GC.class_histogram | awk '$1 == "Total" { print $3 }'; }
# Each throughput run is measured after WARMUP seconds of the same load (default 60: three JVMs on
# two cores are still compiling half of the time a minute in).
bench() { java -Dwarmup="${WARMUP:-60}" "$here/bench/Bench.java" "$@"; }
# front haproxy|sticky: HAProxy before the three nodes (front_port, front_pid).
front() {
  command -v haproxy > /dev/null || { echo "FRONT needs haproxy (Debian: apt-get install haproxy)" >&2; exit 2; }
  local stick=""
  [[ $1 == sticky ]] && stick="  stick-table type string len 64 size 1m expire 30m
  stick match url_param(dss)
  stick store-response res.hdr(dstunnel-session)"
  front_port=$(free_port)
  cat > "$work/haproxy.cfg" <<CFG
defaults
  mode http
  timeout connect 2s
  timeout client 90s
  timeout server 60s
frontend tunnel
  bind 127.0.0.1:$front_port
  default_backend nodes
backend nodes
  balance roundrobin
$stick
  server n0 127.0.0.1:${http[0]}
  server n1 127.0.0.1:${http[1]}
  server n2 127.0.0.1:${http[2]}
CFG
  haproxy -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 & front_pid=$!; pids+=($!)
  wait_port "$front_port"
}

declare -a member http admin node
if [[ $figures == *" latency "* ]]; then
echo "== forwarded call vs owner-local, 1 connection"
cluster lat
python3 "$here/cluster_figures.py" latency "${http[0]}" "${http[1]}"
for i in 0 1 2; do kill "${node[$i]}"; done
fi

if [[ $figures == *" throughput "* ]]; then
echo "== throughput, 64 connections: one node (no cluster) vs three nodes (backups 1), ${seconds} s each"
single=$(free_port)
cat > "$work/single.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": $single }, "admin": { "port": 0 },
  "backends": [ { "name": "demo", "port": $demo } ],
  "auth": { "users": [ { "name": "admin", "password": "admin", "roles": ["tunnel", "admin"] } ] } }
JSON
if [[ "${SINGLE:-1}" != 0 ]]; then
java -Xmx1g -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/single.json" > "$work/single.log" 2>&1 &
single_pid=$!; pids+=($!)
wait_for "$work/single.log" "dstunnel listening on" 90
echo -n "one node:    "; bench tunnel "$single" 64 "$seconds" "$single_pid"
kill "$single_pid"
fi
cluster tput
ports="${http[0]},${http[1]},${http[2]}"
if [[ -n "${FRONT:-}" ]]; then front "$FRONT"; ports=$front_port; fi
echo -n "three nodes${FRONT:+ behind $FRONT}: "; bench tunnel "$ports" 64 "$seconds" "${node[0]},${node[1]},${node[2]}"
# The copies' steps and the messages they took (several sessions' steps for one holder go in one).
for i in 0 1 2; do admin_get "${admin[$i]}" /metrics; done | awk '
  /^dstunnel_cluster_copy_steps_total/ { s += $2 } /^dstunnel_cluster_copy_messages_total/ { m += $2 }
  END { if (m > 0) printf "copy steps %d in %d messages (%.2f a message, warm-up included)\n", s, m, s / m }'
for i in 0 1 2; do kill "${node[$i]}"; done
[[ -n "${FRONT:-}" ]] && kill "$front_pid"

fi

if [[ $figures == *" adoption "* ]]; then
echo "== heap per session copy, and adoption after kill -9 ($sessions sessions)"
cluster adopt
mkfifo "$work/go"
python3 "$here/cluster_figures.py" adoption "${http[0]}" "${http[1]}" "${http[2]}" "${node[0]}" "$sessions" \
  < "$work/go" > "$work/adopt.out" 2>&1 &
adopter=$!
before=$(( $(heap_after_gc "${node[1]}") + $(heap_after_gc "${node[2]}") ))
exec 7>"$work/go"
wait_for "$work/adopt.out" "opened" 300
for _ in $(seq 1 100); do
  held=$(( $(copies_held "${admin[1]}") + $(copies_held "${admin[2]}") ))
  ((held >= sessions)) && break; sleep 0.1
done
after=$(( $(heap_after_gc "${node[1]}") + $(heap_after_gc "${node[2]}") ))
python3 -c "print('copies held by the other two nodes: %d; their live objects %.1f MiB before, %.1f MiB after: %.2f KiB per copy' % ($held, $before/1048576, $after/1048576, ($after-$before)/1024/max($held,1)))"
echo go >&7
wait "$adopter" || true
cat "$work/adopt.out"
fi
