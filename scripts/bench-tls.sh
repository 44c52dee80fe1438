#!/usr/bin/env bash
# Wall-clock TLS benchmark: HAProxy and gatehouse side by side on one configuration, in
# the style of ../shared/bench/peers.sh (interleaved rounds, medians, ratios to haproxy).
#
#   CANDIDATE=target/release/gatehouse scripts/bench-tls.sh
#   (target/release/gatehouse: `cargo build --release`, or scripts/build-pgo.sh for the
#   profile-guided build)
#   QUICK=1 CANDIDATE=… scripts/bench-tls.sh              1 round of 5 s
#   SCENARIOS="tls h2" PEERS="haproxy candidate" …        a subset
#
# Scenarios (an ECDSA P-256 certificate made here; the frontend of peers.sh's tls.cfg):
#   tls       keep-alive HTTPS, wrk -c CONNS (peers.sh's `tls`)
#   tlsclose  a new TLS connection (full handshake) per request: wrk sends
#             `Connection: close` to https; the rate is the handshake rate
#   h2        HTTP/2 over TLS (ALPN h2; the bind has `alpn h2,http/1.1`): h2load with
#             H2_CLIENTS connections (16) and H2_STREAMS streams in flight each (10)
#   ka, close, 64k   peers.sh's plain-HTTP scenarios (keep-alive; `Connection: close`;
#             keep-alive 64 KiB responses) on this script's configuration, so that
#             EXTRA_GLOBAL (scripts/lib/bench-http.sh) applies to them too
# The proxy runs on CPU 0 (`nbthread 1`); the two nginx backends and the load generator
# share CPU 1. Per proxy and scenario (medians over rounds): requests/s, latency (wrk:
# p50/p99; h2load: mean), the proxy's CPU seconds per 1000 requests, peak RSS, req/s as
# a ratio of haproxy's. Ports are free ones picked at start. RESULTS=FILE keeps the TSV.
# Needs (Debian): haproxy nginx wrk nghttp2-client openssl python3 (scripts/install-deps.sh).
set -euo pipefail
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then ROUNDS=${ROUNDS:-1}; DUR=${DUR:-5}; else ROUNDS=${ROUNDS:-3}; DUR=${DUR:-10}; fi
CONNS=${CONNS:-64}
H2_CLIENTS=${H2_CLIENTS:-16}
H2_STREAMS=${H2_STREAMS:-10}
SCENARIOS=${SCENARIOS:-"tls tlsclose h2"}
default_peers="haproxy"
[ -n "${CANDIDATE:-}" ] && default_peers="haproxy candidate"
PEERS=${PEERS:-$default_peers}

for tool in haproxy nginx wrk h2load openssl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "bench-tls.sh: $tool is not installed (scripts/install-deps.sh)" >&2; exit 2; }
done

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=lib/bench-http.sh
. "$(dirname "$0")/lib/bench-http.sh"
chmod 755 "$work"
pa=$(free_port); pb=$(free_port); ps=$(free_port)

# ---- backends (as peers.sh), TLS material ------------------------------------------
NGINX_CPU=1
for port in "$pa" "$pb"; do nginx_backend "backend-$port" "$port"; done
head -c 65536 /dev/zero | tr '\0' 'b' >"$work/www/64k"
tls_bundle
cfg_for() { # scenario: the proxy configuration (peers.sh's haproxy.cfg + tls.cfg)
  local alpn=""
  [ "$1" = h2 ] && alpn=" alpn h2,http/1.1"
  local bind="127.0.0.1:$ps ssl crt $work/bundle.pem$alpn"
  case "$1" in ka | close | 64k) bind="127.0.0.1:$ps" ;; esac
  bench_proxy_cfg bench_https "$bind" "$pa" "$pb" >"$work/proxy-$1.cfg"
  echo "$work/proxy-$1.cfg"
}

start_peer() { # peer scenario: prints the pid of the proxy
  local cfg
  cfg=$(cfg_for "$2")
  case "$1" in
    haproxy) taskset -c 0 haproxy -db -f "$cfg" >"$work/haproxy.log" 2>&1 & ;;
    candidate) taskset -c 0 $CANDIDATE -db -f "$cfg" >"$work/candidate.log" 2>&1 & ;;
  esac
  echo $!
}

tree_pids() { echo "$1"; pgrep -P "$1" 2>/dev/null || true; }
cpu_ticks() { local t=0; for p in $(tree_pids "$1"); do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
peak_kb() { local m=0; for p in $(tree_pids "$1"); do
    [ -r "/proc/$p/status" ] && m=$((m + $(awk '/VmHWM/{print $2}' "/proc/$p/status"))); done; echo "$m"; }

results="$work/results.tsv"
printf 'round\tpeer\tscenario\treqs\tp50_ms\tp99_ms\tcpu_s_per_1k\tpeak_mb\terrors\n' >"$results"
hz=$(getconf CLK_TCK)

to_ms() { python3 -c 'import sys,re
v=sys.argv[1]; m=re.match(r"([\d.]+)(us|ms|s)$",v)
f={"us":0.001,"ms":1,"s":1000}
print(round(float(m.group(1))*f[m.group(2)],3) if m else "nan")' "$1"; }

run_one() { # round peer scenario
  local round=$1 peer=$2 sc=$3 pid url="https://127.0.0.1:$ps/" out reqs total p50 p99 errs
  case "$sc" in ka | close) url="http://127.0.0.1:$ps/" ;; 64k) url="http://127.0.0.1:$ps/64k" ;; esac
  pid=$(start_peer "$peer" "$sc")
  if ! wait_port "$ps"; then
    echo "  $peer did not start; see its log:" >&2; tail -5 "$work/$peer.log" >&2 || true
    kill "$pid" 2>/dev/null || true; return
  fi
  sleep 0.3
  local t0 t1 mem
  t0=$(cpu_ticks "$pid")
  if [ "$sc" = h2 ]; then
    out=$(taskset -c 1 h2load -t1 -c"$H2_CLIENTS" -m"$H2_STREAMS" -D"$DUR" "$url" 2>&1 || true)
  elif [ "$sc" = tlsclose ] || [ "$sc" = close ]; then
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -H "Connection: close" "$url" 2>&1 || true)
  else
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "$url" 2>&1 || true)
  fi
  t1=$(cpu_ticks "$pid"); mem=$(peak_kb "$pid")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  if [ "$sc" = h2 ]; then
    # finished in 10.00s, 12345.67 req/s, …; requests: N total, N started, N done, N succeeded, F failed, …
    reqs=$(awk '/^finished in/{gsub(",","",$4); print $4}' <<<"$out")
    total=$(awk '/^requests:/{print $8}' <<<"$out")
    p50=$(to_ms "$(awk '/^time for request:/{print $6}' <<<"$out")")
    p99=nan
    errs=$(awk '/^requests:/{ if ($10 + $12 + $14 > 0) print $10 " failed, " $12 " errored, " $14 " timeout"; else print 0 }' <<<"$out")
  else
    reqs=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    total=$(awk '/requests in/{print $1}' <<<"$out")
    p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
    errs=$(awk '/Non-2xx|Socket errors/{s=s $0 "; "} END{print s==""?"0":s}' <<<"$out")
  fi
  local cpu=nan
  if [ -n "$total" ] && [ "$total" -gt 0 ]; then
    cpu=$(python3 -c "print(round(($t1-$t0)/$hz/$total*1000,5))")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$peer" "$sc" "${reqs:-0}" "$p50" "$p99" "$cpu" \
    "$(python3 -c "print(round($mem/1024,1))")" "$errs" >>"$results"
  printf '  round %s %-9s %-8s %10s req/s  p50 %s ms  cpu/1k %s s\n' "$round" "$peer" "$sc" "${reqs:-0}" "$p50" "$cpu"
}

wait_port "$pa" && wait_port "$pb" || { echo "backends did not start" >&2; exit 1; }
echo "bench-tls.sh: $(nproc) cores; proxy pinned to CPU 0, backends + load to CPU 1; ${ROUNDS} round(s) x ${DUR}s;" \
  "wrk -c${CONNS}, h2load -c${H2_CLIENTS} -m${H2_STREAMS}"
for p in $PEERS; do case $p in
  haproxy) echo "  haproxy: $(haproxy -v | head -1)";; candidate) echo "  candidate: $CANDIDATE";; esac; done
for round in $(seq 1 "$ROUNDS"); do
  for sc in $SCENARIOS; do
    for peer in $PEERS; do run_one "$round" "$peer" "$sc"; done
  done
done

python3 - "$results" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(vals):
    vals = [float(v) for v in vals if v not in ("nan", "")]
    return statistics.median(vals) if vals else float("nan")
keys = []
for r in rows:
    k = (r["scenario"], r["peer"])
    if k not in keys: keys.append(k)
table = {}
for sc, peer in keys:
    rs = [r for r in rows if r["scenario"] == sc and r["peer"] == peer]
    table[(sc, peer)] = dict(reqs=med(r["reqs"] for r in rs), p50=med(r["p50_ms"] for r in rs),
        p99=med(r["p99_ms"] for r in rs), cpu=med(r["cpu_s_per_1k"] for r in rs),
        mem=med(r["peak_mb"] for r in rs), errors=";".join(sorted({r["errors"] for r in rs})))
print()
print(f"{'scenario':9} {'peer':10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu s/1k':>9} {'peak MB':>8} {'x haproxy':>9} {'cpu x hap':>9}  errors")
for sc, peer in keys:
    t = table[(sc, peer)]
    h = table.get((sc, "haproxy"), {})
    hr, hc = h.get("reqs", float("nan")), h.get("cpu", float("nan"))
    rh = t["reqs"] / hr if hr == hr and hr else float("nan")
    ch = t["cpu"] / hc if hc == hc and hc else float("nan")
    print(f"{sc:9} {peer:10} {t['reqs']:10.0f} {t['p50']:8.3f} {t['p99']:8.3f} {t['cpu']:9.4f} {t['mem']:8.1f} {rh:9.3f} {ch:9.3f}  {t['errors']}")
print("(h2: p50 ms is h2load's mean time per request; p99 is not reported)")
EOF
[ -n "${RESULTS:-}" ] && cp "$results" "$RESULTS"
exit 0
