//! Identity over TLS binds, with curl and the test PKI: the session cookie carries
//! `Secure` on a `bind … ssl` line and not on a plain one (`HttpOnly` and
//! `SameSite=Lax` on both), and an `identity` section with `mtls` accepts a verified
//! client certificate as an identity (`identity_method` = `mtls`, `identity_sub` = the
//! subject's CN) while a request without one is still refused.

#[path = "identity/mint.rs"]
mod mint;
mod support;

use mint::{Signer, jwks};
use support::pki::{Pki, curl, curl_site};
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity corp
  audience gatehouse-api
  jwks-file jwks.json
  cookie-secret a-cookie-secret-of-32-characters!
  mtls
frontend public
  bind 127.0.0.1:{tls} ssl crt {crt} ca-file {ca} verify optional alpn http/1.1
  bind 127.0.0.1:{plain}
  http-request authenticate corp
  http-request set-header X-Auth-Sub %[identity_sub]
  http-request set-header X-Auth-Method %[identity_method]
  http-request set-header X-Auth-Name %[identity_name]
  default_backend app
backend app
  server s {app}
"#;

struct Setup {
    _proxy: Daemon,
    tls: u16,
    plain: u16,
    app: HttpBackend,
}

fn start() -> Setup {
    let pki = Pki::get();
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG)
        .listen_port("tls")
        .listen_port("plain")
        .var("crt", pki.p("site.pem"))
        .var("ca", pki.p("ca.pem"))
        .var("app", app.addr());
    let proxy = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&Signer::rsa("r1")]))
        .wait_ports(&cfg.listen_ports())
        .start();
    Setup {
        _proxy: proxy,
        tls: cfg.port("tls"),
        plain: cfg.port("plain"),
        app,
    }
}

/// curl's response headers (`-D -`) for `path` over the TLS bind, as `who` (a client
/// certificate of the test PKI, or none).
fn tls_get(s: &Setup, who: Option<&str>, path: &str) -> String {
    curl_site(s.tls, who, path, &["-D", "-", "-o", "/dev/null"]).expect("curl over the TLS bind")
}

fn plain_get(s: &Setup, path: &str) -> String {
    let url = format!("http://127.0.0.1:{}{path}", s.plain);
    curl(&["-D", "-", "-o", "/dev/null", &url]).expect("curl over the plain bind")
}

fn status(headers: &str) -> u16 {
    headers
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The `Set-Cookie` line for cookie `name`.
fn set_cookie<'a>(headers: &'a str, name: &str) -> &'a str {
    headers
        .lines()
        .find(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("set-cookie:") && l[11..].trim_start().starts_with(name)
        })
        .unwrap_or_else(|| panic!("no Set-Cookie for {name} in {headers}"))
}

#[test]
fn the_session_cookie_is_secure_on_a_tls_bind_only() {
    let s = start();
    // Logout answers with the session cookie cleared, carrying the session attributes.
    let over_tls = tls_get(&s, None, "/.gatehouse/logout");
    assert_eq!(status(&over_tls), 302, "{over_tls}");
    let c = set_cookie(&over_tls, "gh_session=");
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(c.split(';').any(|a| a.trim() == attr), "{attr} in {c}");
    }
    let plain = plain_get(&s, "/.gatehouse/logout");
    assert_eq!(status(&plain), 302, "{plain}");
    let c = set_cookie(&plain, "gh_session=");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(c.split(';').any(|a| a.trim() == attr), "{attr} in {c}");
    }
    assert!(!c.split(';').any(|a| a.trim() == "Secure"), "{c}");
    assert_eq!(s.app.request_count(), 0);
}

#[test]
fn a_verified_client_certificate_is_an_mtls_identity() {
    let s = start();
    let r = tls_get(&s, Some("alice"), "/private");
    assert_eq!(status(&r), 200, "{r}");
    let reqs = s.app.wait_requests(1);
    let last = reqs.last().unwrap();
    assert_eq!(last.header("x-auth-method"), Some("mtls"));
    assert_eq!(last.header("x-auth-sub"), Some("alice"));
    assert_eq!(last.header("x-auth-name"), Some("corp"));
    // Without a certificate (TLS or plain) and without a token: refused.
    let r = tls_get(&s, None, "/private");
    assert_eq!(status(&r), 401, "{r}");
    let r = plain_get(&s, "/private");
    assert_eq!(status(&r), 401, "{r}");
    assert_eq!(s.app.request_count(), 1);
}

const DEVICES_CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
identity devices
  mtls
identity corp
  audience gatehouse-api
  jwks-file jwks.json
frontend public
  bind 127.0.0.1:{tls} ssl crt {crt} ca-file {ca} verify optional alpn http/1.1
  http-request authenticate devices corp
  http-request set-header X-Auth-Sub %[identity_sub]
  http-request set-header X-Auth-Method %[identity_method]
  http-request set-header X-Auth-Name %[identity_name]
  default_backend app
backend app
  server s {app}
"#;

#[test]
fn a_section_of_certificates_only_needs_no_provider() {
    let pki = Pki::get();
    let app = HttpBackend::start("app");
    let key = Signer::ec("e1");
    let cfg = Config::new(DEVICES_CFG)
        .listen_port("tls")
        .var("crt", pki.p("site.pem"))
        .var("ca", pki.p("ca.pem"))
        .var("app", app.addr());
    let _proxy = Gatehouse::builder(&cfg.render())
        .file("jwks.json", jwks(&[&key]))
        .wait_ports(&cfg.listen_ports())
        .start();
    let s = Setup {
        _proxy,
        tls: cfg.port("tls"),
        plain: 0,
        app,
    };
    let t = mint::now();
    let token = key.sign(&serde_json::json!({
        "aud": "gatehouse-api", "sub": "bob", "iat": t, "exp": t + 300,
    }));
    let bearer = format!("Authorization: Bearer {token}");
    let seen = |n: usize| {
        let reqs = s.app.wait_requests(n);
        let last = reqs.last().unwrap();
        (
            last.header("x-auth-name").map(str::to_owned),
            last.header("x-auth-method").map(str::to_owned),
            last.header("x-auth-sub").map(str::to_owned),
        )
    };
    let own = |v: &str| Some(v.to_owned());
    // A verified certificate: the certificates-only section.
    let r = tls_get(&s, Some("alice"), "/x");
    assert_eq!(status(&r), 200, "{r}");
    assert_eq!(seen(1), (own("devices"), own("mtls"), own("alice")));
    // A certificate and a token the section does not look at: still the certificate.
    let r = tls_get_with(&s, Some("alice"), "/x", "Authorization: Bearer not.a.token");
    assert_eq!(status(&r), 200, "{r}");
    assert_eq!(seen(2), (own("devices"), own("mtls"), own("alice")));
    // No certificate, a token of the other section.
    let r = tls_get_with(&s, None, "/x", &bearer);
    assert_eq!(status(&r), 200, "{r}");
    assert_eq!(seen(3), (own("corp"), own("bearer"), own("bob")));
    // Neither: refused.
    let r = tls_get(&s, None, "/x");
    assert_eq!(status(&r), 401, "{r}");
    assert_eq!(s.app.request_count(), 3);

    // What a certificates-only section cannot have, and an empty section: errors.
    let dir = TempDir::new("mtls-only");
    for (body, needle) in [
        (
            "  mtls\n  audience a\n",
            "'audience' needs 'issuer' or 'jwks-file'",
        ),
        (
            "  mtls\n  cookie-secret 0123456789abcdef0123\n",
            "'cookie-secret' needs 'issuer' or 'jwks-file'",
        ),
        (
            "  audience a\n",
            "needs 'issuer' or 'jwks-file' to know its keys",
        ),
    ] {
        let path = dir.write("h.cfg", format!("identity x\n{body}"));
        let (code, out, err) = check(&gatehouse_bin(), &[&path]);
        assert_ne!(code, 0, "{body}");
        assert!(format!("{out}{err}").contains(needle), "{body}: {out}{err}");
    }
}

/// [`tls_get`] with one more request header.
fn tls_get_with(s: &Setup, who: Option<&str>, path: &str, header: &str) -> String {
    curl_site(
        s.tls,
        who,
        path,
        &["-H", header, "-D", "-", "-o", "/dev/null"],
    )
    .expect("curl over the TLS bind")
}
