"""Per-connection wire counts from scripts/wire-count.sh's tshark fields (one line per
segment: stream;srcport;dstport;syn;ack;fin;rst;len;opaque_type;content_type;
handshake_type;extension_types), printed for the client side (port PS) and the
server-side SYNs (ports PA, PB)."""
import collections
import sys

path, ps, pa, pb = sys.argv[1:5]
flag = lambda v: v in ("1", "True")
conns = collections.defaultdict(lambda: dict(s=0, c=0, sdata=0, fin_on_data=False, first_fin=None,
                                             srec=0, crec=0, hello=False, resumed=False))
backend_syns = 0
for line in open(path):
    f = line.rstrip("\n").split(";")
    if len(f) < 12:
        continue
    stream, sport, dport, syn, ack, fin, rst, tlen, opaque, ctype, htype, ext = f[:12]
    if dport in (pa, pb) and flag(syn) and not flag(ack):
        backend_syns += 1
    if ps not in (sport, dport):
        continue
    d = conns[stream]
    server = sport == ps
    n = int(tlen or 0)
    records = len([t for t in (opaque or ctype).split(",") if t])
    if server:
        d["s"] += 1
        d["srec"] += records
        d["sdata"] += n > 0
        d["fin_on_data"] |= flag(fin) and n > 0
    else:
        d["c"] += 1
        d["crec"] += records
    if htype and "1" in htype.split(","):
        d["hello"] = True
    if server and htype and "2" in htype.split(",") and ext and "41" in ext.split(","):
        d["resumed"] = True
    if flag(fin) and d["first_fin"] is None:
        d["first_fin"] = "proxy" if server else "client"
whole = [d for d in conns.values() if d["first_fin"] and d["s"] >= 3]
if not whole:
    sys.exit("no whole connection captured")
n = len(whole)
avg = lambda k: sum(d[k] for d in whole) / n
print(f"  {n} connections; per connection: segments proxy->client {avg('s'):.2f}, "
      f"client->proxy {avg('c'):.2f}; proxy segments with data {avg('sdata'):.2f}; "
      f"FIN on the last data segment {avg('fin_on_data'):.2f}")
if any(d["hello"] for d in whole):
    print(f"  TLS records proxy->client {avg('srec'):.2f}, client->proxy {avg('crec'):.2f}; "
          f"resumed handshakes {avg('resumed'):.2f}")
print(f"  closed first by: {dict(collections.Counter(d['first_fin'] for d in whole))}; "
      f"server-side connections opened: {backend_syns}")
