//! The stick-table fetches and converters (`sc_*`, `sc0_*`…, `src_*`, `table_*`,
//! `in_table`, `table_cnt`, `table_avl`) and the counter actions (`sc-inc-gpc0`,
//! `sc-inc-gpc1`, `sc-set-gpt0`), session and stream tracking, read through a `return`
//! page on gatehouse and on HAProxy 2.6 for the same traffic: the pages must be equal.

mod support;

use support::*;

const CFG: &str = r#"defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    bind 127.0.0.1:{traffic}
    stick-table type ip size 1k expire 60s store http_req_rate(10s),http_req_cnt,conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),gpc0,gpc0_rate(10s),gpc1,gpc1_rate(10s),gpt0,http_err_cnt,http_err_rate(10s),http_fail_cnt,http_fail_rate(10s),bytes_in_cnt,bytes_in_rate(10s)
    tcp-request connection track-sc1 src if { dst_port {traffic} }
    http-request track-sc0 src table other
    http-request track-sc2 req.hdr(x-user) table users if { req.hdr(x-user) -m found }
    http-request sc-inc-gpc0(1)
    http-request sc-inc-gpc1(1) if { path /inc1 }
    http-request sc-set-gpt0(1) 42 if { path /gpt }
    http-request sc-set-gpt0(1) req.hdr(x-gpt) if { req.hdr(x-gpt) -m found }
    http-request deny deny_status 404 if { path /missing }
    http-request return status 200 content-type text/plain lf-string "{body}"
backend other
    stick-table type ipv6 size 10 store http_req_cnt,conn_cur
backend users
    stick-table type string len 8 size 10 store http_req_cnt,gpc0
"#;

/// One fetch a line.
const FETCHES: &[&str] = &[
    "sc1_http_req_cnt",
    "sc_http_req_rate(1)",
    "sc1_conn_cnt",
    "sc1_conn_cur",
    "sc1_conn_rate",
    "sc1_sess_cnt",
    "sc1_sess_rate",
    "sc1_get_gpc0",
    "sc1_gpc0_rate",
    "sc1_get_gpc1",
    "sc1_gpc1_rate",
    "sc1_get_gpt0",
    "sc1_http_err_cnt",
    "sc1_http_err_rate",
    "sc1_http_fail_cnt",
    "sc1_kbytes_in",
    "sc1_tracked",
    "sc2_tracked",
    "sc2_http_req_cnt",
    "sc0_trackers",
    "sc1_trackers",
    "sc0_http_req_cnt",
    "sc0_conn_cur",
    "sc0_http_req_cnt(fe)",
    "sc_get_gpc0(0)",
    "sc_get_gpc0(0,fe)",
    "src_http_req_cnt",
    "src_conn_cur",
    "src_get_gpc0",
    "src_get_gpt0",
    "src_http_req_cnt(other)",
    "src_conn_cnt(other)",
    "table_cnt",
    "table_avl",
    "table_cnt(other)",
    "table_avl(users)",
    "src,table_http_req_cnt(fe)",
    "src,table_conn_cur(other)",
    "src,table_gpc0(fe)",
    "src,in_table(fe)",
    "str(10.9.9.9),in_table(fe)",
    "str(10.9.9.9),table_http_req_cnt(fe)",
    "req.hdr(x-user),table_http_req_cnt(users)",
    "sc2_get_gpc0",
    "sc2_inc_gpc0",
];

fn body() -> String {
    FETCHES.iter().map(|f| format!("{f}=%[{f}]\\n")).collect()
}

fn run(port: u16) -> Vec<String> {
    let a = local(port);
    let mut out = Vec::new();
    let mut c = HttpClient::connect(a).unwrap();
    for (path, hdrs) in [
        ("/", vec![]),
        ("/inc1", vec![]),
        ("/gpt", vec![]),
        ("/missing", vec![]),
        ("/", vec![("X-User", "alice-with-a-long-name")]),
        ("/", vec![("X-Gpt", "7")]),
    ] {
        let r = c.get(path, &hdrs).unwrap();
        out.push(format!("{path} {} {}", r.status, r.body_str()));
    }
    // A second connection: a new session, the same entries. Both proxies let a
    // request's tracked entries go just after its response is sent, so the first
    // connection's last request may still count for a moment: let it settle.
    settle();
    let mut c = HttpClient::connect(a).unwrap();
    let r = c.get("/", &[("X-User", "bob")]).unwrap();
    out.push(format!("second {} {}", r.status, r.body_str()));
    out
}

/// Waits for the end of the request just answered: HAProxy and gatehouse both stop
/// tracking a request's entries (`conn_cur`, `trackers`) just after its response is
/// written, a moment after the client may have read it.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(500));
}

#[test]
fn stick_fetches_and_counter_actions_read_as_haproxys() {
    require_haproxy();
    let mut pages = Vec::new();
    for haproxy in [true, false] {
        // The start-up probe connects to `port`; the traffic, tracked by its
        // connection, goes to `traffic`.
        let cfg = Config::new(&CFG.replace("{body}", &body()))
            .listen_port("port")
            .listen_port("traffic");
        let port = cfg.port("port");
        let _d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        pages.push(run(cfg.port("traffic")));
    }
    let mut diffs = Vec::new();
    for (h, g) in pages[0].iter().zip(&pages[1]) {
        for (lh, lg) in h.lines().zip(g.lines()) {
            if lh != lg {
                diffs.push(format!(
                    "haproxy {lh:?} gatehouse {lg:?} (in {})",
                    &h[..h.find(' ').unwrap_or(0)]
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(pages[1][1].contains("sc1_get_gpc1=1\n"), "{}", pages[1][1]);
}

const CONTENT: &str = r#"defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    bind 127.0.0.1:{traffic}
    tcp-request content track-sc0 src table content if { dst_port {traffic} }
    http-request track-sc1 src table content2 if { dst_port {traffic} }
    http-request return status 200 content-type text/plain lf-string "%[sc0_http_req_cnt] %[sc0_conn_cur] %[sc0_conn_cnt] %[sc1_http_req_cnt] %[sc1_conn_cnt] %[src_http_req_cnt(content)]"
backend content
    stick-table type ip size 10 store http_req_cnt,conn_cur,conn_cnt
backend content2
    stick-table type ip size 10 store http_req_cnt,conn_cur,conn_cnt
"#;

#[test]
fn content_tracking_counts_each_request_of_an_http_connection_as_haproxy() {
    require_haproxy();
    let mut pages = Vec::new();
    for haproxy in [true, false] {
        let cfg = Config::new(CONTENT)
            .listen_port("port")
            .listen_port("traffic");
        let _d = proxy_builder(haproxy, &cfg)
            .wait_port(cfg.port("port"))
            .start();
        let a = local(cfg.port("traffic"));
        let mut out = Vec::new();
        let mut c = HttpClient::connect(a).unwrap();
        for _ in 0..3 {
            out.push(c.get("/", &[]).unwrap().body_str());
        }
        settle();
        out.push(
            HttpClient::connect(a)
                .unwrap()
                .get("/", &[])
                .unwrap()
                .body_str(),
        );
        pages.push(out);
    }
    assert_eq!(pages[0], pages[1], "haproxy then gatehouse");
}
