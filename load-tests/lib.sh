# Shared by the load-test scripts (sourced): a scratch folder and the processes started, both
# cleaned up on exit; free loopback ports; waiting for a process to say it is ready.
work=$(mktemp -d)
pids=()
# KEEP_LOGS=DIR keeps the scratch folder's logs there for a look afterwards.
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "${KEEP_LOGS:-}" ]]; then mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# free_port: a free loopback port below the kernel's ephemeral range (32768 and up by default), so
# that no outgoing connection takes a node's port while the node restarts (a soak's roll once found
# its member port taken), and none given twice in one run of the calling script.
free_port() {
  python3 - "$work/ports" <<'PY'
import os, random, socket, sys
given = sys.argv[1]
used = set(open(given).read().split()) if os.path.exists(given) else set()
while True:
    port = random.randrange(20000, 32000)
    if str(port) in used:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    with open(given, "a") as f:
        f.write("%d\n" % port)
    print(port)
    break
PY
}

# wait_for FILE NEEDLE [SECONDS=30]: until a line of FILE contains NEEDLE; else show FILE and fail.
wait_for() {
  for _ in $(seq 1 $(( ${3:-30} * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "no '$2' in $1:"; cat "$1"; exit 1
}

# wait_port PORT: until something accepts connections on 127.0.0.1:PORT (10 s).
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; exit 1; }
