//! `http-request normalize-uri`: every HAProxy 2.6 normalizer, in rule order, on
//! origin-form and absolute-form targets; the request line the server receives (or
//! the 400 of a `strict` normalizer) must be the one HAProxy 2.6 produces for the same
//! configuration.

mod support;

use support::*;

const CFG: &str = r#"global
  expose-experimental-directives
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  http-request normalize-uri fragment-strip if { path_beg /fs }
  http-request normalize-uri fragment-encode if { path_beg /fe }
  http-request normalize-uri path-merge-slashes
  http-request normalize-uri path-strip-dot
  http-request normalize-uri path-strip-dotdot full if { path_beg /full }
  http-request normalize-uri percent-decode-unreserved strict if { path_beg /strict }
  http-request normalize-uri percent-to-uppercase strict if { path_beg /upstrict }
  http-request normalize-uri query-sort-by-name if { path_beg /qs }
  use_backend plain if { path_beg /b2 }
  default_backend app
backend app
  server s {app}
backend plain
  http-request normalize-uri path-strip-dotdot
  http-request normalize-uri percent-decode-unreserved
  http-request normalize-uri percent-to-uppercase
  server s {app}
"#;

/// Raw request targets (sent as they are on the request line). HAProxy 2.6 reads
/// `path-strip-dotdot`, `percent-to-uppercase` and `percent-decode-unreserved`
/// without their option but with a condition as `path-merge-slashes` (a parser
/// bug gatehouse does not copy): those run unconditionally here, in a backend.
const TARGETS: &[&str] = &[
    "/fs/a#frag",
    "/fe/a#b#c",
    "//a//b///c",
    "/./x/./y/.",
    "/b2/a/../b/./../c/",
    "/b2/../../x",
    "/b2/x/..",
    "/full/../../x/",
    "/b2/%61%2Fb%7e?q=%41",
    "/b2/%%36%36",
    "/strict/%ZZ",
    "/strict/%61",
    "/b2/%6f%2f?x=%aa",
    "/upstrict/%zz",
    "/qs/p?c=3&a=1&b=2&a=0",
    "/qs/none",
    "http://ex.com//abs//p?b=2&a=1",
];

#[test]
fn normalize_uri_agrees_with_haproxy() {
    let run = |haproxy: bool| {
        let app = HttpBackend::start("app");
        let cfg = Config::new(CFG).listen_port("port").var("app", app.addr());
        let _proxy = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        TARGETS
            .iter()
            .map(|t| {
                let (resp, seen) = app.exchange_through(cfg.port("port"), t, "");
                let status = resp.lines().next().unwrap_or_default().to_string();
                (
                    status,
                    seen.and_then(|s| s.lines().next().map(str::to_string)),
                )
            })
            .collect::<Vec<_>>()
    };
    let ours = run(false);
    let theirs = run(true);
    for ((t, o), h) in TARGETS.iter().zip(&ours).zip(&theirs) {
        assert_eq!(o, h, "{t}: gatehouse vs haproxy");
    }
    let line = |i: usize| ours[i].1.clone().unwrap_or_default();
    assert_eq!(line(2), "GET /a/b/c HTTP/1.1");
    assert_eq!(line(4), "GET /b2/c/ HTTP/1.1");
    assert_eq!(line(14), "GET /qs/p?a=1&a=0&b=2&c=3 HTTP/1.1");
    assert!(ours[10].0.starts_with("HTTP/1.1 400"), "{:?}", ours[10]);
}

#[test]
fn normalize_uri_needs_expose_experimental_directives_like_haproxy() {
    let dir = TempDir::new("normalize-uri");
    let cfg = dir.path().join("c.cfg");
    let text = CFG.replace("global\n  expose-experimental-directives\n", "");
    std::fs::write(
        &cfg,
        text.replace("{port}", "1").replace("{app}", "127.0.0.1:1"),
    )
    .expect("write config");
    let (hs, _, herr) = check(&require_haproxy(), &[&cfg]);
    let (gs, _, gerr) = check(&gatehouse_bin(), &[&cfg]);
    assert_ne!(hs, 0, "{herr}");
    assert_ne!(gs, 0, "{gerr}");
    let msg = "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'";
    assert!(herr.contains(msg) && gerr.contains(msg), "{herr}\n{gerr}");
}
