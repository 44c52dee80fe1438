//! `identity` sections with `issuer` against the real OpenID Provider (panva's
//! `oidc-provider`, `tests/oidc/`): discovery and JWKS fetched at start, tokens got the
//! way a real client gets them, key rotation at the provider accepted without reload,
//! a flood of unknown `kid`s that does not become a flood of JWKS fetches, the last
//! good keys kept while the provider is down, and start-up without the provider.

#[path = "identity/mint.rs"]
mod mint;
#[path = "identity/oidc.rs"]
mod oidc;
mod support;

use oidc::OidcProvider;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity corp
  issuer {issuer}
  audience gatehouse-api
  keys-min-interval {min}
{extra}
frontend fe
  bind 127.0.0.1:{port}
  http-request authenticate corp
  http-request set-header X-Auth-Sub %[identity_sub]
  default_backend app
backend app
  server s {app}
"#;

fn gatehouse(issuer: &str, min: &str, extra: &str, app: &HttpBackend) -> (Daemon, u16) {
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("issuer", issuer)
        .var("min", min)
        .var("extra", extra)
        .var("app", app.addr());
    let d = Gatehouse::builder(&cfg.render())
        .wait_ports(&cfg.listen_ports())
        .start();
    (d, cfg.port("port"))
}

fn status(port: u16, token: &str) -> u16 {
    let auth = format!("Bearer {token}");
    http_get(
        SocketAddr::from(([127, 0, 0, 1], port)),
        "/api",
        &[("Authorization", &auth)],
    )
    .expect("request through gatehouse")
    .status
}

#[test]
fn discovery_and_keys_come_from_the_provider_and_its_tokens_pass() {
    let idp = OidcProvider::start_on(free_port(), "http://127.0.0.1/cb");
    let app = HttpBackend::start("app");
    let (_g, port) = gatehouse(&idp.issuer(), "10s", "", &app);
    // The provider prints a line per JWKS request, read by a thread of ours.
    assert!(wait_until(Duration::from_secs(5), || idp.jwks_fetches() == 1));
    let token = idp.client_token();
    assert_eq!(status(port, &token), 200);
    assert_eq!(
        app.wait_requests(1)[0].header("x-auth-sub"),
        Some("gatehouse")
    );
    // A token of another issuer's key, same claims shape, is refused.
    let forged = mint::Signer::rsa("rsa-1").sign(&json!({
        "iss": idp.issuer(), "aud": "gatehouse-api", "sub": "eve",
        "exp": mint::now() + 60, "iat": mint::now(),
    }));
    assert_eq!(status(port, &forged), 401);
    assert_eq!(app.request_count(), 1);
}

#[test]
fn key_rotation_at_the_provider_is_accepted_without_reload() {
    let idp = OidcProvider::start_on(free_port(), "http://127.0.0.1/cb");
    let app = HttpBackend::start("app");
    let (g, port) = gatehouse(&idp.issuer(), "1s", "", &app);
    let old = idp.client_token();
    assert_eq!(status(port, &old), 200);
    idp.rotate();
    let new = idp.client_token();
    assert_ne!(
        mint_kid(&old),
        mint_kid(&new),
        "the provider rotated its keys"
    );
    // The new kid is unknown: gatehouse fetches the set again (once the minimum
    // interval since the start-up fetch has passed) and accepts it.
    assert!(
        wait_until(Duration::from_secs(10), || status(port, &new) == 200),
        "a token of the rotated key was never accepted"
    );
    // The old key left the provider's set: its tokens are refused now, cached or not.
    assert_eq!(status(port, &old), 401);
    // The provider's line for the second fetch is read by another thread: wait for it.
    assert!(
        wait_until(Duration::from_secs(5), || idp.jwks_fetches() >= 2),
        "JWKS fetches seen: {}",
        idp.jwks_fetches()
    );
    drop(g);
}

fn mint_kid(token: &str) -> String {
    let h = token.split('.').next().unwrap();
    let raw = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, h).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    v["kid"].as_str().unwrap().to_owned()
}

#[test]
fn a_flood_of_unknown_kids_is_not_a_flood_of_jwks_fetches() {
    let idp = OidcProvider::start_on(free_port(), "http://127.0.0.1/cb");
    let app = HttpBackend::start("app");
    let (_g, port) = gatehouse(&idp.issuer(), "60s", "", &app);
    assert!(wait_until(Duration::from_secs(5), || idp.jwks_fetches() == 1));
    let before = idp.jwks_fetches();
    let signer = mint::Signer::ec("x");
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let tokens: Vec<String> = (0..25)
                .map(|i| {
                    signer.sign_with(
                        json!({"kid": format!("unknown-{t}-{i}")}),
                        &json!({"iss": idp.issuer(), "aud": "gatehouse-api", "sub": "eve",
                                "exp": mint::now() + 60}),
                    )
                })
                .collect();
            std::thread::spawn(move || tokens.iter().map(|t| status(port, t)).collect::<Vec<_>>())
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().iter().all(|s| *s == 401));
    }
    // 200 unknown kids within one interval after the start-up fetch: no fetch at all
    // (at most one if the interval had passed).
    assert!(
        idp.jwks_fetches() - before <= 1,
        "{} JWKS fetches for 200 unknown kids",
        idp.jwks_fetches() - before
    );
    // The real provider's tokens still pass.
    assert_eq!(status(port, &idp.client_token()), 200);
}

#[test]
fn the_last_good_keys_are_kept_while_the_provider_is_down() {
    let idp = OidcProvider::start_on(free_port(), "http://127.0.0.1/cb");
    let app = HttpBackend::start("app");
    let (mut g, port) = gatehouse(&idp.issuer(), "1s", "  keys-refresh 1s", &app);
    let used = idp.client_token();
    let fresh = idp.client_token();
    assert_eq!(status(port, &used), 200);
    let fetches = idp.jwks_fetches();
    drop(idp);
    // Background refreshes fail from now on; the keys stay.
    assert!(wait_until(Duration::from_secs(10), || g
        .stderr()
        .contains("keeping the last good set")));
    assert!(g.is_running());
    assert_eq!(status(port, &used), 200, "a cached token");
    assert_eq!(
        status(port, &fresh),
        200,
        "a token first seen with the provider down"
    );
    let unknown = mint::Signer::rsa("gone").sign(&json!({"exp": mint::now() + 60}));
    assert_eq!(status(port, &unknown), 401);
    assert!(fetches >= 1);
}

#[test]
fn without_its_provider_gatehouse_refuses_to_start_unless_degraded_start() {
    let port = free_port();
    let app = HttpBackend::start("app");
    let issuer = format!("http://127.0.0.1:{port}");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("issuer", &issuer)
        .var("min", "1s")
        .var("extra", "")
        .var("app", app.addr());
    let mut d = Gatehouse::builder(&cfg.render()).spawn();
    let st = d
        .wait_exit(Duration::from_secs(20))
        .expect("gatehouse exits");
    assert!(!st.success());
    let err = d.stderr();
    assert!(
        err.contains("haproxy.cfg:6") && err.contains("identity 'corp' : cannot load its keys"),
        "{err}"
    );
    // With degraded-start it serves, refusing until the provider comes up; then the
    // provider's tokens pass without a reload.
    let (_g, gport) = gatehouse(&issuer, "1s", "  degraded-start", &app);
    let early = mint::Signer::rsa("k").sign(&json!({"exp": mint::now() + 60}));
    assert_eq!(status(gport, &early), 401);
    let idp = OidcProvider::start_on(port, "http://127.0.0.1/cb");
    let token = idp.client_token();
    assert!(wait_until(Duration::from_secs(10), || status(
        gport, &token
    ) == 200));
}

/// A test CA and a certificate for `localhost` it signed, made with the openssl CLI.
fn test_pki(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let st = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost\n").unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=gatehouse test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

#[test]
fn an_https_issuer_is_fetched_over_tls_and_an_untrusted_one_is_refused() {
    let dir = std::env::temp_dir().join(format!("gh-pki-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = test_pki(&dir);
    let idp = OidcProvider::start_with(
        free_port(),
        "http://127.0.0.1/cb",
        &[
            ("TLS_CERT", cert.to_str().unwrap()),
            ("TLS_KEY", key.to_str().unwrap()),
        ],
    );
    let issuer = format!("https://localhost:{}", idp.port);
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("issuer", &issuer)
        .var("min", "10s")
        .var("extra", "")
        .var("app", app.addr());
    // Trusted through SSL_CERT_FILE: discovery and keys over TLS.
    let g = Gatehouse::builder(&cfg.render())
        .env("SSL_CERT_FILE", &ca)
        .wait_ports(&cfg.listen_ports())
        .start();
    let out = std::process::Command::new("curl")
        .args(["-s", "--cacert"])
        .arg(&ca)
        .args([
            "-u",
            "gatehouse:gatehouse-secret-0123456789",
            "-d",
            "grant_type=client_credentials&scope=api",
        ])
        .arg(format!("{issuer}/token"))
        .output()
        .expect("curl");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(status(cfg.port("port"), token), 200);
    drop(g);
    // Without the test CA in its trust store, gatehouse refuses to start.
    let mut d = Gatehouse::builder(&cfg.with_fresh_ports().render()).spawn();
    let st = d
        .wait_exit(Duration::from_secs(20))
        .expect("gatehouse exits");
    assert!(!st.success());
    assert!(
        d.stderr().contains("cannot load its keys"),
        "{}",
        d.stderr()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
