# Sourced by scripts/build-pgo.sh (after lib/common.sh and lib/bench-http.sh): the
# training workload of a profile-generating build, the hot paths of the benchmarks.
#
# pgo_train BINARY DUR: runs BINARY (`-db`, the benchmark configuration of
# ../shared/bench/haproxy.cfg plus the HTTPS frontend of tls.cfg with `alpn h2,http/1.1`
# and a health-checked backend) against two nginx backends on free loopback ports, and
# sends it, DUR seconds each, in this order: `ka` (small keep-alive responses), `close`
# (a new connection per request), `64k` (64 KiB keep-alive responses), `tls` (keep-alive
# HTTPS), `tlsclose` (a full TLS handshake per request), `h2` (HTTP/2 over TLS, h2load
# -c16 -m10): the scenarios of scripts/bench-ir.sh and peers.sh. Meanwhile the checked
# backend's two servers are checked every 200 ms (`option httpchk`). Then a reload in
# place (SIGUSR2, a configuration with one more frontend, waited for by its port), DUR
# seconds of `ka` through the new frontend, and a soft stop (SIGUSR1: the process exits
# normally, so that an instrumented binary writes its profile). Fails, saying which, when
# a scenario completes no request or gets a non-2xx answer, or the proxy does not exit.
# The same steps every run; only the request counts vary with the machine's speed.
pgo_train() {
  local bin=$1 dur=$2 pa pb pp ps pr proxy_pid sc out reqs
  pa=$(free_port); pb=$(free_port); pp=$(free_port); ps=$(free_port); pr=$(free_port)
  mkdir -p "$work/www"
  head -c 65536 /dev/zero | tr '\0' 'b' >"$work/www/64k"
  for port in "$pa" "$pb"; do nginx_backend "nginx-$port" "$port"; done
  tls_bundle
  pgo_train_cfg "$pp" "$ps" "$pa" "$pb" >"$work/train.cfg"
  "$bin" -db -f "$work/train.cfg" >"$work/train.log" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_port "$pp"
  wait_port "$ps"
  wait_port "$pa"
  wait_port "$pb"
  for sc in ka close 64k tls tlsclose h2; do
    out=$(pgo_load "$sc" "$dur" "$pp" "$ps")
    reqs=$(pgo_requests "$sc" "$out") || {
      echo "pgo_train: scenario $sc failed:" >&2
      echo "$out" >&2
      return 1
    }
    echo "pgo_train: $sc $reqs requests"
  done
  # Reload in place: the new configuration adds a frontend; its port listening is the
  # reload done.
  { pgo_train_cfg "$pp" "$ps" "$pa" "$pb"
    printf 'frontend reloaded\n    bind 127.0.0.1:%s\n    default_backend app\n' "$pr"
  } >"$work/train.cfg.new"
  mv "$work/train.cfg.new" "$work/train.cfg"
  kill -USR2 "$proxy_pid"
  wait_port "$pr"
  out=$(pgo_load ka "$dur" "$pr" "$ps")
  reqs=$(pgo_requests ka "$out") || {
    echo "pgo_train: ka after the reload failed:" >&2
    echo "$out" >&2
    return 1
  }
  echo "pgo_train: reload, then ka $reqs requests"
  kill -USR1 "$proxy_pid"
  local status=0
  wait "$proxy_pid" || status=$?
  if [ "$status" != 0 ]; then
    echo "pgo_train: the proxy exited with status $status after a soft stop:" >&2
    cat "$work/train.log" >&2
    return 1
  fi
}

# pgo_train_cfg HTTP_PORT HTTPS_PORT PA PB: the training configuration.
pgo_train_cfg() {
  bench_proxy_cfg bench_http "127.0.0.1:$1" "$3" "$4"
  cat <<CFG
frontend bench_https
    bind 127.0.0.1:$2 ssl crt $work/bundle.pem alpn h2,http/1.1
    default_backend app
backend checked
    option httpchk GET /health
    server c1 127.0.0.1:$3 check inter 200ms
    server c2 127.0.0.1:$4 check inter 200ms
CFG
}

# pgo_load SCENARIO DUR HTTP_PORT HTTPS_PORT: one scenario's load (wrk -c8, h2load for
# h2), its output on stdout.
pgo_load() {
  local http="http://127.0.0.1:$3" https="https://127.0.0.1:$4"
  case $1 in
    ka) wrk -t1 -c8 -d"$2s" "$http/" ;;
    close) wrk -t1 -c8 -d"$2s" -H "Connection: close" "$http/" ;;
    64k) wrk -t1 -c8 -d"$2s" "$http/64k" ;;
    tls) wrk -t1 -c8 -d"$2s" "$https/" ;;
    tlsclose) wrk -t1 -c8 -d"$2s" -H "Connection: close" "$https/" ;;
    h2) h2load -t1 -c16 -m10 -D"$2" "$https/" ;;
  esac
}

# pgo_requests SCENARIO OUTPUT: the requests a load completed; fails when none did, or
# when some failed or got a non-2xx status.
pgo_requests() {
  local n
  if [ "$1" = h2 ]; then
    n=$(echo "$2" | awk '/^requests:/ {print $8}')
    echo "$2" | grep -q '^status codes: [0-9]* 2xx, 0 3xx, 0 4xx, 0 5xx' || return 1
    echo "$2" | grep -q "^requests: .* 0 failed, 0 errored" || return 1
  else
    n=$(echo "$2" | awk '/requests in/ {print $1}')
    echo "$2" | grep -q 'Non-2xx' && return 1
  fi
  [ "${n:-0}" -gt 0 ] || return 1
  echo "$n"
}
