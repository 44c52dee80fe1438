//! Client certificates on `bind … ssl ca-file … verify …` with curl: `verify required`
//! refuses a client without a certificate, with one from another CA and with one the
//! `crl-file` revokes; `verify optional` lets a client without one in, and ACLs see it.
//! The `ssl_fc_*` and `ssl_c_*` fetches in headers are compared with HAProxy 2.6 on the
//! same configuration and the same client certificate.

mod support;
use support::pki::{Pki, curl_site};
use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port} ssl crt {crt} ca-file {ca} verify {verify} crl-file {crl} alpn http/1.1
  http-request set-header X-FC %[ssl_fc]
  http-request set-header X-SNI %[ssl_fc_sni]
  http-request set-header X-ALPN %[ssl_fc_alpn]
  http-request set-header X-Proto %[ssl_fc_protocol]
  http-request set-header X-Cipher %[ssl_fc_cipher]
  http-request set-header X-Used %[ssl_c_used]
  http-request set-header X-Verify %[ssl_c_verify]
  http-request set-header X-DN %{+Q}[ssl_c_s_dn]
  http-request set-header X-CN %[ssl_c_s_dn(CN)]
  http-request set-header X-OU %[ssl_c_s_dn(OU,1)]
  http-request set-header X-IDN %[ssl_c_i_dn]
  http-request set-header X-ICN %[ssl_c_i_dn(CN)]
  http-request set-header X-Serial %[ssl_c_serial,hex]
  http-request set-header X-SHA1 %[ssl_c_sha1,hex]
  http-request set-header X-NotAfter %[ssl_c_notafter]
  http-request set-header X-NotBefore %[ssl_c_notbefore]
  http-request set-header X-Version %[ssl_c_version]
  http-request set-header X-HasSNI %[ssl_fc_has_sni]
  http-request set-header X-HasCrt %[ssl_fc_has_crt]
  http-request set-header X-Keysize %[ssl_fc_use_keysize]
  http-request set-header X-SniEnd yes if { ssl_fc_sni -m end .site.test }
  http-request set-header X-SniReg yes if { ssl_fc_sni -m reg ^www\. }
  http-request deny deny_status 403 if { path_beg /members } !{ ssl_c_used }
  default_backend app
backend app
  server s {app}
"#;

const HEADERS: &[&str] = &[
    "x-fc",
    "x-sni",
    "x-alpn",
    "x-proto",
    "x-cipher",
    "x-used",
    "x-verify",
    "x-dn",
    "x-cn",
    "x-ou",
    "x-idn",
    "x-icn",
    "x-serial",
    "x-sha1",
    "x-notafter",
    "x-notbefore",
    "x-version",
    "x-hassni",
    "x-hascrt",
    "x-keysize",
    "x-sniend",
    "x-snireg",
];

struct Setup {
    _proxy: Daemon,
    port: u16,
    app: HttpBackend,
}

fn start(haproxy: bool, verify: &str) -> Setup {
    let pki = Pki::get();
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("crt", pki.p("site.pem"))
        .var("ca", pki.p("ca.pem"))
        .var("crl", pki.p("crl.pem"))
        .var("verify", verify)
        .var("app", app.addr());
    let proxy = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    Setup {
        _proxy: proxy,
        port: cfg.port("port"),
        app,
    }
}

/// GET `path` as `who` (a client certificate of the test PKI, or none).
fn get(s: &Setup, who: Option<&str>, path: &str) -> Option<String> {
    curl_site(
        s.port,
        who,
        path,
        &["-o", "/dev/null", "-w", "%{http_code}"],
    )
}

fn seen(s: &Setup) -> Vec<(String, Option<String>)> {
    let reqs = s.app.wait_requests(1);
    let last = reqs.last().unwrap();
    HEADERS
        .iter()
        .map(|h| (h.to_string(), last.header(h).map(str::to_owned)))
        .collect()
}

#[test]
fn client_certificate_fetches_read_as_in_haproxy() {
    let ours = start(false, "required");
    assert_eq!(get(&ours, Some("alice"), "/").as_deref(), Some("200"));
    let got = seen(&ours);
    let value = |h: &str| {
        got.iter()
            .find(|(n, _)| n == h)
            .and_then(|(_, v)| v.clone())
    };
    assert_eq!(value("x-cn").as_deref(), Some("alice"));
    assert!(
        value("x-dn").is_some_and(|v| v.contains("/C=FR/O=Gatehouse Test/OU=QA/CN=alice")),
        "{got:?}"
    );
    assert_eq!(value("x-serial").as_deref(), Some("2001"));
    assert_eq!(value("x-used").as_deref(), Some("1"));
    assert_eq!(value("x-snireg").as_deref(), Some("yes"), "{got:?}");
    assert_eq!(value("x-version").as_deref(), Some("3"));
    if haproxy_bin().is_none() {
        return;
    }
    let reference = start(true, "required");
    assert_eq!(get(&reference, Some("alice"), "/").as_deref(), Some("200"));
    assert_eq!(got, seen(&reference));
}

#[test]
fn verify_required_refuses_no_certificate_another_ca_and_a_revoked_one() {
    let s = start(false, "required");
    assert_eq!(get(&s, Some("alice"), "/").as_deref(), Some("200"));
    for who in [None, Some("eve"), Some("mallory")] {
        assert_eq!(get(&s, who, "/"), None, "{who:?} got through");
    }
    assert_eq!(s.app.request_count(), 1, "only alice reached the server");
}

#[test]
fn verify_optional_lets_a_client_without_certificate_in_and_acls_see_it() {
    let s = start(false, "optional");
    assert_eq!(get(&s, None, "/").as_deref(), Some("200"));
    let got = seen(&s);
    assert!(
        got.contains(&("x-used".into(), Some("0".into()))),
        "{got:?}"
    );
    assert!(got.contains(&("x-fc".into(), Some("1".into()))), "{got:?}");
    assert_eq!(get(&s, None, "/members").as_deref(), Some("403"));
    assert_eq!(get(&s, Some("alice"), "/members").as_deref(), Some("200"));
    // A certificate that does not verify still fails the handshake.
    assert_eq!(get(&s, Some("eve"), "/"), None);
}
