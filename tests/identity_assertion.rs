//! `assertion-header` on an `identity` section: gatehouse signs a short-lived JWT about
//! the caller for the backend, serves its public keys as a JWKS, and a server verifies
//! the assertion with that JWKS — with panva's `jose` (`tests/oidc/verify.mjs`, a
//! library servers use) for a token of the real OpenID Provider, and with aws-lc-rs
//! here for a browser session. Client-sent copies of the header never reach the
//! server, in any spelling, and neither does the session cookie.

#[path = "identity/mint.rs"]
mod mint;
#[path = "identity/oidc.rs"]
mod oidc;
mod support;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use oidc::OidcProvider;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::Command;
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity corp
{source}
  audience gatehouse-api
  assertion-header X-Gatehouse-Identity
  assertion-issuer https://gw.example
{extra}
frontend fe
  bind 127.0.0.1:{port}
  http-request authenticate corp if !{ path_beg /public/ }
  use_backend api if { path_beg /api/ }
  default_backend app
backend app
  server s {app}
backend api
  server s {api}
"#;

struct Setup {
    _g: Daemon,
    port: u16,
    app: HttpBackend,
    api: HttpBackend,
}

fn start(source: &str, extra: &str, env: &[(&str, &str)]) -> Setup {
    let app = HttpBackend::start("app");
    let api = HttpBackend::start("api");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("source", source)
        .var("extra", extra)
        .var("app", app.addr())
        .var("api", api.addr());
    let mut b = Gatehouse::builder(&cfg.render()).wait_ports(&cfg.listen_ports());
    for (k, v) in env {
        b = b.env(k, v);
    }
    Setup {
        _g: b.start(),
        port: cfg.port("port"),
        app,
        api,
    }
}

fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> u16 {
    http_get(SocketAddr::from(([127, 0, 0, 1], port)), path, headers)
        .expect("request through gatehouse")
        .status
}

/// What `tests/oidc/verify.mjs` says of `token`.
fn jose_verify(port: u16, token: &str, audience: &str) -> Value {
    let out = Command::new("node")
        .arg("verify.mjs")
        .current_dir(oidc::dir())
        .env(
            "JWKS_URL",
            format!("http://127.0.0.1:{port}/.gatehouse/jwks.json"),
        )
        .env("TOKEN", token)
        .env("ISSUER", "https://gw.example")
        .env("AUDIENCE", audience)
        .output()
        .expect("node");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_server_verifies_the_assertion_with_the_served_jwks_and_spoofed_copies_never_arrive() {
    let idp = OidcProvider::start_on(free_port(), "http://127.0.0.1/cb");
    let s = start(&format!("  issuer {}", idp.issuer()), "", &[]);
    let token = idp.client_token();
    let auth = format!("Bearer {token}");
    assert_eq!(
        get(
            s.port,
            "/api/orders",
            &[
                ("Authorization", &auth),
                ("X-Gatehouse-Identity", "forged"),
                ("x_gatehouse_identity", "forged"),
                ("X-GATEHOUSE-IDENTITY", "forged"),
                ("Connection", "keep-alive, X-Gatehouse-Identity"),
            ]
        ),
        200
    );
    let seen = s.api.wait_requests(1);
    let all: Vec<&str> = seen[0]
        .headers
        .iter()
        .filter(|(n, _)| {
            n.replace('_', "-")
                .eq_ignore_ascii_case("x-gatehouse-identity")
        })
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        all.len(),
        1,
        "only gatehouse's own copy: {:?}",
        seen[0].headers
    );
    let assertion = all[0].to_owned();
    assert_ne!(assertion, "forged");

    // A server checks it with the JWKS gatehouse serves (no authentication needed).
    let v = jose_verify(s.port, &assertion, "api");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["header"]["alg"], "ES256");
    // The client-credentials token's subject is the client.
    assert_eq!(v["payload"]["sub"], "gatehouse");
    assert_eq!(v["payload"]["aud"], "api");
    assert_eq!(v["payload"]["method"], "bearer");
    let (iat, exp) = (
        v["payload"]["iat"].as_i64().unwrap(),
        v["payload"]["exp"].as_i64().unwrap(),
    );
    assert!(exp > iat && exp - iat <= 60, "{v}");
    assert!(v["payload"]["jti"].as_str().is_some_and(|j| j.len() >= 16));
    // Meant for backend `api`: another backend refuses it.
    let other = jose_verify(s.port, &assertion, "app");
    assert_eq!(other["ok"], false, "{other}");
    assert_eq!(other["error"], "ERR_JWT_CLAIM_VALIDATION_FAILED");
    // A tampered assertion does not verify.
    let mut parts: Vec<String> = assertion.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("admin");
    parts[1] = B64.encode(claims.to_string());
    let forged = jose_verify(s.port, &parts.join("."), "api");
    assert_eq!(
        forged["error"], "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        "{forged}"
    );

    // Each request gets its own assertion, for the backend it goes to.
    assert_eq!(get(s.port, "/home", &[("Authorization", &auth)]), 200);
    let home = s.app.wait_requests(1);
    let a2 = home[0].header("x-gatehouse-identity").unwrap();
    assert_ne!(a2, assertion);
    assert_eq!(jose_verify(s.port, a2, "app")["ok"], true);
    // Without an identity there is no assertion, and a spoofed one is still removed.
    assert_eq!(
        get(s.port, "/public/x", &[("X_Gatehouse_Identity", "forged")]),
        200
    );
    let public = s.app.wait_requests(2);
    assert!(
        public[1].headers.iter().all(|(n, _)| !n
            .replace('_', "-")
            .eq_ignore_ascii_case("x-gatehouse-identity")),
        "{:?}",
        public[1].headers
    );
}

/// Verifies an ES256 `token` against the JWKS `doc` here, with aws-lc-rs; its claims.
fn verify_here(doc: &Value, token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
    let key = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the assertion's kid is in the JWKS");
    let mut point = vec![4u8];
    point.extend(B64.decode(key["x"].as_str().unwrap()).unwrap());
    point.extend(B64.decode(key["y"].as_str().unwrap()).unwrap());
    let msg = format!("{}.{}", parts[0], parts[1]);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(msg.as_bytes(), &B64.decode(parts[2]).unwrap())
        .expect("signature");
    serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap()
}

#[test]
fn a_session_cookie_is_never_forwarded_and_its_assertion_names_the_user() {
    let dir = std::env::temp_dir().join(format!("gh-assert-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = mint::Signer::ec("k1");
    std::fs::write(dir.join("jwks.json"), mint::jwks(&[&key])).unwrap();
    let secret = "a-cookie-secret-of-32-characters!";
    let s = start(
        &format!(
            "  issuer https://idp.example.com\n  jwks-file {}",
            dir.join("jwks.json").display()
        ),
        "  cookie-secret \"${GH_COOKIE_SECRET}\"\n  assertion-jwks-path /keys/assertion.json",
        &[("GH_COOKIE_SECRET", secret)],
    );
    let sealer = gatehouse::identity::session::Sealer::new(
        &[secret.into()],
        std::time::Duration::from_secs(600),
    );
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), json!("alice"));
    claims.insert("email".into(), json!("alice@example.com"));
    claims.insert("groups".into(), json!(["staff", "admins"]));
    let session = sealer.seal(claims, mint::now()).unwrap();
    let cookie = format!("theme=dark; gh_session={session}; gh_session_login=x; lang=en");
    assert_eq!(get(s.port, "/page", &[("Cookie", &cookie)]), 200);
    let seen = s.app.wait_requests(1);
    let cookies = seen[0].header_all("cookie").join("; ");
    assert!(!cookies.contains("gh_session"), "{cookies}");
    assert!(
        cookies.contains("theme=dark") && cookies.contains("lang=en"),
        "{cookies}"
    );
    let a = seen[0].header("x-gatehouse-identity").expect("assertion");
    let r = http_get(
        SocketAddr::from(([127, 0, 0, 1], s.port)),
        "/keys/assertion.json",
        &[],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let doc: Value = serde_json::from_slice(&r.body).unwrap();
    assert!(
        doc["keys"][0].get("d").is_none(),
        "no private part in the JWKS"
    );
    let c = verify_here(&doc, a);
    assert_eq!(c["iss"], "https://gw.example");
    assert_eq!(c["aud"], "app");
    assert_eq!(c["sub"], "alice");
    assert_eq!(c["email"], "alice@example.com");
    assert_eq!(c["groups"], json!(["staff", "admins"]));
    assert_eq!(c["method"], "cookie");
    // The default path serves nothing here: it is the application's.
    assert_eq!(
        get(s.port, "/.gatehouse/jwks.json", &[("Cookie", &cookie)]),
        200
    );
    assert_eq!(s.app.wait_requests(2)[1].uri, "/.gatehouse/jwks.json");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_configured_assertion_key_signs_and_a_bad_one_is_an_error_at_load() {
    let dir = std::env::temp_dir().join(format!("gh-assert-key-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("assert.pem");
    let st = Command::new("openssl")
        .args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
        ])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(st.status.success());
    let key = mint::Signer::rsa("k1");
    std::fs::write(dir.join("jwks.json"), mint::jwks(&[&key])).unwrap();
    let source = format!(
        "  issuer https://idp.example.com\n  jwks-file {}",
        dir.join("jwks.json").display()
    );
    let s = start(&source, &format!("  assertion-key {}", pem.display()), &[]);
    let t = key.sign(
        &json!({"iss": "https://idp.example.com", "aud": "gatehouse-api",
        "sub": "bob", "exp": mint::now() + 60, "iat": mint::now()}),
    );
    assert_eq!(
        get(s.port, "/x", &[("Authorization", &format!("Bearer {t}"))]),
        200
    );
    let a = s.app.wait_requests(1)[0]
        .header("x-gatehouse-identity")
        .unwrap()
        .to_owned();
    // The JWKS holds the public half of that file's key (openssl's view of it).
    let out = Command::new("openssl")
        .args(["ec", "-pubout", "-outform", "DER", "-in"])
        .arg(&pem)
        .output()
        .unwrap();
    let spki = out.stdout;
    let point = &spki[spki.len() - 65..];
    let r = http_get(
        SocketAddr::from(([127, 0, 0, 1], s.port)),
        "/.gatehouse/jwks.json",
        &[],
    )
    .unwrap();
    let doc: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        B64.decode(doc["keys"][0]["x"].as_str().unwrap()).unwrap(),
        point[1..33]
    );
    assert_eq!(verify_here(&doc, &a)["sub"], "bob");

    // An RSA key is not a P-256 key: the section's line names the problem.
    let rsa = dir.join("rsa.pem");
    let st = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&rsa)
        .output()
        .unwrap();
    assert!(st.status.success());
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("source", &source)
        .var("extra", format!("  assertion-key {}", rsa.display()))
        .var("app", "127.0.0.1:1")
        .var("api", "127.0.0.1:1");
    let mut d = Gatehouse::builder(&cfg.render()).spawn();
    let st = d
        .wait_exit(std::time::Duration::from_secs(20))
        .expect("gatehouse exits");
    assert!(!st.success());
    let err = d.stderr();
    assert!(
        err.contains("haproxy.cfg:6")
            && err.contains("assertion-key")
            && err.contains("not a P-256 private key"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
