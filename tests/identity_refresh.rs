//! Refresh tokens of browser sessions: with `offline_access` the real provider
//! (panva's `oidc-provider`, ID tokens living 5 s here) gives a refresh token at login;
//! once the session's ID token expires, the next request refreshes it at the token
//! endpoint and gets the resealed cookie back, on the same keep-alive connection; when
//! the provider refuses the refresh (the token was revoked), the session ends: 401 for
//! an API client, the login redirect for a browser.

#[path = "identity/oidc.rs"]
mod oidc;
mod support;

use oidc::OidcProvider;
use serde_json::Value;
use std::net::SocketAddr;

use std::time::Duration;
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
  scopes openid email profile groups offline_access
  cookie-secret "${GH_COOKIE_SECRET}"
frontend public
  bind 127.0.0.1:{port}
  http-request authenticate corp
  http-request set-header X-Auth-Email %[identity_email]
  default_backend app
backend app
  server s {app}
"#;

const SECRET: &str = "a-cookie-secret-of-32-characters!";

fn open(cookie: &str) -> serde_json::Map<String, Value> {
    gatehouse::identity::session::Sealer::new(&[SECRET.into()], Duration::from_secs(28800))
        .open(cookie, mint_now())
        .expect("a session cookie of this secret")
}

fn mint_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Waits for the instant `at` (seconds since the epoch: a token's `exp` read from the
/// session), the event after which gatehouse must refresh.
fn wait_for_second(at: i64) {
    let at = std::time::UNIX_EPOCH + Duration::from_secs(at.max(0) as u64);
    if let Ok(left) = at.duration_since(std::time::SystemTime::now()) {
        std::thread::sleep(left);
    }
    assert!(mint_now() >= at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64);
}

/// The session cookie a `Set-Cookie` of the response sets, if any.
fn set_session(r: &Response) -> Option<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| {
            let v = v.strip_prefix("gh_session=")?;
            Some(v.split(';').next().unwrap().to_owned())
        })
}

#[test]
fn an_expired_session_token_is_refreshed_and_a_refused_refresh_ends_the_session() {
    let port = free_port();
    let idp = OidcProvider::start_with(
        free_port(),
        &format!("http://127.0.0.1:{port}/.gatehouse/callback"),
        &[("ID_TOKEN_TTL", "5")],
    );
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG)
        .var("port", port)
        .var("issuer", idp.issuer())
        .var("app", app.addr());
    let g = Gatehouse::builder(&cfg.render())
        .env("GH_COOKIE_SECRET", SECRET)
        .wait_port(port)
        .start();
    // Log in through the browser (tests/oidc/op_logout.mjs prints the cookie, then
    // waits; it is stopped here instead).
    let origin = format!("http://127.0.0.1:{port}");
    let oidc::BrowserSession {
        child: mut browser,
        cookie,
        ..
    } = oidc::browser_session(&origin, &idp.issuer(), "alice");
    let _ = browser.kill();
    let _ = browser.wait();
    let first = open(&cookie);
    assert!(
        first.contains_key("gh_rt"),
        "{} offline_access gave a refresh token: {first:?}",
        g.stderr()
    );
    let tok_exp = first["gh_tok_exp"].as_i64().unwrap();

    // The same keep-alive connection all along: before the ID token expires the cookie
    // passes as it is; the first request once it expired refreshes it and gets the new
    // cookie back.
    let mut c = HttpClient::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    let get = |c: &mut HttpClient, cookie: &str, accept: &str| {
        let v = format!("gh_session={cookie}");
        c.get("/app/x", &[("Cookie", &v), ("Accept", accept)])
            .expect("response")
    };
    if mint_now() < tok_exp {
        let r = get(&mut c, &cookie, "*/*");
        assert_eq!(r.status, 200, "{:?}", g.stderr());
        // Only an answer that came back before the expiry was surely decided before it
        // (on a loaded machine the second may turn while the request travels).
        if mint_now() < tok_exp {
            assert_eq!(set_session(&r), None, "no refresh before the expiry");
        }
    }
    wait_for_second(tok_exp);
    let r = get(&mut c, &cookie, "*/*");
    assert_eq!(r.status, 200, "{:?}", g.stderr());
    let renewed = set_session(&r);
    assert!(renewed.is_some(), "no refresh: {}", g.stderr());
    // The provider prints its grant line after it answered: wait for the line.
    assert!(
        wait_until(Duration::from_secs(5), || idp
            .lines()
            .iter()
            .any(|l| l == "GRANT refresh_token")),
        "{:?}",
        idp.lines()
    );
    let renewed = renewed.unwrap();
    let second = open(&renewed);
    assert_eq!(second["sub"], "alice");
    assert_eq!(second["gh_sid"], first["gh_sid"], "the same session");
    assert!(second["gh_tok_exp"].as_i64().unwrap() > tok_exp);
    let before = app.request_count();
    assert_eq!(get(&mut c, &renewed, "*/*").status, 200);
    let seen = app.wait_requests(before + 1);
    assert_eq!(
        seen[before].header("x-auth-email"),
        Some("alice@example.com")
    );
    assert!(
        seen[before]
            .header("cookie")
            .is_none_or(|c| !c.contains("gh_session")),
        "the session never reaches the server"
    );

    // The provider revokes the refresh token (RFC 7009): the next refresh fails and the
    // session is over.
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "gatehouse:gatehouse-secret-0123456789",
    );
    let rt = second["gh_rt"].as_str().unwrap();
    let (st, body) = oidc::post(
        idp.port,
        "/token/revocation",
        Some(&format!("Basic {basic}")),
        &format!("token={rt}&token_type_hint=refresh_token"),
    );
    assert_eq!(st, 200, "{body}");
    // Its ID token expires: the refresh that follows is refused, and so is the request.
    wait_for_second(second["gh_tok_exp"].as_i64().unwrap());
    assert_eq!(get(&mut c, &renewed, "*/*").status, 401, "{}", g.stderr());
    assert!(
        g.stderr().contains("session refresh failed"),
        "{}",
        g.stderr()
    );
    // A browser with that cookie goes to the login again.
    let r = get(&mut c, &renewed, "text/html");
    assert_eq!(r.status, 302);
    assert!(
        r.header("location")
            .is_some_and(|l| l.starts_with(&idp.issuer())),
        "{:?}",
        r.headers
    );
}
