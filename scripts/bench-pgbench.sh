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

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# PostgreSQL refuses to run as root: under root its programs run as nobody.
as_pg() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi
}

# --- PostgreSQL ---------------------------------------------------------------------
pgport=$(free_port)
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$work/pg"
chmod 755 "$work"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth-local=trust --auth-host=reject -N >/dev/null
cat >>"$work/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$work/pg'
password_encryption = 'scram-sha-256'
max_connections = 100
fsync = off
synchronous_commit = off
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$work/pg/data/pg_hba.conf"
as_pg "$pgbin/postgres" -D "$work/pg/data" >"$work/pg/log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  as_pg "$pgbin/psql" -h "$work/pg" -p "$pgport" -U postgres -Atc 'SELECT 1' postgres >/dev/null 2>&1 && break
  sleep 0.1
done
password=bench-Secret-1
as_pg "$pgbin/psql" -h "$work/pg" -p "$pgport" -U postgres -q -v ON_ERROR_STOP=1 postgres \
  -c "CREATE ROLE app LOGIN PASSWORD '$password'" -c "CREATE DATABASE bench OWNER app"
PGPASSWORD=$password "$pgbin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$pgport" -U app bench >/dev/null 2>&1

# --- a signing key, its JWKS and a token --------------------------------------------
openssl genrsa -out "$work/key.pem" 2048 2>/dev/null
modulus=$(openssl rsa -in "$work/key.pem" -noout -modulus | cut -d= -f2)
python3 - "$modulus" >"$work/jwks.json" <<'PY'
import base64, json, sys
n = bytes.fromhex(sys.argv[1])
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
                            "n": b(n), "e": b((65537).to_bytes(3, "big"))}]}))
PY
signing_input=$(python3 - <<'PY'
import base64, json, time
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
h = {"alg": "RS256", "typ": "JWT", "kid": "bench"}
now = int(time.time())
c = {"iss": "https://idp.bench", "aud": "pg", "sub": "bench", "iat": now, "exp": now + 3600}
print(b(json.dumps(h).encode()) + "." + b(json.dumps(c).encode()))
PY
)
sig=$(printf '%s' "$signing_input" | openssl dgst -sha256 -sign "$work/key.pem" -binary |
  python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).rstrip(b"=").decode())')
token="$signing_input.$sig"

# --- the proxies ----------------------------------------------------------------------
p_hp=$(free_port); p_ghtcp=$(free_port); p_ghpg=$(free_port)
tcp_cfg() {
  cat <<CFG
global
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend pg
    bind 127.0.0.1:$1
    default_backend db
backend db
    server db 127.0.0.1:$pgport
CFG
}
tcp_cfg "$p_hp" >"$work/haproxy.cfg"
tcp_cfg "$p_ghtcp" >"$work/gh-tcp.cfg"
cat >"$work/gh-token.cfg" <<CFG
global
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
identity idp
    issuer https://idp.bench
    audience pg
    allowed-algs RS256
    jwks-file $work/jwks.json
credentials app
    user app
    password "$password"
frontend pg
    bind 127.0.0.1:$p_ghpg proto pgsql
    tcp-request content authenticate idp
    tcp-request content set-credentials app
    default_backend db
backend db
    server db 127.0.0.1:$pgport
CFG
"$hp" -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
"$gh" -db -f "$work/gh-tcp.cfg" >"$work/gh-tcp.log" 2>&1 &
pids+=($!)
"$gh" -db -f "$work/gh-token.cfg" >"$work/gh-token.log" 2>&1 &
pids+=($!)
for port in "$p_hp" "$p_ghtcp" "$p_ghpg"; do
  for _ in $(seq 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
    sleep 0.1
  done
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
