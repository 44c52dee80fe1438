#!/usr/bin/env bash
# What 1,000 health-checked servers cost gatehouse (issue 8, "Scale"): at most 5% of one
# core for the checks, and keep-alive req/s within 3% of the same run without them.
#
#   scripts/bench-checks.sh                    # all three parts, release build
#   BIN=target/release/gatehouse PARTS="cpu ir wall" scripts/bench-checks.sh
#
# Knobs (environment):
#   BIN      proxy binary (default target/release/gatehouse; /usr/sbin/haproxy works too)
#   SERVERS  checked servers (1000)          INTER    their `inter` (2s)
#   TARGETS  local nginx check targets the servers are spread over (2)
#   PARTS    which parts to run, in order (default "cpu ir wall"):
#     cpu    the proxy with the checks and no traffic: its user+system CPU over WINDOW
#            seconds (30) after WARMUP (5), from /proc/PID/stat, as % of one core, and
#            the checks/s the targets logged. Wall-clock CPU: meaningful on a quiet
#            machine only.
#     ir     instruction counts (callgrind, independent of the machine's load): the
#            `ka` scenario of scripts/bench-ir.sh with the checked backend configured
#            without `check` and with it (Ir/request of each; the difference is what the
#            checks running beside the load cost per request at the rate callgrind
#            allowed), and the proxy with checks only for CG_WINDOW seconds (10):
#            Ir per check, from which the checks' share of a real ka load of KA_RPS
#            req/s (30000, the order of peers.sh's ka figure) follows.
#     irchecks  the second half of `ir` alone: instructions per check.
#     sys    the proxy with the checks and no traffic, as `cpu`, but counted rather than
#            timed: `perf stat` (tracepoints: needs root or perf_event_paranoid -1)
#            over WINDOW seconds gives syscalls, epoll_wait calls (the process's
#            wake-ups, about) and context switches per check; then `strace -c -f`
#            attached for SYS_WINDOW seconds (10) gives the syscalls per check by name
#            (strace slows the proxy, which batches more: its epoll_wait count is low).
#     kasys  the keep-alive load of `wall` (same pinning, ROUNDS alternating rounds of
#            DUR seconds without and with the checks), counted rather than timed:
#            `perf stat` attached to the proxy for the load's duration gives per request
#            the syscalls, `epoll_wait` and `epoll_ctl` calls, context switches and CPU
#            µs, and the checks done meanwhile. Counts, so meaningful on a busy machine
#            too (the epoll_wait and context switch figures still depend on batching).
#     wall   wall-clock keep-alive req/s through the proxy (pinned to CPU 0; targets,
#            backends and wrk on CPU 1), ROUNDS (3) alternating rounds of DUR seconds
#            (10) over CONNS connections (64) without and with the checks; prints the
#            median of each and their ratio. For a quiet machine only (the lead's run).
#     walln  the decision run for the 3%: ROUNDS (10 is right here) short rounds of DUR
#            seconds (5), strictly alternating without/with the checks (the config differs
#            only by `check`; both wait WARMUP before the load), wrk --latency. Prints
#            the median of the per-pair req/s ratios with its spread (MAD, min, max),
#            and the counted twin: the proxy's CPU per request without and with the
#            checks (the proxy's run time from /proc/PID/task/*/schedstat; user/system
#            split from /proc/PID/stat), whose ratio is the req/s ratio at a saturated core, load
#            or no load; and the p99 latency difference. e.g.
#              PARTS=walln ROUNDS=10 DUR=5 scripts/bench-checks.sh
#     kaconst  the checks beside a constant keep-alive load (h2load --h1, KACONST_CONNS
#            (16) connections at RPS req/s in all (5000); below what the proxy's share
#            of its core can do, the rate does not depend on the machine's load; far
#            above it, e.g. RPS=64000 KACONST_CONNS=64, the proxy is saturated):
#            ROUNDS alternating rounds of DUR seconds without and with the checks, the
#            proxy's CPU from schedstat and `perf stat` counts (syscalls, epoll_wait,
#            context switches) per round; prints the CPU, syscalls and wake-ups the
#            checks add per check beside the load (the medians of the pairs).
#     kprof  the whole machine's CPU per check, checks only (both ends of each check's
#            connection: on loopback the receiver's TCP work runs on the sender's core):
#            `perf record -a -e cpu-clock -g` (KPROF_HZ samples/s per CPU, 4000) for
#            WINDOW seconds, samples turned into us per check for the proxy, the nginx
#            check targets and kernel TCP work outside any syscall (timers, softirqs:
#            an upper bound, other processes' traffic lands there too), by syscall/path,
#            by kernel leaf symbol and for named kernel paths, inclusive (port search,
#            reset, TIME_WAIT; scripts/lib/kprof.py), plus TCP segments, resets and the
#            TIME_WAIT sockets seen (nstat, ss). Counts: a busy machine dilutes nothing
#            but adds its own loopback traffic to nstat; for clean segment counts run
#            the script in its own network namespace:
#              unshare -n sh -c 'ip link set lo up; PARTS=kprof scripts/bench-checks.sh'
# The checked backend is `option httpchk GET /health`; the servers point at TARGETS
# nginx instances on loopback (free ports), each answering `200 ok`. The traffic goes
# to another backend of two nginx servers, as in ../shared/bench/haproxy.cfg.
# Needs: nginx, wrk, valgrind (part ir), perf and strace (part sys, kprof), h2load
# (kaconst), nstat and ss (kprof), python3, taskset.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$root/target/release/gatehouse}
SERVERS=${SERVERS:-1000}
INTER=${INTER:-2s}
TARGETS=${TARGETS:-2}
PARTS=${PARTS:-"cpu ir wall"}
WINDOW=${WINDOW:-30}
WARMUP=${WARMUP:-5}
CG_WINDOW=${CG_WINDOW:-10}
SYS_WINDOW=${SYS_WINDOW:-10}
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-10}
CONNS=${CONNS:-64}
KA_RPS=${KA_RPS:-30000}

here=$(dirname "$0")
# shellcheck source=lib/common.sh
. "$here/lib/common.sh"
# shellcheck source=lib/bench-http.sh
. "$here/lib/bench-http.sh"
chmod 755 "$work"
NGINX_CPU=1

targets=()
target_pids=()
for t in $(seq 1 "$TARGETS"); do
    port=$(free_port)
    targets+=("$port")
    nginx_backend "target$t" "$port" "$work/checks.log"
    target_pids+=($!)
done
for port in "${targets[@]}"; do wait_port "$port"; done

# The checked backend: SERVERS servers spread over the targets, with `check` or not.
checked_backend() {
    local check=$1
    printf 'backend checked\n    option httpchk GET /health\n    timeout check 1s\n'
    for i in $(seq 1 "$SERVERS"); do
        local port=${targets[$(((i - 1) % TARGETS))]}
        if [ "$check" = yes ]; then
            printf '    server s%s 127.0.0.1:%s check inter %s\n' "$i" "$port" "$INTER"
        else
            printf '    server s%s 127.0.0.1:%s\n' "$i" "$port"
        fi
    done
}
checked_backend yes >"$work/checked-yes.cfg"
checked_backend no >"$work/checked-no.cfg"

# A whole configuration: frontend on $1 to backend `app` ($2, $3), plus the checked one.
proxy_cfg() {
    local pp=$1 pa=$2 pb=$3 check=$4
    bench_proxy_cfg bench_http "127.0.0.1:$pp" "$pa" "$pb"
    cat "$work/checked-$check.cfg"
}

# Nominal checks per second: SERVERS / INTER (INTER in HAProxy's units, ms by default).
check_rate() {
    awk -v s="$SERVERS" -v i="$INTER" 'BEGIN {
        n = i + 0; u = substr(i, length(n "") + 1)
        ms = (u == "s") ? n * 1000 : (u == "m") ? n * 60000 : (u == "us") ? n / 1000 : n
        printf "%.1f", s * 1000 / ms }'
}
checks_logged() { cat "$work/checks.log" 2>/dev/null | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# CPU ticks of the check targets' nginx processes (masters and workers), on CPU 1.
targets_ticks() {
    local all=("${target_pids[@]}") p
    for p in "${target_pids[@]}"; do all+=($(pgrep -P "$p" || true)); done
    for p in "${all[@]}"; do cpu_ticks "$p"; done | awk '{ t += $1 } END { print t + 0 }'
}
hz=$(getconf CLK_TCK)

echo "bench-checks.sh: $SERVERS servers, inter $INTER, over $TARGETS nginx targets; $BIN"

# start_proxy NAME PA PB CHECK: the proxy pinned to CPU 0 on proxy_cfg's configuration
# (its file and stderr $work/NAME.cfg and NAME.err); sets the caller's `pp` (its port)
# and `pid` once it listens and WARMUP has passed. The same wait with and without
# checks: only `check` differs between the runs compared.
start_proxy() {
    pp=$(free_port)
    proxy_cfg "$pp" "$2" "$3" "$4" >"$work/$1.cfg"
    taskset -c 0 "$BIN" -db -f "$work/$1.cfg" 2>"$work/$1.err" &
    pid=$!
    pids+=($pid)
    wait_port "$pp"
    sleep "$WARMUP"
}

# start_checked NAME: start_proxy with the checks and no traffic; stops the run if
# servers went DOWN.
start_checked() {
    local pp
    start_proxy "$1" "${targets[0]}" "${targets[0]}" yes
    if grep -q "is DOWN" "$work/$1.err"; then
        echo "$1: servers went DOWN:" >&2
        grep -m3 "is DOWN" "$work/$1.err" >&2
        exit 1
    fi
}

part_cpu() {
    local pid
    start_checked cpu
    local n0 t0 n1 t1
    n0=$(checks_logged)
    t0=$(cpu_ticks "$pid")
    sleep "$WINDOW"
    t1=$(cpu_ticks "$pid")
    n1=$(checks_logged)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    awk -v w="$WINDOW" -v d=$((t1 - t0)) -v hz="$hz" -v n=$((n1 - n0)) \
        'BEGIN { printf "cpu   checks only, %d s: %.1f checks/s, CPU %.2f%% of one core (wall-clock)\n", w, n / w, 100 * d / hz / w }'
}

part_sys() {
    local pid
    start_checked sys
    local n0 n1 s0 s1
    n0=$(checks_logged)
    s0=$(awk '{ print $14, $15 }' "/proc/$pid/stat")
    perf stat -x, -o "$work/perf.out" -p "$pid" \
        -e task-clock,raw_syscalls:sys_enter,sched:sched_switch,syscalls:sys_enter_epoll_wait \
        -- sleep "$WINDOW" 2>/dev/null
    s1=$(awk '{ print $14, $15 }' "/proc/$pid/stat")
    n1=$(checks_logged)
    # The user/system split of the CPU comes from /proc/PID/stat (tick-sampled).
    awk -F, -v n=$((n1 - n0)) -v w="$WINDOW" -v s="$s0 $s1" '
        $3 == "task-clock" { cpu = $1 } $3 ~ /sys_enter$/ { sc = $1 }
        $3 ~ /sched_switch/ { cs = $1 } $3 ~ /epoll_wait/ { ew = $1 }
        END { split(s, t, " "); u = t[3] - t[1]; k = t[4] - t[2]; f = (u + k) > 0 ? k / (u + k) : 0
              printf "sys   perf stat, %d s: %d checks, per check: %.2f syscalls, %.2f epoll_wait, %.2f context switches, %.1f us of CPU (%.1f user, %.1f system)\n", w, n, sc / n, ew / n, cs / n, cpu * 1000 / n, cpu * 1000 / n * (1 - f), cpu * 1000 / n * f }' "$work/perf.out"
    n0=$(checks_logged)
    timeout -s INT "$SYS_WINDOW" strace -c -f -p "$pid" -o "$work/strace.out" 2>/dev/null || true
    n1=$(checks_logged)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    awk -v n=$((n1 - n0)) '
        $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { name = $NF; calls = $4; tot += calls; by[name] = calls }
        END {
            printf "sys   strace, %d checks: %.2f syscalls per check:", n, tot / n
            for (k in by) printf " %s %.2f", k, by[k] / n
            printf "\n"
        }' "$work/strace.out"
}

part_ir() {
    local with without
    without=$(EXTRA_CFG=$(cat "$work/checked-no.cfg") "$root/scripts/bench-ir.sh" "$BIN" ka)
    with=$(EXTRA_CFG=$(cat "$work/checked-yes.cfg") "$root/scripts/bench-ir.sh" "$BIN" ka)
    echo "ir    ka without checks: $without"
    echo "ir    ka with checks:    $with"
    local a b
    a=$(echo "$without" | sed -n 's/.*Ir\/request=\([0-9]*\).*/\1/p')
    b=$(echo "$with" | sed -n 's/.*Ir\/request=\([0-9]*\).*/\1/p')
    awk -v a="$a" -v b="$b" 'BEGIN { printf "ir    with/without: %.3f (%+d Ir/request)\n", b / a, b - a }'
    part_irchecks "$a"
}

# Checks only under callgrind: instructions per check (and, given the ka Ir/request
# without checks as $1, their share of a ka load).
part_irchecks() {
    local a=${1:-0}
    local pp
    pp=$(free_port)
    proxy_cfg "$pp" "${targets[0]}" "${targets[0]}" yes >"$work/ir.cfg"
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" \
        "$BIN" -db -f "$work/ir.cfg" 2>"$work/ir.err" &
    local pid=$!
    pids+=($pid)
    wait_port "$pp"
    sleep "$WARMUP"
    local n0 n1
    callgrind_control -i on "$pid" >/dev/null
    n0=$(checks_logged)
    sleep "$CG_WINDOW"
    n1=$(checks_logged)
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    local total
    total=$(awk '/^summary:/ {print $2}' "$work/cg.out")
    awk -v t="$total" -v n=$((n1 - n0)) -v w="$CG_WINDOW" -v a="$a" -v c="$(check_rate)" -v r="$KA_RPS" \
        'BEGIN { printf "ir    checks only under callgrind, %d s: %d checks (%.0f/s), %d Ir per check\n", w, n, n / w, t / n;
                 if (a > 0) printf "ir    at %.0f checks/s beside %d ka req/s: %.0f Ir per request, %.2f%% of a ka request without checks\n", c, r, t / n * c / r, 100 * t / n * c / r / a }'
}

# Starts the two nginx backends of the keep-alive load (once): sets pa and pb.
app_ports() {
    [ -n "${pa:-}" ] && return 0
    pa=$(free_port)
    pb=$(free_port)
    nginx_backend app1 "$pa"
    nginx_backend app2 "$pb"
    wait_port "$pa"
    wait_port "$pb"
}

part_kasys() {
    app_ports
    local pp
    for r in $(seq 1 "$ROUNDS"); do
        for check in no yes; do
            pp=$(free_port)
            proxy_cfg "$pp" "$pa" "$pb" "$check" >"$work/kasys.cfg"
            taskset -c 0 "$BIN" -db -f "$work/kasys.cfg" 2>"$work/kasys.err" &
            local pid=$!
            pids+=($pid)
            wait_port "$pp"
            [ "$check" = yes ] && sleep "$WARMUP"
            local n0 n1 out t0 t1
            n0=$(checks_logged)
            t0=$(targets_ticks)
            perf stat -x, -o "$work/kasys.perf" -p "$pid" \
                -e task-clock,raw_syscalls:sys_enter,sched:sched_switch \
                -e syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl \
                -- sleep "$DUR" 2>/dev/null &
            local perf=$!
            out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$pp/")
            wait "$perf" || true
            n1=$(checks_logged)
            t1=$(targets_ticks)
            kill "$pid"
            wait "$pid" 2>/dev/null || true
            awk -F, -v q="$(echo "$out" | awk '/requests in/ {print $1}')" -v n=$((n1 - n0)) \
                -v r="$r" -v c="$check" -v tt=$((t1 - t0)) -v hz="$hz" -v d="$DUR" '
                $3 == "task-clock" { cpu = $1 } $3 ~ /raw_syscalls:sys_enter$/ { sc = $1 }
                $3 ~ /sched_switch/ { cs = $1 } $3 ~ /epoll_wait/ { ew = $1 } $3 ~ /epoll_ctl/ { ec = $1 }
                END { printf "kasys round %d, checks %-3s: %d requests, %d checks; per request: %.3f syscalls, %.4f epoll_wait, %.4f epoll_ctl, %.4f context switches, %.2f us CPU\n",
                      r, c, q, n, sc / q, ew / q, ec / q, cs / q, cpu * 1000 / q
                      if (n > 0) printf "kasys   the check targets (CPU 1, beside wrk and the backends): %.1f%% of a core, %.1f us per check\n", 100 * tt / hz / d, tt / hz * 1e6 / n }' "$work/kasys.perf"
        done
    done
}

part_wall() {
    local pp
    app_ports
    declare -A rps
    for r in $(seq 1 "$ROUNDS"); do
        for check in no yes; do
            pp=$(free_port)
            proxy_cfg "$pp" "$pa" "$pb" "$check" >"$work/wall.cfg"
            taskset -c 0 "$BIN" -db -f "$work/wall.cfg" 2>"$work/wall.err" &
            local pid=$!
            pids+=($pid)
            wait_port "$pp"
            [ "$check" = yes ] && sleep "$WARMUP"
            local out
            out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$pp/")
            kill "$pid"
            wait "$pid" 2>/dev/null || true
            rps[$check]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
            echo "wall  round $r, checks $check: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s"
        done
    done
    local mno myes
    mno=$(echo "${rps[no]}" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    myes=$(echo "${rps[yes]}" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v a="$mno" -v b="$myes" \
        'BEGIN { printf "wall  median req/s without checks %.0f, with checks %.0f: ratio %.3f (target >= 0.97)\n", a, b, b / a }'
}

# Nanoseconds on CPU of all the threads of process $1 (/proc/PID/task/*/schedstat).
run_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ t += $1 } END { printf "%d", t }'; }

# One proxy run of `walln`: $1 = yes/no (checks), $2 = round. Appends to $work/walln.tsv:
# check round req/s requests checks cpu_us user_ticks sys_ticks p99_ms max_ms.
walln_round() {
    local check=$1 r=$2 pp pid
    start_proxy walln "$pa" "$pb" "$check"
    local n0 n1 out s0 s1 e0 e1
    n0=$(checks_logged)
    s0=$(awk '{ print $14, $15 }' "/proc/$pid/stat")
    e0=$(run_ns "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "http://127.0.0.1:$pp/")
    e1=$(run_ns "$pid")
    s1=$(awk '{ print $14, $15 }' "/proc/$pid/stat")
    n1=$(checks_logged)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    local rps q cpu p99 max
    rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
    q=$(echo "$out" | awk '/requests in/ { print $1 }')
    cpu=$(((e1 - e0) / 1000))
    # wrk prints latencies as 1.23ms, 456.00us or 1.02s.
    ms() { awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; printf "%.3f", v }'; }
    p99=$(echo "$out" | awk '$1 == "99%" { print $2 }' | ms)
    max=$(echo "$out" | awk '$1 == "Latency" { print $4 }' | ms)
    echo "$check $r $rps $q $((n1 - n0)) $cpu $s0 $s1 $p99 $max" |
        awk '{ print $1, $2, $3, $4, $5, $6, $9 - $7, $10 - $8, $11, $12 }' >>"$work/walln.tsv"
    awk -v c="$check" -v r="$r" -v rps="$rps" -v q="$q" -v n=$((n1 - n0)) -v cpu="$cpu" -v p99="$p99" -v max="$max" \
        -v d="$DUR" 'BEGIN { printf "walln round %2d, checks %-3s: %9.0f req/s, %6.2f us CPU per request (proxy busy %3.0f%% of its core), %5d checks, p99 %.2f ms, max %.2f ms\n", r, c, rps, cpu / q, cpu / d / 1e4, n, p99, max }'
}

# Many short, strictly alternating rounds (no, yes, no, yes, ...), each pair giving one
# ratio; prints the median of the per-pair ratios with their spread, and the counted
# twin: the proxy's CPU per request (its threads' run time from /proc/PID/task/*/schedstat,
# read right before and after wrk: precise; its user/system split from /proc/PID/stat
# ticks) without and with the checks. With the proxy's core
# saturated, req/s is about 1 / CPU per request, so the CPU ratio estimates the req/s
# ratio without the wall clock (no hardware counters here: cycles are not available
# in this VM, the CPU time stands in for them).
part_walln() {
    app_ports
    : >"$work/walln.tsv"
    local r
    for r in $(seq 1 "$ROUNDS"); do
        walln_round no "$r"
        walln_round yes "$r"
    done
    awk '
        function median(a, n,   i, j, t) {
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $1 == "no"  { rn[$2] = $3; qn[$2] = $4; cn[$2] = $6 / $4; Q0 += $4; C0 += $6; U0 += $7; S0 += $8; L0[$2] = $9 }
        $1 == "yes" { ry[$2] = $3; qy[$2] = $4; cy[$2] = $6 / $4; Q1 += $4; C1 += $6; U1 += $7; S1 += $8; N1 += $5; L1[$2] = $9 }
        END {
            n = 0
            for (r in ry) if (r in rn) { n++; w[n] = ry[r] / rn[r]; c[n] = cn[r] / cy[r]; l[n] = L1[r] - L0[r] }
            for (i = 1; i <= n; i++) { ws[i] = w[i]; cs[i] = c[i] }
            mw = median(w, n); mc = median(c, n); ml = median(l, n)
            lo = 1e9; hi = 0; clo = 1e9; chi = 0
            for (i = 1; i <= n; i++) {
                if (ws[i] < lo) lo = ws[i]; if (ws[i] > hi) hi = ws[i]
                if (cs[i] < clo) clo = cs[i]; if (cs[i] > chi) chi = cs[i]
                dw[i] = (ws[i] - mw) < 0 ? mw - ws[i] : ws[i] - mw
                dc[i] = (cs[i] - mc) < 0 ? mc - cs[i] : cs[i] - mc
            }
            madw = median(dw, n); madc = median(dc, n)
            printf "walln %d pairs: req/s ratio with/without checks: median %.3f (MAD %.3f, min %.3f, max %.3f; target >= 0.97)\n", n, mw, madw, lo, hi
            printf "walln counted: CPU per request without %.3f us (user %.0f%%), with %.3f us (user %.0f%%)\n",
                C0 / Q0, 100 * U0 / (U0 + S0), C1 / Q1, 100 * U1 / (U1 + S1)
            printf "walln counted: CPU-per-request ratio without/with (the req/s ratio at a saturated core): pooled %.3f, median of pairs %.3f (MAD %.3f, min %.3f, max %.3f)\n",
                (C0 / Q0) / (C1 / Q1), mc, madc, clo, chi
            printf "walln counted: user us per request %.3f -> %.3f, system us per request %.3f -> %.3f\n",
                C0 / Q0 * U0 / (U0 + S0), C1 / Q1 * U1 / (U1 + S1), C0 / Q0 * S0 / (U0 + S0), C1 / Q1 * S1 / (U1 + S1)
            if (N1 > 0) {
                k = (C1 / Q1 - C0 / Q0) * Q1 / N1
                printf "walln counted: %d checks beside the load; the CPU they add: %.1f us per check (%.2f%% of the with-checks CPU)\n",
                    N1, k, 100 * (1 - (C0 / Q0) / (C1 / Q1))
                printf "walln counted: at %.0f checks/s that is %.2f%% of a core: req/s ratio at a saturated core %.3f (the estimate that holds whatever the load; the pooled ratio above holds only when the proxy is busy ~100%% in both)\n",
                    rate, rate * k / 1e4, 1 - rate * k / 1e6
            }
            printf "walln p99 latency, median of pairs with-without: %+.3f ms\n", ml
        }' rate="$(check_rate)" "$work/walln.tsv"
}

part_kaconst() {
    app_ports
    local rps=${RPS:-5000} conns=${KACONST_CONNS:-16} r check pp pid
    : >"$work/kaconst.tsv"
    for r in $(seq 1 "$ROUNDS"); do
        for check in no yes; do
            start_proxy kaconst "$pa" "$pb" "$check"
            local n0 n1 e0 e1 out
            n0=$(checks_logged)
            e0=$(run_ns "$pid")
            perf stat -x, -o "$work/kaconst.perf" -p "$pid" \
                -e raw_syscalls:sys_enter,sched:sched_switch,syscalls:sys_enter_epoll_wait \
                -- sleep "$DUR" 2>/dev/null &
            local perf=$!
            out=$(taskset -c 1 h2load --h1 -c"$conns" --rps=$((rps / conns)) -D "$DUR" "http://127.0.0.1:$pp/" 2>&1)
            wait "$perf" || true
            e1=$(run_ns "$pid")
            n1=$(checks_logged)
            kill "$pid"
            wait "$pid" 2>/dev/null || true
            local q
            q=$(echo "$out" | awk '/^requests:/ { print $8 }')
            awk -F, -v c="$check" -v r="$r" -v q="$q" -v n=$((n1 - n0)) -v cpu=$(((e1 - e0) / 1000)) '
                $3 ~ /raw_syscalls/ { sc = $1 } $3 ~ /sched_switch/ { cs = $1 } $3 ~ /epoll_wait/ { ew = $1 }
                END { print c, r, q, n, cpu, sc, ew, cs }' "$work/kaconst.perf" >>"$work/kaconst.tsv"
            tail -1 "$work/kaconst.tsv" | awk '{ printf "kaconst round %2d, checks %-3s: %d requests, %d checks, CPU %.2f us per request, %.2f syscalls, %.3f epoll_wait, %.3f context switches per request\n", $2, $1, $3, $4, $5 / $3, $6 / $3, $7 / $3, $8 / $3 }'
        done
    done
    awk '
        function median(a, n,   i, j, t) {
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $1 == "no"  { q0[$2] = $3; c0[$2] = $5; s0[$2] = $6; w0[$2] = $7; x0[$2] = $8 }
        $1 == "yes" { q1[$2] = $3; n1[$2] = $4; c1[$2] = $5; s1[$2] = $6; w1[$2] = $7; x1[$2] = $8 }
        END {
            n = 0
            for (r in q1) if ((r in q0) && n1[r] > 0) {
                n++; f = q1[r] / q0[r]
                dc[n] = (c1[r] - c0[r] * f) / n1[r]; ds[n] = (s1[r] - s0[r] * f) / n1[r]
                dw[n] = (w1[r] - w0[r] * f) / n1[r]; dx[n] = (x1[r] - x0[r] * f) / n1[r]
                list = list sprintf(" %.1f", dc[n])
            }
            printf "kaconst %d pairs, added per check beside the load (medians): CPU %.1f us (pairs:%s), %.2f syscalls, %.3f epoll_wait, %.3f context switches\n",
                n, median(dc, n), list, median(ds, n), median(dw, n), median(dx, n)
        }' "$work/kaconst.tsv"
}

part_kprof() {
    local pid
    start_checked kprof
    local workers=() p n0 n1 tw
    for p in "${target_pids[@]}"; do workers+=($(pgrep -P "$p" || true)); done
    nstat -n >/dev/null 2>&1 || true
    n0=$(checks_logged)
    perf record -a -e cpu-clock -F "${KPROF_HZ:-4000}" -g -o "$work/kprof.data" -- sleep "$WINDOW" 2>/dev/null >/dev/null &
    local rec=$!
    sleep $((WINDOW / 2))
    tw=$(ss -Htan state time-wait | wc -l)
    wait "$rec" || true
    n1=$(checks_logged)
    nstat 2>/dev/null | awk -v n=$((n1 - n0)) -v tw="$tw" '
        $1 == "TcpOutSegs" { o = $2 } $1 == "TcpOutRsts" { r = $2 } $1 == "TcpActiveOpens" { a = $2 }
        END { printf "kprof per check (nstat, whole namespace): %.2f TCP segments sent, %.2f resets, %.2f active opens; TIME_WAIT sockets mid-window: %d\n", o / n, r / n, a / n, tw }'
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    perf script -i "$work/kprof.data" -F pid,tid,comm,ip,sym,dso 2>/dev/null |
        python3 "$here/lib/kprof.py" "${KPROF_HZ:-4000}" $((n1 - n0)) "$pid" "${workers[@]}"
}

for part in $PARTS; do
    case $part in
        cpu) part_cpu ;;
        ir) part_ir ;;
        irchecks) part_irchecks ;;
        sys) part_sys ;;
        kasys) part_kasys ;;
        wall) part_wall ;;
        walln) part_walln ;;
        kprof) part_kprof ;;
        kaconst) part_kaconst ;;
        *) echo "bench-checks.sh: unknown part $part (cpu, ir, irchecks, sys, kasys, wall, walln, kprof, kaconst)" >&2; exit 2 ;;
    esac
done
