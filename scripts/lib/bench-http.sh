# Sourced by the HTTP benchmarks (scripts/bench-ir.sh, bench-tls.sh, bench-checks.sh,
# bench-checks-scale.sh, bench-idle-rss.sh; after lib/common.sh): the nginx backends
# and the proxy configuration of ../shared/bench/haproxy.cfg, on the ports given.

# nginx_backend NAME PORT [ACCESS_LOG]: starts an nginx (one worker, files $work/NAME.*)
# on 127.0.0.1:PORT, its pid in `pids` and `$!`. It answers `/` and `/api…` with
# `hello from PORT`, `/health` with `ok` (a check target), anything else from
# $work/www. ACCESS_LOG: a file, or `off` (the default). NGINX_CPU: the CPUs it is
# pinned to (none when unset); NGINX_CONNS: its worker_connections (4096; above that its
# descriptor limit is raised to fit).
nginx_backend() {
  local name=$1 port=$2 log=${3:-off} conns=${NGINX_CONNS:-4096} rlimit=""
  [ "$conns" -gt 4096 ] && rlimit="worker_rlimit_nofile $((conns * 2));"
  cat >"$work/$name.conf" <<NGX
user root;
worker_processes 1;
daemon off;
error_log $work/$name.err warn;
pid $work/$name.pid;
$rlimit
events { worker_connections $conns; }
http {
  access_log $log;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port reuseport backlog=4096;
    root $work/www;
    location = / { default_type text/plain; return 200 "hello from $port\n"; }
    location = /health { default_type text/plain; return 200 "ok\n"; }
    location /api { default_type text/plain; return 200 "hello from $port\n"; }
    location / { default_type application/octet-stream; }
  }
}
NGX
  mkdir -p "$work/www"
  ${NGINX_CPU:+taskset -c "$NGINX_CPU"} nginx -c "$work/$name.conf" -p "$work" &
  pids+=($!)
}

# bench_proxy_cfg FRONTEND BIND PA PB [FRONTEND_LINES]: prints the benchmark
# configuration (../shared/bench/haproxy.cfg's): frontend FRONTEND on BIND (a `bind`
# line's arguments) with FRONTEND_LINES (whole lines, each ending in a newline) before
# its `default_backend app`, and backend `app` balancing over 127.0.0.1:PA and :PB.
# EXTRA_GLOBAL (whole lines) is added to `global`, for both proxies alike (a diagnostic
# run such as EXTRA_GLOBAL=$'    busy-polling\n'; the benchmark figures use none).
bench_proxy_cfg() {
  cat <<CFG
global
    nbthread 1
    maxconn 4000
    tune.bufsize 16384
${EXTRA_GLOBAL:-}defaults
    mode http
    timeout connect 5s
    timeout client  30s
    timeout server  30s
    option http-keep-alive
    http-reuse always
frontend $1
    bind $2
${5:-}    default_backend app
backend app
    balance roundrobin
    server app1 127.0.0.1:$3
    server app2 127.0.0.1:$4
CFG
}

# tls_bundle: a self-signed ECDSA P-256 certificate for localhost and its key, both in
# $work/bundle.pem (a `crt` for the `bind` line; ../shared/bench/tls.cfg's kind).
tls_bundle() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
  cat "$work/cert.pem" "$work/key.pem" >"$work/bundle.pem"
}

# scenario_setup SC: peers.sh's layout for one scenario (`close`, `ka` or `tlsclose`):
# two nginx backends on CPU 1, free ports `pa` `pb` (backends) and `ps` (the proxy),
# the proxy configuration in $work/p.cfg, the `url` and wrk's extra arguments `hdr`
# (`Connection: close` for the closing scenarios). Fails on another scenario.
scenario_setup() {
  pa=$(free_port); pb=$(free_port); ps=$(free_port)
  NGINX_CPU=1
  local port
  for port in "$pa" "$pb"; do nginx_backend "backend-$port" "$port"; done
  hdr=(); url="http://127.0.0.1:$ps/"
  case "$1" in
    close) hdr=(-H "Connection: close"); bench_proxy_cfg bench_http "127.0.0.1:$ps" "$pa" "$pb" >"$work/p.cfg" ;;
    ka) bench_proxy_cfg bench_http "127.0.0.1:$ps" "$pa" "$pb" >"$work/p.cfg" ;;
    tlsclose) tls_bundle; hdr=(-H "Connection: close"); url="https://127.0.0.1:$ps/"
      bench_proxy_cfg bench_https "127.0.0.1:$ps ssl crt $work/bundle.pem" "$pa" "$pb" >"$work/p.cfg" ;;
    *) return 1 ;;
  esac
}

# start_peer_on_cpu0 PEER: `haproxy`, or a gatehouse binary, on $work/p.cfg pinned to
# CPU 0 (its log $work/NAME.log); sets `pid` once it listens on `ps`.
start_peer_on_cpu0() {
  taskset -c 0 "$1" -db -f "$work/p.cfg" >"$work/$(basename "$1").log" 2>&1 &
  pid=$!
  wait_port "$ps"
  sleep 0.3
}
