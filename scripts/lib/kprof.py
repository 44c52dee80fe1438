#!/usr/bin/env python3
"""Reads `perf script` output (cpu-clock samples with call chains, the whole machine)
on stdin and prints microseconds per check of the proxy, the check targets, and the
kernel TCP work outside any syscall in other contexts (timers, softirqs; an upper bound), by the syscall
or kernel path each sample sits in and by kernel leaf symbol.

usage: perf script -F pid,tid,comm,ip,sym | kprof.py HZ CHECKS PROXY_PID TARGET_PIDS...
"""
import collections
import re
import sys

hz, checks, proxy = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
targets = set(sys.argv[4:])
us = 1e6 / hz / checks  # microseconds per check that one sample stands for

by_who = collections.Counter()
by_path = collections.Counter()
by_leaf = collections.Counter()
user = collections.Counter()
incl = collections.Counter()
# Kernel paths named in the check's cost questions, counted inclusively (proxy + target).
NAMED = ("__inet_hash_connect", "__inet_check_established", "tcp_v4_send_reset",
         "tcp_send_active_reset", "inet_csk_destroy_sock", "tcp_done", "tcp_time_wait",
         "inet_twsk_hashdance_schedule", "inet_twsk_hashdance", "tcp_fin",
         "tcp_rcv_state_process", "tcp_v4_connect", "tcp_v4_syn_recv_sock",
         "tcp_conn_request", "sk_alloc", "__sk_destruct", "sock_alloc_file", "__fput",
         "do_sock_setsockopt", "tcp_set_rcvlowat", "tcp_sock_set_quickack")

def path_of(frames):
    """The outermost syscall or kernel path the sample sits in."""
    for f in reversed(frames):  # outermost last
        m = re.match(r"(__x64_sys_|__sys_|__do_sys_)(\w+)", f)
        if m:
            return "sys_" + m.group(2)
    for f in frames:
        if f in ("tcp_write_timer", "tcp_delack_timer", "tcp_keepalive_timer",
                 "inet_twsk_kill", "tw_timer_handler", "tcp_orphan_update"):
            return "timer:" + f
    for f in frames:
        if f.startswith("net_rx_action") or f == "process_backlog":
            return "softirq:net_rx"
    for f in frames:
        if f.startswith("run_timer_softirq") or f == "__run_timers":
            return "softirq:timers"
    for f in frames:
        if f.startswith("schedule") or f == "__schedule":
            return "schedule"
    return "other"

def tcpish(frames):
    return any(f.startswith(("tcp_", "inet_", "__inet", "ip_", "__tcp", "sk_", "sock_"))
               for f in frames)

def flush(head, frames):
    if head is None:
        return
    pid, comm = head
    kernel = [f for f, dso in frames if dso == "kernel"]
    if pid == proxy:
        who = "proxy"
    elif pid in targets:
        who = "target"
    elif kernel and tcpish(kernel) and not path_of(kernel).startswith("sys_"):
        # TCP work outside any syscall in another process's context or the idle task
        # (timers, softirqs): ours or other processes' (an upper bound).
        who = "elsewhere (TCP timers/softirq)"
    else:
        return
    by_who[who] += 1
    if not frames or frames[0][1] != "kernel":
        user[who] += 1
        by_path[(who, "user")] += 1
        return
    by_path[(who, path_of(kernel))] += 1
    if who in ("proxy", "target"):
        by_leaf[kernel[0]] += 1
        for f in set(kernel):
            if f in NAMED:
                incl[f] += 1

head, frames = None, []
for line in sys.stdin:
    if not line.strip():
        continue
    if not line[0].isspace():
        flush(head, frames)
        parts = line.split()
        # "comm pid/tid" or "comm pid" (comm may contain spaces: take from the right)
        m = re.match(r"^(.*?)\s+(\d+)(?:/(\d+))?\s*$", line.rstrip())
        if m:
            head = (m.group(2), m.group(1).strip())
        else:
            head = (parts[-1].split("/")[0], " ".join(parts[:-1]))
        frames = []
        continue
    parts = line.strip().split(None, 1)
    if len(parts) < 2:
        continue
    rest = parts[1]
    m = re.match(r"^(\S+?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$", rest)
    if not m:
        continue
    sym, dso = m.group(1), m.group(2)
    dso = "kernel" if "kernel" in dso or dso.startswith("[") else dso
    frames.append((sym, dso))
flush(head, frames)

ends = by_who["proxy"] + by_who["target"]
print(f"kprof {checks} checks; us per check: both ends {ends * us:.1f}: " +
      ", ".join(f"{w} {n * us:.1f} (user {user[w] * us:.1f})" for w, n in by_who.most_common()))
print("kprof by where (us per check):")
for (w, p), n in sorted(by_path.items(), key=lambda kv: -kv[1]):
    if n * us >= 0.5:
        print(f"kprof   {w:22s} {p:28s} {n * us:7.1f}")
print("kprof kernel leaf symbols, proxy + target (us per check, top 30):")
for s, n in by_leaf.most_common(30):
    print(f"kprof   {s:40s} {n * us:7.2f}")
print("kprof named kernel paths, inclusive, proxy + target (us per check):")
for s, n in sorted(incl.items(), key=lambda kv: -kv[1]):
    print(f"kprof   {s:40s} {n * us:7.2f}")
