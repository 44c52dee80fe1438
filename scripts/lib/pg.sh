# Sourced by scripts/bench-pgbench.sh and scripts/bench-pgbench-ir.sh (after
# lib/common.sh): a PostgreSQL 15 server in the work directory and an RS256 JWT for the
# front door (`identity` issuer https://idp.bench, audience pg, its key in a JWKS file).
pgbin=/usr/lib/postgresql/15/bin

# PostgreSQL refuses to run as root: under root its programs run as nobody.
as_pg() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; else "$@"; fi
}

# pg_start AUTH PASSWORD: PostgreSQL on a free loopback port (`pgport`), sockets in
# $work/pg; clients over 127.0.0.1 log in with SCRAM-SHA-256 (AUTH `scram`) or are
# trusted (AUTH `trust`). Role `app` (password PASSWORD) owns database `bench`, holding
# pgbench's tables at scale 1.
pg_start() {
  local auth=$1 password=$2 host_auth=trust
  [ "$auth" = scram ] && host_auth=reject
  pgport=$(free_port)
  mkdir -p "$work/pg"
  [ "$(id -u)" = 0 ] && chown nobody:nogroup "$work/pg"
  chmod 755 "$work"
  as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth-local=trust --auth-host=$host_auth -N >/dev/null
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $pgport"
    echo "unix_socket_directories = '$work/pg'"
    [ "$auth" = scram ] && echo "password_encryption = 'scram-sha-256'"
    echo "max_connections = 100"
    echo "fsync = off"
    echo "synchronous_commit = off"
  } >>"$work/pg/data/postgresql.conf"
  if [ "$auth" = scram ]; then
    printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$work/pg/data/pg_hba.conf"
  fi
  as_pg "$pgbin/postgres" -D "$work/pg/data" >"$work/pg/log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    as_pg "$pgbin/psql" -h "$work/pg" -p "$pgport" -U postgres -Atc 'SELECT 1' postgres >/dev/null 2>&1 && break
    sleep 0.1
  done
  as_pg "$pgbin/psql" -h "$work/pg" -p "$pgport" -U postgres -q -v ON_ERROR_STOP=1 postgres \
    -c "CREATE ROLE app LOGIN PASSWORD '$password'" -c "CREATE DATABASE bench OWNER app"
  PGPASSWORD=$password "$pgbin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$pgport" -U app bench >/dev/null 2>&1
}

# jwt_token: a fresh signing key ($work/key.pem), its JWKS ($work/jwks.json, kid
# `bench`) and a token it signed (sub bench, valid one hour) in `token`.
jwt_token() {
  openssl genrsa -out "$work/key.pem" 2048 2>/dev/null
  local modulus signing_input sig
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
}

# pg_proxy_cfg PATH PORT PASSWORD [GLOBAL_LINES]: prints a proxy configuration listening
# on 127.0.0.1:PORT in front of the PostgreSQL of pg_start (`pgport`). PATH `tcp`: plain
# `mode tcp`. PATH `door`: gatehouse's front door (`bind … proto pgsql`): the client's
# password is a JWT of jwt_token's key, and gatehouse logs in to the server as `app`
# with PASSWORD (`credentials`). GLOBAL_LINES (whole lines) go in `global`.
pg_proxy_cfg() {
  local path=$1 port=$2 password=$3 proto="" sections="" rules=""
  if [ "$path" = door ]; then
    proto=" proto pgsql"
    sections="identity idp
    issuer https://idp.bench
    audience pg
    allowed-algs RS256
    jwks-file $work/jwks.json
credentials app
    user app
    password \"$password\"
"
    rules="    tcp-request content authenticate idp
    tcp-request content set-credentials app
"
  fi
  cat <<CFG
global
${4:-}    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
${sections}frontend pg
    bind 127.0.0.1:$port$proto
${rules}    default_backend db
backend db
    server db 127.0.0.1:$pgport
CFG
}
