# Sourced by the scripts/bench-*.sh scripts: a temporary work directory that is removed
# on exit together with the processes started in it (their pids go to `pids`), free
# loopback ports, and a wait for a listener.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A TCP port on 127.0.0.1 that was free a moment ago.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT: returns once 127.0.0.1:PORT accepts a connection; fails saying so
# after 20 s.
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$(basename "$0"): nothing listens on port $1" >&2
  return 1
}

# wait_listen PORT: as wait_port, but goes on after 20 s (the next step says what failed).
wait_listen() { wait_port "$1" || true; }
