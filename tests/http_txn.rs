//! Per-request transaction features on the real binary over real sockets, each
//! request sent to HAProxy 2.6.12 with the same configuration too: `unique-id-format`
//! and `unique-id-header` (the id the server receives, the `unique-id` fetch, `%ID` in
//! the log line); `set-var`, `set-var-fmt`, `unset-var` and the `var()` fetch in the
//! `sess` (kept with the connection), `txn`, `req` and `res` scopes; `capture request|response header` with `%hr`,
//! `%hs`, `%hrl`, `%hsl` in the log line; `http-request tarpit` held for `timeout
//! tarpit`, then answered 500 (or `deny_status`) and logged `PT`. Compared: the whole response and the request the
//! server received.

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  log-format "id=%ID path=%HP"
  unique-id-format "%[req.hdr(x-trace)]-%f-%b"
  unique-id-header X-Unique-ID
  http-request set-header X-Id-Before "%ID"
  http-request set-header X-Seen %[unique-id] if { path_beg /seen }
  http-request set-header X-Id-After "%ID"
  http-request return status 200 content-type text/plain lf-string "uid=%[unique-id]" if { path_beg /ret }
  use_backend app if { path_beg /app }
  default_backend other
backend app
  server s {app}
backend other
  server s {app}
"#;

struct Setup {
    _proxy: Daemon,
    port: u16,
    app: HttpBackend,
    logs: UdpSocket,
}

fn start(haproxy: bool, template: &str) -> Setup {
    let app = HttpBackend::start("app");
    let logs = UdpSocket::bind("127.0.0.1:0").expect("bind syslog receiver");
    let cfg = Config::new(template)
        .listen_port("port")
        .var("app", app.addr())
        .var("syslog", logs.local_addr().expect("addr").port());
    let builder = proxy_builder(haproxy, &cfg);
    let proxy = builder.wait_ports(&cfg.listen_ports()).start();
    Setup {
        _proxy: proxy,
        port: cfg.port("port"),
        app,
        logs,
    }
}

/// The response and the request head the server received (see
/// `HttpBackend::exchange_through`).
fn exchange(s: &Setup, path: &str, extra: &str) -> (String, Option<String>) {
    s.app.exchange_through(s.port, path, extra)
}

/// The log line of `path` (the part from `id=`), waiting for it.
fn log_line(s: &Setup, path: &str) -> String {
    let mut buf = vec![0u8; 65536];
    s.logs
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let deadline = Instant::now() + Duration::from_secs(5);
    let want = format!("path={path}");
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(n) = s.logs.recv(&mut buf) {
            let l = String::from_utf8_lossy(&buf[..n]).into_owned();
            seen.push(l.clone());
            if let Some(i) = l.find("id=")
                && l.trim_end().ends_with(&want)
            {
                return l[i..].trim_end().to_string();
            }
        }
    }
    panic!("no log line for {path} in {seen:?}");
}

const CASES: &[(&str, &str)] = &[
    ("/app/a", "X-Trace: t1\r\n"),
    ("/other", "X-Trace: t2\r\n"),
    ("/seen/app", "X-Trace: t3\r\n"),
    ("/ret", "X-Trace: t4\r\n"),
    ("/app/none", ""),
];

#[test]
fn unique_id_agrees_with_haproxy() {
    let g = start(false, CFG);
    let h = start(true, CFG);
    for (path, extra) in CASES {
        let ours = exchange(&g, path, extra);
        let theirs = exchange(&h, path, extra);
        assert_eq!(ours, theirs, "{path} {extra:?}");
        assert_eq!(log_line(&g, path), log_line(&h, path), "{path}");
    }
    // The server got the id; a rule that fetched it saw the same one.
    let (_, seen) = exchange(&g, "/app/x", "X-Trace: zz\r\n");
    let seen = seen.expect("forwarded");
    assert!(seen.contains("x-unique-id: zz-fe-app"), "{seen}");
    let (_, seen) = exchange(&g, "/seen/x", "X-Trace: yy\r\n");
    let seen = seen.expect("forwarded");
    assert!(seen.contains("x-id-before: \n"), "{seen}");
    assert!(seen.contains("x-id-after: yy-fe-fe\n"), "{seen}");
    assert_eq!(log_line(&g, "/app/x"), "id=zz-fe-app path=/app/x");
}

const VARS: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  http-request set-var(txn.host) req.hdr(host),lower
  http-request set-var(req.p) path
  http-request set-var(txn.none) req.hdr(x-absent)
  http-request set-var-fmt(txn.both) "%[var(txn.host)]|%[path]|%[var(req.p),upper]"
  http-request unset-var(txn.host) if { path_beg /unset }
  http-request set-var(res.early) str(early)
  http-request set-header X-Host %[var(txn.host)]
  http-request set-header X-Both %[var(txn.both)]
  http-request set-header X-Req %[var(req.p)]
  http-request set-header X-None "[%[var(txn.none)]]"
  http-request set-header X-Dflt "[%[var(txn.none,dflt)]|%[var(txn.both,dflt)]]"
  http-request set-var(txn.n) req.hdr_cnt(host)
  http-request set-header X-Int yes if { var(txn.n) -m int eq 1 }
  http-request set-header X-Beg yes if { var(req.p) -m beg /a }
  http-request return status 200 content-type text/plain lf-string "v=%[var(txn.host)]" if { var(txn.host) -m str ex.com } { path_beg /ret }
  http-response set-var(res.st) status
  http-response set-header X-Res-Txn %[var(txn.both)]
  http-response set-header X-Res-Req "[%[var(req.p)]]"
  http-response set-header X-Res-St %[var(res.st)]
  http-response set-header X-Early "[%[var(res.early)]]"
  default_backend app
backend app
  server s {app}
"#;

#[test]
fn variables_agree_with_haproxy() {
    let g = start(false, VARS);
    let h = start(true, VARS);
    for path in ["/a/b", "/unset/x", "/ret", "/ret/unset"] {
        let ours = exchange(&g, path, "");
        let theirs = exchange(&h, path, "");
        assert_eq!(ours, theirs, "{path}");
    }
    let (resp, seen) = exchange(&g, "/a/b", "");
    let seen = seen.expect("forwarded");
    assert!(seen.contains("x-both: ex.com|/a/b|/A/B"), "{seen}");
    assert!(
        seen.contains("x-int: yes") && seen.contains("x-beg: yes"),
        "{seen}"
    );
    assert!(resp.contains("x-res-txn: ex.com|/a/b|/A/B"), "{resp}");
}

const CAPS: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  log-format "id=%ID hr=%hr hs=%hs hrl=%hrl hsl=%hsl q=%{+Q}hr path=%HP"
  capture request header Host len 4
  capture request header X-Two len 20
  capture request header X-Odd len 32
  capture response header X-Backend len 2
  capture response header Content-Length len 10
  http-request return status 200 content-type text/plain string ok if { path_beg /local }
  default_backend app
backend app
  server s {app}
"#;

#[test]
fn captured_headers_are_logged_like_haproxy() {
    let g = start(false, CAPS);
    let h = start(true, CAPS);
    for (path, extra) in [
        ("/a", "X-Two: first\r\nX-Two: second\r\n"),
        ("/b", "X-Odd: a|b{c}\"q\" d\r\n"),
        ("/local", "X-Two: x\r\n"),
    ] {
        let ours = exchange(&g, path, extra);
        let theirs = exchange(&h, path, extra);
        assert_eq!(ours, theirs, "{path}");
        assert_eq!(log_line(&g, path), log_line(&h, path), "{path}");
    }
    exchange(&g, "/c", "X-Two: only\r\n");
    assert_eq!(
        log_line(&g, "/c"),
        "id=- hr={ex.c|only|} hs={ap|3} hrl=ex.c only - hsl=ap 3 q=\"{ex.c|only|}\" path=/c"
    );
}

const TARPIT: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  log-format "id=%ID st=%ST ts=%ts b=%b s=%s path=%HP"
  timeout tarpit 300ms
  http-request tarpit if { path_beg /tp }
  http-request tarpit deny_status 403 if { path_beg /t403 }
  default_backend app
backend app
  server s {app}
"#;

#[test]
fn tarpit_holds_then_answers_like_haproxy() {
    let g = start(false, TARPIT);
    let h = start(true, TARPIT);
    for path in ["/tp", "/t403", "/ok"] {
        let t = Instant::now();
        let ours = exchange(&g, path, "");
        let held = t.elapsed();
        let theirs = exchange(&h, path, "");
        assert_eq!(ours, theirs, "{path}");
        let ours_log = log_line(&g, path);
        assert_eq!(ours_log, log_line(&h, path), "{path}");
        if path == "/tp" {
            assert_eq!(ours_log, "id=- st=500 ts=PT b=fe s=<NOSRV> path=/tp");
        }
        if path != "/ok" {
            assert!(held >= Duration::from_millis(300), "{path} held {held:?}");
            assert!(ours.1.is_none(), "{path} reached the server");
        }
    }
}

const SESS: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  log 127.0.0.1:{syslog} local0
  http-request set-var(sess.first) path if { path_beg /set }
  http-request set-var(txn.t) path if { path_beg /set }
  http-request return status 200 content-type text/plain lf-string "first=%[var(sess.first)] t=%[var(txn.t)]" hdr x-rt "%rt"
"#;

/// The bodies of `paths` asked one after the other on one keep-alive connection,
/// each after the previous answer (the connection goes idle in between), with the
/// `%rt` of each.
fn bodies_on_one_connection(s: &Setup, paths: &[&str]) -> (Vec<String>, Vec<u64>) {
    let mut c = HttpClient::connect(local(s.port)).expect("connect");
    paths
        .iter()
        .map(|p| {
            let r = c.get(p, &[]).expect("response");
            let rt: u64 = r.header("x-rt").and_then(|v| v.parse().ok()).expect("x-rt");
            (r.body_str(), rt)
        })
        .unzip()
}

#[test]
fn session_variables_live_with_the_connection_like_haproxy() {
    let g = start(false, SESS);
    let h = start(true, SESS);
    let paths = ["/a", "/set/x", "/b", "/c"];
    let (ours, rts) = bodies_on_one_connection(&g, &paths);
    assert_eq!(ours, bodies_on_one_connection(&h, &paths).0);
    assert_eq!(ours[2], "first=/set/x t=");
    // `%rt` numbers the requests of the process, one after the other.
    assert!(rts.windows(2).all(|w| w[1] == w[0] + 1), "{rts:?}");
    // Another connection does not see them.
    let (other, rt) = bodies_on_one_connection(&g, &["/d"]);
    assert_eq!(other, ["first= t="]);
    assert!(rt[0] > rts[3], "{rt:?} after {rts:?}");
}

/// `set-var`/`set-var-fmt` in `global` and the `proc` scope: values set when the
/// configuration loads, read by the rules, and a `proc.` variable a request sets seen
/// by the next request on another connection, as in HAProxy 2.6.
#[test]
fn proc_variables_are_process_wide_like_haproxy() {
    const CFG: &str = r#"global
  set-var proc.prio str(100)
  set-var proc.state str(primary)
  set-var-fmt proc.label "%[var(proc.state)]-%[var(proc.prio)]"
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  http-request return status 200 content-type text/plain lf-string "%[var(proc.label)] last=%[var(proc.last)]" if { path_beg /show }
  http-request set-var(proc.last) path
  default_backend app
backend app
  server s {app}
"#;
    let run = |haproxy: bool| {
        let app = HttpBackend::start("app");
        let cfg = Config::new(CFG).listen_port("port").var("app", app.addr());
        let _proxy = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        ["/show", "/first", "/show", "/second", "/show"]
            .map(|p| app.exchange_through(cfg.port("port"), p, "").0)
    };
    let ours = run(false);
    assert_eq!(ours, run(true), "gatehouse vs haproxy");
    assert!(ours[0].ends_with("primary-100 last="), "{}", ours[0]);
    assert!(ours[2].ends_with("primary-100 last=/first"), "{}", ours[2]);
    assert!(ours[4].ends_with("primary-100 last=/second"), "{}", ours[4]);
}
