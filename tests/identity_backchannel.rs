//! OIDC Back-Channel Logout (`backchannel-logout-path`): a user logged in through the
//! real browser logs out at the real provider (panva's `oidc-provider` with
//! `backchannelLogout` on), which POSTs a logout token to gatehouse; the session's
//! cookie is refused on the next request, on a keep-alive connection opened before.
//! And the validation table of the specification (section 2.6), with logout tokens
//! signed here: each invalid token is a 400 that ends nothing; a valid one by `sub`
//! ends that user's sessions begun before, and only those.

#[path = "identity/mint.rs"]
mod mint;
#[path = "identity/oidc.rs"]
mod oidc;
mod support;

use mint::{Signer, now};
use oidc::OidcProvider;
use serde_json::{Value, json};
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
identity corp
{source}
  client-id gatehouse
  client-secret gatehouse-secret-0123456789
  audience gatehouse-api
  scopes openid email profile groups
  cookie-secret "${GH_COOKIE_SECRET}"
  backchannel-logout-path /.gatehouse/backchannel-logout
frontend public
  bind 127.0.0.1:{port}
  http-request authenticate corp
  http-request set-header X-Auth-Sub %[identity_sub]
  default_backend app
backend app
  server s {app}
"#;

const SECRET: &str = "a-cookie-secret-of-32-characters!";

fn gatehouse(port: u16, source: &str, app: &HttpBackend) -> Daemon {
    let cfg = Config::new(CFG)
        .var("port", port)
        .var("source", source)
        .var("app", app.addr());
    Gatehouse::builder(&cfg.render())
        .env("GH_COOKIE_SECRET", SECRET)
        .wait_port(port)
        .start()
}

fn cookie_get(c: &mut HttpClient, cookie: &str) -> u16 {
    let v = format!("gh_session={cookie}");
    c.get("/app/x", &[("Cookie", &v)]).expect("response").status
}

#[test]
fn a_logout_at_the_provider_ends_the_session_at_once_even_on_keep_alive() {
    let port = free_port();
    let idp_port = free_port();
    let idp = OidcProvider::start_with(
        idp_port,
        &format!("http://127.0.0.1:{port}/.gatehouse/callback"),
        &[(
            "BACKCHANNEL_URI",
            &format!("http://127.0.0.1:{port}/.gatehouse/backchannel-logout"),
        )],
    );
    let app = HttpBackend::start("app");
    let g = gatehouse(port, &format!("  issuer {}", idp.issuer()), &app);
    let origin = format!("http://127.0.0.1:{port}");
    let oidc::BrowserSession {
        child: mut browser,
        mut lines,
        cookie,
    } = oidc::browser_session(&origin, &idp.issuer(), "alice");
    assert!(!cookie.is_empty());
    // A keep-alive connection, authenticated by the session, before the logout.
    let mut c = HttpClient::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    assert_eq!(cookie_get(&mut c, &cookie), 200);
    assert_eq!(
        app.requests().last().unwrap().header("x-auth-sub"),
        Some("alice")
    );
    // The user logs out at the provider, which tells gatehouse by back-channel.
    writeln!(browser.stdin.as_mut().unwrap(), "go").unwrap();
    let last = lines.next().expect("browser result").unwrap();
    let r: Value = serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert!(r.get("error").is_none(), "browser: {r}");
    let _ = browser.wait();
    // The provider waits for the delivery before it answers the browser.
    assert!(
        wait_until(Duration::from_secs(5), || idp
            .lines()
            .iter()
            .any(|l| l.starts_with("BACKCHANNEL"))),
        "{:?}",
        idp.lines()
    );
    assert!(
        idp.lines().iter().any(|l| l == "BACKCHANNEL ok"),
        "{:?} {}",
        idp.lines(),
        g.stderr()
    );
    // Same connection, next request: refused.
    assert_eq!(cookie_get(&mut c, &cookie), 401);
    // A new connection too; and the browser is sent to log in again.
    let mut c2 = HttpClient::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    assert_eq!(cookie_get(&mut c2, &cookie), 401);
    let again = r["start_after_logout"].as_str().unwrap();
    assert!(again.starts_with(&idp.issuer()), "{r}");
}

struct Local {
    _g: Daemon,
    port: u16,
    key: Signer,
    sealer: gatehouse::identity::session::Sealer,
    _dir: std::path::PathBuf,
}

const ISS: &str = "https://idp.example.com";

fn local() -> Local {
    let dir = std::env::temp_dir().join(format!("gh-bcl-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = Signer::rsa("k1");
    std::fs::write(dir.join("jwks.json"), mint::jwks(&[&key])).unwrap();
    let app = HttpBackend::start("app");
    let port = free_port();
    let g = gatehouse(
        port,
        &format!(
            "  issuer {ISS}\n  jwks-file {}",
            dir.join("jwks.json").display()
        ),
        &app,
    );
    std::mem::forget(app);
    Local {
        _g: g,
        port,
        key,
        sealer: gatehouse::identity::session::Sealer::new(
            &[SECRET.into()],
            Duration::from_secs(600),
        ),
        _dir: dir,
    }
}

impl Local {
    fn session(&self, sub: &str, sid: &str, at: i64) -> String {
        let mut c = serde_json::Map::new();
        c.insert("sub".into(), json!(sub));
        c.insert("sid".into(), json!(sid));
        c.insert("iss".into(), json!(ISS));
        self.sealer.seal(c, at).unwrap()
    }
    fn status(&self, cookie: &str) -> u16 {
        let mut c = HttpClient::connect(SocketAddr::from(([127, 0, 0, 1], self.port))).unwrap();
        cookie_get(&mut c, cookie)
    }
    fn logout(&self, token: &str) -> (u16, String) {
        let r = http_request(
            SocketAddr::from(([127, 0, 0, 1], self.port)),
            "POST",
            "/.gatehouse/backchannel-logout",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            format!("logout_token={token}").as_bytes(),
        )
        .unwrap();
        (r.status, r.body_str())
    }
}

fn claims(extra: Value) -> Value {
    let mut c = json!({
        "iss": ISS, "aud": "gatehouse", "iat": now(), "exp": now() + 120,
        "jti": format!("jti-{}", fastrand_u64()),
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        "sid": "sid-1",
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn fastrand_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed) ^ (std::process::id() as u64) << 32
}

#[test]
fn invalid_logout_tokens_are_refused_and_end_nothing() {
    let l = local();
    let s1 = l.session("alice", "sid-1", now());
    assert_eq!(l.status(&s1), 200);
    let other = Signer::rsa("k1");
    let rows: Vec<(&str, String)> = vec![
        ("no token", String::new()),
        ("malformed", "abc.def".into()),
        ("alg none", mint::none_token(&claims(json!({})))),
        ("another key", other.sign(&claims(json!({})))),
        (
            "wrong iss",
            l.key.sign(&claims(json!({"iss": "https://evil.example"}))),
        ),
        (
            "wrong aud",
            l.key.sign(&claims(json!({"aud": "someone-else"}))),
        ),
        (
            "expired",
            l.key
                .sign(&claims(json!({"exp": now() - 600, "iat": now() - 700}))),
        ),
        (
            "iat in the future",
            l.key.sign(&claims(json!({"iat": now() + 600}))),
        ),
        ("no iat", l.key.sign(&claims(json!({"iat": null})))),
        ("no events", l.key.sign(&claims(json!({"events": null})))),
        (
            "another event",
            l.key.sign(&claims(json!({"events": {"urn:other": {}}}))),
        ),
        ("a nonce", l.key.sign(&claims(json!({"nonce": "n"})))),
        (
            "neither sid nor sub",
            l.key.sign(&claims(json!({"sid": null}))),
        ),
        ("no jti", l.key.sign(&claims(json!({"jti": null})))),
    ];
    for (name, token) in &rows {
        let (status, body) = l.logout(token);
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body.contains("invalid_request"), "{name}: {body}");
        assert_eq!(l.status(&s1), 200, "{name} ended the session");
    }
    // Not a POST.
    let r = http_get(
        SocketAddr::from(([127, 0, 0, 1], l.port)),
        "/.gatehouse/backchannel-logout",
        &[],
    )
    .unwrap();
    assert_eq!(r.status, 405);
    // A valid token ends sid-1; replaying it is refused.
    let good = l.key.sign(&claims(json!({})));
    assert_eq!(l.logout(&good).0, 200);
    assert_eq!(l.status(&s1), 401);
    let (status, body) = l.logout(&good);
    assert_eq!(status, 400);
    assert!(body.contains("replayed"), "{body}");
}

#[test]
fn a_logout_by_sub_ends_that_users_sessions_begun_before_and_no_others() {
    let l = local();
    let t0 = now() - 5;
    let a1 = l.session("alice", "sid-a1", t0);
    let a2 = l.session("alice", "sid-a2", t0);
    let b = l.session("bob", "sid-b", t0);
    let mut keep = HttpClient::connect(SocketAddr::from(([127, 0, 0, 1], l.port))).unwrap();
    for s in [&a1, &a2, &b] {
        assert_eq!(cookie_get(&mut keep, s), 200);
    }
    let token = l.key.sign(&claims(json!({"sid": null, "sub": "alice"})));
    assert_eq!(l.logout(&token).0, 200);
    assert_eq!(cookie_get(&mut keep, &a1), 401);
    assert_eq!(cookie_get(&mut keep, &a2), 401);
    assert_eq!(cookie_get(&mut keep, &b), 200, "bob's session stays");
    // alice logs in again afterwards: that session is hers to keep.
    let later = l.session("alice", "sid-a3", now() + 2);
    assert_eq!(cookie_get(&mut keep, &later), 200);
}
