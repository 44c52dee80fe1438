//! HAProxy 2.6's JWT converters (`jwt_header_query`, `jwt_payload_query`,
//! `jwt_verify`) and the `http_auth_bearer` fetch, differentially: one configuration
//! runs in the gatehouse binary and in Debian's haproxy 2.6.12; RS256, ES256 and HS256
//! tokens, a wrong key, a tampered payload, `alg: none` and malformed tokens must get
//! the same answers (and the answers the manual's return codes say) from both, in
//! `http-request` rules, ACLs and log-format strings.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mint::Signer;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request set-var(txn.sub) var(txn.bearer),jwt_payload_query('$.sub')
  http-request set-var(txn.n) var(txn.bearer),jwt_payload_query('$.n','int')
  http-request set-var(txn.kid) var(txn.bearer),jwt_header_query('$.kid')
  acl rs_ok var(txn.bearer),jwt_verify(RS256,{rsa}) 1
  acl api path_beg /api/
  http-request deny deny_status 403 if api !rs_ok
  http-request return status 200 content-type text/plain lf-string "alg=%[var(txn.alg)] sub=%[var(txn.sub)] n=%[var(txn.n)] kid=%[var(txn.kid)] rs=%[var(txn.bearer),jwt_verify(RS256,{rsa})] es=%[var(txn.bearer),jwt_verify(ES256,{ec})] hs=%[var(txn.bearer),jwt_verify(HS256,{secret})] byalg=%[var(txn.bearer),jwt_verify(txn.alg,{rsa})] nokey=%[var(txn.bearer),jwt_verify(RS256,{missing})] other=%[http_auth_bearer(x-token)]\n"
"#;

/// What a case is, the path it asks for, its headers, and what both must answer.
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, String)>,
    &'static str,
);

/// The body of the answer to a GET of `path` with `headers`, or the status line.
fn answer(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let mut r = format!("GET {path} HTTP/1.1\r\nHost: t\r\n");
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("Connection: close\r\n\r\n");
    let out = send_raw_with(addr, r.as_bytes(), Duration::from_secs(3), false);
    let text = String::from_utf8_lossy(&out).into_owned();
    if !text.starts_with("HTTP/1.1 200") {
        return text.lines().next().unwrap_or("(nothing)").to_string();
    }
    text.split("\r\n\r\n")
        .nth(1)
        .unwrap_or("")
        .trim_end()
        .to_string()
}

fn hs256(secret: &[u8], claims: &serde_json::Value) -> String {
    let signing = format!(
        "{}.{}",
        B64.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string()),
        B64.encode(claims.to_string())
    );
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&k, signing.as_bytes());
    format!("{signing}.{}", B64.encode(tag.as_ref()))
}

#[test]
fn jwt_converters_answer_like_haproxy() {
    let dir = TempDir::new("jwt-diff");
    let rsa = Signer::rsa("r1");
    let ec = Signer::ec("e1");
    let stranger = Signer::rsa("r1");
    let rsa_pem = dir.write("rsa.pub.pem", rsa.public_pem());
    let ec_pem = dir.write("ec.pub.pem", ec.public_pem());
    let claims = json!({"sub": "alice", "n": 42, "iss": "me"});

    let rs = rsa.sign(&claims);
    let es = ec.sign(&claims);
    let hs = hs256(b"s3cr3t-hmac", &claims);
    let wrong_key = stranger.sign(&claims);
    let tampered = {
        let p: Vec<&str> = rs.split('.').collect();
        let forged = B64.encode(json!({"sub": "mallory", "n": 1}).to_string());
        format!("{}.{forged}.{}", p[0], p[2])
    };
    let none = mint::none_token(&claims);
    let bearer = |t: &str| format!("Bearer {t}");

    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("rsa", rsa_pem.display())
        .var("ec", ec_pem.display())
        .var("secret", "s3cr3t-hmac")
        .var("missing", dir.path().join("nope.pem").display());
    let _g = Gatehouse::start(&cfg.render(), &[cfg.port("port")]);
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &[href.port("port")]);

    // (what, path, headers, what both must answer)
    let cases: Vec<Case> = vec![
        (
            "RS256",
            "/",
            vec![("Authorization", bearer(&rs))],
            "alg=RS256 sub=alice n=42 kid=r1 rs=1 es=0 hs=0 byalg=1 nokey=-5 other=",
        ),
        (
            "ES256",
            "/",
            vec![("Authorization", bearer(&es))],
            "alg=ES256 sub=alice n=42 kid=e1 rs=0 es=1 hs=0 byalg=0 nokey=-5 other=",
        ),
        (
            "HS256",
            "/",
            vec![("Authorization", bearer(&hs))],
            "alg=HS256 sub=alice n=42 kid= rs=0 es=0 hs=1 byalg=0 nokey=-5 other=",
        ),
        (
            "signed by another key",
            "/",
            vec![("Authorization", bearer(&wrong_key))],
            "alg=RS256 sub=alice n=42 kid=r1 rs=0 es=0 hs=0 byalg=0 nokey=-5 other=",
        ),
        (
            "tampered payload",
            "/",
            vec![("Authorization", bearer(&tampered))],
            "alg=RS256 sub=mallory n=1 kid=r1 rs=0 es=0 hs=0 byalg=0 nokey=-5 other=",
        ),
        (
            // The caller's algorithm decides: `none` from the token's own header
            // verifies it, as the manual warns.
            "alg none",
            "/",
            vec![("Authorization", bearer(&none))],
            "alg=none sub=alice n=42 kid= rs=-3 es=-3 hs=-3 byalg=1 nokey=-3 other=",
        ),
        (
            "malformed",
            "/",
            vec![("Authorization", bearer("a.b"))],
            "alg= sub= n= kid= rs=-3 es=-3 hs=-3 byalg= nokey=-3 other=",
        ),
        (
            "lower-case scheme, several spaces",
            "/",
            vec![("Authorization", format!("bearer    {hs}"))],
            "alg=HS256 sub=alice n=42 kid= rs=0 es=0 hs=1 byalg=0 nokey=-5 other=",
        ),
        (
            "Basic credentials",
            "/",
            vec![("Authorization", "Basic dTpw".into())],
            "alg= sub= n= kid= rs= es= hs= byalg= nokey= other=",
        ),
        (
            "another header",
            "/",
            vec![("X-Token", bearer("abc"))],
            "alg= sub= n= kid= rs= es= hs= byalg= nokey= other=abc",
        ),
        (
            "no token",
            "/",
            vec![],
            "alg= sub= n= kid= rs= es= hs= byalg= nokey= other=",
        ),
        (
            "ACL: RS256 reaches the API",
            "/api/x",
            vec![("Authorization", bearer(&rs))],
            "alg=RS256 sub=alice n=42 kid=r1 rs=1 es=0 hs=0 byalg=1 nokey=-5 other=",
        ),
        (
            "ACL: ES256 does not",
            "/api/x",
            vec![("Authorization", bearer(&es))],
            "HTTP/1.1 403 Forbidden",
        ),
        (
            "ACL: tampered does not",
            "/api/x",
            vec![("Authorization", bearer(&tampered))],
            "HTTP/1.1 403 Forbidden",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, path, headers, want) in &cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let got = answer(local(cfg.port("port")), path, &h);
        let reference = answer(local(href.port("port")), path, &h);
        if got != *want || reference != *want {
            wrong.push(format!(
                "{what}:\n  gatehouse {got}\n  haproxy   {reference}\n  expected  {want}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn bad_jwt_verify_arguments_are_refused_at_load_like_haproxy() {
    for (arg, needle) in [
        ("jwt_verify(XX256,/k.pem)", "unknown JWT algorithm: XX256"),
        (
            "jwt_verify(PS256,/k.pem)",
            "RSASSA-PSS JWS signing not managed yet",
        ),
        (
            "jwt_payload_query('$.a',str)",
            "output_type only supports \"int\"",
        ),
    ] {
        let cfg = format!(
            "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
             frontend fe\n  bind 127.0.0.1:0\n  http-request set-var(txn.x) req.hdr(a),{arg}\n  http-request return status 200\n"
        );
        let dir = TempDir::new("jwt-args");
        let path = dir.write("h.cfg", &cfg);
        for bin in [gatehouse_bin(), require_haproxy()] {
            let (code, out, err) = check(&bin, &[&path]);
            assert_ne!(code, 0, "{} accepted {arg}", bin.display());
            let text = format!("{out}{err}");
            assert!(text.contains(needle), "{}: {text}", bin.display());
            assert!(text.contains("h.cfg:8"), "{}: {text}", bin.display());
        }
    }
}
