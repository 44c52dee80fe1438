//! Custom error messages beyond `errorfile`: `http-errors` sections imported with
//! `errorfiles NAME [CODE…]`, `http-error status N` replies (static, with log-format
//! payload and `hdr`, `default-errorfiles`, `errorfiles NAME`), a later line
//! overriding an earlier one, a backend's page before the frontend's, and the
//! `default-errorfiles` / `errorfiles NAME` payloads of `return` rules. Each request
//! goes to gatehouse and to HAProxy 2.6 with the same configuration, and the whole
//! responses must be equal; the configuration errors are compared with `-c`.

mod support;

use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
http-errors site
  errorfile 503 s503.http
  errorfile 403 s403.http
  errorfile 404 s404.http
http-errors other
  errorfile 403 o403.http
frontend fe
  bind 127.0.0.1:{port}
  errorfiles site 403 404
  errorfile 404 f404.http
  http-error status 401 content-type text/plain string "who are you"
  http-error status 429 content-type text/plain lf-string "slow down %[path] %[req.hdr(x-id)]" hdr x-retry "%[method]-1"
  http-error status 500 errorfile f500.http
  http-request deny if { path_beg /403 }
  http-request deny deny_status 404 if { path_beg /404 }
  http-request deny deny_status 401 if { path_beg /401 }
  http-request deny deny_status 429 if { path_beg /429 }
  http-request deny deny_status 500 if { path_beg /500 }
  http-request auth realm R if { path_beg /auth }
  http-request return status 403 errorfiles other if { path_beg /ret-sec }
  http-request return status 404 default-errorfiles if { path_beg /ret-def }
  http-request return status 503 errorfiles other if { path_beg /ret-miss }
  http-request set-var(txn.path) path
  http-response return status 429 default-errorfiles if { var(txn.path) -m beg /rsp-def }
  use_backend imports if { path_beg /imp }
  use_backend defaulted if { path_beg /def }
  use_backend single if { path_beg /one }
  use_backend later if { path_beg /later }
  default_backend app
backend app
  server s {app}
backend imports
  errorfiles site
  http-request deny deny_status 403 if { path_beg /imp/403 }
backend defaulted
  errorfiles site
  http-error status 503 default-errorfiles
  http-request deny deny_status 404 if { path_beg /def/404 }
backend single
  http-error status 503 errorfiles site
  http-request deny if { path_beg /one/403 }
backend later
  errorfiles site
  errorfiles other
  http-request deny if { path_beg /later/403 }
"#;

const FILES: &[(&str, &str)] = &[
    (
        "s503.http",
        "HTTP/1.1 503 Site Down\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nsite down\n",
    ),
    (
        "s403.http",
        "HTTP/1.1 403 Site Forbidden\r\nContent-Length: 9\r\nX-From: site\r\n\r\nsite 403\n",
    ),
    (
        "s404.http",
        "HTTP/1.1 404 Site Missing\r\nContent-Length: 9\r\n\r\nsite 404\n",
    ),
    (
        "o403.http",
        "HTTP/1.1 403 Other\r\nContent-Length: 10\r\n\r\nother 403\n",
    ),
    (
        "f404.http",
        "HTTP/1.1 404 Frontend Missing\r\nContent-Length: 8\r\n\r\nfe 404!\n",
    ),
    (
        "f500.http",
        "HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\noops\n",
    ),
];

struct Setup {
    _proxy: Daemon,
    port: u16,
    app: HttpBackend,
}

fn start(haproxy: bool) -> Setup {
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG).listen_port("port").var("app", app.addr());
    let mut b = proxy_builder(haproxy, &cfg);
    for (name, body) in FILES {
        b = b.file(name, body.as_bytes().to_vec());
    }
    let proxy = b.wait_ports(&cfg.listen_ports()).start();
    Setup {
        _proxy: proxy,
        port: cfg.port("port"),
        app,
    }
}

#[test]
fn error_pages_from_sections_and_http_error_agree_with_haproxy() {
    let g = start(false);
    let h = start(true);
    let cases = [
        ("/403", ""),
        ("/404", ""),
        ("/401", ""),
        ("/429/x", "X-Id: abc\r\n"),
        ("/500", ""),
        ("/auth", ""),
        ("/imp/503", ""),
        ("/imp/403", ""),
        ("/def/503", ""),
        ("/def/404", ""),
        ("/one/503", ""),
        ("/one/403", ""),
        ("/later/403", ""),
        ("/fine", ""),
        ("/ret-sec", ""),
        ("/ret-def", ""),
        ("/ret-miss", ""),
        ("/rsp-def", "X-Id: q\r\n"),
    ];
    for (path, extra) in cases {
        let ours = g.app.exchange_through(g.port, path, extra);
        let theirs = h.app.exchange_through(h.port, path, extra);
        assert_eq!(ours, theirs, "{path}: gatehouse vs haproxy");
    }
    // The pages that must have been chosen, as a reader of the config expects.
    let body = |p: &str| g.app.exchange_through(g.port, p, "").0;
    assert!(body("/403").ends_with("site 403\n"));
    assert!(
        body("/404").ends_with("fe 404!\n"),
        "the later errorfile wins"
    );
    assert!(body("/429/x").contains("slow down /429/x"));
    assert!(body("/imp/503").ends_with("site down\n"));
    assert!(body("/def/503").contains("No server is available"));
    assert!(body("/one/503").ends_with("site down\n"));
    assert!(body("/later/403").ends_with("other 403\n"));
    assert!(body("/ret-sec").ends_with("other 403\n"));
    assert!(body("/ret-def").ends_with("fe 404!\n"));
    // Once the request was forwarded, only its method is left to the formats.
    assert!(body("/rsp-def").contains("x-retry: GET-1"));
}

/// `-c` on `body` (after a `defaults` section) with both proxies: the same verdict,
/// and gatehouse's first alert or warning carries HAProxy's message.
fn same_check(body: &str, files: &[(&str, &str)]) {
    let dir = TempDir::new("http-error-sections");
    let text = format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n{body}"
    );
    let cfg = dir.path().join("c.cfg");
    std::fs::write(&cfg, text).expect("write config");
    for (n, c) in files {
        std::fs::write(dir.path().join(n), c).expect("write file");
    }
    let (hs, _, herr) = check(&require_haproxy(), &[&cfg]);
    let (gs, _, gerr) = check(&gatehouse_bin(), &[&cfg]);
    assert_eq!(
        gs == 0,
        hs == 0,
        "{body}\nhaproxy: {herr}\ngatehouse: {gerr}"
    );
    let first = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("[ALERT]") || l.starts_with("[WARNING]"))
            .map(|l| l.split_once(") : ").map_or(l, |(_, m)| m).to_string())
    };
    let (Some(h), Some(g)) = (first(&herr), first(&gerr)) else {
        panic!("{body}\nno message:\nhaproxy: {herr}\ngatehouse: {gerr}");
    };
    // HAProxy's message after its position and keyword (gatehouse names the section
    // there too).
    let mut core = h.as_str();
    for sep in ["] : ", "]: ", "config : "] {
        if let Some((_, rest)) = core.split_once(sep) {
            core = rest;
            break;
        }
    }
    for sep in [" : ", ": "] {
        if let Some((kw, rest)) = core.split_once(sep)
            && !kw.contains(' ')
        {
            core = rest;
            break;
        }
    }
    assert!(
        g.contains(core.trim()),
        "{body}\nhaproxy: {h}\ngatehouse: {g}"
    );
}

#[test]
fn error_section_mistakes_are_reported_like_haproxy() {
    let page = "HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\n";
    let files = [("p.http", page)];
    let fe = "frontend fe\n  bind 127.0.0.1:1\n";
    for body in [
        format!("http-errors site\n  errorfile 503 p.http\n{fe}  errorfiles nosuch\n"),
        format!("http-errors site\n  errorfile 503 p.http\n{fe}  errorfiles site 404 503\n"),
        format!("http-errors site\n  errorfile 503 p.http\n{fe}  errorfiles site 299\n"),
        format!(
            "http-errors site\n  errorfile 503 p.http\n{fe}  http-error status 404 errorfiles site\n"
        ),
        format!("{fe}  http-error content-type text/plain string x\n"),
        format!("{fe}  http-error status 299\n"),
        format!("{fe}  http-error status 503 string x\n"),
        format!(
            "{fe}  http-error status 503 content-type text/plain lf-string x errorfile p.http\n"
        ),
        format!("{fe}  http-error status 503 bogus\n"),
        "http-errors\n  errorfile 503 p.http\n".to_string(),
        "http-errors a\n  errorfile 503 p.http\nhttp-errors a\n".to_string(),
        "http-errors a\n  errorfoo 503 p.http\n".to_string(),
        "http-errors a\n  errorfile 299 p.http\n".to_string(),
        "http-errors a\n  errorfile 503\n".to_string(),
        "http-errors a\n  errorfile 503 nonexistent.http\n".to_string(),
    ] {
        same_check(&body, &files);
    }
}
