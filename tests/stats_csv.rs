//! The CSV of the stats page (`stats uri …;csv`, the same writer as `show stat`),
//! compared with HAProxy 2.6's own for the same configuration and traffic: the header
//! line byte for byte, the lines in the same order, and the meaning of the counters
//! both proxies keep (sessions, requests, responses by class, denials, bytes roughly,
//! status, weight, active/backup, balancing totals). A field HAProxy leaves empty is
//! empty in gatehouse too.

mod support;

use support::stats::{csv_column, csv_of, stats_defaults, stats_export, stats_listen};
use support::{Config, HttpBackend, http_get_until_close, local, proxy_builder, wait_until};

const CFG: &str = concat!(
    stats_defaults!(),
    "\
frontend fe
    bind 127.0.0.1:{fe}
    log stdout format raw local0
    option httplog
    http-request deny if { path_beg /forbidden }
    default_backend app
backend app
    server node1 {node1} weight 3
    server node2 {node2} backup
",
    stats_listen!()
);

/// The CSV lines of a proxy's stats page, split into fields (header first).
fn csv(port: u16) -> Vec<Vec<String>> {
    let r = stats_export(port, "/stats;csv");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    csv_of(&r)
}

/// The `;json` export of a proxy's stats page.
fn json(port: u16) -> serde_json::Value {
    let r = stats_export(port, "/stats;json");
    serde_json::from_slice(&r.body).expect("JSON")
}

/// Runs the traffic through a proxy started on `cfg`; returns its CSV and JSON.
fn run(haproxy: bool, cfg: &Config) -> (Vec<Vec<String>>, serde_json::Value) {
    let cfg = cfg.with_fresh_ports();
    let p = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    let fe = local(cfg.port("fe"));
    for i in 0..7 {
        let r = http_get_until_close(fe, &format!("/page{i}"), &[]).expect("request");
        assert_eq!(r.status, 200);
    }
    for _ in 0..2 {
        let r = http_get_until_close(fe, "/forbidden", &[]).expect("request");
        assert_eq!(r.status, 403);
    }
    // HAProxy counts a request's status when its stream is released, which may come
    // after the client saw the close, and just before it logs the request: wait for the
    // nine requests' log lines.
    assert!(
        wait_until(std::time::Duration::from_secs(5), || p
            .stdout()
            .matches(" HTTP/1.1\"")
            .count()
            >= 9),
        "{}",
        p.stdout()
    );
    let st = cfg.port("st");
    (csv(st), json(st))
}

#[test]
fn csv_header_lines_and_counters_mean_what_haproxys_do() {
    support::require_haproxy();
    let n1 = HttpBackend::start("node1");
    let n2 = HttpBackend::start("node2");
    let cfg = Config::new(CFG)
        .listen_port("fe")
        .listen_port("st")
        .var("node1", n1.addr())
        .var("node2", n2.addr());
    let (h, hj) = run(true, &cfg);
    let (g, gj) = run(false, &cfg);

    // The header, exactly.
    assert_eq!(g[0], h[0], "CSV header");
    assert!(g[0][0] == "# pxname" && g[0].len() > 100);
    let col = |name: &str| csv_column(&h, name);
    // The same lines, in the same order.
    let names = |t: &[Vec<String>]| {
        t[1..]
            .iter()
            .map(|l| format!("{}/{}", l[0], l[1]))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&g), names(&h));
    assert_eq!(
        names(&g),
        [
            "fe/FRONTEND",
            "app/node1",
            "app/node2",
            "app/BACKEND",
            "stats/FRONTEND",
            "stats/BACKEND"
        ]
    );
    // Every line has every column.
    for l in &g[1..] {
        assert_eq!(l.len(), g[0].len(), "{l:?}");
    }
    let line = |t: &[Vec<String>], px: &str, sv: &str| -> Vec<String> {
        t.iter()
            .find(|l| l[0] == px && l[1] == sv)
            .cloned()
            .unwrap_or_else(|| panic!("no line {px}/{sv}"))
    };
    let exact = [
        (
            "fe",
            "FRONTEND",
            &[
                "stot",
                "req_tot",
                "hrsp_2xx",
                "hrsp_4xx",
                "dreq",
                "ereq",
                "hrsp_other",
                "status",
                "type",
                "iid",
                "sid",
                "mode",
                "pid",
            ][..],
        ),
        (
            "app",
            "node1",
            &[
                "stot", "lbtot", "hrsp_2xx", "hrsp_5xx", "status", "weight", "act", "bck", "type",
                "iid", "sid", "qlimit", "mode",
            ][..],
        ),
        (
            "app",
            "node2",
            &[
                "stot", "lbtot", "hrsp_2xx", "status", "weight", "act", "bck", "sid",
            ][..],
        ),
        (
            "app",
            "BACKEND",
            &[
                "stot", "lbtot", "hrsp_2xx", "req_tot", "status", "weight", "act", "bck", "type",
                "mode", "econ", "eresp", "dresp", "wretr", "wredis", "cli_abrt", "srv_abrt",
                "qcur", "qmax",
            ][..],
        ),
    ];
    // The stats page's own request is intercepted by its frontend.
    let st = line(&g, "stats", "FRONTEND");
    assert_eq!(
        st[col("intercepted")],
        line(&h, "stats", "FRONTEND")[col("intercepted")]
    );
    assert_eq!(st[col("intercepted")], "1");
    for (px, sv, cols) in exact {
        let (gl, hl) = (line(&g, px, sv), line(&h, px, sv));
        for c in cols {
            let i = col(c);
            assert_eq!(gl[i], hl[i], "{px}/{sv} {c}");
        }
    }
    let fe = line(&g, "fe", "FRONTEND");
    // Nine requests (and the launcher's connection that waited for the port).
    assert!(fe[col("stot")].parse::<u32>().expect("stot") >= 9);
    assert_eq!(fe[col("hrsp_2xx")], "7");
    assert_eq!(fe[col("dreq")], "2");
    assert_eq!(line(&g, "app", "node1")[col("status")], "no check");
    assert_eq!(line(&g, "app", "node1")[col("weight")], "3");
    // Bytes: the same order of magnitude (the two proxies' heads differ in size).
    for (px, sv, c) in [
        ("fe", "FRONTEND", "bout"),
        ("app", "BACKEND", "bout"),
        ("app", "node1", "bout"),
    ] {
        let gv: f64 = line(&g, px, sv)[col(c)].parse().expect("number");
        let hv: f64 = line(&h, px, sv)[col(c)].parse().expect("number");
        assert!(
            hv > 0.0 && gv > hv / 2.0 && gv < hv * 2.0,
            "{px}/{sv} {c}: {gv} vs {hv}"
        );
    }
    // What HAProxy leaves empty, gatehouse leaves empty.
    for (hl, gl) in h[1..].iter().zip(&g[1..]) {
        for (i, (hv, gv)) in hl.iter().zip(gl).enumerate() {
            if hv.is_empty() {
                assert!(
                    gv.is_empty(),
                    "{}/{} {}: haproxy empty, gatehouse {gv:?}",
                    hl[0],
                    hl[1],
                    h[0][i]
                );
            }
        }
    }

    // The JSON form: the same lines; each field gatehouse reports carries HAProxy's
    // position, tags and type; the fields HAProxy reports are reported.
    let (hl, gl) = (hj.as_array().expect("lines"), gj.as_array().expect("lines"));
    assert_eq!(gl.len(), hl.len());
    for (hline, gline) in hl.iter().zip(gl) {
        let by_name = |line: &serde_json::Value| {
            line.as_array()
                .expect("fields")
                .iter()
                .map(|f| {
                    (
                        f["field"]["name"].as_str().unwrap_or("").to_owned(),
                        f.clone(),
                    )
                })
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let (hf, gf) = (by_name(hline), by_name(gline));
        for (name, g) in &gf {
            let h = hf
                .get(name)
                .unwrap_or_else(|| panic!("{name}: not reported by haproxy: {g}"));
            for k in ["objType", "proxyId", "id", "field", "processNum", "tags"] {
                assert_eq!(g[k], h[k], "{name} {k}");
            }
            assert_eq!(g["value"]["type"], h["value"]["type"], "{name} type");
        }
    }
}

/// `req_tot` and `hrsp_*` count a response as its head passes, as HAProxy counts it when
/// it parses the head: a client that has the head of a response whose body is still
/// coming (the server holds the rest) already sees it in the CSV, on the frontend, the
/// backend and the server; a `deny` read on a kept connection is counted as well.
#[test]
fn a_response_is_counted_once_its_head_is_sent() {
    use std::io::{Read, Write};
    use std::sync::mpsc;
    // A server that sends the head and half the body, then the rest when told.
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let saddr = server.local_addr().expect("addr");
    let (go_on, rest) = mpsc::channel::<()>();
    let origin = std::thread::spawn(move || {
        let (mut s, _) = server.accept().expect("accept");
        let mut req = Vec::new();
        let mut b = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut b).expect("request");
            assert!(n > 0, "closed before the request");
            req.extend_from_slice(&b[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello")
            .expect("head");
        rest.recv().expect("go on");
        s.write_all(b"world").expect("rest");
    });
    let n2 = HttpBackend::start("node2");
    let cfg = Config::new(CFG)
        .listen_port("fe")
        .listen_port("st")
        .var("node1", saddr)
        .var("node2", n2.addr());
    // Only the stats port is probed: a probe of `fe` would count as a request too.
    let _p = proxy_builder(false, &cfg).wait_port(cfg.port("st")).start();
    let counters = || {
        let t = csv(cfg.port("st"));
        let col = |name: &str| t[0].iter().position(|c| c == name).expect("column");
        let get = |px: &str, sv: &str, c: &str| -> String {
            let l = t.iter().find(|l| l[0] == px && l[1] == sv).expect("line");
            l[col(c)].clone()
        };
        [
            get("fe", "FRONTEND", "req_tot"),
            get("fe", "FRONTEND", "hrsp_2xx"),
            get("fe", "FRONTEND", "hrsp_4xx"),
            get("app", "BACKEND", "req_tot"),
            get("app", "BACKEND", "hrsp_2xx"),
            get("app", "node1", "hrsp_2xx"),
        ]
    };
    assert_eq!(counters(), ["0", "0", "0", "0", "0", "0"]);
    let mut c = std::net::TcpStream::connect(local(cfg.port("fe"))).expect("connect");
    c.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    c.write_all(b"GET /slow HTTP/1.1\r\nhost: a\r\n\r\n")
        .expect("request");
    let mut got = Vec::new();
    let mut b = [0u8; 1024];
    while !got.ends_with(b"hello") {
        let n = c.read(&mut b).expect("the head and half the body");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&b[..n]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // The body is not finished: the exchange has not ended, its response is counted.
    assert_eq!(counters(), ["1", "1", "0", "1", "1", "1"]);
    go_on.send(()).expect("origin");
    while !got.ends_with(b"helloworld") {
        let n = c.read(&mut b).expect("the rest");
        assert!(n > 0);
        got.extend_from_slice(&b[..n]);
    }
    // A `deny` on the same connection, read, then the CSV at once.
    c.write_all(b"GET /forbidden HTTP/1.1\r\nhost: a\r\n\r\n")
        .expect("request");
    let mut resp = Vec::new();
    while !resp.windows(4).any(|w| w == b"\r\n\r\n") || !resp.ends_with(b"</html>\n") {
        let n = c.read(&mut b).expect("the 403");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&resp));
        resp.extend_from_slice(&b[..n]);
    }
    assert!(
        resp.starts_with(b"HTTP/1.1 403"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    // Denied in the frontend, before a backend was chosen.
    assert_eq!(counters(), ["2", "1", "1", "1", "1", "1"]);
    drop(c);
    origin.join().expect("origin");
}
