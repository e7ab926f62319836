#!/usr/bin/env bash
# Runs a Gatling simulation against dstunnel and two demo servers, all on loopback.
#   load-tests/gatling.sh steady   [seconds=60] [sessions=64]   steady EchoString load
#   load-tests/gatling.sh ramp                                  ramp to saturation (16..128 sessions)
#   load-tests/gatling.sh failover [seconds=60] [sessions=64]   steady load, primary killed (-9) mid-run
# The HTML report lands in load-tests/target/gatling/<simulation>-<timestamp>/index.html; the run
# fails if any request failed (steady, failover) or more than 1% did (ramp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
kind=${1:-steady}
seconds=${2:-60}
users=${3:-64}
(cd .. && mvn -B -q package -DskipTests)
jar=$here/../target/dstunnel.jar
source "$here/lib.sh"


primary=$(free_port); standby=$(free_port); proxy=$(free_port); admin=$(free_port)
java -jar "$jar" server -port "$primary" -name primary > "$work/primary.log" 2>&1 & pids+=($!); primary_pid=$!
java -jar "$jar" server -port "$standby" -name standby > "$work/standby.log" 2>&1 & pids+=($!)
wait_for "$work/primary.log" "server listening on"
wait_for "$work/standby.log" "server listening on"
cat > "$work/dstunnel.json" <<JSON
{ "http": { "host": "127.0.0.1", "port": $proxy },
  "admin": { "port": $admin },
  "backends": [ { "name": "primary", "port": $primary, "priority": 0 },
                { "name": "standby", "port": $standby, "priority": 1 } ],
  "auth": { "users": [ { "name": "admin", "password": "admin", "roles": ["tunnel", "admin"] } ] },
  "session": { "maxFailovers": 1000 } }
JSON
java -jar "$jar" -conf "$work/dstunnel.json" > "$work/proxy.log" 2>&1 & pids+=($!)
wait_for "$work/proxy.log" "dstunnel listening on"

case "$kind" in
  steady|failover) simulation=dstunnel.load.SteadyEchoSimulation ;;
  ramp) simulation=dstunnel.load.RampSimulation ;;
  *) echo "unknown simulation $kind (steady, ramp, failover)"; exit 2 ;;
esac
if [[ $kind == failover ]]; then
  ( sleep $((seconds / 2 + 2)); echo ">>> killing the primary (kill -9) mid-run"; kill -9 "$primary_pid" ) &
fi
mvn -B gatling:test -Dgatling.simulationClass="$simulation" -Dport="$proxy" -Dseconds="$seconds" -Dusers="$users"
echo "failovers seen by the proxy: $(grep -c '"failover"' "$work/proxy.log" || true)"
echo "report: $(ls -td "$here"/target/gatling/*/ | head -1)index.html"
