#!/usr/bin/env bash
# A/B in one run: two dstunnel builds (git revisions) or two JVM settings, each in front of the
# same demo server, driven in turn by the same generator (bench/Bench.java), round after round
# (A first in odd rounds, B first in even ones, so drift favours neither). Prints every round and
# the median ratio B/A of requests/s, CPU µs per request and request p50/p99/p99.9.
#   load-tests/ab.sh [seconds per run, default 10] [rounds, default 3] [connections, default "64 1"]
#   A_REV=<git revision>  build A from that commit (default: the same jar as B)
#   B_REV=<git revision>  build B from that commit (default: this work tree)
#   A_OPTS=… B_OPTS=…     JVM options of each, e.g. B_OPTS="-XX:+UseParallelGC"
#   A_MERGE=… B_MERGE=…   JSON merged into each one's config, e.g. B_MERGE='{"http":{"instances":1}}'
# Example, a lever's effect: A_REV=HEAD~1 load-tests/ab.sh 15 3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
seconds=${1:-10}
rounds=${2:-3}
conns=${3:-64 1}
source "$here/lib.sh"
build() { # rev dir -> jar path
  if [[ -z $1 ]]; then
    (cd "$repo" && mvn -B -q package -DskipTests) >&2
    cp "$repo/target/dstunnel.jar" "$work/$2.jar"
  else
    mkdir -p "$work/$2"
    git -C "$repo" archive "$1" | tar -x -C "$work/$2"
    (cd "$work/$2" && mvn -B -q package -DskipTests) >&2
    cp "$work/$2/target/dstunnel.jar" "$work/$2.jar"
  fi
  echo "$work/$2.jar"
}
b_jar=$(build "${B_REV:-}" b)
a_jar=$b_jar
[[ -n ${A_REV:-} ]] && a_jar=$(build "$A_REV" a)
demo=$(free_port)
java -jar "$b_jar" server -port "$demo" > "$work/demo.log" 2>&1 & pids+=($!)
wait_for "$work/demo.log" "server listening on"
declare -A port pid
start() { # name jar opts merge
  port[$1]=$(free_port)
  local extra=${4:-}
  python3 - "$work/$1.json" "${port[$1]}" "$demo" "${extra:-"{}"}" <<'PY'
import json, sys
path, port, demo, extra = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
conf = {"http": {"host": "127.0.0.1", "port": port}, "admin": {"enabled": False},
        "backends": [{"name": "demo", "port": demo}],
        "auth": {"users": [{"name": "admin", "password": "admin", "roles": ["tunnel"]}]}}
def merge(a, b):
    for k, v in b.items():
        a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return a
json.dump(merge(conf, extra), open(path, "w"))
PY
  # shellcheck disable=SC2086
  java $3 -Ddstunnel.events.level=WARN -jar "$2" -conf "$work/$1.json" > "$work/$1.log" 2>&1 &
  pid[$1]=$!; pids+=($!)
  wait_for "$work/$1.log" "dstunnel listening on" 60
}
start A "$a_jar" "${A_OPTS:-}" "${A_MERGE:-}"
start B "$b_jar" "${B_OPTS:-}" "${B_MERGE:-}"
export CLK_TCK=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, $(java -version 2>&1 | sed -n 1p)"
echo "A: ${A_REV:-work tree} ${A_OPTS:-} ${A_MERGE:-}"
echo "B: ${B_REV:-work tree} ${B_OPTS:-} ${B_MERGE:-}"
# Warm-up, unmeasured: the JIT's work would otherwise fall on whoever runs first.
for who in A B; do java "$here/bench/Bench.java" tunnel "${port[$who]}" 64 "$seconds" > /dev/null; done
lines=()
for r in $(seq 1 "$rounds"); do
  order="A B"; (( r % 2 == 0 )) && order="B A"
  for c in $conns; do
    for who in $order; do
      out=$(java "$here/bench/Bench.java" tunnel "${port[$who]}" "$c" "$seconds" "${pid[$who]}")
      echo "round $r $who $out"
      lines+=("$r|$who|$c|$out")
    done
  done
done
python3 - "${lines[@]}" <<'PY'
import re, statistics, sys
runs = {}
for row in sys.argv[1:]:
    r, who, c, out = row.split("|", 3)
    num = lambda k: float(re.search(k, out).group(1))
    runs[(r, who, c)] = {"req/s": num(r"([0-9.]+) requests/s"), "cpu us/req": num(r"cpu ([0-9.]+)"),
                         "p50": num(r"p50 ([0-9.]+) ms"), "p99": num(r"p99 ([0-9.]+) ms"),
                         "p99.9": num(r"p99\.9 ([0-9.]+) ms"), "call p50": num(r"call p50 ([0-9.]+)")}
for c in sorted({k[2] for k in runs}, key=int, reverse=True):
    rs = sorted({k[0] for k in runs if k[2] == c})
    cells = []
    for m in ["req/s", "cpu us/req", "p50", "p99", "p99.9", "call p50"]:
        ratios = [runs[(r, "B", c)][m] / runs[(r, "A", c)][m] for r in rs]
        cells.append("%s %.3f" % (m, statistics.median(ratios)))
    print("%3s connections, median B/A over %d rounds: %s" % (c, len(rs), ", ".join(cells)))
PY
