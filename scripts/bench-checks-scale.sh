#!/usr/bin/env bash
# What health checks cost: one backend of 1,000 servers, each checked every 2 s by
# `option httpchk GET /health` against one small local nginx, no client traffic. The
# figure is the proxy's CPU use (user + system, from /proc/PID/stat) over a window, as a
# percentage of one core; the issue's target is at most 5%.
#
#   scripts/bench-checks-scale.sh                  # gatehouse then haproxy, 60 s each
#   SERVERS=1000 INTER=2s WINDOW=60 PEERS="candidate" scripts/bench-checks-scale.sh
#   CANDIDATE=target/release/gatehouse (the default)
#
# Method, per proxy: start it in the foreground (pinned to CPU 0, nginx to CPU 1), wait
# WARMUP seconds (the first checks are spread over one interval), check that no server
# went DOWN, read utime+stime, wait WINDOW seconds, read them again. The nginx access
# log counts the checks that reached it in the window.
# Needs: nginx, haproxy (Debian packages).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SERVERS=${SERVERS:-1000}
INTER=${INTER:-2s}
WINDOW=${WINDOW:-60}
WARMUP=${WARMUP:-5}
PEERS=${PEERS:-"candidate haproxy"}
CANDIDATE=${CANDIDATE:-$root/target/release/gatehouse}
NGINX_PORT=${NGINX_PORT:-9181}
PROXY_PORT=${PROXY_PORT:-9180}

here=$(dirname "$0")
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/bench-http.sh
. "$here/lib/bench-http.sh"
chmod 755 "$work"
NGINX_CPU=1 nginx_backend nginx "$NGINX_PORT" "$work/access.log"
wait_port "$NGINX_PORT"

{
    printf 'global\n    maxconn 4096\n    nbthread 1\n'
    printf 'defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 1s\n'
    printf 'frontend fe\n    bind 127.0.0.1:%s\n    default_backend be\n' "$PROXY_PORT"
    printf 'backend be\n    option httpchk GET /health\n'
    for i in $(seq 1 "$SERVERS"); do
        printf '    server s%s 127.0.0.1:%s check inter %s\n' "$i" "$NGINX_PORT" "$INTER"
    done
} >"$work/haproxy.cfg"

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

printf 'peer       servers  inter  window_s  checks/s  cpu%%_of_one_core\n'
for peer in $PEERS; do
    case $peer in
        candidate) bin=$CANDIDATE ;;
        haproxy) bin=$(command -v haproxy || echo /usr/sbin/haproxy) ;;
        *) echo "unknown peer $peer" >&2; exit 1 ;;
    esac
    : >"$work/access.log"
    kill -USR1 "$(cat "$work/nginx.pid")" 2>/dev/null || true
    taskset -c 0 "$bin" -db -f "$work/haproxy.cfg" 2>"$work/$peer.err" &
    pid=$!
    pids+=($pid)
    sleep "$WARMUP"
    if grep -q "is DOWN" "$work/$peer.err"; then
        echo "$peer: servers went DOWN:" >&2
        grep -m3 "is DOWN" "$work/$peer.err" >&2
        exit 1
    fi
    n0=$(wc -l <"$work/access.log")
    t0=$(cpu_ticks "$pid")
    sleep "$WINDOW"
    t1=$(cpu_ticks "$pid")
    n1=$(wc -l <"$work/access.log")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    awk -v p="$peer" -v s="$SERVERS" -v i="$INTER" -v w="$WINDOW" -v d=$((t1 - t0)) \
        -v hz="$ticks" -v n=$((n1 - n0)) \
        'BEGIN { printf "%-10s %7d  %5s  %8d  %8.1f  %6.2f\n", p, s, i, w, n / w, 100 * d / hz / w }'
done
