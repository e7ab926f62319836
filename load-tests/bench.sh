#!/usr/bin/env bash
# Side-by-side benchmark on this machine, in one run: dstunnel (with a demo server behind it)
# against HAProxy 2.6 in front of nginx serving a fixed body, both driven by the same load
# generator (bench/Bench.java) at 64 connections and at 1. A tunnel call is a PUT and a GET with a
# backend round trip: both requests count.
#   load-tests/bench.sh [seconds per run, default 15]
# Then (P5) dstunnel alone at 64 connections with 1, then 2, ... HTTP and session verticle
# instances, up to the cores available.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-15}
if ! command -v haproxy >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy nginx
fi
(cd "$here/.." && mvn -B -q package -DskipTests)
jar=$here/../target/dstunnel.jar
source "$here/lib.sh"

demo=$(free_port); proxy=$(free_port); nginx_port=$(free_port); haproxy_port=$(free_port); admin=$(free_port)
java -jar "$jar" server -port "$demo" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "server listening on"
start_proxy() { # instances
  cat > "$work/dstunnel.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": $proxy, "instances": $1 }, "admin": { "port": $admin },
  "session": { "instances": $1 },
  "backends": [ { "name": "demo", "port": $demo } ],
  "auth": { "users": [ { "name": "admin", "password": "admin", "roles": ["tunnel", "admin"] } ] } }
JSON
  : > "$work/proxy.log"
  java -XX:+UseParallelGC -Ddstunnel.events.level=WARN -jar "$jar" -conf "$work/dstunnel.json" > "$work/proxy.log" 2>&1 &
  proxy_pid=$!; pids+=($proxy_pid)
  wait_for "$work/proxy.log" "dstunnel listening on"
}
start_proxy "$(nproc)"

# nginx: one worker, a fixed body the size of a tunnel answer.
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$nginx_port; keepalive_requests 100000;
    location / { default_type application/octet-stream; return 200 '{"result":["call 1 (Server 211)"]}'; } } }
CONF
nginx -c "$work/nginx.conf" & pids+=($!)
cat > "$work/haproxy.cfg" <<CONF
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend bench
  bind 127.0.0.1:$haproxy_port
  default_backend nginx
backend nginx
  server n1 127.0.0.1:$nginx_port
CONF
haproxy -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 & haproxy_pid=$!; pids+=($haproxy_pid)
wait_port "$nginx_port"; wait_port "$haproxy_port"

export CLK_TCK=$(getconf CLK_TCK)
bench() { java "$here/bench/Bench.java" "$@"; }
echo "machine: $(nproc) cores, $(java -version 2>&1 | sed -n 1p); $(haproxy -v | sed -n 1p)"
# Warm-up, unmeasured, for both (the JIT's work must not fall into dstunnel's measured run).
bench http "$haproxy_port" 64 10 > /dev/null; bench tunnel "$proxy" 64 10 > /dev/null
results=()
for c in 64 1; do
  # CPU per request: HAProxy's process alone (not nginx's), dstunnel's alone (not the demo server's).
  h=$(bench http "$haproxy_port" "$c" "$seconds" "$haproxy_pid"); echo "HAProxy->nginx  $h"
  t=$(bench tunnel "$proxy" "$c" "$seconds" "$proxy_pid"); echo "dstunnel->demo  $t"
  results+=("$c|$h|$t")
done
python3 - "${results[@]}" <<'PY'
import re, sys
for row in sys.argv[1:]:
    c, h, t = row.split("|")
    num = lambda s, k: float(re.search(k + r" ([0-9.]+)", s).group(1))
    hr, tr = float(re.search(r"([0-9.]+) requests/s", h).group(1)), float(re.search(r"([0-9.]+) requests/s", t).group(1))
    print(f"{c:>2} connections: dstunnel/HAProxy requests/s = {tr / hr:.2f}; "
          f"tunnel call p50 / HAProxy request p50 = {num(t, 'call p50') / num(h, 'p50'):.2f}; "
          f"request p99 ratio = {num(t, 'p99') / num(h, 'p99'):.2f}; "
          f"p99.9 ratio = {num(t, 'p99.9') / num(h, 'p99.9'):.2f}; "
          f"tunnel call p99 / HAProxy request p99 = {num(t, 'call p50 [0-9.]+ ms, p99') / num(h, 'p99'):.2f}; "
          f"CPU us/request ratio = {num(t, 'cpu') / num(h, 'cpu'):.2f} ({num(t, 'cpu')} vs {num(h, 'cpu')})")
PY

echo "P5: dstunnel at 64 connections by verticle instances (cores: $(nproc))"
for i in $(seq 1 "$(nproc)"); do
  kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
  start_proxy "$i"
  bench tunnel "$proxy" 64 10 > /dev/null
  echo "instances $i: $(bench tunnel "$proxy" 64 "$seconds")"
done
