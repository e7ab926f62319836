#!/usr/bin/env bash
# Side-by-side benchmark on this machine, in one run: dstunnel (with a demo server behind it)
# against HAProxy 2.6 in front of nginx serving a fixed body, both driven by the same load
# generator at 64 connections and at 1. A tunnel call is a PUT and a GET with a backend round
# trip: both requests count.
#   load-tests/bench.sh [seconds per run, default 15]
#   GEN=java (default) bench/Bench.java; GEN=c ../shared/bench/tunnelbench.c (built with gcc here),
#     one blocking thread per connection, which gives p50/p99 only
#   ROUNDS=N (default 1) rounds in turn, each with both proxies; the ratios' medians at the end
#   WARMUP=S (default 15) seconds of unmeasured load on both before the first round
#   JAR=path runs that jar instead of building; P5=0 skips the instances scan
# Then (P5) dstunnel alone at 64 connections with 1, then 2, ... HTTP and session verticle
# instances, up to the cores available.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-15}
gen=${GEN:-java}; rounds=${ROUNDS:-1}; warmup=${WARMUP:-15}
if ! command -v haproxy >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy nginx
fi
if [[ -n "${JAR:-}" ]]; then jar=$JAR; else (cd "$here/.." && mvn -B -q package -DskipTests); jar=$here/../target/dstunnel.jar; fi
source "$here/lib.sh"
if [[ $gen == c ]]; then
  command -v gcc >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc libc6-dev; }
  gcc -O2 -pthread -o "$work/tunnelbench" "$here/../../shared/bench/tunnelbench.c"
fi

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
jbench() { java "$here/bench/Bench.java" "$@"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# bench http|tunnel PORT CONNECTIONS SECONDS [PID]: one line in Bench.java's words, whichever generator.
bench() {
  if [[ $gen == java ]]; then jbench "$@"; return; fi
  local mode=$1 port=$2 c=$3 s=$4 pid=${5:-} t0 t1 out
  [[ -n $pid ]] && t0=$(ticks "$pid")
  if [[ $mode == http ]]; then out=$("$work/tunnelbench" http 127.0.0.1 "$port" "$c" "$s" /)
  else out=$("$work/tunnelbench" tunnel 127.0.0.1 "$port" "$c" "$s" admin:admin); fi
  [[ -n $pid ]] && t1=$(ticks "$pid")
  # tunnelbench: "mode calls/s=N http_req/s=N p50_us=N p99_us=N errors=N" (latency per call in tunnel mode)
  read -r _ cps rps p50 p99 errs <<< "$out"
  cps=${cps#*=}; rps=${rps#*=}; p50=${p50#*=}; p99=${p99#*=}; errs=${errs#*=}
  local cpu=""; [[ -n $pid ]] && cpu=$(python3 -c "print(', cpu %.1f us/request' % (($t1 - $t0) * 1e6 / $CLK_TCK / ($rps * $s)))")
  if [[ $mode == http ]]; then
    printf '%s %s connections: %s requests/s, p50 %s ms, p99 %s ms, errors %s%s\n' "$mode" "$c" "$rps" \
      "$(ms "$p50")" "$(ms "$p99")" "$errs" "$cpu"
  else
    printf '%s %s connections: %s requests/s%s; %s calls/s, call p50 %s ms, p99 %s ms, errors %s\n' "$mode" "$c" "$rps" \
      "$cpu" "$cps" "$(ms "$p50")" "$(ms "$p99")" "$errs"
  fi
}
echo "machine: $(nproc) cores, $(java -version 2>&1 | sed -n 1p); $(haproxy -v | sed -n 1p); generator: $gen"
# Warm-up, unmeasured, for both (the JIT's work must not fall into dstunnel's measured run).
bench http "$haproxy_port" 64 "$warmup" > /dev/null; bench tunnel "$proxy" 64 "$warmup" > /dev/null
results=()
for r in $(seq 1 "$rounds"); do
  for c in 64 1; do
    # CPU per request: HAProxy's process alone (not nginx's), dstunnel's alone (not the demo server's).
    h=$(bench http "$haproxy_port" "$c" "$seconds" "$haproxy_pid"); echo "HAProxy->nginx  $h"
    t=$(bench tunnel "$proxy" "$c" "$seconds" "$proxy_pid"); echo "dstunnel->demo  $t"
    results+=("$c|$h|$t")
  done
done
python3 - "${results[@]}" <<'PY'
import re, statistics, sys
rows = {}
def num(s, k):
    m = re.search(k + r" ([0-9.]+)", s)
    return float(m.group(1)) if m else None
for row in sys.argv[1:]:
    c, h, t = row.split("|")
    hr, tr = num(h, r"connections:"), num(t, r"connections:")
    # Bench.java times each request; tunnelbench times a tunnel call (PUT + GET) only.
    p99 = "request p99" if num(t, "p99.9") is not None else "call p99 / request p99"
    r = {"requests/s": tr / hr, p99: num(t, "p99") / num(h, "p99"),
         "tunnel call p50 / request p50": num(t, "call p50") / num(h, "p50"),
         "CPU us/request": num(t, "cpu") / num(h, "cpu")}
    if num(t, "p99.9") is not None and num(h, "p99.9") is not None:
        r["request p99.9"] = num(t, "p99.9") / num(h, "p99.9")
    print(f"{c:>2} connections: dstunnel/HAProxy " + "; ".join(f"{k} {v:.2f}" for k, v in r.items())
          + f" ({num(t, 'cpu')} vs {num(h, 'cpu')} us)")
    rows.setdefault(c, []).append(r)
for c, rs in rows.items():
    if len(rs) > 1:
        print(f"{c:>2} connections, median of {len(rs)}: dstunnel/HAProxy "
              + "; ".join(f"{k} {statistics.median(x[k] for x in rs):.2f}" for k in rs[0]))
PY

[[ ${P5:-1} == 0 ]] && exit 0
echo "P5: dstunnel at 64 connections by verticle instances (cores: $(nproc))"
for i in $(seq 1 "$(nproc)"); do
  kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
  start_proxy "$i"
  bench tunnel "$proxy" 64 10 > /dev/null
  echo "instances $i: $(bench tunnel "$proxy" 64 "$seconds")"
done
