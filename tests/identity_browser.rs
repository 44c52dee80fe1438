//! Browser login through gatehouse, in a real browser (Debian's chromium driven by
//! playwright-core, `tests/oidc/login.mjs`) against the real OpenID Provider
//! (`tests/oidc/provider.mjs`): a protected page → the provider's login form → back on
//! the page, and the backend saw `X-Auth-Email`; an `admins` user reaches `/admin/`,
//! another gets 403; logout ends the session, and its cookie replayed afterwards (or
//! tampered with) is refused.

#[path = "identity/oidc.rs"]
mod oidc;
mod support;

use oidc::OidcProvider;
use serde_json::Value;
use std::net::SocketAddr;
use std::process::Command;
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
identity corp
  issuer {issuer}
  client-id gatehouse
  client-secret gatehouse-secret-0123456789
  audience gatehouse-api
  scopes openid email profile groups
  groups-claim groups
  callback-path /.gatehouse/callback
  logout-path /.gatehouse/logout
  cookie-name gh_session
  cookie-secret "${GH_COOKIE_SECRET}"
  session-lifetime 8h
frontend public
  bind 127.0.0.1:{port}
  http-request authenticate corp if !{ path_beg /public/ }
  acl admins identity_groups -m str admins
  http-request deny deny_status 403 if { path_beg /admin/ } !admins
  http-request set-header X-Auth-Email %[identity_email]
  default_backend app
backend app
  server s {app}
"#;

struct Setup {
    _idp: OidcProvider,
    _g: Daemon,
    port: u16,
    app: HttpBackend,
}

fn start() -> Setup {
    // The browser must exist: scripts/install-deps.sh installs Debian's chromium.
    let v = Command::new("chromium")
        .arg("--version")
        .output()
        .expect("chromium");
    assert!(v.status.success());
    let port = free_port();
    let idp = OidcProvider::start_on(
        free_port(),
        &format!("http://127.0.0.1:{port}/.gatehouse/callback"),
    );
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG)
        .var("port", port)
        .var("issuer", idp.issuer())
        .var("app", app.addr());
    let g = Gatehouse::builder(&cfg.render())
        .env("GH_COOKIE_SECRET", "a-cookie-secret-of-32-characters!")
        .wait_port(port)
        .start();
    Setup {
        _idp: idp,
        _g: g,
        port,
        app,
    }
}

fn browse(s: &Setup, login: &str, start: &str, visits: &[&str]) -> Value {
    let origin = format!("http://127.0.0.1:{}", s.port);
    let visits: Vec<String> = visits.iter().map(|v| format!("{origin}{v}")).collect();
    let out = Command::new("node")
        .arg("login.mjs")
        .current_dir(oidc::dir())
        .env("START", format!("{origin}{start}"))
        .env("ORIGIN", &origin)
        .env("LOGIN", login)
        .env("VISITS", visits.join(","))
        .env("COOKIE", "gh_session")
        .env("LOGOUT", format!("{origin}/.gatehouse/logout"))
        .output()
        .expect("node");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(v.get("error").is_none(), "browser: {}", v["error"]);
    v
}

fn api(s: &Setup, path: &str, cookie: &str) -> u16 {
    let c = format!("gh_session={cookie}");
    http_get(
        SocketAddr::from(([127, 0, 0, 1], s.port)),
        path,
        &[("Cookie", &c)],
    )
    .unwrap()
    .status
}

#[test]
fn a_browser_logs_in_lands_on_the_page_it_asked_for_and_logout_ends_the_session() {
    let s = start();
    let r = browse(&s, "alice", "/app/page?x=1", &["/admin/", "/app/other"]);
    let idp_login = r["login_page"].as_str().unwrap();
    assert!(idp_login.contains("/interaction/"), "{r}");
    assert_eq!(
        r["landed"].as_str().unwrap(),
        format!("http://127.0.0.1:{}/app/page?x=1", s.port)
    );
    let seen = s.app.requests();
    let first = seen
        .iter()
        .find(|q| q.uri.starts_with("/app/page"))
        .expect("backend saw the page");
    assert_eq!(first.header("x-auth-email"), Some("alice@example.com"));
    assert!(
        first
            .header("cookie")
            .is_none_or(|c| !c.contains("gh_session")),
        "{first:?}"
    );
    assert_eq!(r["visits"][0]["status"], 403, "alice is not in admins: {r}");
    assert_eq!(r["visits"][1]["status"], 200);
    assert_eq!(r["cookie_flags"]["httpOnly"], true);
    assert_eq!(r["cookie_flags"]["sameSite"], "Lax");
    // After logout the browser is sent to the provider's login again…
    let again = r["start_after_logout"].as_str().unwrap();
    assert!(
        !again.starts_with(&format!("http://127.0.0.1:{}/app", s.port)),
        "{r}"
    );
    // … and the session cookie, replayed, is refused.
    let cookie = r["cookie"].as_str().unwrap();
    assert_eq!(api(&s, "/app/x", cookie), 401);
}

#[test]
fn an_admin_reaches_admin_pages_and_a_tampered_cookie_is_refused() {
    let s = start();
    let r = browse(&s, "admin", "/admin/", &["/admin/panel"]);
    assert_eq!(
        r["landed"].as_str().unwrap(),
        format!("http://127.0.0.1:{}/admin/", s.port)
    );
    assert_eq!(r["visits"][0]["status"], 200, "{r}");
    let seen = s.app.requests();
    assert!(
        seen.iter()
            .any(|q| q.uri == "/admin/panel"
                && q.header("x-auth-email") == Some("admin@example.com"))
    );
    let cookie = r["cookie"].as_str().unwrap().to_owned();
    let mut bytes = cookie.into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        api(&s, "/admin/panel", &String::from_utf8(bytes).unwrap()),
        401
    );
}

#[test]
fn the_return_url_after_login_never_leaves_the_origin() {
    let s = start();
    let home = format!("http://127.0.0.1:{}/", s.port);
    // What a browser can be made to open; absolute-form and `\` targets that only a
    // raw client can send are covered by `identity::login::tests`.
    for evil in ["//evil.example/x", "/%5Cevil.example", "/\\evil.example"] {
        let r = browse(&s, "alice", evil, &[]);
        let landed = r["landed"].as_str().unwrap();
        assert_eq!(landed, home, "{evil}: {r}");
    }
}
