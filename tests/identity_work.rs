//! What identity costs per request, counted by the real binary and read from its
//! Prometheus exporter: a session cookie is decrypted once per request (it used to be
//! twice: once before the rules to see whether its tokens need a refresh, once by
//! `authenticate`), and a bearer token seen before is not verified again.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use gatehouse::identity::session::Sealer;
use mint::{Signer, jwks, now};
use serde_json::json;
use std::time::Duration;
use support::*;

const SECRET: &str = "a-cookie-secret-of-the-test-0123";

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity corp
  issuer https://idp.example.com
  audience gatehouse-api
  jwks-file jwks.json
  cookie-secret {secret}
frontend public
  bind 127.0.0.1:{port}
  http-request use-service prometheus-exporter if { path /metrics }
  http-request authenticate corp
  http-request return status 200 content-type text/plain lf-string "sub=%[identity_sub] method=%[identity_method]"
"#;

/// The value of `family{identity="corp"}` in the exporter's answer.
fn counter(c: &mut HttpClient, family: &str) -> u64 {
    let r = c.get("/metrics", &[]).expect("metrics");
    assert_eq!(r.status, 200, "{r:?}");
    let line = format!("{family}{{identity=\"corp\"}} ");
    r.body_str()
        .lines()
        .find_map(|l| l.strip_prefix(&line))
        .unwrap_or_else(|| panic!("no {family} in\n{}", r.body_str()))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_session_cookie_is_opened_once_per_request_and_a_known_token_is_not_verified_again() {
    let key = Signer::ec("e1");
    let cfg = Config::new(CFG).listen_port("port").var("secret", SECRET);
    let _proxy = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_ports(&cfg.listen_ports())
        .start();
    let mut c = HttpClient::connect(local(cfg.port("port"))).unwrap();

    // A session sealed with the section's secret, as a login would have made it.
    let sealer = Sealer::new(&[SECRET.to_owned()], Duration::from_secs(3600));
    let claims = json!({"sub": "alice", "email": "alice@example.com"});
    let serde_json::Value::Object(claims) = claims else {
        unreachable!()
    };
    let cookie = format!("gh_session={}", sealer.seal(claims, now()).unwrap());
    for _ in 0..3 {
        let r = c.get("/", &[("Cookie", &cookie)]).unwrap();
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.body_str(), "sub=alice method=cookie");
    }
    // One character of the sealed value changed (in the middle: all its bits count).
    let mut tampered = cookie.clone().into_bytes();
    let mid = tampered.len() / 2 + 6;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let r = c.get("/", &[("Cookie", &tampered)]).unwrap();
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(counter(&mut c, "gatehouse_identity_session_opens_total"), 4);

    // The same token three times: one verification.
    let t = now();
    let token = key.sign(&json!({
        "iss": "https://idp.example.com", "aud": "gatehouse-api", "sub": "bob",
        "iat": t, "exp": t + 300,
    }));
    let auth = format!("Bearer {token}");
    for _ in 0..3 {
        let r = c.get("/", &[("Authorization", &auth)]).unwrap();
        assert_eq!(r.body_str(), "sub=bob method=bearer");
    }
    assert_eq!(
        counter(&mut c, "gatehouse_identity_signature_checks_total"),
        1
    );
}
