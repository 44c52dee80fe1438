# Sourced by scripts/bench-ir.sh and scripts/bench-pgbench-ir.sh (after lib/common.sh):
# a proxy run under a measuring tool, and its figures divided by the work done.
# TOOL: `callgrind` (total instructions; CG_OPTS=--cache-sim=yes adds simulated cache
# misses), `strace` (syscall counts), `perfstat` (CPU time split into user and kernel
# time, page faults, context switches, `epoll_wait` calls and packets sent: `perf stat`
# software events and tracepoints, and the proxy's /proc utime/stime over the measured
# part) or `perf` (a `perf record -e cpu-clock -g` profile kept in PERF_OUT, user and
# kernel), or `cycles` (`perf stat -e cycles:u,cycles:k,instructions:u` attached once the
# proxy listens, and its user and system CPU time from /proc: with the proxy's core
# saturated, req/s is about 1 / cycles per request, so two configurations' cycle ratio
# estimates their req/s ratio on a loaded machine; where the CPU exposes no counters the
# CPU time stands in for the cycles). (Hardware counters — cycles, instructions, cache misses — are not available
# in this VM.)

# measure_start TOOL BINARY CONFIG: starts `BINARY -db -f CONFIG` under TOOL, its pid
# (the tool's) in `proxy`.
measure_start() {
  local tool=$1 bin=$2 cfg=$3
  case $tool in
    callgrind) valgrind --tool=callgrind --instr-atstart=no ${CG_OPTS:-} --callgrind-out-file="$work/cg.out" "$bin" -db -f "$cfg" 2>"$work/tool.err" & ;;
    strace) strace -c -f -o "$work/strace.out" "$bin" -db -f "$cfg" 2>"$work/tool.err" & ;;
    perfstat) perf stat -x, -e task-clock,page-faults,context-switches,syscalls:sys_enter_epoll_wait,net:net_dev_xmit \
        -o "$work/perf.out" "$bin" -db -f "$cfg" 2>"$work/tool.err" & ;;
    perf) perf record -q -e cpu-clock -g -o "${PERF_OUT:-$work/perf.data}" \
        "$bin" -db -f "$cfg" 2>"$work/tool.err" & ;;
    cycles) "$bin" -db -f "$cfg" 2>"$work/tool.err" & ;;
  esac
  proxy=$!
}

# cpu_ticks PID: the user and system CPU time of PID so far, in clock ticks, and its
# threads' time on CPU in ns (/proc/PID/task/*/schedstat).
cpu_ticks() {
  local ns=0 t
  for t in /proc/"$1"/task/*/schedstat; do ns=$((ns + $(cut -d' ' -f1 "$t"))); done
  echo "$(awk '{print $14, $15}' /proc/"$1"/stat) $ns"
}

# measure_listening TOOL PORT: waits for the proxy to listen on PORT, then starts
# callgrind's instrumentation (start-up is not counted).
measure_listening() {
  wait_listen "$2"
  [ "$1" = callgrind ] && callgrind_control -i on "$proxy" >/dev/null
  [ "$1" = perfstat ] && perfstat_ticks >"$work/ticks.start"
  if [ "$1" = cycles ]; then
    perf stat -x, -e cycles:u,cycles:k,instructions:u -p "$proxy" -o "$work/perf.out" &
    perf_pid=$!
    cpu_ticks "$proxy" >"$work/cpu0"
  fi
  return 0
}

# perfstat_ticks: the traced proxy's user and kernel clock ticks so far (/proc/PID/stat).
perfstat_ticks() {
  awk '{sub(/.*\) /, ""); print $12, $13}' "/proc/$(pgrep -P "$proxy")/stat"
}

# measure_stop TOOL: stops the proxy and waits for the tool to write its figures.
measure_stop() {
  [ "$1" = perfstat ] && perfstat_ticks >"$work/ticks.stop"
  if [ "$1" = cycles ]; then
    cpu_ticks "$proxy" >"$work/cpu1"
    kill -INT "$perf_pid"
    wait "$perf_pid" 2>/dev/null || true
    kill -TERM "$proxy"
  elif [ "$1" != callgrind ]; then
    # strace and perf go on through their own SIGTERM: stop the traced proxy instead.
    kill -TERM "$(pgrep -P "$proxy")"
  else
    kill -TERM "$proxy"
  fi
  wait "$proxy" 2>/dev/null || true
}

# measure_report TOOL LABEL UNIT N: prints the figures per UNIT (`request`,
# `transaction`), N of them done.
measure_report() {
  local tool=$1 label=$2 unit=$3 n=$4 total
  case $tool in
    callgrind)
      total=$(awk '/^summary:/ {print $2}' "$work/cg.out")
      echo "$label ${unit}s=$n Ir=$total Ir/$unit=$((total / n))"
      # CG_OPTS=--cache-sim=yes: simulated cache misses per unit too (I1, D1 and last level).
      awk -v n="$n" '/^events:/ {for (i = 2; i <= NF; i++) ev[i] = $i}
        /^summary:/ {for (i = 3; i <= NF; i++) if (ev[i] ~ /mr|mw/) printf "  %s %.1f", ev[i], $i / n; if (NF > 2) print ""}' "$work/cg.out"
      # CG_OUT=FILE keeps the profile for callgrind_annotate.
      if [ -n "${CG_OUT:-}" ]; then cp "$work/cg.out" "$CG_OUT"; fi
      ;;
    strace)
      echo "$label ${unit}s=$n (syscalls per $unit: calls, failed ones)"
      awk -v n="$n" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
        e = (NF == 6) ? $5 : 0; printf "  %-16s %6.2f %6.2f\n", $NF, $4 / n, e / n}' "$work/strace.out" | sort -k2 -rn | head -${TOP:-12}
      ;;
    perfstat)
      echo "$label ${unit}s=$n (per $unit)"
      awk -F, -v n="$n" '$3 ~ /task-clock/ {printf "  cpu_us %.2f\n", $1 * 1000 / n}
        $3 ~ /page-faults|context-switches|epoll_wait|net_dev_xmit/ {printf "  %s %.3f\n", $3, $1 / n}' "$work/perf.out"
      # User and kernel time of the measured part (clock ticks of 1/`getconf CLK_TCK` s).
      read -r u0 s0 <"$work/ticks.start"
      read -r u1 s1 <"$work/ticks.stop"
      awk -v n="$n" -v hz="$(getconf CLK_TCK)" -v u=$((u1 - u0)) -v s=$((s1 - s0)) \
        'BEGIN {printf "  user_us %.2f\n  sys_us %.2f\n", u * 1e6 / hz / n, s * 1e6 / hz / n}'
      ;;
    perf) echo "$label ${unit}s=$n profile=${PERF_OUT:-(not kept: set PERF_OUT)}" ;;
    cycles)
      # One line: the counters per unit (`-` when the CPU does not count them), then
      # the CPU time per unit in µs (user and system from the tick counts, total from
      # the scheduler's ns).
      local hz
      hz=$(getconf CLK_TCK)
      awk -F, -v n="$n" -v label="$label" -v unit="$unit" -v hz="$hz" '
        FILENAME ~ /perf.out$/ && $3 ~ /^(cycles|instructions)/ {
          v[$3] = ($1 ~ /^[0-9.]+$/) ? sprintf("%.0f", $1 / n) : "-" }
        FILENAME ~ /cpu0$/ { split($0, a, " "); u0 = a[1]; s0 = a[2]; c0 = a[3] }
        FILENAME ~ /cpu1$/ { split($0, b, " "); u1 = b[1]; s1 = b[2]; c1 = b[3] }
        END {
          printf "%s %ss=%d cycles_u=%s cycles_k=%s instr_u=%s cpu_us=%.2f user_us=%.2f sys_us=%.2f\n",
            label, unit, n, v["cycles:u"] ? v["cycles:u"] : "-", v["cycles:k"] ? v["cycles:k"] : "-",
            v["instructions:u"] ? v["instructions:u"] : "-", (c1 - c0) / 1000 / n,
            (u1 - u0) * 1e6 / hz / n, (s1 - s0) * 1e6 / hz / n }' \
        "$work/perf.out" "$work/cpu0" "$work/cpu1"
      ;;
  esac
}
