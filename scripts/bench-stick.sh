#!/usr/bin/env bash
# The cost of `track-sc0 src` plus one `sc_http_req_rate(0)` check (issue 13: at most 5%
# of keep-alive req/s, 10% with the table shared through Redis), on scripts/bench-ir.sh's
# `ka` scenario, three configurations of one binary: `plain` (no stick lines), `track`
# (these frontend lines) and `redis` (the same table shared through a real redis-server
# started here, default `redis-sync-interval`; REDIS=0 leaves it out):
#
#     stick-table type ip size 1m expire 60s store http_req_rate(10s) [redis redis://…]
#     http-request track-sc0 src
#     http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100000000 }
#
#   scripts/bench-stick.sh BINARY [MODE]
#
# MODE `counts` (the default, for a loaded machine): RUNS rounds (default 3) of
#   `bench-ir.sh BINARY ka cycles`, the configurations in turn; per request: cycles:u,
#   cycles:k and instructions:u (`-` where the CPU exposes no counters, as in most VMs)
#   and the CPU time; then each configuration's median against `plain`. With the
#   proxy's core saturated req/s ≈ 1 / cycles per request, so the cycle ratio (else the
#   CPU-time ratio) estimates the req/s ratio without depending on the machine's load.
# MODE `callgrind`: the same with instructions per request under callgrind (RUNS
#   default 2).
# Both measure after WARMUP seconds (default 2) of the same load: the proxy's one-off
#   work after start-up, divided by request counts that differ from run to run, would
#   otherwise spread the figures by a few hundred instructions per request.
# MODE `alternate` (wall clock, for a quiet machine): the proxies run side by side on
#   the same two nginx backends; ROUNDS rounds (default 30) of ROUND seconds (default 2)
#   of wrk (CONNS connections, default 64 as peers.sh) against each configuration in
#   turn, the order reversed every other round; prints every round's req/s and the
#   median of the per-round ratios to `plain` (a slow drift of the machine cancels out
#   within a round).
set -euo pipefail
bin=${1:?binary}
mode=${2:-counts}
here=$(dirname "$0")
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/bench-http.sh
. "$here/lib/bench-http.sh"

rules() {
  local share=""
  [ -n "${1:-}" ] && share=" redis redis://127.0.0.1:$1/0"
  printf '    stick-table type ip size 1m expire 60s store http_req_rate(10s)%s\n' "$share"
  printf '    http-request track-sc0 src\n'
  printf '    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100000000 }\n'
}

configs=(plain track)
rp=""
if [ "${REDIS:-1}" != 0 ]; then
  rp=$(free_port)
  redis-server --port "$rp" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
    --daemonize no >"$work/redis.log" 2>&1 &
  pids+=($!)
  wait_listen "$rp"
  configs+=(redis)
fi

fe_rules() {
  case $1 in
    plain) echo "" ;;
    track) rules ;;
    redis) rules "$rp" ;;
  esac
}

# median FILE: the median of the numbers in FILE, one a line.
median() { sort -g "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

case $mode in
  counts | callgrind)
    tool=cycles
    [ "$mode" = callgrind ] && tool=callgrind
    runs=${RUNS:-3}
    [ "$mode" = callgrind ] && runs=${RUNS:-2}
    for r in $(seq "$runs"); do
      for c in "${configs[@]}"; do
        line=$(WARMUP=${WARMUP:-2} FE_RULES="$(fe_rules "$c")" "$here/bench-ir.sh" "$bin" ka "$tool" | tail -1)
        echo "run $r $c: $line"
        # The figure compared: cycles (user + kernel) where counted, else the CPU time;
        # instructions under callgrind.
        echo "$line" | awk -v mode="$mode" '{
          for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
          if (mode == "callgrind") print f["Ir/request"]
          else if (f["cycles_u"] != "-" && f["cycles_k"] != "-") print f["cycles_u"] + f["cycles_k"]
          else print f["cpu_us"] }' >>"$work/$c.vals"
        if [ "$mode" = counts ]; then
          echo "$line" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
            print f["user_us"], f["sys_us"] }' >>"$work/$c.us"
        fi
      done
    done
    unit="cycles (user + kernel) per request"
    # CPU times are printed with decimals, counts without.
    grep -q '\.' "$work/plain.vals" && unit="CPU µs per request (no cycle counter here)"
    [ "$mode" = callgrind ] && unit="instructions (user) per request"
    base=$(median "$work/plain.vals")
    echo "medians over $runs runs, $unit:"
    for c in "${configs[@]}"; do
      m=$(median "$work/$c.vals")
      extra=""
      if [ "$mode" = counts ]; then
        awk '{print $1}' "$work/$c.us" >"$work/$c.u"
        awk '{print $2}' "$work/$c.us" >"$work/$c.s"
        extra=" (user $(median "$work/$c.u") µs, system $(median "$work/$c.s") µs)"
      fi
      awk -v c="$c" -v m="$m" -v b="$base" -v x="$extra" \
        'BEGIN {printf "  %-6s %10s%s  ratio %.3f (cost %+.1f%%, est. req/s x%.3f)\n", c, m, x, m / b, (m / b - 1) * 100, b / m}'
    done
    ;;
  alternate)
    pa=$(free_port)
    pb=$(free_port)
    for port in "$pa" "$pb"; do
      nginx_backend "nginx-$port" "$port"
    done
    declare -A port
    for c in "${configs[@]}"; do
      port[$c]=$(free_port)
      lines=$(fe_rules "$c")
      if [ -n "$lines" ]; then lines+=$'\n'; fi
      bench_proxy_cfg bench_http "127.0.0.1:${port[$c]}" "$pa" "$pb" "$lines" >"$work/$c.cfg"
      "$bin" -db -f "$work/$c.cfg" 2>"$work/$c.err" &
      pids+=($!)
      wait_listen "${port[$c]}"
    done
    # One warm-up round, not counted.
    for c in "${configs[@]}"; do wrk -t1 -c"${CONNS:-64}" -d1s "http://127.0.0.1:${port[$c]}/" >/dev/null; done
    rounds=${ROUNDS:-30}
    for r in $(seq "$rounds"); do
      order=("${configs[@]}")
      if [ $((r % 2)) = 0 ]; then
        order=()
        for ((i = ${#configs[@]} - 1; i >= 0; i--)); do order+=("${configs[$i]}"); done
      fi
      declare -A rps=()
      for c in "${order[@]}"; do
        rps[$c]=$(wrk -t1 -c"${CONNS:-64}" -d"${ROUND:-2}s" "http://127.0.0.1:${port[$c]}/" |
          awk '/^Requests\/sec/ {print $2}')
      done
      row="round $r:"
      for c in "${configs[@]}"; do
        row+=" $c ${rps[$c]}"
        [ "$c" != plain ] && awk -v a="${rps[$c]}" -v b="${rps[plain]}" 'BEGIN {print a / b}' >>"$work/$c.ratio"
      done
      echo "$row"
    done
    echo "median of $rounds per-round ratios to plain (req/s):"
    for c in "${configs[@]}"; do
      [ "$c" = plain ] && continue
      awk -v c="$c" -v m="$(median "$work/$c.ratio")" 'BEGIN {printf "  %-6s x%.3f (cost %+.1f%%)\n", c, m, (1 - m) * 100}'
    done
    ;;
  *) echo "bench-stick.sh: unknown mode $mode (counts, callgrind, alternate)" >&2; exit 2 ;;
esac
