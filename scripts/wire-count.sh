#!/usr/bin/env bash
# What a proxy puts on the wire per connection, seen by a packet capture: for the
# `close` and `tlsclose` scenarios (a new connection per request, wrk with
# `Connection: close`), HAProxy 2.6 and gatehouse side by side on bench-tls.sh's
# configuration. Per connection: TCP segments each way, segments carrying data, whether
# the FIN rode on the response's last segment, TLS records each way and resumed
# handshakes (ServerHello with pre_shared_key), who closed first; and the server-side
# connections opened (SYNs to the nginx backends). Counts, not rates: the capture costs
# CPU, so the req/s printed here are not benchmark figures.
#
#   BIN=target/release/gatehouse SC=close scripts/wire-count.sh
#   BIN=… SC=tlsclose DUR=2 scripts/wire-count.sh
# Needs (Debian): haproxy nginx wrk tshark openssl python3.
set -euo pipefail
SC=${SC:-close}; DUR=${DUR:-2}; CONNS=${CONNS:-64}
BIN=${BIN:?BIN=path to the gatehouse binary}
for tool in haproxy nginx wrk tshark openssl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "wire-count.sh: $tool is not installed" >&2; exit 2; }
done
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
. scripts/lib/common.sh
# shellcheck source=lib/bench-http.sh
. scripts/lib/bench-http.sh
chmod 755 "$work"
case "$SC" in close | tlsclose) ;; *) echo "wire-count.sh: SC is close or tlsclose" >&2; exit 2 ;; esac
scenario_setup "$SC"
for peer in haproxy gatehouse; do
  if [ "$peer" = haproxy ]; then start_peer_on_cpu0 haproxy; else start_peer_on_cpu0 "$BIN"; fi
  tshark -q -i lo -f "tcp port $ps or tcp port $pa or tcp port $pb" -w "$work/$peer.pcap" >/dev/null 2>&1 &
  tp=$!; sleep 1.5
  echo "== $peer ($(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "${hdr[@]}" "$url" | awk '/Requests\/sec/{print $2}') req/s under capture)"
  sleep 0.5; kill "$tp"; wait "$tp" 2>/dev/null || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  tshark -r "$work/$peer.pcap" -d "tcp.port==$ps,tls" -T fields -E separator=';' \
    -e tcp.stream -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin \
    -e tcp.flags.reset -e tcp.len -e tls.record.opaque_type -e tls.record.content_type \
    -e tls.handshake.type -e tls.handshake.extension.type 2>/dev/null >"$work/$peer.txt"
  python3 scripts/lib/wire_count.py "$work/$peer.txt" "$ps" "$pa" "$pb"
done
