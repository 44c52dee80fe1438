//! Which requests count, and where, compared with HAProxy 2.6 on the same
//! configuration and traffic: "probe" connections (closed before a byte, or after a
//! partial request line), a `408` to a silent client under `option dontlognull`,
//! `monitor-uri` requests, and a server's status rewritten by `http-response
//! set-status`. The counters of `show stat` (`req_tot`, `hrsp_*`, `ereq`,
//! `intercepted`, `stot`) and which requests are logged must be the same.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use support::stats::{csv_field, csv_of, stats_defaults, stats_export, stats_listen};
use support::{Config, HttpBackend, http_get_until_close, local, proxy_builder, wait_until};

const CFG: &str = concat!(
    stats_defaults!(),
    "\
    timeout http-request 300ms
    log stdout format raw local0
    option httplog
    option dontlognull
frontend fe
    bind 127.0.0.1:{fe}
    monitor-uri /mon
    use_backend nf if { path_beg /nf }
    default_backend ok
backend ok
    server s1 {ok}
backend nf
    http-response set-status 503 if { status 404 }
    server s1 {nf}
",
    stats_listen!()
);

/// The CSV lines of a proxy's stats page, split into fields (header first).
fn csv(port: u16) -> Vec<Vec<String>> {
    csv_of(&stats_export(port, "/stats;csv"))
}

/// Connects, sends `bytes`, closes its side and reads until the proxy closes: what the
/// proxy answered.
fn probe(port: u16, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(local(port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    if half_close {
        s.shutdown(Shutdown::Write).unwrap();
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

const COLUMNS: [&str; 12] = [
    "req_tot",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "ereq",
    "intercepted",
    "stot",
    "bin",
    "bout",
];

/// What one proxy counted and logged for the traffic.
struct Seen {
    /// `px/sv column=value` for the lines and columns compared.
    counters: Vec<String>,
    /// The statuses of the frontend's log lines, sorted (release order may vary).
    logged: Vec<String>,
    /// The replies to the two probes.
    replies: Vec<String>,
}

fn run(haproxy: bool, cfg: &Config) -> Seen {
    let cfg = cfg.with_fresh_ports();
    let p = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    let fe = cfg.port("fe");
    let who = if haproxy { "haproxy" } else { "gatehouse" };
    // A probe: connected, shut its side without a byte; then a partial request line
    // and the shut: HAProxy's HTTP/1 layer answers both with its raw 400 page.
    let mut replies = Vec::new();
    for sent in [&b""[..], b"GET / HT"] {
        let r = probe(fe, sent, true);
        assert!(
            r.starts_with(b"HTTP/1.1 400 Bad request\r\n"),
            "{who}: {r:?}"
        );
        replies.push(String::from_utf8_lossy(&r).into_owned());
    }
    // A silent client past `timeout http-request`: 408.
    let r = probe(fe, b"", false);
    assert!(r.starts_with(b"HTTP/1.1 408"), "{who}: {r:?}");
    let r = http_get_until_close(local(fe), "/mon", &[]).expect("monitor");
    assert_eq!(r.status, 200, "{who}: monitor-uri");
    let r = http_get_until_close(local(fe), "/nf", &[]).expect("nf");
    assert_eq!(r.status, 503, "{who}: set-status");
    let r = http_get_until_close(local(fe), "/ok", &[]).expect("ok");
    assert_eq!(r.status, 200, "{who}: ok");
    // HAProxy writes a line when its stream is released, which may come after the
    // client saw the close, and its two threads may release /nf's stream after /ok's:
    // wait for both lines (the 408 and the empty probe are never logged; the partial
    // request line's was written 300 ms before, while the 408's client waited).
    assert!(
        wait_until(Duration::from_secs(5), || {
            let out = p.stdout();
            out.contains("\"GET /ok HTTP/1.1\"") && out.contains("\"GET /nf HTTP/1.1\"")
        }),
        "{who}: no log line for /nf or /ok: {}",
        p.stdout()
    );
    let mut logged: Vec<String> = p
        .stdout()
        .lines()
        .filter(|l| l.contains(" fe "))
        .map(|l| {
            // `... fe be/srv timers STATUS bytes ...`
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", f[5], f.last().copied().unwrap_or(""))
        })
        .collect();
    logged.sort();
    let t = csv(cfg.port("st"));
    let mut counters = Vec::new();
    for (px, sv) in [
        ("fe", "FRONTEND"),
        ("ok", "s1"),
        ("ok", "BACKEND"),
        ("nf", "s1"),
        ("nf", "BACKEND"),
    ] {
        for c in COLUMNS {
            counters.push(format!("{px}/{sv} {c}={}", csv_field(&t, px, sv, c)));
        }
    }
    Seen {
        counters,
        logged,
        replies,
    }
}

#[test]
fn probes_monitor_and_rewritten_statuses_count_as_in_haproxy() {
    support::require_haproxy();
    let ok = HttpBackend::start("ok");
    let nf = HttpBackend::builder("nf").status(404).start();
    let cfg = Config::new(CFG)
        .listen_port("fe")
        .listen_port("st")
        .var("ok", ok.addr())
        .var("nf", nf.addr());
    let h = run(true, &cfg);
    let g = run(false, &cfg);
    assert_eq!(g.counters, h.counters);
    assert_eq!(g.logged, h.logged);
    assert_eq!(g.replies, h.replies);
    // What HAProxy 2.6 does, spelled out: both probes, the 408 and the connection
    // that saw the listening port open (`wait_ports`) count as bad requests (the empty probe and the 408 are "null" and not logged under
    // `dontlognull`); the monitor request counts in the frontend (2xx, intercepted)
    // and is not logged; the server counts its own 404, its backend and the frontend
    // the 503 sent.
    let has = |s: &str| h.counters.iter().any(|c| c == s);
    for want in [
        "fe/FRONTEND req_tot=7",
        "fe/FRONTEND hrsp_4xx=4",
        "fe/FRONTEND ereq=4",
        "fe/FRONTEND hrsp_2xx=2",
        "fe/FRONTEND hrsp_5xx=1",
        "fe/FRONTEND intercepted=1",
        "nf/s1 hrsp_4xx=1",
        "nf/s1 hrsp_5xx=0",
        "nf/BACKEND hrsp_5xx=1",
    ] {
        assert!(has(want), "{want} not in {:?}", h.counters);
    }
    assert_eq!(h.logged.len(), 3, "{:?}", h.logged);
}
