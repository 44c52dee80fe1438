#!/usr/bin/env bash
# Instructions and syscalls per pgbench transaction of one proxy: load-independent
# figures for the PostgreSQL paths of issue 15 (scripts/bench-pgbench.sh gives the
# wall-clock TPS, meaningful on a quiet machine only).
#
#   scripts/bench-pgbench-ir.sh BINARY [PATH] [TOOL]
#
# BINARY: gatehouse or /usr/sbin/haproxy. PATH: `tcp` (plain `mode tcp`, the default;
# the only one HAProxy has) or `door` (gatehouse's front door, `bind … proto pgsql`: a
# JWT as the password, `set-credentials` toward the server). TOOL: `callgrind` (default:
# total instructions / transactions) or `strace` (syscalls / transaction).
# `pgbench -S -c CLIENTS -j 2 -t TX` (CLIENTS 8, TX 1000 per client) runs through the
# proxy once it listens; instrumentation starts then. PostgreSQL trusts loopback
# here, so that logins (SCRAM's 4,096 HMAC rounds, in the proxy on the door path) do
# not weigh in the per-transaction figure: it is the byte pump's cost.
set -euo pipefail
bin=${1:?binary}
path=${2:-tcp}
tool=${3:-callgrind}
clients=${CLIENTS:-8}
tx=${TX:-1000}
case $tool in
  callgrind | strace) ;;
  *) echo "bench-pgbench-ir.sh: unknown tool $tool (callgrind, strace)" >&2; exit 2 ;;
esac
here=$(dirname "$0")
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$here/lib/pg.sh"
# shellcheck source=lib/measure.sh
. "$here/lib/measure.sh"

# --- PostgreSQL ---------------------------------------------------------------------
pg_start trust x

# --- the proxy ------------------------------------------------------------------------
pp=$(free_port)
password=x
# NBTHREAD: the proxy's `nbthread` (default 1; `default`: the proxy's own default, one
# thread per CPU for both, as in scripts/bench-pgbench.sh).
threads=${NBTHREAD:-1}
nb=""
[ "$threads" != default ] && nb="    nbthread $threads
"
case $path in
  tcp) ;;
  # An RS256 JWT signed here, its key in a JWKS file.
  door) jwt_token; password=$token ;;
  *) echo "bench-pgbench-ir.sh: unknown path $path (tcp, door)" >&2; exit 2 ;;
esac
pg_proxy_cfg "$path" "$pp" x "$nb" >"$work/proxy.cfg"
measure_start "$tool" "$bin" "$work/proxy.cfg"
measure_listening "$tool" "$pp"
out=$(PGPASSWORD=$password "$pgbin/pgbench" -n -S -c "$clients" -j 2 -t "$tx" \
  -h 127.0.0.1 -p "$pp" -U app bench 2>&1) || { echo "pgbench failed:" >&2; echo "$out" >&2; exit 1; }
done_tx=$(echo "$out" | awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]}')
measure_stop "$tool"
measure_report "$tool" "$path" transaction "$done_tx"
