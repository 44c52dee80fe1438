//! `identity` sections with `jwks-file` and `http-request authenticate` on the real
//! binary over real sockets: keys generated here, tokens signed here. Every row of the
//! issue's attack table is a test (no token, malformed, `alg: none`, HS256 keyed with
//! the public key, expired, not yet valid, wrong `iss`, wrong `aud`, unknown `kid`,
//! tampered payload, oversized header, spoofed identity headers in every spelling,
//! `Connection:` naming them), and the `identity_*` fetches reach ACLs and headers.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use base64::Engine;
use mint::{Signer, jwks, now};
use serde_json::{Value, json};
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity corp
  issuer https://idp.example.com
  audience gatehouse-api
  groups-claim groups
  allowed-algs RS256 ES256 EdDSA
  clock-skew 60s
  jwks-file jwks.json
  audit-log audit.log
frontend public
  bind 127.0.0.1:{port}
  http-request authenticate corp if !{ path_beg /public/ }
  acl admins identity_groups -m str admins
  http-request deny deny_status 403 if { path_beg /admin/ } !admins
  http-request set-header X-Auth-Email %[identity_email]
  http-request set-header X-Auth-Sub %[identity_sub]
  http-request set-header X-Auth-Method %[identity_method]
  http-request set-header X-Auth-Name %[identity_name]
  http-request set-header X-Auth-Dept %[identity_claim(org.dept)]
  http-request set-header X-Auth-Valid %[identity_valid]
  use_backend admin_be if admins
  default_backend app
backend app
  server s {app}
backend admin_be
  server s {admin}
"#;

struct Setup {
    proxy: Daemon,
    port: u16,
    app: HttpBackend,
    admin: HttpBackend,
    rsa: Signer,
    ec: Signer,
    ed: Signer,
}

fn start() -> Setup {
    let app = HttpBackend::start("app");
    let admin = HttpBackend::start("admin");
    let (rsa, ec, ed) = (Signer::rsa("r1"), Signer::ec("e1"), Signer::ed("d1"));
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("app", app.addr())
        .var("admin", admin.addr());
    let proxy = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&rsa, &ec, &ed]))
        .wait_ports(&cfg.listen_ports())
        .start();
    Setup {
        proxy,
        port: cfg.port("port"),
        app,
        admin,
        rsa,
        ec,
        ed,
    }
}

fn claims(sub: &str, groups: &[&str]) -> Value {
    let t = now();
    json!({
        "iss": "https://idp.example.com", "aud": "gatehouse-api", "sub": sub,
        "email": format!("{sub}@example.com"), "groups": groups,
        "org": {"dept": "eng"}, "iat": t, "nbf": t - 5, "exp": t + 300,
    })
}

fn get(s: &Setup, path: &str, headers: &[(&str, &str)]) -> Response {
    http_get(
        std::net::SocketAddr::from(([127, 0, 0, 1], s.port)),
        path,
        headers,
    )
    .expect("request through gatehouse")
}

fn with_token(s: &Setup, path: &str, token: &str) -> Response {
    let auth = format!("Bearer {token}");
    get(s, path, &[("Authorization", &auth)])
}

/// A refusal: 401 with RFC 6750's challenge, and nothing reached a server.
fn assert_refused(s: &Setup, r: &Response, why: &str) {
    assert_eq!(r.status, 401, "{why}: {r:?}");
    let h = r.header("www-authenticate").unwrap_or_default();
    assert!(
        h.starts_with("Bearer ") && h.contains("error=\"invalid_token\""),
        "{why}: {h}"
    );
    assert_eq!(s.app.request_count() + s.admin.request_count(), 0, "{why}");
}

#[test]
fn valid_tokens_of_each_algorithm_pass_and_fetches_fill_the_headers() {
    let s = start();
    for (i, k) in [&s.rsa, &s.ec, &s.ed].into_iter().enumerate() {
        let r = with_token(&s, "/app", &k.sign(&claims("alice", &["staff"])));
        assert_eq!(r.status, 200, "{}: {r:?}", k.alg());
        let req = &s.app.wait_requests(i + 1)[i];
        assert_eq!(req.header("x-auth-email"), Some("alice@example.com"));
        assert_eq!(req.header("x-auth-sub"), Some("alice"));
        assert_eq!(req.header("x-auth-method"), Some("bearer"));
        assert_eq!(req.header("x-auth-name"), Some("corp"));
        assert_eq!(req.header("x-auth-dept"), Some("eng"));
        assert_eq!(req.header("x-auth-valid"), Some("1"));
    }
    // Public paths pass without identity; the fetches are empty there.
    let r = get(&s, "/public/x", &[]);
    assert_eq!(r.status, 200);
    let req = s.app.wait_requests(4).pop().unwrap();
    assert_eq!(req.header("x-auth-valid"), Some("0"));
    assert_eq!(req.header("x-auth-email"), Some(""));
}

#[test]
fn identity_groups_match_any_group_for_acls_and_routing() {
    let s = start();
    let admin = s.rsa.sign(&claims("root", &["staff", "admins"]));
    let user = s.rsa.sign(&claims("bob", &["staff"]));
    assert_eq!(with_token(&s, "/admin/panel", &admin).status, 200);
    assert_eq!(
        s.admin.wait_requests(1)[0].header("x-auth-sub"),
        Some("root")
    );
    assert_eq!(with_token(&s, "/admin/panel", &user).status, 403);
    assert_eq!(s.admin.request_count(), 1);
    assert_eq!(s.app.request_count(), 0);
}

#[test]
fn attack_no_token() {
    let s = start();
    let r = get(&s, "/app", &[]);
    assert_refused(&s, &r, "no token");
}

#[test]
fn attack_malformed_tokens() {
    let s = start();
    for t in [
        "abc",
        "a.b",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "Zm9v.YmFy.YmF6",
    ] {
        let r = with_token(&s, "/app", t);
        assert_refused(&s, &r, t);
    }
}

#[test]
fn attack_alg_none() {
    let s = start();
    let r = with_token(&s, "/app", &mint::none_token(&claims("eve", &["admins"])));
    assert_refused(&s, &r, "alg none");
}

#[test]
fn attack_hs256_signed_with_the_public_key() {
    let s = start();
    let jwk = s.rsa.jwk();
    // The public key in the forms an attacker would try as the HMAC secret.
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwk["n"].as_str().unwrap())
        .unwrap();
    for key in [jwk.to_string().into_bytes(), n] {
        let t = mint::hs256(&key, "r1", &claims("eve", &["admins"]));
        let r = with_token(&s, "/admin/x", &t);
        assert_refused(&s, &r, "hs256 confusion");
    }
}

#[test]
fn attack_expired_and_not_yet_valid_beyond_the_skew() {
    let s = start();
    let t = now();
    let mut c = claims("eve", &[]);
    c["exp"] = json!(t - 120);
    assert_refused(&s, &with_token(&s, "/app", &s.rsa.sign(&c)), "expired");
    let mut c = claims("eve", &[]);
    c["nbf"] = json!(t + 120);
    assert_refused(&s, &with_token(&s, "/app", &s.rsa.sign(&c)), "nbf ahead");
    let mut c = claims("eve", &[]);
    c["iat"] = json!(t + 120);
    assert_refused(&s, &with_token(&s, "/app", &s.rsa.sign(&c)), "iat ahead");
    let mut c = claims("eve", &[]);
    c.as_object_mut().unwrap().remove("exp");
    assert_refused(&s, &with_token(&s, "/app", &s.rsa.sign(&c)), "no exp");
    // Within the skew: accepted.
    let mut c = claims("ann", &[]);
    c["exp"] = json!(t - 20);
    assert_eq!(with_token(&s, "/app", &s.rsa.sign(&c)).status, 200);
}

#[test]
fn attack_wrong_issuer_and_wrong_audience() {
    let s = start();
    let mut c = claims("eve", &[]);
    c["iss"] = json!("https://evil.example");
    assert_refused(&s, &with_token(&s, "/app", &s.ec.sign(&c)), "wrong iss");
    let mut c = claims("eve", &[]);
    c["aud"] = json!(["other-api"]);
    assert_refused(&s, &with_token(&s, "/app", &s.ec.sign(&c)), "wrong aud");
    let mut c = claims("ann", &[]);
    c["aud"] = json!(["other-api", "gatehouse-api"]);
    assert_eq!(with_token(&s, "/app", &s.ec.sign(&c)).status, 200);
}

#[test]
fn attack_unknown_kid_and_a_key_not_in_the_set() {
    let s = start();
    let stranger = Signer::rsa("r1");
    // Same kid as a real key, other key material.
    let r = with_token(&s, "/app", &stranger.sign(&claims("eve", &[])));
    assert_refused(&s, &r, "foreign key with a known kid");
    let unknown = Signer::ec("nope");
    let r = with_token(&s, "/app", &unknown.sign(&claims("eve", &[])));
    assert_refused(&s, &r, "unknown kid");
    // A real key named as another kind of key (ES256 header, RSA key id).
    let t = s.ec.sign_with(json!({"kid": "r1"}), &claims("eve", &[]));
    assert_refused(&s, &with_token(&s, "/app", &t), "kid of another key type");
}

#[test]
fn attack_tampered_payload() {
    let s = start();
    let t = s.rsa.sign(&claims("eve", &["staff"]));
    let parts: Vec<&str> = t.split('.').collect();
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(claims("eve", &["admins"]).to_string());
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_refused(&s, &with_token(&s, "/admin/x", &tampered), "tampered");
}

#[test]
fn attack_oversized_header() {
    let s = start();
    let pad = "x".repeat(4000);
    let t = s.rsa.sign_with(json!({"pad": pad}), &claims("eve", &[]));
    assert_refused(&s, &with_token(&s, "/app", &t), "oversized header");
}

#[test]
fn attack_spoofed_identity_headers_in_every_spelling() {
    let s = start();
    let token = s.rsa.sign(&claims("alice", &[]));
    let auth = format!("Bearer {token}");
    let mut c = HttpClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], s.port))).unwrap();
    let r = c
        .get(
            "/app",
            &[
                ("Authorization", &auth),
                ("X-Auth-Email", "root@example.com"),
                ("X_Auth_Email", "root@example.com"),
                ("x-auth-EMAIL", "root@example.com"),
                ("X_AUTH_SUB", "root"),
                ("Connection", "X-Auth-Email, keep-alive"),
            ],
        )
        .unwrap();
    assert_eq!(r.status, 200);
    let req = s.app.wait_requests(1).pop().unwrap();
    assert_eq!(req.header_all("x-auth-email"), vec!["alice@example.com"]);
    assert_eq!(req.header_all("x-auth-sub"), vec!["alice"]);
    let raw = format!("{req:?}").to_ascii_lowercase();
    assert!(
        !raw.contains("root"),
        "a spoofed value reached the server: {raw}"
    );
    assert!(
        !raw.contains("x_auth"),
        "a spoofed spelling reached the server: {raw}"
    );
    assert!(
        req.header_all("connection")
            .iter()
            .all(|v| !v.to_ascii_lowercase().contains("x-auth")),
        "{req:?}"
    );
    // Without a token on a public path the spoofed headers are gone too.
    let r = get(&s, "/public/p", &[("X_Auth_Email", "root@example.com")]);
    assert_eq!(r.status, 200);
    let req = s.app.wait_requests(2).pop().unwrap();
    assert_eq!(req.header_all("x-auth-email"), vec![""]);
}

#[test]
fn a_cached_token_is_still_checked_for_expiry_and_key() {
    let s = start();
    let mut c = claims("ann", &[]);
    c["exp"] = json!(now() - 58);
    let t = s.rsa.sign(&c);
    assert_eq!(with_token(&s, "/app", &t).status, 200);
    // The same token (cached) once past exp + skew is refused.
    assert!(wait_until(std::time::Duration::from_secs(10), || {
        with_token(&s, "/app", &t).status == 401
    }));
    let _ = &s.proxy;
}

const TWO: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity corp
  audience gatehouse-api
  jwks-file corp.json
identity partners
  audience partner-api
  jwks-file partners.json
frontend fe
  bind 127.0.0.1:{port}
  http-request authenticate corp partners
  http-request set-header X-Who %[identity_name]:%[identity_sub]
  default_backend app
backend app
  server s {app}
"#;

#[test]
fn several_sections_the_first_that_validates_wins_and_jwks_files_are_reread_on_reload() {
    let app = HttpBackend::start("app");
    let (corp, partner, later) = (Signer::ec("c"), Signer::rsa("p"), Signer::ed("p2"));
    let cfg = Config::new(TWO).listen_port("port").var("app", app.addr());
    let mut g = Gatehouse::builder(&cfg.render())
        .file("corp.json", jwks(&[&corp]))
        .file("partners.json", jwks(&[&partner]))
        .wait_ports(&cfg.listen_ports())
        .start();
    let port = cfg.port("port");
    let claims = |aud: &str, sub: &str| json!({"aud": aud, "sub": sub, "exp": now() + 300});
    let status = |t: &str| {
        let auth = format!("Bearer {t}");
        http_get(
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            "/x",
            &[("Authorization", &auth)],
        )
        .unwrap()
        .status
    };
    assert_eq!(status(&corp.sign(&claims("gatehouse-api", "ann"))), 200);
    assert_eq!(status(&partner.sign(&claims("partner-api", "bob"))), 200);
    let seen: Vec<String> = app
        .wait_requests(2)
        .iter()
        .map(|r| r.header("x-who").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(seen, vec!["corp:ann", "partners:bob"]);
    // A partner key with the corp audience is not a corp token.
    assert_eq!(status(&partner.sign(&claims("gatehouse-api", "eve"))), 401);
    // A new key in the partners' file is accepted after a reload.
    let t = later.sign(&claims("partner-api", "cid"));
    assert_eq!(status(&t), 401);
    std::fs::write(g.dir().join("partners.json"), jwks(&[&partner, &later])).unwrap();
    g.signal(libc::SIGUSR2);
    assert!(wait_until(std::time::Duration::from_secs(10), || status(
        &t
    ) == 200));
}
