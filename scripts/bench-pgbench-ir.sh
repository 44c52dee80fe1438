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
pgbin=/usr/lib/postgresql/15/bin
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi
}

# --- PostgreSQL ---------------------------------------------------------------------
pgport=$(free_port)
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$work/pg"
chmod 755 "$work"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth-local=trust --auth-host=trust -N >/dev/null
cat >>"$work/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$work/pg'
max_connections = 100
fsync = off
synchronous_commit = off
CONF
as_pg "$pgbin/postgres" -D "$work/pg/data" >"$work/pg/log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  as_pg "$pgbin/psql" -h "$work/pg" -p "$pgport" -U postgres -Atc 'SELECT 1' postgres >/dev/null 2>&1 && break
  sleep 0.1
done
as_pg "$pgbin/psql" -h "$work/pg" -p "$pgport" -U postgres -q -v ON_ERROR_STOP=1 postgres \
  -c "CREATE ROLE app LOGIN PASSWORD 'x'" -c "CREATE DATABASE bench OWNER app"
"$pgbin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$pgport" -U app bench >/dev/null 2>&1

# --- the proxy ------------------------------------------------------------------------
pp=$(free_port)
password=x
# NBTHREAD: the proxy's `nbthread` (default 1; `default`: the proxy's own default, one
# thread per CPU for both, as in scripts/bench-pgbench.sh).
threads=${NBTHREAD:-1}
nb=""
[ "$threads" != default ] && nb="    nbthread $threads
"
head="global
${nb}    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s"
case $path in
  tcp)
    cat >"$work/proxy.cfg" <<CFG
$head
frontend pg
    bind 127.0.0.1:$pp
    default_backend db
backend db
    server db 127.0.0.1:$pgport
CFG
    ;;
  door)
    # An RS256 JWT signed here, its key in a JWKS file.
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
    password="$signing_input.$sig"
    cat >"$work/proxy.cfg" <<CFG
$head
identity idp
    issuer https://idp.bench
    audience pg
    allowed-algs RS256
    jwks-file $work/jwks.json
credentials app
    user app
    password "x"
frontend pg
    bind 127.0.0.1:$pp proto pgsql
    tcp-request content authenticate idp
    tcp-request content set-credentials app
    default_backend db
backend db
    server db 127.0.0.1:$pgport
CFG
    ;;
  *) echo "bench-pgbench-ir.sh: unknown path $path (tcp, door)" >&2; exit 2 ;;
esac
case $tool in
  callgrind) valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" "$bin" -db -f "$work/proxy.cfg" 2>"$work/tool.err" & ;;
  strace) strace -c -f -o "$work/strace.out" "$bin" -db -f "$work/proxy.cfg" 2>"$work/tool.err" & ;;
  *) echo "bench-pgbench-ir.sh: unknown tool $tool (callgrind, strace)" >&2; exit 2 ;;
esac
proxy=$!
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$pp) 2>/dev/null && break
  sleep 0.2
done
[ "$tool" = callgrind ] && callgrind_control -i on "$proxy" >/dev/null
out=$(PGPASSWORD=$password "$pgbin/pgbench" -n -S -c "$clients" -j 2 -t "$tx" \
  -h 127.0.0.1 -p "$pp" -U app bench 2>&1) || { echo "pgbench failed:" >&2; echo "$out" >&2; exit 1; }
done_tx=$(echo "$out" | awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]}')
if [ "$tool" = strace ]; then
  kill -TERM "$(pgrep -P "$proxy")"
else
  kill -TERM "$proxy"
fi
wait "$proxy" 2>/dev/null || true
case $tool in
  callgrind)
    total=$(awk '/^summary:/ {print $2}' "$work/cg.out")
    echo "$path transactions=$done_tx Ir=$total Ir/transaction=$((total / done_tx))"
    if [ -n "${CG_OUT:-}" ]; then cp "$work/cg.out" "$CG_OUT"; fi
    ;;
  strace)
    echo "$path transactions=$done_tx (syscalls per transaction: calls, failed ones)"
    awk -v n="$done_tx" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
      e = (NF == 6) ? $5 : 0; printf "  %-16s %6.2f %6.2f\n", $NF, $4 / n, e / n}' "$work/strace.out" | sort -k2 -rn | head -${TOP:-12}
    ;;
esac
