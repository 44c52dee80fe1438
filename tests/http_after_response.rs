//! `http-after-response` rules on every response: the server's (after the
//! `http-response` rules) and the ones the proxy writes itself (`deny`, `return`,
//! `redirect`, `auth`, error pages, `monitor-uri`), the backend's rules before the
//! frontend's, `allow` ending its own section only. Each request goes to gatehouse and
//! to HAProxy 2.6 with the same configuration; the whole responses must be equal.

mod support;

use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  monitor-uri /mon
  http-request deny if { path_beg /deny }
  http-request return status 201 content-type text/plain string made if { path_beg /ret }
  http-request redirect location /elsewhere if { path_beg /redir }
  http-request auth realm R if { path_beg /auth }
  http-request set-var(txn.path) path
  http-response set-header x-resp "%[status]"
  http-response return status 202 content-type text/plain string replaced if { var(txn.path) -m beg /rret }
  http-response redirect location /moved if { var(txn.path) -m beg /rredir }
  http-after-response set-header x-seen "%[status]"
  http-after-response add-header x-added one
  http-after-response del-header x-drop- -m beg
  http-after-response replace-header x-rep "^a(.*)" "b\1"
  http-after-response replace-value x-val '^v(\d)$' "w\1"
  http-after-response set-var(txn.st) status
  http-after-response set-header x-var "%[var(txn.st)]"
  http-after-response set-status 418 if { status 201 }
  http-after-response set-status 299 reason "All Good" if { status 200 }
  http-after-response del-header content-type if { status 403 }
  use_backend nosrv if { path_beg /nosrv }
  use_backend stop if { path_beg /stop }
  default_backend app
backend app
  server s {app}
backend nosrv
  errorfile 503 down.http
  http-after-response set-header x-backend nosrv
backend stop
  http-after-response allow
  http-after-response set-header x-never here
  server s {app}
"#;

const DOWN: &str = "HTTP/1.1 503 Down\r\nContent-Length: 5\r\nX-Drop-Me: 1\r\n\r\ndown\n";

struct Setup {
    _proxy: Daemon,
    port: u16,
    app: HttpBackend,
}

fn start(haproxy: bool) -> Setup {
    let app = HttpBackend::builder("app")
        .header("X-Drop-Server", "1")
        .header("X-Rep", "abc")
        .header("X-Val", "v1, v22,v3")
        .header("X-Mark", "yes")
        .start();
    let cfg = Config::new(CFG).listen_port("port").var("app", app.addr());
    let proxy = proxy_builder(haproxy, &cfg)
        .file("down.http", DOWN.as_bytes().to_vec())
        .wait_ports(&cfg.listen_ports())
        .start();
    Setup {
        _proxy: proxy,
        port: cfg.port("port"),
        app,
    }
}

#[test]
fn after_response_rules_agree_with_haproxy() {
    let g = start(false);
    let h = start(true);
    let paths = [
        "/", "/deny", "/ret", "/redir", "/auth", "/rret", "/rredir", "/nosrv", "/stop", "/mon",
    ];
    for path in paths {
        let ours = g.app.exchange_through(g.port, path, "");
        let theirs = h.app.exchange_through(h.port, path, "");
        assert_eq!(ours, theirs, "{path}: gatehouse vs haproxy");
    }
    let head = |p: &str| g.app.exchange_through(g.port, p, "").0;
    // What a reader of the configuration expects, checked on gatehouse alone too.
    let ok = head("/");
    assert!(ok.starts_with("HTTP/1.1 299 All Good\r\n"), "{ok}");
    assert!(ok.contains("x-seen: 200\r\n") && ok.contains("x-rep: bbc\r\n"));
    assert!(ok.contains("w1, v22,w3") && !ok.contains("x-drop-server"));
    let made = head("/ret");
    assert!(made.starts_with("HTTP/1.1 418 "), "{made}");
    let down = head("/nosrv");
    assert!(down.contains("x-backend: nosrv") && !down.contains("x-drop-me"));
    assert!(!head("/stop").contains("x-never"));
}

#[test]
fn http_response_return_and_redirect_keep_the_client_connection_like_haproxy() {
    // HAProxy 2.6 answers the next request on the same connection: the `return` or
    // `redirect` replaces the server's response, the client connection stays.
    let g = start(false);
    let h = start(true);
    for first in ["/rret", "/rredir"] {
        let req = format!(
            "GET {first} HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        );
        let run = |s: &Setup| {
            let out = send_raw_with(
                local(s.port),
                req.as_bytes(),
                std::time::Duration::from_secs(5),
                false,
            );
            String::from_utf8_lossy(&out).into_owned()
        };
        let (ours, theirs) = (run(&g), run(&h));
        assert_eq!(ours, theirs, "{first}: gatehouse vs haproxy");
        assert_eq!(ours.matches("HTTP/1.1 ").count(), 2, "{ours}");
    }
}
