#!/usr/bin/env bash
# What the load generator pays per request against HAProxy 2.6 and gatehouse: wrk's CPU
# (task-clock, kernel work done in its context included), syscalls, epoll_wait calls
# and context switches per request, from `perf stat` on wrk alone, on peers.sh's
# layout (proxy on CPU 0; wrk and the two nginx on CPU 1).
#
#   BIN=target/release/gatehouse SC=close scripts/client-cost.sh     (SC: close, ka, tlsclose)
# Needs (Debian): haproxy nginx wrk linux-perf openssl python3.
set -euo pipefail
SC=${SC:-close}; DUR=${DUR:-5}
BIN=${BIN:?BIN=path to the gatehouse binary}
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
. scripts/lib/common.sh
# shellcheck source=lib/bench-http.sh
. scripts/lib/bench-http.sh
chmod 755 "$work"
scenario_setup "$SC" || { echo "client-cost.sh: SC is close, ka or tlsclose" >&2; exit 2; }
for peer in haproxy "$BIN"; do
  start_peer_on_cpu0 "$peer"
  taskset -c 1 perf stat -x, -o "$work/perf.txt" \
    -e task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,context-switches \
    -- wrk -t1 -c64 -d"${DUR}s" "${hdr[@]}" "$url" >"$work/wrk.txt" 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$work/perf.txt" "$(awk '/requests in/{print $1}' "$work/wrk.txt")" "$DUR" "$(basename "$peer")" <<'PY'
import sys
vals = {}
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    if len(f) > 2 and f[0][:1].isdigit():
        vals[f[2]] = float(f[0])
r, dur, name = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"{name:12s} {r / dur:9.0f} req/s  wrk CPU {vals.get('task-clock', 0) / r * 1000:6.2f} us/req  "
      f"syscalls {vals.get('raw_syscalls:sys_enter', 0) / r:5.2f}  "
      f"epoll_wait {vals.get('syscalls:sys_enter_epoll_wait', 0) / r:.3f}  "
      f"cs {vals.get('context-switches', 0) / r:.3f}")
PY
done
