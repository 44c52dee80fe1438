#!/usr/bin/env bash
# Instructions per request of a proxy binary under callgrind, and syscalls per request
# under strace: load-independent figures for comparing two builds on a busy machine.
#
#   scripts/bench-ir.sh BINARY [SCENARIO] [TOOL]
#
# SCENARIO: `ka` (small keep-alive responses, the default), `close` (small responses, a
# new client connection per request: wrk sends `Connection: close`, as peers.sh does) or
# `64k` (64 KiB keep-alive responses); over TLS (an ECDSA P-256 certificate made here, the
# bind line of ../shared/bench/tls.cfg): `tls` (small keep-alive responses over HTTPS),
# `tlsclose` (a new TLS connection, full handshake, per request: wrk sends
# `Connection: close` to https) or `h2` (HTTP/2 over TLS, `alpn h2,http/1.1` on the bind:
# h2load -c 16 -m 10, 16 connections with 10 streams in flight each).
# TOOL: `callgrind` (default: total instructions / requests), `strace` (syscall
# counts / requests), `perfstat` (page faults and context switches / requests, CPU
# time: `perf stat` software events) or `perf` (a `perf record -e cpu-clock -g` profile
# kept in PERF_OUT, user and kernel: `perf report -i PERF_OUT`) or `cycles` (`perf stat
# -e cycles:u,cycles:k,instructions:u` and CPU time per request, scripts/lib/measure.sh;
# scripts/bench-stick.sh compares configurations with it).
# BINARY may be gatehouse or /usr/sbin/haproxy (same config).
# A release build of gatehouse is either `cargo build --release`'s or the profile-guided
# one scripts/build-pgo.sh leaves at the same path (target/release/gatehouse); say which.
# PEER_TRACE=1 also counts what the proxy makes its peers do: wrk runs under
# `strace -c -f`, the nginx workers are traced by `strace -c -f -p`, and the
# system-wide TCP counters (`nstat`: segments sent, pure ACKs, delayed ACKs) are read
# before and after; all per request. (strace slows the peers: their EAGAIN counts
# depend on timing.)
# Two nginx backends on free loopback ports serve the requests; wrk sends them over 8
# connections (CONNS=N: N; peers.sh uses 64) for 6 s (DUR=S: S). The config is
# ../shared/bench/haproxy.cfg's.
# WARMUP=S (optional): S seconds of the same load before the measure starts.
# EXTRA_CFG (optional) is appended to the configuration (more sections, e.g. the
# 1,000 checked servers of scripts/bench-checks.sh).
# FE_RULES (optional) adds lines to the frontend, e.g. a rate limit:
#   FE_RULES=$'    stick-table type ip size 1m store http_req_rate(10s)\n    http-request track-sc0 src\n    http-request deny if { sc_http_req_rate(0) gt 100000000 }'
# HDR (optional) is one more request header wrk sends, e.g. a bearer token:
#   HDR="Authorization: Bearer $(cat token)" FE_RULES='    http-request authenticate corp' \
#   EXTRA_CFG=$'identity corp\n    issuer https://idp.example.com\n    audience api\n    jwks-file /tmp/jwks.json'
# RULES=N adds N `use_backend` rules to the frontend (issue 9's 50-rule budget), each
#   use_backend beK if { hdr(host) -i appK.example.com } { path_beg /apiK }
# with backends be1..beN on the same two nginx servers. HIT=K makes wrk send
# `Host: appK.example.com` and `GET /apiK/`: rule K matches (HIT=0: no rule does and the
# request falls to default_backend). Give the same HIT to the RULES=0 run so that both
# runs send the same request. RULES_STYLE=worst instead writes the older worst case:
# `use_backend app if host_K path_K` with named ACLs, every host ACL matching wrk's
# Host and no path ACL matching `/` (every rule reads both ACLs).
set -euo pipefail
bin=${1:?binary}
scenario=${2:-ka}
tool=${3:-callgrind}
case $tool in
  callgrind | strace | perfstat | perf | cycles) ;;
  *) echo "bench-ir.sh: unknown tool $tool (callgrind, strace, perfstat, perf, cycles)" >&2; exit 2 ;;
esac
here=$(dirname "$0")
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/measure.sh
. "$here/lib/measure.sh"
# shellcheck source=lib/bench-http.sh
. "$here/lib/bench-http.sh"

pa=$(free_port); pb=$(free_port); pp=$(free_port); ps=$(free_port)
mkdir -p "$work/www"
tls_fe=""
case $scenario in
  tls | tlsclose | h2)
    tls_bundle
    alpn=""
    [ "$scenario" = h2 ] && alpn=" alpn h2,http/1.1"
    tls_fe="frontend bench_https
    bind 127.0.0.1:$ps ssl crt $work/bundle.pem$alpn
    default_backend app"
    ;;
esac
head -c 65536 /dev/zero | tr '\0' 'b' >"$work/www/64k"
for port in "$pa" "$pb"; do nginx_backend "nginx-$port" "$port"; done
rules=""
backends=""
for i in $(seq 1 "${RULES:-0}"); do
  if [ "${RULES_STYLE:-}" = worst ]; then
    rules+="    acl host_$i hdr(host) -i app$i.example.com 127.0.0.1:$pp
    acl path_$i path_beg /app$i/ /v$i/
    use_backend app if host_$i path_$i
"
  else
    rules+="    use_backend be$i if { hdr(host) -i app$i.example.com } { path_beg /api$i }
"
    backends+="backend be$i
    balance roundrobin
    server app1 127.0.0.1:$pa
    server app2 127.0.0.1:$pb
"
  fi
done
{
  bench_proxy_cfg bench_http "127.0.0.1:$pp" "$pa" "$pb" "${FE_RULES:+$FE_RULES
}$rules"
  printf '%s\n' "$backends" "$tls_fe" "${EXTRA_CFG:-}"
} >"$work/proxy.cfg"
measure_start "$tool" "$bin" "$work/proxy.cfg"
# Over TLS wait for the TLS port: loading the certificate takes HAProxy (OpenSSL 3)
# many seconds under valgrind.
wait_for=$pp
[ -n "$tls_fe" ] && wait_for=$ps
for _ in $(seq 600); do
  (exec 3<>/dev/tcp/127.0.0.1/$wait_for) 2>/dev/null && break
  sleep 0.2
done
path=/
extra=()
base="http://127.0.0.1:$pp"
case $scenario in
  ka) ;;
  64k) path=/64k ;;
  close) extra=(-H "Connection: close") ;;
  tls | h2) base="https://127.0.0.1:$ps" ;;
  tlsclose) base="https://127.0.0.1:$ps"; extra=(-H "Connection: close") ;;
  *) echo "bench-ir.sh: unknown scenario $scenario (ka, close, 64k, tls, tlsclose, h2)" >&2; exit 2 ;;
esac
if [ -n "${HIT:-}" ]; then
  path=/api$HIT/
  extra+=(-H "Host: app$HIT.example.com")
fi
if [ -n "${HDR:-}" ]; then
  extra+=(-H "$HDR")
fi
# Startup is not counted: instrumentation starts once the proxy listens. Over TLS, one
# handshake first warms the crypto libraries up (their first one takes seconds under
# valgrind, longer than wrk waits).
case $scenario in
  tls | tlsclose | h2) curl -sk -o /dev/null -m 120 "https://127.0.0.1:$ps/" || true ;;
esac
# WARMUP=S: S seconds of the same load before measuring: the one-off work after
# start-up (the runtime API's set-up, ~0.8 M instructions) stays out of the figures.
if [ -n "${WARMUP:-}" ] && [ "$scenario" != h2 ]; then
  wrk -t1 -c"${CONNS:-8}" -d"${WARMUP}s" "${extra[@]}" "$base$path" >/dev/null
fi
measure_listening "$tool" "$wait_for"
if [ "$scenario" = h2 ]; then
  out=$(h2load -t1 -c16 -m10 -D"${DUR:-6}" "${extra[@]}" "$base$path")
  reqs=$(echo "$out" | awk '/^requests:/ {print $8}')
else
  wrk_cmd=(wrk)
  if [ -n "${PEER_TRACE:-}" ]; then
    wrk_cmd=(strace -c -f -o "$work/wrk.strace" wrk)
    ngx_workers=()
    for p in "${pids[@]}"; do
      for c in $(pgrep -P "$p"); do ngx_workers+=(-p "$c"); done
    done
    strace -c -f -o "$work/nginx.strace" "${ngx_workers[@]}" 2>/dev/null &
    ngx_strace=$!
    nstat -n
  fi
  out=$("${wrk_cmd[@]}" -t1 -c"${CONNS:-8}" -d"${DUR:-6}s" "${extra[@]}" "$base$path")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  if [ -n "${PEER_TRACE:-}" ]; then
    nstat >"$work/nstat.out"
    kill -INT "$ngx_strace"
    wait "$ngx_strace" 2>/dev/null || true
  fi
fi
if [ "${reqs:-0}" = 0 ]; then echo "bench-ir.sh: no request completed:" >&2; echo "$out" >&2; exit 1; fi
measure_stop "$tool"
measure_report "$tool" "$scenario" request "$reqs"
if [ -n "${PEER_TRACE:-}" ] && [ "$scenario" != h2 ]; then
  for who in wrk nginx; do
    echo "$who (syscalls per request: calls, failed ones)"
    awk -v n="$reqs" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
      e = (NF == 6) ? $5 : 0; printf "  %-16s %6.2f %6.2f\n", $NF, $4 / n, e / n}' "$work/$who.strace" | sort -k2 -rn | head -"${TOP:-8}"
  done
  echo "TCP counters, all sockets of the machine (per request)"
  awk -v n="$reqs" '$1 ~ /^(TcpOutSegs|TcpInSegs|TcpExtDelayedACKs|TcpExtTCPPureAcks|TcpExtTCPHPAcks|TcpExtTCPHPHits|TcpExtTCPBacklogCoalesce|TcpExtTCPAutoCorking|TcpExtTCPWantZeroWindowAdv|TcpExtTCPFromZeroWindowAdv|TcpExtTCPToZeroWindowAdv)$/ {
    printf "  %-28s %8.3f\n", $1, $2 / n}' "$work/nstat.out"
fi
