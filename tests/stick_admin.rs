//! `show table`, `clear table` and `set table` against HAProxy 2.6's own: the same
//! configuration and traffic through both proxies, the same commands sent to each
//! stats socket, the replies compared byte for byte but for the entries' addresses
//! and the milliseconds left before they expire (checked to be within the table's
//! `expire`).

mod support;

use support::socat::unix_cmd;
use support::stick::stick_config;
use support::*;

const CFG: &str = "global
    stats socket unix@admin.sock level admin
    stats socket unix@user.sock level user
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1m expire 60s store http_req_rate(10s),http_req_cnt,conn_cnt,conn_cur,gpc0,gpc0_rate(1m),http_err_cnt,sess_cnt
    http-request track-sc0 src
    http-request track-sc1 path table paths
    http-request sc-inc-gpc0(0) if { path_beg /inc }
    http-request deny if { path_beg /deny }
    default_backend app
backend paths
    stick-table type string len 32 size 100 store http_req_cnt,http_req_rate(1m),gpt0
backend ints
    stick-table type integer size 10 store gpc0
backend app
    server s1 {app}
";

/// The commands, in order (each changes what the next see).
const CMDS: &[&str] = &[
    "show table",
    "show table fe",
    "show table paths",
    "show table ints",
    "show table fe data.http_req_cnt gt 3",
    "show table fe data.gpc0 eq 2",
    "show table fe data.gpc0 ge 2 data.http_req_cnt lt 100",
    "show table fe key 127.0.0.1",
    "show table fe key 10.0.0.1",
    "show table paths key /a",
    "show table paths data.http_req_cnt ge 2",
    "show table nope",
    "show table fe data.nope eq 1",
    "show table fe data.gpc1 eq 1",
    "show table fe data.gpc0 xx 1",
    "show table fe data.gpc0 eq x",
    "show table fe data.gpc0 eq 1 data.gpc0",
    "show table fe foo",
    "show table fe key",
    "set table fe key 10.0.0.9 data.gpc0 7",
    "set table fe key 10.0.0.9 data.nope 1",
    "set table fe key 10.0.0.9 data.gpc1 1",
    "set table fe key 10.0.0.9 gpc0 1",
    "set table fe key 10.0.0.9 data.gpc0 x",
    "set table fe key 10.0.0.9 data.http_req_rate 50 data.http_req_cnt 3",
    "show table fe",
    "set table fe data.gpc0 1",
    "set table",
    "set table ints key 42 data.gpc0 -1",
    "set table ints key x data.gpc0 1",
    "set table ints key 7 data.gpc0 2",
    "show table ints",
    "set table paths key has\\ space data.gpt0 5",
    "show table paths",
    "clear table",
    "clear table fe foo",
    "clear table fe key 10.0.0.9",
    "show table fe",
    "clear table paths data.http_req_cnt lt 3",
    "show table paths",
    "clear table paths",
    "show table paths",
    "clear table ints key 42",
    "show table ints",
];

/// Masks the entries' addresses and checks and masks their `exp=`.
fn mask(out: &str) -> String {
    out.lines()
        .map(|l| {
            let l = match l.split_once(": key=") {
                Some((ptr, rest)) if ptr.starts_with("0x") => format!("PTR: key={rest}"),
                _ => l.to_owned(),
            };
            let masked: Vec<String> = l
                .split(' ')
                .map(|w| match w.strip_prefix("exp=") {
                    Some(v) => {
                        let ms: u32 = v.parse().expect("exp is a number");
                        assert!(ms <= 60_000, "exp out of range: {l}");
                        if ms == 0 {
                            w.to_owned()
                        } else {
                            "exp=E".to_owned()
                        }
                    }
                    None => w.to_owned(),
                })
                .collect();
            masked.join(" ") + "\n"
        })
        .collect()
}

/// Waits until no entry of `tables` is in use: HAProxy releases a stream's tracked
/// entries when the stream ends, which may come after the client saw the response.
fn settle(admin: &std::path::Path, tables: &[&str]) {
    let idle = || {
        tables.iter().all(|t| {
            let out = unix_cmd(admin, &format!("show table {t}"));
            out.lines()
                .filter(|l| l.contains(": key="))
                .all(|l| l.contains(" use=0 "))
        })
    };
    assert!(
        wait_until(std::time::Duration::from_secs(10), idle),
        "entries of {tables:?} stay in use"
    );
}

fn traffic(port: u16) {
    let a = local(port);
    let mut c = HttpClient::connect(a).unwrap();
    for p in ["/a", "/a", "/a", "/b", "/inc", "/inc", "/deny"] {
        c.get(p, &[]).unwrap();
    }
}

#[test]
fn table_commands_answer_as_haproxy() {
    require_haproxy();
    let app = HttpBackend::start("app");
    let mut outputs = Vec::new();
    for haproxy in [true, false] {
        let cfg = Config::new(CFG).listen_port("port").var("app", app.addr());
        let port = cfg.port("port");
        let d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        traffic(port);
        let admin = d.dir().join("admin.sock");
        settle(&admin, &["fe", "paths"]);
        let user = d.dir().join("user.sock");
        let mut out: Vec<String> = CMDS.iter().map(|c| mask(&unix_cmd(&admin, c))).collect();
        out.push(mask(&unix_cmd(&user, "show table fe")));
        out.push(mask(&unix_cmd(&user, "clear table ints key 7")));
        out.push(mask(&unix_cmd(&admin, "show table ints")));
        outputs.push(out);
    }
    let labels = CMDS.iter().copied().chain([
        "user: show table fe",
        "user: clear table ints key 7",
        "show table ints",
    ]);
    let mut diffs = Vec::new();
    for ((label, h), g) in labels.zip(&outputs[0]).zip(&outputs[1]) {
        if h != g {
            diffs.push(format!("{label}\n  haproxy:   {h:?}\n  gatehouse: {g:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // The traffic is really in the tables.
    assert!(
        outputs[1][1].contains("http_req_cnt=7"),
        "{}",
        outputs[1][1]
    );
}

/// After [`PREAMBLE`](support::stick::PREAMBLE).
const EVERY_TYPE: &str = "frontend fe
    bind 127.0.0.1:{port}
    tcp-request connection track-sc0 src table everything
    http-request track-sc1 src table v6
    http-request track-sc2 req.hdr(x-k) table bin if { req.hdr(x-k) -m found }
    http-request sc-inc-gpc0(0) if { path_beg /inc }
    http-request sc-inc-gpc1(0) if { path_beg /inc }
    http-request sc-set-gpt0(0) 5 if { path_beg /inc }
    http-request sc-inc-gpc(1,1) if { path_beg /inc }
    http-request sc-set-gpt(2,1) 9 if { path_beg /inc }
    http-request track-sc2 req.hdr(x-n) table ints if { req.hdr(x-n) -m found }
    http-request deny if { path_beg /deny }
    use_backend failing if { path_beg /fail }
    default_backend app
backend everything
    stick-table type ip size 10 expire 60s store server_id,gpt0,gpc0,gpc0_rate(10s),conn_cnt,conn_rate(10s),conn_cur,sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,http_err_rate(10s),bytes_in_cnt,bytes_in_rate(10s),bytes_out_cnt,bytes_out_rate(10s),gpc1,gpc1_rate(10s),server_key,http_fail_cnt,http_fail_rate(10s)
backend v6
    stick-table type ipv6 size 10 store gpt(3),gpc(2),gpc_rate(2,10s),http_req_cnt,conn_cur
backend bin
    stick-table type binary len 6 size 10 store http_req_cnt
backend ints
    stick-table type integer size 10 store http_req_cnt
backend app
    stick store-request src table everything
    server s1 {app}
backend failing
    server f1 {fail}
";

/// Masks the values of the byte counters (`bytes_in_cnt=N` → `bytes_in_cnt=B`):
/// HAProxy counts the size of its internal (HTX) form of each message, heads included,
/// where gatehouse counts the body bytes in and the bytes written out (docs/compat.md,
/// "Stick-table data types"). The fields themselves, their order and the other values
/// are still compared.
fn mask_bytes(out: &str) -> String {
    out.split(' ')
        .map(|w| match w.split_once('=') {
            Some((k, v)) if k.starts_with("bytes_") => {
                format!(
                    "{k}=B{}",
                    v.trim_start_matches(|c: char| c.is_ascii_digit())
                )
            }
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every data type of HAProxy 2.6 (the scalar ones in one `ip` table, the arrays,
/// which 2.6 does not allow beside `gpt0`/`gpc0`/`gpc1`, in an `ipv6` table), and
/// `binary` and `integer` keys: `show table` after the same traffic reads as HAProxy's, masked as
/// [`table_commands_answer_as_haproxy`] masks it.
#[test]
fn every_data_type_and_key_type_shows_as_haproxy() {
    require_haproxy();
    let app = HttpBackend::start("app");
    let fail = HttpBackend::builder("fail").status(500).start();
    let mut outputs = Vec::new();
    let cmds = [
        "show table everything",
        "show table v6",
        "show table bin",
        "show table ints",
    ];
    for haproxy in [true, false] {
        let cfg = Config::new(&stick_config(EVERY_TYPE))
            .listen_port("port")
            .var("app", app.addr())
            .var("fail", fail.addr());
        let port = cfg.port("port");
        let d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        let a = local(port);
        let mut c = HttpClient::connect(a).unwrap();
        for (p, h) in [
            ("/a", vec![]),
            ("/inc", vec![("x-k", "abc")]),
            ("/inc", vec![("x-k", "abcdefgh")]),
            ("/deny", vec![("x-n", "42")]),
        ] {
            c.get(p, &h).unwrap();
        }
        drop(c);
        let mut c = HttpClient::connect(a).unwrap();
        for (p, h) in [("/fail", vec![("x-n", "7")]), ("/b", vec![("x-n", "-1")])] {
            c.get(p, &h).unwrap();
        }
        drop(c);
        let admin = d.dir().join("admin.sock");
        // The connections' ends are counted once their streams are gone (both clients
        // closed theirs: no proxy timeout is waited for).
        assert!(
            wait_until(std::time::Duration::from_secs(20), || {
                unix_cmd(&admin, "show table everything").contains(" conn_cur=0 ")
            }),
            "conn_cur never fell to 0: {}",
            unix_cmd(&admin, "show table everything")
        );
        let out: Vec<String> = cmds
            .iter()
            .map(|c| mask_bytes(&mask(&unix_cmd(&admin, c))))
            .collect();
        outputs.push(out);
    }
    let mut diffs = Vec::new();
    for ((label, h), g) in cmds.iter().zip(&outputs[0]).zip(&outputs[1]) {
        if h != g {
            diffs.push(format!("{label}\n  haproxy:   {h:?}\n  gatehouse: {g:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(
        outputs[1][0].contains(" gpc0=2 ") && outputs[1][0].contains(" http_fail_cnt=1"),
        "{}",
        outputs[1][0]
    );
}

const KEEP_ALIVE: &str = "global
    stats socket unix@admin.sock level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 5s
    timeout http-keep-alive 10s
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1m expire 1s store http_req_cnt,http_req_rate(10s)
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_cnt(0) gt 4 }
    default_backend app
backend app
    server s1 {app}
";

/// One keep-alive connection tracks its address request after request, and its entry is
/// removed between two of its requests (`clear table`, later the entry's expiry): the
/// next request counts in a new entry, as in HAProxy. (Gatehouse keeps the entry the
/// connection's previous request tracked, to skip the table's lookup: it must notice
/// that the entry left the table.) Between requests the entry is not in use (`use=0`).
#[test]
fn a_keep_alive_connection_counts_in_a_new_entry_once_its_own_left_the_table() {
    require_haproxy();
    let app = HttpBackend::start("app");
    let mut outputs = Vec::new();
    for haproxy in [true, false] {
        let cfg = Config::new(KEEP_ALIVE)
            .listen_port("port")
            .var("app", app.addr());
        let port = cfg.port("port");
        let d = proxy_builder(haproxy, &cfg).wait_port(port).start();
        let admin = d.dir().join("admin.sock");
        let mut c = HttpClient::connect(local(port)).unwrap();
        let mut statuses = Vec::new();
        let mut get = |c: &mut HttpClient, n: usize| {
            for _ in 0..n {
                statuses.push(c.get("/", &[]).unwrap().status);
            }
        };
        let mut out = Vec::new();
        get(&mut c, 3);
        settle(&admin, &["fe"]);
        out.push(mask(&unix_cmd(&admin, "show table fe")));
        out.push(mask(&unix_cmd(&admin, "clear table fe")));
        out.push(mask(&unix_cmd(&admin, "show table fe")));
        get(&mut c, 2);
        settle(&admin, &["fe"]);
        out.push(mask(&unix_cmd(&admin, "show table fe")));
        // The entry expires a second after its last request.
        assert!(
            wait_until(std::time::Duration::from_secs(10), || {
                unix_cmd(&admin, "show table fe").contains("used:0")
            }),
            "the entry never expired (haproxy: {haproxy})"
        );
        // Counted from 1 again: the fifth request is the first denied.
        get(&mut c, 5);
        settle(&admin, &["fe"]);
        out.push(mask(&unix_cmd(&admin, "show table fe")));
        outputs.push((out, statuses));
    }
    assert_eq!(outputs[0], outputs[1], "haproxy, then gatehouse");
    let (out, statuses) = &outputs[1];
    assert!(
        out[0].contains(" use=0 ") && out[0].contains("http_req_cnt=3"),
        "{out:?}"
    );
    assert!(out[3].contains("http_req_cnt=2"), "{out:?}");
    assert!(out[4].contains("http_req_cnt=5"), "{out:?}");
    assert_eq!(statuses[..9], [200; 9]);
    assert_eq!(statuses[9], 429);
}
