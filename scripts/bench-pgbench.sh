#!/usr/bin/env bash
# pgbench through gatehouse's PostgreSQL front door versus HAProxy 2.6 in plain `mode tcp`
# versus direct (issue 15's benchmark; record the figures in docs/performance.md, on a
# quiet machine only: wall-clock figures are meaningless while other work runs).
#
#   scripts/bench-pgbench.sh [GATEHOUSE_BINARY] [HAPROXY_BINARY]
#
# Defaults: target/release/gatehouse and /usr/sbin/haproxy. DURATION (default 10) sets
# pgbench's -T; CLIENTS (16) and THREADS (2) its -c and -j.
#
# A PostgreSQL 15 server (initdb in a temporary directory, SCRAM-SHA-256 required on
# 127.0.0.1, pgbench's tables at scale 1) listens on a free loopback port. Five paths
# to it, each measured with `pgbench -S` (select-only) and then `pgbench -S -C` (a new
# connection per transaction: the login is in every transaction):
#   direct      pgbench to PostgreSQL, the role's password (SCRAM);
#   haproxy     HAProxy, plain `mode tcp` (a byte pump; SCRAM end to end);
#   gh-tcp      gatehouse, the same plain `mode tcp` configuration;
#   gh-token    gatehouse's front door (`bind … proto pgsql`): the password is a JWT
#               (RS256, signed here, its key in a JWKS file), validated (then cached)
#               by `tcp-request content authenticate`, and gatehouse logs in to the
#               server with `credentials` (SCRAM);
# and prints TPS per path and the ratios to direct and to HAProxy.
set -euo pipefail
gh=${1:-target/release/gatehouse}
hp=${2:-/usr/sbin/haproxy}
duration=${DURATION:-10}
clients=${CLIENTS:-16}
threads=${THREADS:-2}
pgbin=/usr/lib/postgresql/15/bin
for cmd in "$gh" "$hp" "$pgbin/initdb" "$pgbin/postgres" "$pgbin/pgbench" "$pgbin/psql" openssl python3; do
  command -v "$cmd" >/dev/null || { echo "bench-pgbench: $cmd not found" >&2; exit 1; }
done
gh=$(realpath "$gh")

here=$(dirname "$0")
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/pg.sh
. "$here/lib/pg.sh"

# --- PostgreSQL ---------------------------------------------------------------------
password=bench-Secret-1
pg_start scram "$password"

# --- a signing key, its JWKS and a token --------------------------------------------
jwt_token

# --- the proxies ----------------------------------------------------------------------
p_hp=$(free_port); p_ghtcp=$(free_port); p_ghpg=$(free_port)
pg_proxy_cfg tcp "$p_hp" "$password" >"$work/haproxy.cfg"
pg_proxy_cfg tcp "$p_ghtcp" "$password" >"$work/gh-tcp.cfg"
pg_proxy_cfg door "$p_ghpg" "$password" >"$work/gh-token.cfg"
"$hp" -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
"$gh" -db -f "$work/gh-tcp.cfg" >"$work/gh-tcp.log" 2>&1 &
pids+=($!)
"$gh" -db -f "$work/gh-token.cfg" >"$work/gh-token.log" 2>&1 &
pids+=($!)
for port in "$p_hp" "$p_ghtcp" "$p_ghpg"; do
  wait_listen "$port"
done

# --- the runs -------------------------------------------------------------------------
declare -A tps
run() { # NAME PORT PASSWORD [pgbench options…]
  local name=$1 port=$2 pw=$3
  shift 3
  local out
  out=$(PGPASSWORD=$pw "$pgbin/pgbench" -n -S -c "$clients" -j "$threads" -T "$duration" \
    -h 127.0.0.1 -p "$port" -U app "$@" bench 2>&1) || { echo "$name failed:" >&2; echo "$out" >&2; exit 1; }
  tps[$name]=$(echo "$out" | awk '/^tps = / { print $3; exit }')
  printf '%-12s %10s tps\n' "$name" "${tps[$name]}"
}
ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }
for mode in "" "-C"; do
  sfx=${mode:+ -C}
  echo "pgbench -S -c $clients -j $threads -T $duration$sfx"
  run "direct$sfx" "$pgport" "$password" $mode
  run "haproxy$sfx" "$p_hp" "$password" $mode
  run "gh-tcp$sfx" "$p_ghtcp" "$password" $mode
  run "gh-token$sfx" "$p_ghpg" "$token" $mode
  echo "  gh-tcp/haproxy   $(ratio "${tps[gh-tcp$sfx]}" "${tps[haproxy$sfx]}")"
  echo "  gh-token/haproxy $(ratio "${tps[gh-token$sfx]}" "${tps[haproxy$sfx]}")"
  echo "  gh-token/direct  $(ratio "${tps[gh-token$sfx]}" "${tps[direct$sfx]}")"
  echo "  haproxy/direct   $(ratio "${tps[haproxy$sfx]}" "${tps[direct$sfx]}")"
done
