#!/usr/bin/env bash
# Memory of idle keep-alive client connections: HAProxy and gatehouse side by side, with
# the same configuration (../shared/bench/haproxy.cfg with `maxconn` raised so that every
# connection is accepted).
#
#   scripts/bench-idle-rss.sh                       # 10000 connections, both proxies
#   N=5000 CONCURRENCY=200 PEERS="candidate" scripts/bench-idle-rss.sh
#   CANDIDATE=target/release/gatehouse (the default)
#
# Method, per proxy: start it (one thread, pinned to CPU 0) in front of two nginx
# backends; read its VmRSS; open N client connections (CONCURRENCY of them in flight at
# a time, 20 by default), send one keep-alive request on each and read the whole
# response (so every connection has been through a full exchange); wait 2 s; read VmRSS
# again with all N connections still open and idle. The figure is the difference,
# divided by N: the bytes one idle keep-alive client connection costs.
# Needs: haproxy, nginx, python3 (Debian packages).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-10000}
PEERS=${PEERS:-"haproxy candidate"}
CANDIDATE=${CANDIDATE:-$root/target/release/gatehouse}
bench_cfg=${BENCH_CFG:-$root/../shared/bench/haproxy.cfg}

ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# HAProxy reserves two descriptors per connection of `maxconn` and refuses to start when
# the limit cannot hold them: lower N to what this machine's hard limit allows.
fit=$(( ($(ulimit -n) - 1100) / 2 ))
if [ "$N" -gt "$fit" ]; then
    echo "bench-idle-rss: descriptor limit $(ulimit -n) holds $fit connections for HAProxy; N=$fit" >&2
    N=$fit
fi
here=$(dirname "$0")
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/bench-http.sh
. "$here/lib/bench-http.sh"
chmod 755 "$work"
for port in 9101 9102; do NGINX_CPU=1 NGINX_CONNS=50000 nginx_backend "backend-$port" "$port"; done

# The bench configuration, with room for N connections.
sed -E "s/^([[:space:]]*)maxconn[[:space:]]+[0-9]+/\1maxconn $((N + 500))/" "$bench_cfg" >"$work/proxy.cfg"

cat >"$work/client.py" <<'EOF'
import asyncio, sys
n = int(sys.argv[1])
REQ = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
async def one(conns):
    r, w = await asyncio.open_connection("127.0.0.1", 8080)
    w.write(REQ)
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await r.readexactly(length)
    conns.append(w)
async def main():
    conns = []
    sem = asyncio.Semaphore(int(sys.argv[2]) if len(sys.argv) > 2 else 200)
    async def guarded():
        async with sem:
            await one(conns)
    await asyncio.gather(*(guarded() for _ in range(n)))
    print(len(conns), flush=True)
    sys.stdin.readline()   # hold every connection open until told
asyncio.run(main())
EOF

rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
wait_port 9101 && wait_port 9102 || { echo "backends did not start" >&2; exit 1; }

printf '%-10s %8s %12s %12s %14s\n' peer conns "rss before" "rss idle" "bytes/conn"
for peer in $PEERS; do
    case $peer in
        haproxy) taskset -c 0 haproxy -db -f "$work/proxy.cfg" >"$work/$peer.log" 2>&1 & ;;
        candidate) taskset -c 0 "$CANDIDATE" -db -f "$work/proxy.cfg" >"$work/$peer.log" 2>&1 & ;;
        *) echo "unknown peer $peer" >&2; exit 2 ;;
    esac
    pid=$!
    pids+=("$pid")
    wait_port 8080 || { echo "$peer did not start" >&2; cat "$work/$peer.log" >&2; exit 1; }
    sleep 0.5
    before=$(rss_kb "$pid")
    fifo="$work/hold.$peer"
    mkfifo "$fifo"
    taskset -c 1 python3 "$work/client.py" "$N" "${CONCURRENCY:-20}" <"$fifo" >"$work/client.$peer.out" &
    cpid=$!
    exec 7>"$fifo"
    for _ in $(seq 1 600); do
        [ -s "$work/client.$peer.out" ] && break
        sleep 0.1
    done
    opened=$(cat "$work/client.$peer.out" 2>/dev/null || echo 0)
    sleep 2
    idle=$(rss_kb "$pid")
    echo >&7
    exec 7>&-
    wait "$cpid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    per=$(( (idle - before) * 1024 / (opened > 0 ? opened : 1) ))
    printf '%-10s %8s %9s kB %9s kB %14s\n' "$peer" "$opened" "$before" "$idle" "$per"
done
