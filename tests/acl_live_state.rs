//! The live-state fetches end to end, against haproxy 2.6: a frontend sends requests to
//! a fallback backend while `nbsrv(app) lt 1` (its one checked server failing its health
//! check, the other in maintenance), and back once the server recovers; the headers the
//! backends receive (`nbsrv`, `srv_is_up`, `be_name`, `fe_name`, `be_conn`) and the
//! load-time errors for names that do not exist agree with haproxy's.

mod support;

use std::time::Duration;
use support::*;

const CFG: &str = "defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  acl app_down nbsrv(app) lt 1
  use_backend fallback if app_down
  default_backend app
backend app
  option httpchk GET /health
  http-request set-header X-Nbsrv %[nbsrv]
  http-request set-header X-Be %[be_name]
  http-request set-header X-Conn %[be_conn]
  server s1 {app} check inter 100ms fall 1 rise 1
  server s2 {app} disabled
backend fallback
  http-request set-header X-Nbsrv %[nbsrv(app)]
  http-request set-header X-Up %[srv_is_up(app/s1)]
  http-request set-header X-Be %[be_name]
  http-request set-header X-Fe %[fe_name]
  server f {fallback}
";

/// Which backend answered a request, and the live-state headers it received. The
/// request carries a URI of its own: the app server also receives the health checks
/// (`GET /health`, every 100 ms), which may come after the request.
fn seen(app: &HttpBackend, fallback: &HttpBackend, port: u16) -> String {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let uri = format!(
        "/probe-{}",
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let req = format!("GET {uri} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    send_raw_with(local(port), req.as_bytes(), Duration::from_secs(3), false);
    let mine = |b: &HttpBackend| b.requests().into_iter().find(|r| r.uri == uri);
    let Some(r) = mine(fallback).or_else(|| mine(app)) else {
        return "no backend".into();
    };
    let h = |n: &str| r.header(n).unwrap_or("-").to_string();
    format!(
        "be={} nbsrv={} up={} fe={} conn={}",
        h("x-be"),
        h("x-nbsrv"),
        h("x-up"),
        h("x-fe"),
        h("x-conn")
    )
}

/// Runs the scenario through one proxy: the transcript of what the backends saw.
fn scenario(haproxy: bool) -> Vec<String> {
    let app = HttpBackend::start("app");
    let fallback = HttpBackend::start("fallback");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("app", app.addr())
        .var("fallback", fallback.addr());
    let port = cfg.port("port");
    let _p = proxy_builder(haproxy, &cfg).wait_port(port).start();
    let mut out = Vec::new();
    // app's server is up: requests go there.
    out.push(seen(&app, &fallback, port));
    // Its health check fails: nbsrv(app) drops to 0 and requests go to the fallback.
    app.set_status(503);
    let mut last = String::new();
    let down = wait_until(Duration::from_secs(10), || {
        last = seen(&app, &fallback, port);
        last.starts_with("be=fallback")
    });
    assert!(
        down,
        "never routed to the fallback (haproxy: {haproxy}): {last}"
    );
    out.push(last.clone());
    // It recovers: back to app.
    app.set_status(200);
    let up = wait_until(Duration::from_secs(10), || {
        last = seen(&app, &fallback, port);
        last.starts_with("be=app")
    });
    assert!(up, "never routed back to app (haproxy: {haproxy}): {last}");
    out.push(last);
    out
}

#[test]
fn nbsrv_routes_to_a_fallback_while_the_servers_are_down_like_haproxy() {
    let expected = [
        "be=app nbsrv=1 up=- fe=- conn=1",
        "be=fallback nbsrv=0 up=0 fe=fe conn=-",
        "be=app nbsrv=1 up=- fe=- conn=1",
    ];
    assert_eq!(scenario(false), expected, "gatehouse");
    require_haproxy();
    assert_eq!(scenario(true), expected, "haproxy");
}

/// Names that do not exist, or a proxy without the capability a fetch needs, are
/// refused at load with haproxy's wording, at the ACL's line.
#[test]
fn unknown_proxies_and_servers_in_live_state_fetches_are_refused_like_haproxy() {
    let cfg = "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
frontend fe\n  bind 127.0.0.1:1\n\
  acl down nbsrv(nope) lt 1\n\
  acl x nbsrv lt 1\n\
  http-request deny if { srv_is_up(app/zz) }\n\
  http-request deny if { fe_conn(app) gt 1 }\n\
  http-request deny if { srv_is_up(zz) }\n\
  use_backend app if { be_conn(fe) gt 3 }\n\
  default_backend app\n\
backend app\n  server s1 127.0.0.1:1\n  http-request deny if { fe_conn gt 3 }\n";
    let dir = TempDir::new("live-refs");
    let path = dir.write("refs.cfg", cfg);
    let expected = [
        "[refs.cfg:8]: unable to find backend 'nope' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'fe'.",
        "[refs.cfg:9]: proxy 'fe', referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'fe', has not backend capability.",
        "[refs.cfg:10]: unable to find server 'zz' in proxy 'app', referenced in arg 1 of ACL keyword 'srv_is_up' in proxy 'fe'.",
        "[refs.cfg:11]: unable to find frontend 'app' referenced in arg 1 of ACL keyword 'fe_conn' in proxy 'fe'.",
        "[refs.cfg:12]: unable to find server 'zz' in proxy 'fe', referenced in arg 1 of ACL keyword 'srv_is_up' in proxy 'fe'.",
        "[refs.cfg:13]: unable to find backend 'fe' referenced in arg 1 of ACL keyword 'be_conn' in proxy 'fe'.",
        "[refs.cfg:17]: proxy 'app', referenced in arg 1 of ACL keyword 'fe_conn' in proxy 'app', has not frontend capability.",
    ];
    // haproxy prints `parsing [f:l]: msg` (several in one alert), gatehouse
    // `parsing [f:l] : msg`: compare from the file name on, the space before the colon
    // removed.
    let lines = |out: &str| -> Vec<String> {
        out.lines()
            .filter_map(|l| {
                let i = l.find("refs.cfg:")?;
                Some(format!("[{}", l[i..].replacen("] : ", "]: ", 1)))
            })
            .collect()
    };
    let (code, out, err) = check(&gatehouse_bin(), &[&path]);
    assert_ne!(code, 0);
    assert_eq!(lines(&format!("{out}{err}")), expected, "gatehouse");
    let (code, out, err) = check(&require_haproxy(), &[&path]);
    assert_ne!(code, 0);
    assert_eq!(lines(&format!("{out}{err}")), expected, "haproxy");
}
