//! TLS termination on `bind … ssl` with real clients (curl, `openssl s_client`): the
//! certificate chosen by SNI from a directory (exact names, a wildcard, the first file
//! as default), `strict-sni`, `crt-list`, protocol versions (`ssl-min-ver`, the
//! `ssl-default-bind-options` of `global`, TLSv1.0/1.1 refused), `ciphers` mapped onto
//! rustls, ALPN, keep-alive and large bodies over TLS, `mode tcp` over TLS, and the
//! certificates re-read on reload.

mod support;
use support::pki::{Pki, curl, s_client};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

fn served(bind_opts: &str, port: u16) -> String {
    format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl {bind_opts}\n  http-request return status 200 content-type text/plain lf-string \"sni=%[ssl_fc_sni] proto=%[ssl_fc_protocol] alpn=%[ssl_fc_alpn]\"\n"
    )
}

fn resolve(name: &str, port: u16) -> String {
    format!("{name}:{port}:127.0.0.1")
}

#[test]
fn sni_picks_the_certificate_from_a_directory_with_wildcards_and_the_first_as_default() {
    let pki = Pki::get();
    let port = free_port();
    let _g = Gatehouse::start(&served(&format!("crt {}", pki.p("certs")), port), &[port]);
    let ca = pki.p("ca.pem");
    // curl checks the name against the certificate: each succeeds only with the right one.
    for name in ["www.site.test", "site.test", "a.wild.test", "default.test"] {
        let body = curl(&[
            "--cacert",
            &ca,
            "--resolve",
            &resolve(name, port),
            &format!("https://{name}:{port}/"),
        ])
        .unwrap_or_else(|| panic!("curl to {name} failed"));
        assert_eq!(body, format!("sni={name} proto=TLSv1.3 alpn="), "{name}");
    }
    // A wildcard covers one label only; an unknown name and no name get the default.
    for (sni, cn) in [
        (Some("a.b.wild.test"), "default.test"),
        (Some("unknown.test"), "default.test"),
        (Some("x.wild.test"), "*.wild.test"),
        (None, "default.test"),
    ] {
        let mut args = vec!["-CAfile", ca.as_str()];
        match sni {
            Some(n) => args.extend(["-servername", n]),
            None => args.push("-noservername"),
        }
        let s = s_client(port, &args, "");
        assert!(s.ok, "{sni:?}: {}", s.out);
        assert_eq!(s.subject_cn().as_deref(), Some(cn), "{sni:?}");
    }
}

#[test]
fn strict_sni_refuses_unknown_and_missing_names() {
    let pki = Pki::get();
    let port = free_port();
    let cfg = served(&format!("crt {} strict-sni", pki.p("certs")), port);
    let _g = Gatehouse::start(&cfg, &[port]);
    assert!(s_client(port, &["-servername", "www.site.test"], "").ok);
    assert!(!s_client(port, &["-servername", "unknown.test"], "").ok);
    assert!(!s_client(port, &["-noservername"], "").ok);
}

#[test]
fn tls_1_0_and_1_1_are_refused_and_min_ver_and_global_defaults_are_honoured() {
    let pki = Pki::get();
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let crt = pki.p("site.pem");
    let cfg = format!(
        "global\n  ssl-default-bind-options ssl-max-ver TLSv1.2\n{DEFAULTS}\
         frontend a\n  bind 127.0.0.1:{p1} ssl crt {crt} ssl-max-ver TLSv1.3\n  http-request return status 200\n\
         frontend b\n  bind 127.0.0.1:{p2} ssl crt {crt} ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3\n  http-request return status 200\n\
         frontend c\n  bind 127.0.0.1:{p3} ssl crt {crt}\n  http-request return status 200\n"
    );
    let _g = Gatehouse::start(&cfg, &[p1, p2, p3]);
    let tls10 = s_client(p1, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"], "");
    assert!(!tls10.ok, "TLSv1.0 accepted: {}", tls10.out);
    assert!(!s_client(p1, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], "").ok);
    assert!(s_client(p1, &["-tls1_2"], "").ok);
    assert!(s_client(p1, &["-tls1_3"], "").ok);
    assert!(!s_client(p2, &["-tls1_2"], "").ok, "ssl-min-ver TLSv1.3");
    assert!(s_client(p2, &["-tls1_3"], "").ok);
    // The global ssl-max-ver TLSv1.2 applies to the bind without its own.
    assert!(
        !s_client(p3, &["-tls1_3"], "").ok,
        "ssl-default-bind-options"
    );
    assert!(s_client(p3, &["-tls1_2"], "").ok);
}

#[test]
fn ciphers_map_onto_rustls_and_an_unsupported_name_is_a_config_error() {
    let pki = Pki::get();
    let port = free_port();
    let crt = pki.p("site.pem");
    let cfg = format!(
        "global\n  ssl-default-bind-ciphersuites TLS_CHACHA20_POLY1305_SHA256\n{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt {crt} ciphers ECDHE-ECDSA-AES128-GCM-SHA256:!aNULL\n  http-request return status 200\n"
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    let s12 = s_client(port, &["-tls1_2"], "");
    assert_eq!(
        s12.cipher().as_deref(),
        Some("ECDHE-ECDSA-AES128-GCM-SHA256"),
        "{}",
        s12.out
    );
    let s13 = s_client(port, &["-tls1_3"], "");
    assert_eq!(
        s13.cipher().as_deref(),
        Some("TLS_CHACHA20_POLY1305_SHA256"),
        "{}",
        s13.out
    );
    // A client offering only another TLSv1.2 cipher is refused.
    assert!(
        !s_client(
            port,
            &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"],
            ""
        )
        .ok
    );

    let dir = TempDir::new("tls-ciphers");
    for (opt, name) in [
        (
            "ciphers ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256",
            "DHE-RSA-AES128-GCM-SHA256",
        ),
        (
            "ciphersuites TLS_AES_128_CCM_SHA256",
            "TLS_AES_128_CCM_SHA256",
        ),
    ] {
        let bad = dir.write(
            "bad.cfg",
            format!("{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt {crt} {opt}\n"),
        );
        let (code, out, err) = check(&gatehouse_bin(), &[&bad]);
        assert_ne!(code, 0, "{opt}: {out}{err}");
        assert!(
            err.contains(name) && err.contains("bad.cfg:7"),
            "{opt}: {err}"
        );
    }
}

#[test]
fn a_missing_certificate_and_verify_without_ca_are_config_errors() {
    let pki = Pki::get();
    let dir = TempDir::new("tls-errors");
    for (opt, says) in [
        ("crt /nonexistent/x.pem".to_string(), "/nonexistent/x.pem"),
        (String::new(), "requires a certificate"),
        (
            format!("crt {} verify required", pki.p("site.pem")),
            "no CA file",
        ),
    ] {
        let bad = dir.write(
            "bad.cfg",
            format!(
                "{DEFAULTS}frontend f\n  bind 127.0.0.1:{} ssl {opt}\n",
                free_port()
            ),
        );
        let (code, _, err) = check(&gatehouse_bin(), &[&bad]);
        assert_ne!(code, 0, "{opt}");
        assert!(err.contains(says), "{opt}: {err}");
    }
}

#[test]
fn alpn_keep_alive_and_large_bodies_over_tls() {
    let pki = Pki::get();
    let port = free_port();
    let big = "x".repeat(3 * 1024 * 1024);
    let be = HttpBackend::builder("app").body(big.clone()).start();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt {} alpn http/1.1\n  default_backend b\n\
         backend b\n  http-request set-header X-Alpn %[ssl_fc_alpn]\n  http-request set-header X-Cipher %[ssl_fc_cipher]\n  server s1 127.0.0.1:{}\n",
        pki.p("site.pem"),
        be.port()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    let url = format!("https://www.site.test:{port}/");
    // Two requests on one connection (curl reuses it), each a 3 MiB body.
    let out = curl(&[
        "--cacert",
        &pki.p("ca.pem"),
        "--resolve",
        &resolve("www.site.test", port),
        "-w",
        "|%{num_connects}",
        &url,
        &url,
    ])
    .expect("curl over TLS");
    let parts: Vec<&str> = out.split('|').collect();
    assert_eq!(parts[0].len(), big.len());
    assert!(
        parts[1].starts_with('1'),
        "first request connects: {out:.40}"
    );
    assert!(
        parts[2].starts_with('0'),
        "second request reuses the connection"
    );
    let reqs = be.wait_requests(2);
    assert_eq!(reqs[0].header("x-alpn"), Some("http/1.1"));
    assert_eq!(reqs[0].header("x-cipher"), Some("TLS_AES_256_GCM_SHA384"));
}

#[test]
fn a_crt_list_names_certificates_by_filters() {
    let pki = Pki::get();
    let dir = TempDir::new("tls-crt-list");
    let list = dir.write(
        "list.txt",
        format!(
            "# default first\n{} !*\n{} [ ] alias.test !www.site.test\n",
            pki.p("default.pem"),
            pki.p("site.pem")
        ),
    );
    let port = free_port();
    let _g = Gatehouse::start(
        &served(&format!("crt-list {}", list.display()), port),
        &[port],
    );
    let cn = |sni: &str| s_client(port, &["-servername", sni], "").subject_cn();
    assert_eq!(cn("alias.test").as_deref(), Some("www.site.test"));
    // The filters replace the certificate's own names, and `!*` hides the default's.
    assert_eq!(cn("www.site.test").as_deref(), Some("default.test"));
    assert_eq!(cn("default.test").as_deref(), Some("default.test"));
}

#[test]
fn mode_tcp_terminates_tls_in_front_of_a_plain_server() {
    let pki = Pki::get();
    let port = free_port();
    let echo = TcpEcho::start();
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         listen l\n  bind 127.0.0.1:{port} ssl crt {}\n  server e 127.0.0.1:{}\n",
        pki.p("site.pem"),
        echo.addr().port()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    let s = s_client(
        port,
        &["-servername", "www.site.test", "-quiet"],
        "ping-over-tls\n",
    );
    assert!(s.out.contains("ping-over-tls"), "{}", s.out);
}

#[test]
fn a_reload_serves_the_certificate_rewritten_on_disk() {
    let pki = Pki::get();
    let dir = TempDir::new("tls-reload");
    let crt = dir.path().join("live.pem");
    std::fs::copy(pki.path("default.pem"), &crt).unwrap();
    let port = free_port();
    let mut g = Gatehouse::start(&served(&format!("crt {}", crt.display()), port), &[port]);
    assert_eq!(
        s_client(port, &[], "").subject_cn().as_deref(),
        Some("default.test")
    );
    std::fs::copy(pki.path("site.pem"), &crt).unwrap();
    g.0.signal(libc::SIGUSR2);
    assert!(
        wait_until(DEFAULT_TIMEOUT, || {
            s_client(port, &[], "").subject_cn().as_deref() == Some("www.site.test")
        }),
        "the new certificate is served after the reload"
    );
}
