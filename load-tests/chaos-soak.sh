#!/usr/bin/env bash
# Chaos soak: 64 sessions call Increment continuously through dstunnel while backends are killed,
# restarted and hung at random; every answer must arrive exactly once and in order.
#   load-tests/chaos-soak.sh [seconds (default 600)] [sessions (default 64)]
# Loopback only; bounded in time; prints lost / duplicated / client-visible errors / heap after GC
# at start and end, and exits 1 unless the first three are all 0.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
sessions=${2:-64}
mvn -B -q package -DskipTests
mvn -B -q test-compile
exec java -Xmx512m -Dlogback.configurationFile=src/main/resources/logback.xml -Ddstunnel.log.format=TEXT \
  -Ddstunnel.events.level=WARN -cp "target/test-classes:target/dstunnel.jar" \
  io.dstunnel.soak.ChaosSoak "$seconds" "$sessions"
