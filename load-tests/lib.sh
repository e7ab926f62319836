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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for FILE NEEDLE [SECONDS=30]: until a line of FILE contains NEEDLE; else show FILE and fail.
wait_for() {
  for _ in $(seq 1 $(( ${3:-30} * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "no '$2' in $1:"; cat "$1"; exit 1
}

# wait_port PORT: until something accepts connections on 127.0.0.1:PORT (10 s).
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; exit 1; }
